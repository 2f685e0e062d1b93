"""What every agent reader shares: the source description, the result of a whole-document
read, timestamps and token counts as ccusage 20.0.24 reads them, event building, and a
read-only SQLite opener that never blocks (or writes beside) another program's database.

Readers depend only on ``netsky_core._records``, ``netsky_core.ingest.pricing``, the
standard library, msgspec and orjson.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import attrs
import orjson

from .._records import Event, EventSource, EventType
from ..ingest.pricing import PriceTable, Usage

__all__ = [
    "DocumentResult",
    "EventFactory",
    "SourceSpec",
    "content_id",
    "count",
    "open_database",
    "parse_time",
    "total_fallback",
]

Redact = Callable[[str], str] | None
KINDS = ("lines", "document", "database")


@attrs.frozen(kw_only=True)
class SourceSpec:
    """One on-disk format of one agent.

    ``env_var`` is the variable ccusage 20.0.24 reads (comma-separated roots); when it is
    unset, ``default_roots`` (``~`` expanded) are used. ``kind`` says which reader the
    module exposes: ``lines`` (a ``Parser`` class fed one JSONL line at a time),
    ``document`` (``read_document`` over a whole JSON file rewritten in place) or
    ``database`` (``read_database`` over an SQLite file of the agent).
    """

    name: str
    title: str
    env_var: str
    default_roots: tuple[str, ...]
    kind: str = attrs.field(validator=attrs.validators.in_(KINDS))

    def roots(self, environ: Mapping[str, str] | None = None) -> list[Path]:
        """The roots to scan: the variable's comma-separated list, else the defaults."""
        env = os.environ if environ is None else environ
        value = env.get(self.env_var, "")
        parts = [p.strip() for p in value.split(",") if p.strip()] if value.strip() else []
        return [Path(p).expanduser() for p in (parts or self.default_roots)]


@attrs.define(kw_only=True)
class DocumentResult:
    """Events of a whole document (or database) and what could not be read."""

    events: list[Event] = attrs.Factory(list)
    malformed: int = 0
    skipped: int = 0
    unknown_models: set[str] = attrs.Factory(set)


# -- values -------------------------------------------------------------------------


def count(value: Any) -> int:
    """A token count as ccusage reads it: a finite number, truncated, at least 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    if isinstance(value, float):
        if not math.isfinite(value):
            return 0
        value = int(value)
    return value if value > 0 else 0


def number(value: Any) -> float | None:
    """A finite JSON number as a float, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty dict."""
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str | None:
    """A non-empty (after strip) string, else None."""
    if isinstance(value, str) and value.strip():
        return value
    return None


_EPOCH_MS_LIMIT = 1e12


def parse_time(value: Any, *, unit: str = "auto") -> datetime | None:
    """An aware UTC datetime from an ISO-8601 string or an epoch number.

    ``unit``: ``s`` or ``ms`` for numbers; ``auto`` takes numbers above 1e12 as
    milliseconds (as ccusage does). Unparseable values give None.
    """
    if isinstance(value, str):
        raw = value.strip()
        if not raw:
            return None
        try:
            parsed = datetime.fromisoformat(raw[:-1] + "+00:00" if raw[-1:] in "zZ" else raw)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    seconds = number(value)
    if seconds is None:
        return None
    if unit == "ms" or (unit == "auto" and seconds > _EPOCH_MS_LIMIT):
        seconds = math.trunc(seconds) / 1000.0
    millis = math.trunc(seconds * 1000)
    if millis <= 0:
        return None
    try:
        return datetime.fromtimestamp(millis / 1000.0, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def parse_iso(value: Any) -> datetime | None:
    """An ISO-8601 timestamp string as an aware UTC datetime; anything else None."""
    return parse_time(value) if isinstance(value, str) else None


def total_fallback(known: int, output: int, extra: int, total: int) -> tuple[int, int]:
    """ccusage's rule for a reported ``total`` larger than the parts it knows.

    ``known`` is input + output + cache writes + cache reads. The missing tokens go to
    output when output is 0, else to the extra (reasoning) count. Returns the new
    ``(output, extra)``.
    """
    missing = total - known - extra
    if missing <= 0:
        return output, extra
    if output == 0:
        return missing, extra
    return output, extra + missing


def content_id(*parts: Any) -> str:
    """A short stable hash of ``parts`` (JSON-encoded), for ids built from content."""
    raw = orjson.dumps(parts, option=orjson.OPT_NON_STR_KEYS)
    return hashlib.blake2b(raw, digest_size=12).hexdigest()


def json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def decode_json(data: bytes | str) -> Any:
    """JSON value of ``data``; ValueError when it is not JSON text."""
    try:
        return orjson.loads(data)
    except (orjson.JSONDecodeError, TypeError, RecursionError) as exc:
        raise ValueError(str(exc)) from None


# -- events -------------------------------------------------------------------------


class EventFactory:
    """Builds one source's events with the shared fields filled in.

    ``unknown_models`` collects models the price table cannot price.
    """

    def __init__(
        self,
        *,
        framework: str,
        machine_id: str,
        path: str,
        prices: PriceTable,
        store_payloads: bool = True,
        redact: Redact = None,
    ) -> None:
        self.framework = framework
        self.machine_id = machine_id
        self.path = path
        self.prices = prices
        self.store_payloads = store_payloads
        self.redact = redact
        self.unknown_models: set[str] = set()

    def payload(self, value: Any) -> str | None:
        """JSON text of ``value`` (a str is taken as JSON text already), redacted."""
        if value is None:
            return None
        body = value if isinstance(value, str) else json_text(value)
        return self.redact(body) if self.redact is not None else body

    def raw_payload(self, raw: Any) -> str | None:
        """The record's own JSON text, when payloads are stored."""
        if not self.store_payloads or raw is None:
            return None
        if isinstance(raw, bytes | bytearray | memoryview):
            raw = bytes(raw).decode("utf-8", "replace")
        return self.payload(raw if isinstance(raw, str) else json_text(raw))

    def price(self, model: str | None, usage: Usage) -> float | None:
        """LiteLLM cost of ``usage``; None (and the model noted) when unknown."""
        cost = self.prices.cost(model, usage)
        if cost is None and model:
            self.unknown_models.add(model)
        return cost

    def event(
        self,
        event_type: str,
        *,
        session_id: str,
        timestamp: datetime,
        uuid: str,
        metadata: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> Event:
        return Event(
            machine_id=self.machine_id,
            session_id=session_id,
            event_type=event_type,
            timestamp=timestamp,
            uuid=uuid,
            framework=self.framework,
            source=EventSource.TRANSCRIPT,
            transcript_path=self.path,
            metadata=json_text(dict(metadata)) if metadata else None,
            **fields,
        )

    def api_request(
        self,
        *,
        session_id: str,
        timestamp: datetime,
        uuid: str,
        model: str | None,
        input: int | None,
        output: int | None,
        cache_read: int | None,
        cache_write: int | None,
        cost_usd: float | None,
        reasoning: int | None = None,
        metadata: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> Event:
        """A usage-bearing event; ``reasoning`` (tokens reported apart from output)
        goes into ``metadata["tokens_reasoning"]``."""
        meta = dict(metadata or {})
        if reasoning is not None:
            meta["tokens_reasoning"] = reasoning
        return self.event(
            EventType.API_REQUEST,
            session_id=session_id,
            timestamp=timestamp,
            uuid=uuid,
            model=model,
            tokens_input=input,
            tokens_output=output,
            tokens_cache_read=cache_read,
            tokens_cache_write=cache_write,
            cost_usd=cost_usd,
            metadata=meta,
            **fields,
        )

    def prompt(self, prompt: str, **fields: Any) -> Event:
        return self.event(
            EventType.USER_PROMPT_SUBMIT, payload=self.payload({"prompt": prompt}), **fields
        )


_RECORD_ERRORS = (ValueError, TypeError, AttributeError, KeyError, RecursionError)


def collect(result: DocumentResult, build: Callable[[], list[Event]]) -> None:
    """Add the events ``build`` makes of one record to ``result``; a record that raises
    (a shape we cannot read, or a value no store can keep) is counted as malformed, one
    that gives nothing as skipped."""
    try:
        events = build()
    except _RECORD_ERRORS:
        result.malformed += 1
        return
    if events:
        result.events.extend(events)
    else:
        result.skipped += 1


class LineParser:
    """Base of the JSONL readers: the interface of ``ClaudeParser``/``CodexParser``.

    ``parse`` takes one complete line (without its newline) and never raises; a line
    that is not a JSON object, or whose values cannot be stored, counts as malformed
    and leaves ``state`` as it was. ``state`` is flat JSON (strings, numbers), so a
    parser made with it continues exactly where this one stopped.
    """

    framework = ""

    def __init__(
        self,
        *,
        machine_id: str,
        path: str,
        prices: PriceTable,
        store_payloads: bool = True,
        redact: Redact = None,
        state: dict[str, Any] | None = None,
    ) -> None:
        self.machine_id = machine_id
        self.path = path
        self.prices = prices
        self.store_payloads = store_payloads
        self.redact = redact
        self.f = EventFactory(
            framework=self.framework,
            machine_id=machine_id,
            path=path,
            prices=prices,
            store_payloads=store_payloads,
            redact=redact,
        )
        self.state: dict[str, Any] = dict(state or {})
        self.malformed = 0
        self.skipped = 0
        self.synthetic = 0  # as ClaudeParser/CodexParser count them (these agents have none)
        self.start()

    @property
    def unknown_models(self) -> set[str]:
        return self.f.unknown_models

    def start(self) -> None:
        """Fill in ``state`` defaults (from the path) for a new parser."""

    def parse(self, raw: bytes) -> list[Event]:
        """Events of one line. Malformed lines are counted, never raised."""
        if not raw.strip():
            self.skipped += 1
            return []
        try:
            record = decode_json(raw)
        except ValueError:
            self.malformed += 1
            return []
        if not isinstance(record, dict):
            self.malformed += 1
            return []
        before = dict(self.state)
        try:
            out = self.events(record, raw)
        except _RECORD_ERRORS:
            self.state = before
            self.malformed += 1
            return []
        if not out:
            self.skipped += 1
        return out

    def events(self, record: dict[str, Any], raw: bytes) -> list[Event]:
        raise NotImplementedError


# -- SQLite -------------------------------------------------------------------------


def _writable(path: Path) -> bool:
    """Whether ``path`` is meant to be written: a write bit set and, for others than
    root, access granted. Root ignores permissions, so the bits are checked too."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) and os.access(path, os.W_OK)


def _is_wal_mode(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            header = fh.read(20)
    except OSError:
        return False
    return len(header) == 20 and header[18:20] == b"\x02\x02"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _connect(path: Path, query: str) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{quote(str(path))}?{query}", uri=True, timeout=0.2)
    try:
        conn.execute("PRAGMA query_only = ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


def _signature(paths: tuple[Path, ...]) -> tuple[tuple[int, int] | None, ...]:
    out: list[tuple[int, int] | None] = []
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            out.append(None)
        else:
            out.append((st.st_size, st.st_mtime_ns))
    return tuple(out)


def _copy_files(db: Path, extras: tuple[Path, ...], dest: Path) -> Path:
    """Copy ``db`` and the ``extras`` beside it that exist into ``dest``; retried (a
    few times) while the owner changes them during the copy. A plain file read takes no
    lock."""
    copy = dest / db.name
    files = (db, *extras)
    for _attempt in range(3):
        before = _signature(files)
        shutil.copyfile(db, copy)
        for extra in extras:
            target = Path(f"{copy}{extra.name[len(db.name) :]}")
            try:
                shutil.copyfile(extra, target)
            except FileNotFoundError:
                target.unlink(missing_ok=True)
        if _signature(files) == before:
            break
    return copy


@contextlib.contextmanager
def open_database(path: str | os.PathLike[str]) -> Iterator[sqlite3.Connection]:
    """A read-only connection to another program's SQLite database, taking no lock
    that makes its owner wait and creating nothing beside it.

    WAL mode (the agents' databases):

    - ``mode=ro`` when the database, its folder, ``-wal`` and ``-shm`` exist and are
      writable in place: a WAL reader never blocks the writer, and opening creates
      nothing new;
    - else, or when that fails (read-only folder, ``-shm`` that cannot be used):
      ``immutable=1`` when there is no ``-wal`` content (the main file is complete);
    - else a private copy of the database, ``-wal`` and ``-shm`` in a temporary folder,
      read there and removed.

    Rollback-journal mode: any reader's shared lock holds back the owner's commits, so
    the database (and a ``-journal`` of a write in progress, which SQLite then rolls
    back on the copy) is always read from a private copy.

    Raises ``sqlite3.Error`` when the file is not a database at all.
    """
    db = Path(path)
    wal, shm, journal = Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")
    conn: sqlite3.Connection | None = None
    tmp: str | None = None
    copy_query = "mode=ro"
    extras: tuple[Path, ...] = (wal, shm)
    if _is_wal_mode(db):
        wal_content = _size(wal) > 0
        in_place = _writable(db) and _writable(db.parent) and _writable(wal) and _writable(shm)
        if in_place:
            with contextlib.suppress(sqlite3.Error):
                conn = _connect(db, "mode=ro")
        if conn is None and not wal_content:
            with contextlib.suppress(sqlite3.Error):
                conn = _connect(db, "mode=ro&immutable=1")
    else:
        extras, copy_query = (journal,), "mode=rw"  # rw: a copied hot journal rolls back
    try:
        if conn is None:
            tmp = tempfile.mkdtemp(prefix="netsky-db-")
            conn = _connect(_copy_files(db, extras, Path(tmp)), copy_query)
        yield conn
    finally:
        if conn is not None:
            conn.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def table_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """Column names of ``table`` (empty when it does not exist)."""
    rows = conn.execute("SELECT name FROM pragma_table_info(?)", (table,)).fetchall()
    return [row[0] for row in rows]


# -- files --------------------------------------------------------------------------


def walk_files(root: Path, accept: Callable[[Path], bool]) -> list[Path]:
    """Files below ``root`` (any depth, symlinked folders not followed) ``accept`` takes,
    sorted."""
    found: list[Path] = []
    if root.is_file():
        return [root] if accept(root) else []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            candidate = Path(dirpath) / name
            if accept(candidate) and candidate.is_file():
                found.append(candidate)
    return sorted(found)


def discover_all(roots: list[Path], finder: Callable[[Path], list[Path]]) -> list[Path]:
    """``finder`` over every root, each file once, in order."""
    seen: set[Path] = set()
    out: list[Path] = []
    for root in roots:
        for path in finder(Path(root).expanduser()):
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                out.append(path)
    return out
