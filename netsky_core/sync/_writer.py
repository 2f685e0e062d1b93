"""Writing events, sessions and positions into a destination store (copy and import).


Both paths write in the same order, with the same rules:

1. **Events**, in the source's id order, in batches through ``insert_many`` (one
   transaction each). Keyed events are deduplicated by the destination; events
   without a uuid have no key, so an identical event already stored (same fields,
   same count) is skipped here. Running a copy or an import twice stores nothing new.
2. **Sessions**, joined into the destination's with ``restore_sessions``: the "when /
   latest" facts and the git context of the source's summary (which the events alone
   cannot rebuild once gc removed some) join the destination's, whose totals follow
   the events it stores. Nothing the destination knows is rolled back; a session
   whose destination summary knows more than the source's (the agent went on writing
   to the destination) is reported as kept.
3. **File positions**, unless the destination's is more recent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import attrs

from .._errors import ConfigError, RecordError
from .._queries import EventQuery, SessionQuery
from .._records import Event, FilePosition, Session
from ..storage.protocol import Storage, iter_events

EXPORT_FORMAT = "netsky-export"
EXPORT_VERSION = 2
"""Version 2 added ``tokens_reasoning`` to events and sessions; version 1 files are read."""
DEFAULT_BATCH_SIZE = 5000
_MAX_PROBLEMS = 10
_US = timedelta(microseconds=1)
_GZIP_MAGIC = b"\x1f\x8b"

Progress = Callable[[int], None]


class SameStoreError(ConfigError):
    """Source and destination of a copy are the same store."""


class ExportFormatError(RecordError):
    """A file is not a valid netsky export (the message names the line)."""


# -- results ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class EventCounts:
    """Events offered to a destination and what became of them."""

    read: int = 0
    inserted: int = 0
    duplicates: int = 0
    superseded: int = 0
    expired: int = 0
    """Older than the destination's gc horizon: not stored (gc deleted that history)."""

    def __add__(self, other: EventCounts) -> EventCounts:
        return EventCounts(
            read=self.read + other.read,
            inserted=self.inserted + other.inserted,
            duplicates=self.duplicates + other.duplicates,
            superseded=self.superseded + other.superseded,
            expired=self.expired + other.expired,
        )


@attrs.frozen(kw_only=True)
class CopyResult:
    """What ``copy_store`` did and what its verification found."""

    source: str
    destination: str
    events: EventCounts
    sessions_restored: int
    sessions_kept: int
    positions_restored: int
    positions_kept: int
    source_events: int
    destination_events: int
    problems: tuple[str, ...] = ()

    @property
    def verified(self) -> bool:
        return not self.problems


@attrs.frozen(kw_only=True)
class ExportResult:
    events: int = 0
    sessions: int = 0
    positions: int = 0


@attrs.frozen(kw_only=True)
class ImportResult:
    header: dict[str, Any]
    events: EventCounts
    sessions_restored: int = 0
    sessions_kept: int = 0
    positions_restored: int = 0
    positions_kept: int = 0


# -- writing into a destination ----------------------------------------------------------


class _Writer:
    """Inserts event batches into ``dst``, skipping keyless events already stored."""

    def __init__(self, dst: Storage) -> None:
        self.dst = dst
        self.counts = EventCounts()
        self._inserted: Counter[Event] = Counter()  # keyless events this run stored
        self._skipped: Counter[Event] = Counter()  # keyless events this run skipped

    def insert(self, events: Iterable[Event]) -> EventCounts:
        batch = [e if e.id is None else attrs.evolve(e, id=None) for e in events]
        keyless = [e for e in batch if e.uuid is None]
        skipped = 0
        if keyless:
            stored = self._stored(keyless)
            keep: list[Event] = []
            for e in batch:
                if e.uuid is None:
                    # copies stored before this run = stored now - stored by this run
                    before = stored[e] - self._inserted[e]
                    if self._skipped[e] < before:
                        self._skipped[e] += 1
                        skipped += 1
                        continue
                    self._inserted[e] += 1
                keep.append(e)
            batch = keep
        result = self.dst.insert_many(batch) if batch else None
        counts = EventCounts(
            read=len(batch) + skipped,
            inserted=result.inserted if result else 0,
            duplicates=(result.duplicates if result else 0) + skipped,
            superseded=result.superseded if result else 0,
            expired=result.expired if result else 0,
        )
        self.counts = self.counts + counts
        return counts

    def _stored(self, keyless: list[Event]) -> Counter[Event]:
        """How often each keyless event (id ignored) is stored in the destination."""
        windows: dict[tuple[str, str], tuple[datetime, datetime]] = {}
        for e in keyless:
            key = (e.machine_id, e.session_id)
            lo, hi = windows.get(key, (e.timestamp, e.timestamp))
            windows[key] = (min(lo, e.timestamp), max(hi, e.timestamp))
        found: Counter[Event] = Counter()
        for (machine, session), (lo, hi) in windows.items():
            query = (
                EventQuery()
                .with_machine(machine)
                .with_session(session)
                .with_time_range(lo, hi + _US)
            )
            for page in iter_events(self.dst, query):
                for e in page:
                    if e.uuid is None:
                        found[attrs.evolve(e, id=None)] += 1
        return found

    def restore(
        self, sessions: list[Session], positions: list[FilePosition]
    ) -> tuple[list[Session], int, int, int]:
        """Restore sessions and positions unless the destination's are further along.

        Returns the restored sessions and the counts (sessions kept, positions
        restored, positions kept).
        """
        for start in range(0, len(sessions), DEFAULT_BATCH_SIZE):
            self.dst.restore_sessions(sessions[start : start + DEFAULT_BATCH_SIZE])
        after = _sessions_of(self.dst, sessions)
        restore = [s for s in sessions if not _knows_more(after.get(s.key), s)]
        stored = {(p.machine_id, p.path): p for p in self.dst.query_transcript_positions()}
        written = 0
        for p in positions:
            if _newer_position(stored.get((p.machine_id, p.path)), p):
                continue
            if stored.get((p.machine_id, p.path)) != p:
                self.dst.set_transcript_position(p)
            written += 1
        return restore, len(sessions) - len(restore), written, len(positions) - written


def _sessions_of(store: Storage, sessions: list[Session]) -> dict[tuple[str, str], Session]:
    """The stored sessions of the machines ``sessions`` belong to, by key."""
    found: dict[tuple[str, str], Session] = {}
    for machine in sorted({s.machine_id for s in sessions}):
        for s in store.list_sessions(SessionQuery().with_machine(machine)):
            found[s.key] = s
    return found


def _knows_more(dst: Session | None, src: Session) -> bool:
    """Has the destination's session seen activity or events the source's has not?"""
    if dst is None or dst == src:
        return False
    if dst.last_activity is not None and (
        src.last_activity is None or dst.last_activity > src.last_activity
    ):
        return True
    return dst.event_count > src.event_count


def _newer_position(dst: FilePosition | None, src: FilePosition) -> bool:
    if dst is None or dst.updated_at is None:
        return False
    return src.updated_at is None or dst.updated_at > src.updated_at
