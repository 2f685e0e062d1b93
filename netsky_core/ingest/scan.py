"""Finding agent history files and ingesting them incrementally, exactly once.

For each file the store keeps a ``FilePosition``: the byte offset read so far and the
file's size, mtime and inode when it was read.

* A file whose size, mtime and inode match its position is not opened.
* A file that grew is read from its offset (appended lines only).
* A file that shrank, or whose inode, first bytes or bytes just before the saved
  offset changed, was truncated or replaced (in place too: truncated and regrown,
  or rewritten under the same name with the inode reused): it is read again from
  the start and dedup keeps each event once.
* The position records which parser read the file: a file read with another parser
  (``netsky ingest codex <claude folder>``) is read again from the start by the right
  one, and a file a parser took no event from is counted in
  ``files_without_events`` (the summary warns). ``rescan`` reads every file again.
* A UTF-8 byte order mark before the first line and NUL bytes before a line (a torn
  write by the agent) are dropped, not counted as a malformed line.
* Only complete lines (ending in a newline) are consumed; a partial last line (the
  agent is still writing it) is read again next time.
* Events go to the store in batches of about ``batch_size`` events, gathered across
  files; each batch carries, in the same transaction, the positions of the files its
  events came from (and of the files read since the last batch), so a run killed at
  any moment resumes without loss, and repeats are dedup'd.
* Past ``BULK_BYTES`` read in one run the store is put in its bulk-load mode
  (``Store.bulk_load``: SQLite checkpoints its WAL every 64 MiB, not every 1,000 pages).
* With ``PARALLEL_BYTES`` or more to read (and more than one CPU, on a system that
  forks), the files are read and parsed in a second process while this one stores:
  the same batches, with their positions, in the same order as when one process does
  both. The parsing process stops when this one ends, killed or not.
* Reading stops at the size the file had when it was stat'ed, so a concurrent
  append is never recorded as read.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import orjson

from .._errors import NetskyError
from .._records import Event, FilePosition, event_columns, events_from_columns
from ..sources._common import SourceUnavailable
from ..sources._sqlite import database_signature
from ..storage.protocol import Storage
from .claude import ClaudeParser
from .codex import CodexParser
from .pricing import PriceTable
from .roots import claude_roots, codex_roots

__all__ = [
    "IngestSummary",
    "Source",
    "claude_roots",
    "codex_roots",
    "discover",
    "files_of",
    "ingest",
]

CLAUDE = "claude"
CODEX = "codex"
CHUNK = 8 << 20
BULK_BYTES = 32 << 20
"""Bytes read in one run after which the store is put in its bulk-load mode."""
PARALLEL_BYTES = 4 << 20
"""Bytes to read in one run from which a second process parses while this one stores."""
HEAD = 256
TAIL = 256
"""Bytes before the saved offset whose hash must still match to resume there."""
_BOM = b"\xef\xbb\xbf"


@attrs.frozen(order=True)
class Source:
    """One history file and the reader it needs.

    ``kind`` is the source's name (``claude``, ``codex``, ``gemini``, ...). Claude and
    Codex files need nothing else; a file of another source says its ``format``
    (``lines``, ``document``, ``database``) and carries that format's ``reader`` (a
    parser class, ``read_document`` or ``read_database``; see
    ``netsky_core.sources.base``).
    """

    path: str
    kind: str
    format: str = attrs.field(default="lines", order=False)
    reader: Any = attrs.field(default=None, eq=False, order=False, repr=False)


@attrs.define
class IngestSummary:
    """What one ingest run did (``netsky ingest --json`` prints it)."""

    files_found: int = 0
    files_read: int = 0
    files_unchanged: int = 0
    files_skipped_old: int = 0
    files_reread: int = 0
    files_without_events: int = 0
    files_failed: int = 0
    bytes_read: int = 0
    lines: int = 0
    events: int = 0
    inserted: int = 0
    duplicates: int = 0
    superseded: int = 0
    malformed_lines: int = 0
    skipped_lines: int = 0
    partial_lines: int = 0
    synthetic_lines: int = 0
    unknown_models: dict[str, int] = attrs.field(factory=dict)
    errors: list[str] = attrs.field(factory=list)
    warnings: list[str] = attrs.field(factory=list)
    sources: dict[str, int] = attrs.field(factory=dict)
    """Files found per source (``netsky ingest`` fills it in)."""
    seconds: float = 0.0

    def merge_counter(self, counter: Counter[str]) -> None:
        for name, n in counter.items():
            self.unknown_models[name] = self.unknown_models.get(name, 0) + n


# -- discovery ----------------------------------------------------------------------


def _jsonl_under(folder: Path) -> Iterator[Path]:
    if not folder.is_dir():
        return
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            if name.endswith(".jsonl"):
                yield Path(dirpath) / name


def _kind_of(path: Path) -> str:
    name = path.name
    if name.startswith("rollout-") or ("sessions" in path.parts and ".codex" in str(path)):
        return CODEX
    return CLAUDE


def files_of(kind: str, roots: Iterable[Path]) -> list[Source]:
    """The history files of ``kind`` (``claude`` / ``codex``) below its ``roots`` (Claude
    config roots: ``projects/``; Codex homes: ``sessions/`` and ``archived_sessions/``),
    each file once, oldest first."""
    found: list[Source] = []
    for root in roots:
        subs = ("projects",) if kind == CLAUDE else ("sessions", "archived_sessions")
        for sub in subs:
            found += [Source(str(f.absolute()), kind) for f in _jsonl_under(Path(root) / sub)]
    unique: dict[str, Source] = {}
    for s in found:
        unique.setdefault(os.path.realpath(s.path), s)
    return sorted(unique.values(), key=_written_order)


def discover(
    kind: str | None = None,
    paths: Iterable[str] = (),
    *,
    environ: Mapping[str, str] | None = None,
    claude_extra: Iterable[str] = (),
    codex_extra: Iterable[str] = (),
) -> list[Source]:
    """History files to ingest, each file once, oldest first (by modification time).

    With ``paths``, only those files or folders (searched for ``*.jsonl``); ``kind``
    (``claude`` / ``codex``) forces the parser, else it is guessed per file.
    """
    found: list[Source] = []
    if paths:
        for raw in paths:
            p = Path(raw).expanduser()
            files = [p] if p.is_file() else list(_jsonl_under(p))
            for f in files:
                found.append(Source(str(f.absolute()), kind or _kind_of(f)))
    else:
        if kind in (None, CLAUDE):
            for root in claude_roots(environ, claude_extra):
                found += [
                    Source(str(f.absolute()), CLAUDE) for f in _jsonl_under(root / "projects")
                ]
        if kind in (None, CODEX):
            for root in codex_roots(environ, codex_extra):
                for sub in ("sessions", "archived_sessions"):
                    found += [Source(str(f.absolute()), CODEX) for f in _jsonl_under(root / sub)]
    unique: dict[str, Source] = {}
    for s in found:
        unique.setdefault(os.path.realpath(s.path), s)
    return sorted(unique.values(), key=_written_order)


def _written_order(source: Source) -> tuple[int, str]:
    """Files in the order the agents wrote them (modification time, then path).

    Which session bills a response a resumed transcript repeats does not depend on
    this order (the store settles it, see ``netsky_core.storage.billing``); reading
    oldest first only makes such moves rarer.
    """
    try:
        return (os.stat(source.path).st_mtime_ns, source.path)
    except OSError:
        return (0, source.path)


# -- ingesting ------------------------------------------------------------------------

_WHOLE = ("document", "database")


class SourceFailure(Exception):
    """A source's reader raised: the file is counted as failed, other files go on."""


def _call_reader(source: Source, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except SourceFailure:
        raise
    except SourceUnavailable as exc:
        raise SourceFailure(str(exc)) from exc
    except Exception as exc:
        raise SourceFailure(f"source {source.kind!r} failed: {type(exc).__name__}: {exc}") from exc


class _Guarded:
    """A source's line parser whose exceptions become a ``SourceFailure``."""

    def __init__(self, source: Source, parser: Any) -> None:
        self._source = source
        self._parser = parser

    def parse(self, raw: bytes) -> list[Event]:
        return list(_call_reader(self._source, lambda: self._parser.parse(raw)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)


def _state_of(pos: FilePosition | None) -> dict[str, Any]:
    if pos is None or not pos.state:
        return {}
    try:
        state = orjson.loads(pos.state)
    except orjson.JSONDecodeError:
        return {}
    return state if isinstance(state, dict) else {}


def _inode(st: os.stat_result) -> int:
    """The inode as a signed 64-bit number (some filesystems use all 64 bits)."""
    ino = st.st_ino
    return ino - (1 << 64) if ino >= 1 << 63 else ino


def _head_hash(fh: Any) -> str:
    fh.seek(0)
    return hashlib.blake2b(fh.read(HEAD), digest_size=8).hexdigest()


def _read_by(pos: FilePosition) -> str | None:
    """The parser kind that read the file (None: a position saved before 0.2)."""
    try:
        state = orjson.loads(pos.state) if pos.state else None
    except orjson.JSONDecodeError:
        return None
    kind = state.get("kind") if isinstance(state, dict) else None
    return kind if isinstance(kind, str) else None


def _tail_hash(fh: Any, offset: int) -> str:
    """The hash of the ``TAIL`` bytes before ``offset``: they change when a file is
    truncated and regrown (or replaced) in place, even to the same size."""
    here = fh.tell()
    start = max(0, offset - TAIL)
    fh.seek(start)
    digest = hashlib.blake2b(fh.read(offset - start), digest_size=8).hexdigest()
    fh.seek(here)
    return digest


class _Batcher:
    """Events and file positions waiting to be stored together (one transaction).

    With ``send``, a full batch is handed to it (the parsing process sends it to the
    storing one) instead of being stored here.
    """

    def __init__(
        self,
        store: Storage,
        summary: IngestSummary,
        batch_size: int,
        on_progress: Callable[[int, int], None] | None,
        known: dict[str, FilePosition] | None,
        send: Callable[[list[Event], list[FilePosition]], None] | None = None,
    ) -> None:
        self.store = store
        self.summary = summary
        self.batch_size = max(1, batch_size)
        self.on_progress = on_progress
        self.known = known
        self.send = send
        self.events: list[Event] = []
        self.positions: dict[str, FilePosition] = {}

    def position(self, machine_id: str, path: str) -> FilePosition | None:
        """The file's position: waiting here, read at the start, or from the store."""
        waiting = self.positions.get(path)
        if waiting is not None:
            return waiting
        if self.known is not None:
            return self.known.get(path)
        return self.store.get_transcript_position(machine_id, path)

    def add(self, events: list[Event], position: FilePosition) -> None:
        self.events.extend(events)
        self.positions[position.path] = position
        if len(self.events) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self.events and not self.positions:
            return
        events, positions = self.events, list(self.positions.values())
        if self.send is not None:
            self.send(events, positions)
        else:
            self.store_batch(events, positions)
        self.events, self.positions = [], {}
        self.remember(positions)

    def remember(self, positions: list[FilePosition]) -> None:
        """Note the positions a batch recorded (later files of the run read them)."""
        if self.known is not None:
            self.known.update((p.path, p) for p in positions)

    def store_batch(self, events: list[Event], positions: list[FilePosition]) -> None:
        result = self.store.insert_many(events, positions=positions)
        summary = self.summary
        summary.events += len(events)
        summary.inserted += result.inserted
        summary.duplicates += result.duplicates
        summary.superseded += result.superseded
        if self.on_progress is not None and events:
            self.on_progress(0, result.inserted)


class _FileIngest:
    """Reads one file from its position and hands events and positions to a batcher."""

    def __init__(
        self,
        store: Storage,
        source: Source,
        *,
        machine_id: str,
        prices: PriceTable,
        summary: IngestSummary,
        batch_size: int,
        batcher: _Batcher,
        store_payloads: bool,
        redact: Callable[[str], str] | None,
        on_progress: Callable[[int, int], None] | None,
        rescan: bool = False,
    ) -> None:
        self.rescan = rescan
        self.store = store
        self.source = source
        self.machine_id = machine_id
        self.prices = prices
        self.summary = summary
        self.batch_size = batch_size
        self.batcher = batcher
        self.store_payloads = store_payloads
        self.redact = redact
        self.on_progress = on_progress

    def run(self, since: datetime | None) -> None:
        path = self.source.path
        summary = self.summary
        try:
            st = os.stat(path)
        except OSError as exc:
            summary.files_failed += 1
            summary.errors.append(f"{path}: {exc.strerror}")
            return
        if since is not None and st.st_mtime < since.timestamp():
            summary.files_skipped_old += 1
            return
        pos = None if self.rescan else self.batcher.position(self.machine_id, path)
        if self.source.format in _WHOLE:
            self._read_whole(st, pos)
            return
        if (
            pos is not None
            and pos.inode == _inode(st)
            and pos.size == st.st_size
            and pos.mtime_ns == st.st_mtime_ns
            and _read_by(pos) in (None, self.source.kind)
        ):
            summary.files_unchanged += 1
            return
        try:
            with open(path, "rb") as fh:
                self._read(fh, st, pos)
        except OSError as exc:
            summary.files_failed += 1
            summary.errors.append(f"{path}: {exc.strerror}")

    def _read(self, fh: Any, st: os.stat_result, pos: FilePosition | None) -> None:
        summary = self.summary
        head = _head_hash(fh)
        state: dict[str, Any] = {}
        offset = line_number = 0
        if pos is not None:
            try:
                saved = orjson.loads(pos.state) if pos.state else {}
            except orjson.JSONDecodeError:
                saved = {}
            same_file = (
                pos.inode == _inode(st)
                and st.st_size >= pos.offset
                and saved.get("kind", self.source.kind) == self.source.kind
                and (saved.get("head") == head or pos.offset < HEAD)
                and ("tail" not in saved or saved["tail"] == _tail_hash(fh, pos.offset))
            )
            if same_file:
                offset, line_number, state = pos.offset, pos.line_number, saved
            else:
                summary.files_reread += 1
        summary.files_read += 1
        parser = self._parser(state.get("parser"))
        end = st.st_size
        fh.seek(offset)
        events: list[Event] = []
        remainder = b""
        position = offset  # file offset of the start of `remainder`
        consumed = offset  # end of the last complete line handled
        last_uuid = pos.last_uuid if pos is not None else None
        produced_any = offset > 0 and line_number > 0 and bool(state.get("events", True))
        while position + len(remainder) < end:
            chunk = fh.read(min(CHUNK, end - position - len(remainder)))
            if not chunk:
                break
            summary.bytes_read += len(chunk)
            data = remainder + chunk
            start = 0
            while True:
                newline = data.find(b"\n", start)
                if newline < 0:
                    break
                raw = data[start:newline]
                if line_number == 0 and raw.startswith(_BOM):
                    raw = raw[len(_BOM) :]
                if raw[:1] == b"\x00":
                    raw = raw.lstrip(b"\x00")
                start = newline + 1
                line_number += 1
                consumed = position + start
                if raw.strip():
                    summary.lines += 1
                    produced = parser.parse(raw)
                    if produced:
                        produced_any = True
                        events.extend(produced)
                        last_uuid = produced[-1].uuid or last_uuid
                if len(events) >= self.batch_size:
                    self.produced_any = produced_any
                    self._flush(
                        events,
                        consumed,
                        line_number,
                        last_uuid,
                        st,
                        head,
                        parser,
                        done=False,
                        fh=fh,
                    )
                    events = []
            position += start
            remainder = data[start:]
            if self.on_progress is not None:
                self.on_progress(len(chunk), 0)
        if remainder.strip():
            summary.partial_lines += 1
        self.produced_any = produced_any
        if not produced_any and line_number > 0:
            summary.files_without_events += 1
            summary.warnings.append(
                f"{self.source.path}: no event in {line_number} lines: not a "
                f"{self.source.kind} file? (nothing is lost: another parser reads it again)"
            )
        self._flush(events, consumed, line_number, last_uuid, st, head, parser, done=True, fh=fh)
        summary.malformed_lines += parser.malformed
        summary.skipped_lines += parser.skipped
        summary.synthetic_lines += parser.synthetic
        summary.merge_counter(Counter(parser.unknown_models))

    # -- whole documents and databases ------------------------------------------------

    def _read_whole(self, st: os.stat_result, pos: FilePosition | None) -> None:
        """A JSON document rewritten in place, or another program's database: read
        whole when its signature changed; the store keeps each event once."""
        summary = self.summary
        source = self.source
        path = source.path
        database = source.format == "database"
        extra = database_signature(path) if database else None
        saved = _state_of(pos)
        same_file = (
            pos is not None
            and pos.inode == _inode(st)
            and pos.size == st.st_size
            and pos.mtime_ns == st.st_mtime_ns
            and saved.get("kind") == source.kind
            and saved.get("wal") == extra
        )
        if same_file:
            summary.files_unchanged += 1
            return
        options: dict[str, Any] = dict(
            machine_id=self.machine_id,
            prices=self.prices,
            store_payloads=self.store_payloads,
            redact=self.redact,
        )
        digest = None
        if database:
            summary.bytes_read += st.st_size
            result = _call_reader(source, lambda: source.reader(path, **options))
        else:
            with open(path, "rb") as fh:
                data = fh.read()
            summary.bytes_read += len(data)
            digest = hashlib.blake2b(data, digest_size=16).hexdigest()
            if pos is not None and saved.get("hash") == digest and saved.get("kind") == source.kind:
                summary.files_unchanged += 1  # touched, not changed
                self._save_whole(st, data_len=len(data), digest=digest, extra=None, events=[])
                return
            # rewritten while read (len(data) != st.st_size): the file as it was before
            # the read is what is kept as read, so the next ingest reads it again
            result = _call_reader(source, lambda: source.reader(data, path=path, **options))
        summary.files_read += 1
        events = list(result.events)
        if self.on_progress is not None:
            self.on_progress(st.st_size, 0)
        summary.malformed_lines += result.malformed
        summary.skipped_lines += result.skipped
        summary.merge_counter(Counter({m: 1 for m in result.unknown_models}))
        if not events and not result.skipped:
            summary.files_without_events += 1
        self._save_whole(st, data_len=st.st_size, digest=digest, extra=extra, events=events)

    def _save_whole(
        self,
        st: os.stat_result,
        *,
        data_len: int,
        digest: str | None,
        extra: Any,
        events: list[Event],
    ) -> None:
        """Hand the document's events to the batcher with its position (stored in one
        transaction, like a transcript's lines)."""
        state: dict[str, Any] = {"kind": self.source.kind, "format": self.source.format}
        if digest is not None:
            state["hash"] = digest
        if extra is not None:
            state["wal"] = extra
        self.batcher.add(
            events,
            FilePosition(
                machine_id=self.machine_id,
                path=self.source.path,
                offset=data_len,
                line_number=0,
                last_uuid=None,
                size=st.st_size,
                mtime_ns=st.st_mtime_ns,
                inode=_inode(st),
                state=orjson.dumps(state).decode(),
            ),
        )

    def _parser(self, state: dict[str, Any] | None) -> Any:
        common: dict[str, Any] = dict(
            machine_id=self.machine_id,
            path=self.source.path,
            prices=self.prices,
            store_payloads=self.store_payloads,
            redact=self.redact,
        )
        if self.source.reader is not None:
            reader = self.source.reader
            return _Guarded(
                self.source, _call_reader(self.source, lambda: reader(state=state, **common))
            )
        if self.source.kind == CODEX:
            return CodexParser(state=state, **common)
        return ClaudeParser(**common)

    def _flush(
        self,
        events: list[Event],
        offset: int,
        line_number: int,
        last_uuid: str | None,
        st: os.stat_result,
        head: str,
        parser: Any,
        *,
        done: bool,
        fh: Any = None,
    ) -> None:
        """Hand ``events`` to the batcher with how far the file was read (stored
        together, in one transaction).

        Only the position after the whole file was read records the file's size and
        mtime: a run that stops mid-file (killed, interrupted, store lost) leaves a
        position that can never look "unchanged", so the next run goes on from it.
        """
        state: dict[str, Any] = {"head": head, "kind": self.source.kind}
        if fh is not None:
            state["tail"] = _tail_hash(fh, offset)
            state["events"] = self.produced_any
        parser_state = getattr(parser, "state", None)
        if parser_state:
            state["parser"] = parser_state
        self.batcher.add(
            events,
            FilePosition(
                machine_id=self.machine_id,
                path=self.source.path,
                offset=offset,
                line_number=line_number,
                last_uuid=last_uuid,
                size=st.st_size if done else None,
                mtime_ns=st.st_mtime_ns if done else None,
                inode=_inode(st),
                state=orjson.dumps(state).decode(),
            ),
        )


def ingest(
    store: Storage,
    sources: Iterable[Source],
    *,
    machine_id: str,
    prices: PriceTable | None = None,
    since: datetime | None = None,
    batch_size: int = 5000,
    store_payloads: bool = True,
    redact: Callable[[str], str] | None = None,
    on_file: Callable[[Source], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    rescan: bool = False,
    parallel: bool | None = None,
) -> IngestSummary:
    """Ingest ``sources`` into ``store`` incrementally; see the module docstring.

    ``since`` skips files last modified before it (by mtime, without reading them);
    ``rescan`` reads every file from its start whatever its position says.
    ``on_progress(bytes, new_events)`` is called as work is done. ``parallel``: parse
    in a second process (True, where possible), in this one (False), or decide by the
    bytes to read (None, the default; see ``PARALLEL_BYTES``).
    """
    started = time.perf_counter()
    prices = prices or PriceTable.load()
    summary = IngestSummary()
    sources = list(sources)
    known = None if rescan else _positions(store, machine_id)
    batcher = _Batcher(store, summary, batch_size, on_progress, known)
    files = _Files(
        store,
        sources,
        machine_id=machine_id,
        prices=prices,
        since=since,
        batch_size=batch_size,
        store_payloads=store_payloads,
        redact=redact,
        rescan=rescan,
    )
    if parallel is None:
        parallel = _to_read(sources, known) >= PARALLEL_BYTES
    parallel = parallel and _can_fork(store) and (known is not None or rescan)
    with ExitStack() as stack:
        if parallel:
            _store_parsed_elsewhere(files, batcher, stack, on_file, on_progress)
        else:
            files.run(batcher, summary, stack, on_file, on_progress)
        batcher.flush()
    summary.seconds = time.perf_counter() - started
    return summary


class _Files:
    """Reads every source in turn, handing events and positions to a batcher."""

    def __init__(self, store: Storage, sources: list[Source], **options: Any) -> None:
        self.store = store
        self.sources = sources
        self.since: datetime | None = options.pop("since")
        self.options = options

    def run(
        self,
        batcher: _Batcher,
        summary: IngestSummary,
        stack: ExitStack | None,
        on_file: Callable[[Source], None] | None,
        on_progress: Callable[[int, int], None] | None,
    ) -> None:
        """Read the files; ``stack`` (None: not here) gets the store's bulk-load mode
        once ``BULK_BYTES`` have been read."""
        bulk = _BulkAfter(self.store, stack)
        for source in self.sources:
            summary.files_found += 1
            if on_file is not None:
                on_file(source)
            runner = _FileIngest(
                self.store,
                source,
                summary=summary,
                batcher=batcher,
                on_progress=on_progress,
                **self.options,
            )
            try:
                runner.run(self.since)
            except SourceFailure as exc:
                summary.files_failed += 1
                summary.errors.append(f"{source.path}: {exc}")
            bulk.read(summary.bytes_read)
        batcher.flush()


class _BulkAfter:
    """Puts the store in its bulk-load mode (``stack`` keeps it until the run ends)
    once ``BULK_BYTES`` have been read; ``stack`` None: never."""

    def __init__(self, store: Storage, stack: ExitStack | None) -> None:
        self.enter = getattr(store, "bulk_load", None) if stack is not None else None
        self.stack = stack

    def read(self, total: int) -> None:
        if self.enter is not None and self.stack is not None and total >= BULK_BYTES:
            self.stack.enter_context(self.enter())
            self.enter = None


def _to_read(sources: list[Source], known: dict[str, FilePosition] | None) -> int:
    """Bytes past the saved positions of the line files (an estimate: one stat each)."""
    total = 0
    for source in sources:
        if source.format != "lines":
            continue
        try:
            size = os.stat(source.path).st_size
        except OSError:
            continue
        pos = known.get(source.path) if known is not None else None
        total += size - pos.offset if pos is not None and pos.offset <= size else size
    return total


_FORK_SAFE_ENGINES = ("sqlite", "memory")
"""Engines whose open connections a forked parsing process may inherit untouched
(a network connection's socket and TLS state are kept out of it)."""


def _can_fork(store: Any = None) -> bool:
    """Whether a parsing process can be forked off (and a second CPU runs it)."""
    engine = getattr(store, "engine", None)
    if store is not None and getattr(engine, "name", None) not in _FORK_SAFE_ENGINES:
        return False
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return False
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return cpus > 1


class ParseProcessError(NetskyError):
    """The process parsing the files for this ingest failed or ended early."""


class _Outbox:
    """Sends the parsing process's messages from a thread, so that parsing goes on
    while the storing process is busy (up to ``depth`` batches waiting)."""

    def __init__(self, conn: Any, depth: int = 2) -> None:
        self.conn = conn
        self.failed: OSError | None = None
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self.thread = threading.Thread(target=self._send, name="netsky-ingest-send", daemon=True)
        self.thread.start()

    def put(self, message: Any) -> None:
        if self.failed is not None:
            raise self.failed
        self.queue.put(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        self.conn.close()
        if self.failed is not None:
            raise self.failed

    def _send(self) -> None:
        while (data := self.queue.get()) is not None:
            if self.failed is None:
                try:
                    self.conn.send_bytes(data)
                except OSError as exc:  # the storing process is gone: drop the rest
                    self.failed = exc


def _parse_and_send(
    files: _Files,
    conn: Any,
    batch_size: int,
    known: dict[str, FilePosition] | None,
    other_end: Any,
) -> None:
    """The parsing process: read every file, send each batch (as columns, with its
    positions and the files and bytes read since the last one), then the summary."""
    other_end.close()  # else a killed storing process would leave this one blocked
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the storing process decides
    summary = IngestSummary()
    started: list[int] = []
    read = [0]
    index = {id(s): i for i, s in enumerate(files.sources)}
    outbox = _Outbox(conn)

    def send(events: list[Event], positions: list[FilePosition]) -> None:
        outbox.put(("batch", event_columns(events), positions, started[:], read[0]))
        started.clear()
        read[0] = 0

    def progress(n: int, _new: int) -> None:
        read[0] += n

    batcher = _Batcher(files.store, summary, batch_size, None, known, send)
    try:
        try:
            files.run(batcher, summary, None, lambda s: started.append(index[id(s)]), progress)
            outbox.put(("done", summary, started[:], read[0]))
        except BaseException as exc:
            if outbox.failed is not None:
                raise outbox.failed from None
            try:
                outbox.put(("error", exc))
            except (pickle.PicklingError, TypeError, AttributeError):
                outbox.put(("error", ParseProcessError(f"{type(exc).__name__}: {exc}")))
        outbox.close()
    except OSError:
        if outbox.failed is None:
            raise
        # the storing process is gone: nothing is waiting for the rest


def _store_parsed_elsewhere(
    files: _Files,
    batcher: _Batcher,
    stack: ExitStack,
    on_file: Callable[[Source], None] | None,
    on_progress: Callable[[int, int], None] | None,
) -> None:
    """Store the batches a forked parsing process sends, in the order it sends them."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    worker = ctx.Process(
        target=_parse_and_send,
        args=(files, send, batcher.batch_size, batcher.known, receive),
        name="netsky-ingest-parse",
        daemon=True,
    )
    # Objects alive now stay the storing process's: a collection in the parsing process
    # must not finalize (close, roll back) a connection both processes hold.
    gc.freeze()
    try:
        worker.start()
    finally:
        gc.unfreeze()
    send.close()
    summary = batcher.summary
    bulk = _BulkAfter(files.store, stack)
    read_total = 0

    def advance(started: list[int], read: int) -> None:
        nonlocal read_total
        if on_file is not None:
            for i in started:
                on_file(files.sources[i])
        if on_progress is not None and read:
            on_progress(read, 0)
        read_total += read
        bulk.read(read_total)

    try:
        while True:
            try:
                message = receive.recv()
            except (EOFError, OSError):  # OSError: killed in the middle of a message
                worker.join()
                raise ParseProcessError(
                    f"the parsing process ended early (exit code {worker.exitcode})"
                ) from None
            kind = message[0]
            if kind == "batch":
                _, columns, positions, started, read = message
                advance(started, read)
                batcher.store_batch(events_from_columns(columns), positions)
                batcher.remember(positions)
            elif kind == "done":
                _, parsed, started, read = message
                advance(started, read)
                _merge(summary, parsed)
                break
            else:
                raise message[1]
    finally:
        receive.close()
        if worker.is_alive():
            worker.terminate()
        worker.join()


def _merge(summary: IngestSummary, parsed: IngestSummary) -> None:
    """Add what the parsing process counted to the storing process's summary."""
    for field in attrs.fields(IngestSummary):
        name = field.name
        if name in ("events", "inserted", "duplicates", "superseded", "seconds", "sources"):
            continue
        value = getattr(parsed, name)
        if name == "unknown_models":
            summary.merge_counter(Counter(value))
        elif isinstance(value, list):
            getattr(summary, name).extend(value)
        else:
            setattr(summary, name, getattr(summary, name) + value)


def _positions(store: Storage, machine_id: str) -> dict[str, FilePosition] | None:
    """Every saved position of this machine, by path (one read instead of one per
    file); None where the store cannot list them."""
    lister = getattr(store, "query_transcript_positions", None)
    if lister is None:
        return None
    return {p.path: p for p in lister(machine_id)}
