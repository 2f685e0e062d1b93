"""The ``netsky-export`` JSON Lines format: export, check, import.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from .._convert import structure, unstructure
from .._errors import ConfigError, RecordError
from .._queries import EventQuery, SessionQuery
from .._records import Event, FilePosition, Session
from .._urls import mask_url
from ..storage.protocol import Storage, iter_events
from ._writer import (
    _GZIP_MAGIC,
    DEFAULT_BATCH_SIZE,
    EXPORT_FORMAT,
    EXPORT_VERSION,
    ExportFormatError,
    ExportResult,
    ImportResult,
    Progress,
    _Writer,
)

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
            return typing.cast(IO[bytes], gzip.open(path, "rb"))  # a GzipFile reads as IO
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
                    yield typing.cast(IO[bytes], packed)
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
    if cls is None or not isinstance(kind, str):
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
