"""Continuous sync: what is new in a local store, pushed to a shared store.

``sync_store(local, target, url=...)`` pushes, in order:

1. **Events** stored locally after the target's *mark*, in id order, in batches (one
   transaction each on the target). After each committed batch the mark moves past
   it, in the local store (``Storage.set_sync_mark``), so a sync killed at any point
   goes on from the last committed batch. A batch committed on the target whose mark
   was not saved yet is simply sent again: the target keeps an event once by its key
   ``(machine_id, session_id, uuid)`` and bills an API response once by its global
   billing identity, so a batch sent twice, or the same response synced from two
   machines, counts once.
2. **Sessions** whose local summary holds a fact the target's lacks (git context, the
   latest prompt ...), joined into the target's with ``restore_sessions`` (every
   local session is compared with the target's, one query per machine).
3. **File positions** the target lacks, unless the target's is newer: every local one
   is compared with the target's (one per file). Not only those stamped after the
   newest sent last time: a position is stamped before its transaction takes the
   store's write lock, so with two writers one stamped earlier can commit after a sync
   saw one stamped later.

Ids of a server store (PostgreSQL) are handed out at insert, not at commit, so an event
can become visible behind one with a larger id. Each run therefore re-reads
``lookback`` ids behind the mark (harmless: they are duplicates on the target).

The mark is keyed by :func:`target_key`, a hash of the target URL without its password;
the URL shown in ``sync status`` is masked. No password is ever stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import attrs
import orjson

from .._convert import structure, unstructure
from .._errors import RecordError, StorageError
from .._queries import EventQuery, SessionQuery
from .._records import Session
from .._urls import mask_url
from ..storage.protocol import Storage, iter_events
from ._writer import DEFAULT_BATCH_SIZE, EventCounts, _newer_position, _sessions_of, _Writer
from .copy import check_distinct

__all__ = [
    "DEFAULT_LOOKBACK",
    "SyncMark",
    "SyncResult",
    "SyncStatus",
    "sync_status",
    "sync_store",
    "target_key",
]

DEFAULT_LOOKBACK = 1000
"""Ids re-read behind the mark on every run (see the module docstring)."""

Progress = Callable[[int], None]


def _without_password(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return mask_url(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    user = parts.username or ""
    netloc = f"{user}@{host}" if user else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def target_key(url: str) -> str:
    """The key of a sync target's mark: a hash of its URL without the password (the
    same store reached with another password is the same target)."""
    return hashlib.sha256(_without_password(url).encode()).hexdigest()[:24]


@attrs.frozen(kw_only=True)
class SyncMark:
    """How far one local store has been synced to one target."""

    target: str
    """The target's URL, password masked."""
    after_id: int = 0
    """Every local event with an id up to this one is in the target."""
    events_sent: int = 0
    """Events the target stored from this store, over every run."""
    synced_at: datetime | None = None
    """When a run last completed."""

    def dumps(self) -> str:
        return orjson.dumps(unstructure(self)).decode()

    @classmethod
    def loads(cls, text: str) -> SyncMark:
        try:
            return structure(orjson.loads(text), cls)
        except (orjson.JSONDecodeError, RecordError, TypeError, ValueError) as exc:
            raise StorageError(f"a stored sync mark is unreadable: {exc}") from None


@attrs.frozen(kw_only=True)
class SyncResult:
    """What one ``sync_store`` run did."""

    target: str
    events: EventCounts
    sessions_restored: int
    positions_restored: int
    after_id: int
    behind: int
    """Local events after the mark once the run ended (new ones stored meanwhile)."""


@attrs.frozen(kw_only=True)
class SyncStatus:
    """The lag of one target (``sync status``)."""

    key: str
    target: str
    after_id: int
    behind: int
    events_sent: int
    synced_at: datetime | None


def load_mark(local: Storage, url: str) -> SyncMark:
    """The stored mark for ``url`` (a fresh one when it was never synced)."""
    raw = local.sync_marks().get(target_key(url))
    if raw is None:
        return SyncMark(target=mask_url(url))
    return SyncMark.loads(raw)


def sync_store(
    local: Storage,
    target: Storage,
    *,
    url: str,
    batch_size: int = DEFAULT_BATCH_SIZE,
    lookback: int = DEFAULT_LOOKBACK,
    progress: Progress | None = None,
    on_start: Callable[[int], None] | None = None,
    now: Callable[[], datetime] | None = None,
) -> SyncResult:
    """Push what is new in ``local`` to ``target`` (reached at ``url``); see the module
    docstring. ``on_start(n)`` is called with the number of events to send,
    ``progress(n)`` after each committed batch."""
    check_distinct(local, target)
    if batch_size < 1:
        raise RecordError(f"batch size must be at least 1, got {batch_size}")
    if lookback < 0:
        raise RecordError(f"lookback must be at least 0, got {lookback}")
    clock = now or (lambda: datetime.now(UTC))
    key = target_key(url)
    mark = attrs.evolve(load_mark(local, url), target=mask_url(url))
    started = clock()
    previous = mark.after_id
    start = max(0, previous - lookback)
    if on_start is not None:
        on_start(local.count(EventQuery().with_after_id(mark.after_id)))
    writer = _Writer(target)
    for batch in iter_events(local, EventQuery().with_after_id(start), batch_size=batch_size):
        counts = writer.insert(batch)
        last = batch[-1].id
        assert last is not None
        mark = attrs.evolve(
            mark,
            after_id=max(mark.after_id, last),
            events_sent=mark.events_sent + counts.inserted + counts.superseded,
        )
        local.set_sync_mark(key, mark.dumps())
        if progress is not None:
            progress(sum(1 for e in batch if e.id is not None and e.id > previous))
    sessions_restored = _push_sessions(local, target)
    positions_restored = _push_positions(local, target)
    mark = attrs.evolve(mark, synced_at=started)
    local.set_sync_mark(key, mark.dumps())
    return SyncResult(
        target=mark.target,
        events=writer.counts,
        sessions_restored=sessions_restored,
        positions_restored=positions_restored,
        after_id=mark.after_id,
        behind=local.count(EventQuery().with_after_id(mark.after_id)),
    )


def _push_sessions(local: Storage, target: Storage) -> int:
    """Restore the local sessions whose summary holds a fact the target's lacks (git
    context can change without an event, so every session is compared)."""
    from ..storage.fold import merge_sessions

    sessions = local.list_sessions(SessionQuery())
    if not sessions:
        return 0
    stored = _sessions_of(target, sessions)
    behind: list[Session] = []
    for s in sessions:
        got = stored.get(s.key)
        if got is None or merge_sessions(got, s) != got:
            behind.append(s)
    for i in range(0, len(behind), DEFAULT_BATCH_SIZE):
        target.restore_sessions(behind[i : i + DEFAULT_BATCH_SIZE])
    return len(behind)


def _push_positions(local: Storage, target: Storage) -> int:
    """Write the local positions the target lacks unless the target's is newer; the
    count written."""
    positions = local.query_transcript_positions()
    if not positions:
        return 0
    stored = {(p.machine_id, p.path): p for p in target.query_transcript_positions()}
    written = 0
    for p in positions:
        there = stored.get((p.machine_id, p.path))
        if there == p or _newer_position(there, p):
            continue
        target.set_transcript_position(p)
        written += 1
    return written


def sync_status(local: Storage, urls: list[str]) -> list[SyncStatus]:
    """The lag of every target ``local`` has a mark for, and of ``urls`` (configured
    targets never synced show everything behind)."""
    marks = {k: SyncMark.loads(v) for k, v in local.sync_marks().items()}
    for url in urls:
        marks.setdefault(target_key(url), SyncMark(target=mask_url(url)))
    out = []
    for key, mark in sorted(marks.items(), key=lambda kv: kv[1].target):
        out.append(
            SyncStatus(
                key=key,
                target=mark.target,
                after_id=mark.after_id,
                behind=local.count(EventQuery().with_after_id(mark.after_id)),
                events_sent=mark.events_sent,
                synced_at=mark.synced_at,
            )
        )
    return out
