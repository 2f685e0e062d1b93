"""Moving data between stores: ``copy_store`` and the JSONL export format.

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

Export format (``netsky-export``, version 2), UTF-8 JSON Lines; ``.gz`` files are
gzip-compressed. The first line is the header, then one object per line::

    {"kind": "header", "format": "netsky-export", "version": 2,
     "exported_at": "2026-03-01T12:00:00+00:00", "source": "sqlite:////home/me/netsky.db",
     "since": null}
    {"kind": "event", "data": {...}}       # every Event field except ``id``
    {"kind": "session", "data": {...}}     # every Session field
    {"kind": "position", "data": {...}}    # every FilePosition field

``data`` is the record unstructured by the one converter (``netsky_core._convert``):
ISO-8601 timestamps with offset, ``null`` for unknown values. Events come in the
source's id order, then sessions, then positions; an importer accepts them in any
order. Blank lines are ignored. An unknown ``kind``, an unknown field, a newer
``version`` or a malformed line is an error naming the line.

Import is all-or-nothing for malformed input: the whole file is read and checked
before anything is stored, so a bad line stores nothing. A storage failure part way
(connection lost) leaves the batches already committed; importing the same file again
completes it.
"""

from __future__ import annotations

import enum
import gzip
import os
import tempfile
import typing
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import attrs
import orjson

from ._convert import structure, unstructure
from ._errors import ConfigError, RecordError
from ._queries import EventQuery, SessionQuery
from ._records import Event, FilePosition, Session
from ._urls import mask_url
from .storage.protocol import Storage, iter_events

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "EXPORT_FORMAT",
    "EXPORT_FORMATS",
    "EXPORT_VERSION",
    "CopyResult",
    "EventCounts",
    "ExportFormatError",
    "ExportResult",
    "ImportResult",
    "SameStoreError",
    "check_distinct",
    "copy_store",
    "export_jsonl",
    "import_jsonl",
    "open_export",
    "read_export",
    "write_export_file",
]

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


# -- copy ------------------------------------------------------------------------------


def _location(store: Storage) -> tuple[Any, ...] | None:
    """Where a store keeps its data, when its ``info()`` tells (else None)."""
    info = store.info()
    path = info.details.get("path")
    if path:
        return ("file", os.path.realpath(path))
    database = info.details.get("database")
    if database:
        try:
            parts = urlsplit(info.url)
            host, port = (parts.hostname or "").lower(), parts.port
        except ValueError:
            return None
        return (info.backend, host, port, database, info.details.get("schema"))
    return None


def check_distinct(src: Storage, dst: Storage) -> None:
    """Raise ``SameStoreError`` when ``src`` and ``dst`` are the same store."""
    if src is dst:
        raise SameStoreError("source and destination are the same store")
    a, b = _location(src), _location(dst)
    if a is not None and a == b:
        raise SameStoreError(
            "source and destination are the same store",
            hint="name two different stores (copying a store onto itself changes nothing)",
        )


def copy_store(
    src: Storage,
    dst: Storage,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    source_url: str | None = None,
    destination_url: str | None = None,
    on_start: Callable[[int], None] | None = None,
) -> CopyResult:
    """Copy every event, session and file position of ``src`` into ``dst``, then verify.

    Idempotent: a second run inserts no event. ``on_start(n)`` is called first with
    the number of events in ``src``, ``progress(n)`` after each batch with the number
    of events it held. Verification: ``dst`` holds at least as many events as were
    read and not expired (older than its gc horizon), every session of ``src`` is in
    ``dst`` with every fact the source's summary holds, and every position is stored
    as in ``src`` (or a newer one); what fails is listed in ``problems`` (the copy
    itself is not undone).
    """
    check_distinct(src, dst)
    if batch_size < 1:
        raise RecordError(f"batch size must be at least 1, got {batch_size}")
    source_events = src.count()
    if on_start is not None:
        on_start(source_events)
    writer = _Writer(dst)
    for batch in iter_events(src, batch_size=batch_size):
        writer.insert(batch)
        if progress is not None:
            progress(len(batch))
    sessions = src.list_sessions(SessionQuery())
    positions = src.query_transcript_positions()
    restored, kept, pos_written, pos_kept = writer.restore(sessions, positions)
    destination_events = dst.count()
    expected = writer.counts.read - writer.counts.expired
    problems = _verify(dst, expected, destination_events, sessions, positions)
    return CopyResult(
        source=mask_url(source_url if source_url is not None else src.info().url),
        destination=mask_url(destination_url if destination_url is not None else dst.info().url),
        events=writer.counts,
        sessions_restored=len(restored),
        sessions_kept=kept,
        positions_restored=pos_written,
        positions_kept=pos_kept,
        source_events=source_events,
        destination_events=destination_events,
        problems=tuple(problems),
    )


def _verify(
    dst: Storage,
    events_read: int,
    destination_events: int,
    sessions: list[Session],
    positions: list[FilePosition],
) -> list[str]:
    from .storage.fold import merge_sessions

    problems: list[str] = []
    if destination_events < events_read:
        problems.append(
            f"destination holds {destination_events} events, fewer than the {events_read} "
            "copied and not expired"
        )
    stored = _sessions_of(dst, sessions)
    for s in sessions:
        got = stored.get(s.key)
        if got is None:
            problems.append(f"session {s.machine_id}/{s.session_id} is missing")
            continue
        joined = merge_sessions(got, s)
        if joined != got:
            diff = [
                f.name
                for f in attrs.fields(Session)
                if getattr(got, f.name) != getattr(joined, f.name)
            ]
            problems.append(
                f"session {s.machine_id}/{s.session_id} lacks the source's {', '.join(diff)}"
            )
    stored_pos = {(p.machine_id, p.path): p for p in dst.query_transcript_positions()}
    for p in positions:
        got_pos = stored_pos.get((p.machine_id, p.path))
        if got_pos is None:
            problems.append(f"file position {p.machine_id}:{p.path} is missing")
        elif got_pos != p and not _newer_position(got_pos, p):
            problems.append(f"file position {p.machine_id}:{p.path} differs")
    if len(problems) > _MAX_PROBLEMS:
        more = len(problems) - _MAX_PROBLEMS
        problems = [*problems[:_MAX_PROBLEMS], f"... and {more} more"]
    return problems


# -- export ----------------------------------------------------------------------------


def _line(kind: str, data: Any) -> bytes:
    return orjson.dumps({"kind": kind, "data": data}) + b"\n"


def _event_data(event: Event) -> dict[str, Any]:
    data: dict[str, Any] = unstructure(event)
    data.pop("id", None)
    return data


def export_jsonl(
    store: Storage,
    out: IO[bytes],
    *,
    since: datetime | None = None,
    source: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> ExportResult:
    """Write ``store`` to ``out`` in the ``netsky-export`` JSONL format.

    With ``since``: the events at or after it, the sessions active since it, and no
    file positions (a partial export must not stop the importing store from reading
    the older parts of those files).
    """
    header = {
        "kind": "header",
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": (now or datetime.now(UTC)).astimezone(UTC).isoformat(),
        "source": None if source is None else mask_url(source),
        "since": None if since is None else since.astimezone(UTC).isoformat(),
    }
    out.write(orjson.dumps(header) + b"\n")
    events = 0
    query = EventQuery().with_since(since) if since is not None else None
    for batch in iter_events(store, query, batch_size=batch_size):
        out.write(b"".join(_line("event", _event_data(e)) for e in batch))
        events += len(batch)
        if progress is not None:
            progress(len(batch))
    session_query = SessionQuery().order_by_last_activity().with_direction("asc")
    if since is not None:
        session_query = session_query.with_active_since(since)
    sessions = store.list_sessions(session_query)
    for s in sessions:
        out.write(_line("session", unstructure(s)))
    positions: list[FilePosition] = []
    if since is None:
        positions = sorted(store.query_transcript_positions(), key=lambda p: (p.machine_id, p.path))
        for p in positions:
            out.write(_line("position", unstructure(p)))
    return ExportResult(events=events, sessions=len(sessions), positions=len(positions))


# -- import ----------------------------------------------------------------------------

_KINDS: dict[str, type[Any]] = {"event": Event, "session": Session, "position": FilePosition}


def _json_types(cls: type[Any]) -> dict[str, tuple[type, ...]]:
    """For each field of ``cls``, the JSON value types a file may hold for it.

    Checked before structuring, so that a ``null`` is never turned into ``"None"`` or
    a ``"12"`` into ``12``: an import stores exactly what the file says, or fails.
    """
    out: dict[str, tuple[type, ...]] = {}
    for name, hint in typing.get_type_hints(cls).items():
        allowed: set[type] = set()
        for arg in typing.get_args(hint) or (hint,):
            if arg is type(None):
                allowed.add(type(None))
            elif arg is float:
                allowed |= {int, float}
            elif arg in (int, bool):
                allowed.add(arg)
            elif arg in (str, datetime) or (isinstance(arg, type) and issubclass(arg, enum.Enum)):
                allowed.add(str)
            else:
                allowed.add(object)
        out[name] = tuple(allowed)
    return out


_TYPES: dict[str, dict[str, tuple[type, ...]]] = {k: _json_types(c) for k, c in _KINDS.items()}


def open_export(path: str | os.PathLike[str]) -> IO[bytes]:
    """Open an export file for reading (gzip-compressed files are recognised)."""
    try:
        with open(path, "rb") as probe:
            magic = probe.read(2)
        if magic == _GZIP_MAGIC:
            return gzip.open(path, "rb")
        return open(path, "rb")
    except OSError as exc:
        raise ExportFormatError(f"cannot read {path}: {exc.strerror or exc}") from None


@contextmanager
def _atomic_output(path: Path) -> Iterator[IO[bytes]]:
    """A file written next to ``path`` and renamed onto it only when complete."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw:
            if path.suffix == ".gz":
                with gzip.GzipFile(filename=path.stem, mode="wb", fileobj=raw) as packed:
                    yield packed
            else:
                yield raw
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def write_export_file(
    store: Storage, path: str | os.PathLike[str], *, format: str = "jsonl", **options: Any
) -> ExportResult:
    """Export in ``format`` (see ``EXPORT_FORMATS``) into the file ``path`` (gzip when
    it ends in ``.gz``); ``options`` go to the format's writer.

    The file appears only when the export is complete; a failed export leaves no
    partial file behind (and an existing file unchanged).
    """
    writer = EXPORT_FORMATS.get(format)
    if writer is None:
        raise ConfigError(
            f"unknown export format {format!r}",
            hint=f"formats: {', '.join(sorted(EXPORT_FORMATS))}",
        )
    target = Path(path)
    try:
        with _atomic_output(target) as out:
            return writer(store, out, **options)
    except OSError as exc:
        raise ExportFormatError(f"cannot write {target}: {exc.strerror or exc}") from None


def _bad(number: int, message: str) -> ExportFormatError:
    return ExportFormatError(
        f"line {number}: {message}",
        hint="the file is not a valid netsky export; nothing was imported",
    )


def _check_header(number: int, obj: Any) -> dict[str, Any]:
    if not isinstance(obj, dict) or obj.get("kind") != "header":
        raise _bad(number, "no netsky export header (the first line must be the header object)")
    if obj.get("format") != EXPORT_FORMAT:
        raise _bad(
            number, f"unknown export format {obj.get('format')!r} (expected {EXPORT_FORMAT!r})"
        )
    version = obj.get("version")
    if type(version) is not int or version < 1:
        raise _bad(number, f"invalid export version {version!r}")
    if version > EXPORT_VERSION:
        raise ExportFormatError(
            f"line {number}: export version {version} is newer than this netsky reads "
            f"(up to {EXPORT_VERSION})",
            hint="upgrade netsky to import this file",
        )
    return obj


def _record(number: int, obj: Any) -> tuple[str, Any]:
    if not isinstance(obj, dict):
        raise _bad(number, f"expected a JSON object, got {type(obj).__name__}")
    kind = obj.get("kind")
    if kind == "header":
        raise _bad(number, "a second header")
    cls = _KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise _bad(number, f"unknown kind {kind!r} (expected event, session or position)")
    data = obj.get("data")
    if not isinstance(data, dict):
        raise _bad(number, f"{kind} without a data object")
    if kind == "event":
        data = {k: v for k, v in data.items() if k != "id"}
    types = _TYPES[kind]
    unknown = set(data) - set(types)
    if unknown:
        raise _bad(number, f"unknown {kind} field(s): {', '.join(sorted(unknown))}")
    for name, value in data.items():
        allowed = types[name]
        if object not in allowed and type(value) not in allowed:
            raise _bad(number, f"invalid {kind}: {name} cannot be {_json_name(value)}")
    try:
        return kind, structure(data, cls)
    except RecordError as exc:
        raise _bad(number, f"invalid {kind}: {exc}") from None


def _json_name(value: Any) -> str:
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    return names.get(type(value), f"a JSON {'array' if isinstance(value, list) else 'object'}")


def read_export(fh: IO[bytes]) -> Iterator[tuple[int, str, Any]]:
    """``(line number, kind, record)`` for every line; the header comes first as a dict."""
    header_seen = False
    for number, raw in enumerate(fh, start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise _bad(number, f"invalid JSON ({exc})") from None
        if not header_seen:
            yield number, "header", _check_header(number, obj)
            header_seen = True
            continue
        kind, record = _record(number, obj)
        yield number, kind, record
    if not header_seen:
        raise _bad(1, "the file is empty")


def _scan(path: str | os.PathLike[str]) -> tuple[dict[str, Any], int]:
    """Check the whole file; the header and the number of events."""
    header: dict[str, Any] = {}
    events = 0
    try:
        with open_export(path) as fh:
            for _, kind, record in read_export(fh):
                if kind == "header":
                    header = record
                elif kind == "event":
                    events += 1
    except (OSError, EOFError) as exc:
        raise ExportFormatError(f"cannot read {path}: {exc}") from None
    return header, events


def import_jsonl(
    store: Storage,
    path: str | os.PathLike[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    on_start: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import a ``netsky-export`` file into ``store``; see the module docstring.

    The file is checked completely first (nothing is stored when a line is bad);
    ``on_start(n)`` is then called with the number of events it holds, and
    ``progress(n)`` after each stored batch.
    """
    if batch_size < 1:
        raise RecordError(f"batch size must be at least 1, got {batch_size}")
    header, total = _scan(path)
    if on_start is not None:
        on_start(total)
    writer = _Writer(store)
    sessions: list[Session] = []
    positions: list[FilePosition] = []
    batch: list[Event] = []
    try:
        with open_export(path) as fh:
            for _, kind, record in read_export(fh):
                if kind == "event":
                    batch.append(record)
                    if len(batch) >= batch_size:
                        writer.insert(batch)
                        if progress is not None:
                            progress(len(batch))
                        batch = []
                elif kind == "session":
                    sessions.append(record)
                elif kind == "position":
                    positions.append(record)
    except (OSError, EOFError) as exc:
        raise ExportFormatError(f"cannot read {path}: {exc}") from None
    if batch:
        writer.insert(batch)
        if progress is not None:
            progress(len(batch))
    restored, kept, pos_written, pos_kept = writer.restore(sessions, positions)
    return ImportResult(
        header=header,
        events=writer.counts,
        sessions_restored=len(restored),
        sessions_kept=kept,
        positions_restored=pos_written,
        positions_kept=pos_kept,
    )


EXPORT_FORMATS: dict[str, Callable[..., ExportResult]] = {"jsonl": export_jsonl}
"""Export writers by ``--format`` name."""
