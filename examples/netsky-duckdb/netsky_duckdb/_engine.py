"""A netsky Engine over one DuckDB file: the whole backend, in one module.

Every rule (dedup, billing once, session folds, usage buckets, retention) is applied
by netsky's Store; this module only keeps rows. Each table has a column per record
field (a timestamp as integer microseconds since the epoch); queries come from the
shared SQL compiler with a DuckDB ``Dialect``. A DuckDB file is written by one
process at a time, and a lock per file serializes this process's transactions, so
the lock primitives have nothing to do.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import attrs
import duckdb

import netsky_core as nc
from netsky_core import Event, EventQuery, FilePosition, Session, SessionQuery, UsageBucket
from netsky_core import backend as nb

T = TypeVar("T")
SCHEMA_VERSION = 1
VERSION_KEY = "netsky_duckdb.schema_version"
DUCKDB = nb.Dialect(placeholder="?", time=nb.to_us, arrays=True, timestamp_column='"timestamp"')
# Never fetch or load an extension (DuckDB would, to open a SQLite file); one thread
# per query: a transaction here is a few small statements.
_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False, "threads": 1}
_CHUNK = 2000  # parameters per statement
_LOCKS: dict[str, threading.RLock] = {}


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _sql_type(annotation: str) -> str:
    for word, sql in (("datetime", "BIGINT"), ("bool", "BOOLEAN"), ("float", "DOUBLE")):
        if word in annotation:
            return sql
    return "BIGINT" if "int" in annotation else "VARCHAR"


class _Table:
    """A table holding one record type, a column per field: its DDL and the record <->
    row mapping. A key's missing text is stored as '' (a key column is never NULL);
    ``computed`` columns are written from each record, never read back."""

    def __init__(
        self,
        name: str,
        cls: type,
        fields: Sequence[str],
        key: Sequence[str],
        **computed: Callable[[Any], Any],
    ) -> None:
        types = {f.name: str(f.type) for f in attrs.fields(cls)}
        self.name, self.cls, self.fields, self.key = name, cls, tuple(fields), tuple(key)
        self.computed = computed
        self.times = [i for i, f in enumerate(fields) if "datetime" in types[f]]
        self.blanks = [i for i, f in enumerate(fields) if f in key and types[f] == "str | None"]
        self.key_at = [self.fields.index(k) for k in key]
        self.column_names = [*self.fields, *computed]
        columns = [
            f'"{f}" {_sql_type(types[f])}' + (" NOT NULL" if "None" not in types[f] else "")
            for f in fields
        ] + [f"{c} VARCHAR" for c in computed]
        self.ddl = f"CREATE TABLE {name} ({', '.join(columns)}, PRIMARY KEY ({', '.join(key)}))"
        self.select = f"SELECT {_quoted(fields)} FROM {name}"

    def row(self, record: Any) -> list[Any]:
        values = [getattr(record, f) for f in self.fields]
        for i in self.times:
            values[i] = None if values[i] is None else nb.to_us(values[i])
        for i in self.blanks:
            values[i] = values[i] or ""
        return values + [compute(record) for compute in self.computed.values()]

    def record(self, row: Sequence[Any]) -> Any:
        values = list(row)
        for i in self.times:
            values[i] = None if values[i] is None else nb.from_us(values[i])
        for i in self.blanks:
            values[i] = values[i] or None
        return self.cls(**dict(zip(self.fields, values)))


EVENTS = _Table("events", Event, ("id", *nb.EVENT_FIELDS), ("id",), bill_key=nb.billing_key)
SESSIONS = _Table("sessions", Session, nb.SESSION_FIELDS, ("machine_id", "session_id"))
POSITIONS = _Table("positions", FilePosition, nb.POSITION_FIELDS, ("machine_id", "path"))
USAGE = _Table("usage", UsageBucket, nb.USAGE_FIELDS, nb.USAGE_FIELDS[:4])
_EVENT_KEY = ("machine_id", "session_id", "uuid")
_DDL = (
    *(t.ddl for t in (EVENTS, SESSIONS, POSITIONS, USAGE)),
    "CREATE SEQUENCE event_ids",
    f"CREATE UNIQUE INDEX events_key ON events ({', '.join(_EVENT_KEY)})",
    "CREATE INDEX events_bill ON events (bill_key)",
    "CREATE TABLE meta (name VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
)
_COLUMNS = {t.name: t.column_names for t in (EVENTS, SESSIONS, POSITIONS, USAGE)}
_COLUMNS["meta"] = ["name", "value"]


def _values(width: int, rows: int) -> str:
    return ", ".join(["(" + ", ".join("?" * width) + ")"] * rows)


def _where(clauses: list[str]) -> str:
    return (" WHERE " + " AND ".join(clauses)) if clauses else ""


class _Reader:
    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.c = conn

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.c.execute(sql, list(params)).fetchall()

    def _keyed(self, sql: str, columns: Sequence[str], keys: Sequence[Sequence[Any]]) -> list[Any]:
        """``sql WHERE (columns) IN (VALUES keys...)``, by chunks: the rows returned."""
        rows: list[Any] = []
        per = _CHUNK // len(columns)
        for i in range(0, len(keys), per):
            chunk = keys[i : i + per]
            where = f" WHERE ({', '.join(columns)}) IN (VALUES {_values(len(columns), len(chunk))})"
            rows += self._all(sql + where, [v for key in chunk for v in key])
        return rows

    def events(self, query: EventQuery) -> list[Event]:
        where, params = nb.event_filter(query, DUCKDB)
        sql = (
            EVENTS.select + where + nb.event_order(query, DUCKDB) + nb.limit(query, DUCKDB, params)
        )
        return [EVENTS.record(r) for r in self._all(sql, params)]

    def count_events(self, query: EventQuery) -> int:
        where, params = nb.event_filter(query, DUCKDB)
        return int(self._all("SELECT count(*) FROM events" + where, params)[0][0])

    def events_by_key(self, keys: Sequence[nb.EventKey]) -> dict[nb.EventKey, Event]:
        found = map(EVENTS.record, self._keyed(EVENTS.select, _EVENT_KEY, keys))
        return {e.key: e for e in found}

    def events_by_billing_key(self, keys: Sequence[str]) -> list[Event]:
        sql = f"{EVENTS.select} WHERE bill_key = ANY(?) ORDER BY id"
        return [EVENTS.record(r) for r in self._all(sql, [list(keys)])] if keys else []

    def count_billing_keys(self, keys: Sequence[str]) -> dict[str, int]:
        sql = "SELECT bill_key, count(*) FROM events WHERE bill_key = ANY(?) GROUP BY bill_key"
        return {k: int(n) for k, n in self._all(sql, [list(keys)])} if keys else {}

    def sessions(self, query: SessionQuery) -> list[Session]:
        clauses, params = nb.session_filter(query, DUCKDB)
        sql = SESSIONS.select + _where(clauses) + nb.session_order(query)  # NULLs sort last
        return [
            SESSIONS.record(r) for r in self._all(sql + nb.limit(query, DUCKDB, params), params)
        ]

    def count_sessions(self, query: SessionQuery) -> int:
        clauses, params = nb.session_filter(query, DUCKDB)
        return int(self._all("SELECT count(*) FROM sessions" + _where(clauses), params)[0][0])

    def sessions_by_key(self, keys: Sequence[nb.SessionKey]) -> dict[nb.SessionKey, Session]:
        found = map(SESSIONS.record, self._keyed(SESSIONS.select, SESSIONS.key, keys))
        return {s.key: s for s in found}

    def session_sums(self, query: nc.StorageStatsQuery) -> nb.SessionSums:
        clauses, params = nb.session_filter(query, DUCKDB)
        row = self._all(nb.session_sums_select("sessions", _where(clauses)), params)[0]
        names = [f.name for f in attrs.fields(nb.SessionSums)]  # the SELECT's order
        return nb.SessionSums(**{n: None if v is None else int(v) for n, v in zip(names, row)})

    def usage(self, query: nc.UsageQuery) -> list[UsageBucket]:
        where, params = nb.usage_filter(query, DUCKDB)
        return [USAGE.record(r) for r in self._all(USAGE.select + where + nb.USAGE_ORDER, params)]

    def positions(
        self, machine_id: str | None = None, path: str | None = None
    ) -> list[FilePosition]:
        given = {k: v for k, v in {"machine_id": machine_id, "path": path}.items() if v is not None}
        sql = POSITIONS.select + _where([f"{k} = ?" for k in given]) + " ORDER BY machine_id, path"
        return [POSITIONS.record(r) for r in self._all(sql, list(given.values()))]

    def meta(self, name: str) -> str | None:
        rows = self._all("SELECT value FROM meta WHERE name = ?", [name])
        return rows[0][0] if rows else None

    def table_counts(self) -> dict[str, int]:
        names = ("events", "sessions", "positions", "usage")
        counts = self._all("SELECT " + ", ".join(f"(SELECT count(*) FROM {n})" for n in names))
        return dict(zip(names, map(int, counts[0])))

    def event_time_range(self) -> tuple[datetime | None, datetime | None]:
        lo, hi = self._all('SELECT min("timestamp"), max("timestamp") FROM events')[0]
        return (None, None) if lo is None else (nb.from_us(lo), nb.from_us(hi))


class _Writer(_Reader):
    def _insert(self, table: _Table, rows: list[list[Any]]) -> None:
        """Many rows per statement: DuckDB's cost is mostly per statement."""
        per = max(1, _CHUNK // len(table.column_names))
        for i in range(0, len(rows), per):
            chunk = rows[i : i + per]
            values = _values(len(table.column_names), len(chunk))
            sql = f"INSERT INTO {table.name} ({_quoted(table.column_names)}) VALUES {values}"
            self.c.execute(sql, [v for row in chunk for v in row])

    def _replace(self, table: _Table, records: Sequence[Any]) -> None:
        """Write records in place of the rows with their keys (the last of one key wins)."""
        rows = {tuple(row[i] for i in table.key_at): row for row in map(table.row, records)}
        self._keyed(f"DELETE FROM {table.name}", table.key, list(rows))
        if rows:
            self._insert(table, list(rows.values()))

    def lock_sessions(
        self, keys: Sequence[nb.SessionKey], *, wait: bool = True
    ) -> dict[nb.SessionKey, Session]:
        return self.sessions_by_key(keys)  # writers are serialized already

    def lock_names(self, names: Sequence[str], *, shared: bool = False) -> None:
        return None

    def insert_events(self, events: Sequence[Event]) -> list[int | None]:
        taken = set(self.events_by_key([e.key for e in events if e.key is not None]))
        fresh = []
        for e in events:  # a key stored already, or earlier in this batch, is not new
            fresh.append(e.key is None or e.key not in taken)
            taken.add(e.key)  # type: ignore[arg-type]
        ids = self._all("SELECT nextval('event_ids') AS i FROM range(?) ORDER BY i", [sum(fresh)])
        new_ids = iter(i for (i,) in ids)
        out = [next(new_ids) if new else None for new in fresh]
        rows = [[i, *EVENTS.row(e)[1:]] for i, e in zip(out, events) if i is not None]
        if rows:
            self._insert(EVENTS, rows)
        return out

    def update_events(self, events: Sequence[Event]) -> None:
        self._replace(EVENTS, events)

    def delete_events(self, ids: Sequence[int]) -> None:
        self._keyed("DELETE FROM events", ("id",), [(i,) for i in ids])

    def put_sessions(self, sessions: Sequence[Session]) -> None:
        self._replace(SESSIONS, sessions)

    def delete_sessions(self, keys: Sequence[nb.SessionKey]) -> None:
        self._keyed("DELETE FROM sessions", SESSIONS.key, keys)

    def add_usage(self, deltas: Mapping[tuple[Any, ...], Sequence[int]]) -> None:
        keys = [(m, f or "", model or "", nb.to_us(start)) for m, f, model, start in deltas]
        stored = {b.key: b for b in map(USAGE.record, self._keyed(USAGE.select, USAGE.key, keys))}
        self._keyed("DELETE FROM usage", USAGE.key, keys)  # written again unless left empty
        buckets = [nb.apply_usage(stored.get(k), k, list(d)) for k, d in deltas.items()]  # type: ignore[arg-type]
        if rows := [USAGE.row(b) for b in buckets if b is not None]:
            self._insert(USAGE, rows)

    def delete_usage(self, before: datetime) -> None:
        self.c.execute("DELETE FROM usage WHERE start < ?", [nb.to_us(before)])

    def put_position(self, position: FilePosition) -> None:
        self._replace(POSITIONS, [position])

    def set_meta(self, name: str, value: str | None) -> None:
        self.c.execute("DELETE FROM meta WHERE name = ?", [name])
        if value is not None:
            self.c.execute("INSERT INTO meta VALUES (?, ?)", [name, value])


def _translate(exc: duckdb.Error, where: str) -> nc.NetskyError:
    text = f"{where}: {str(exc).splitlines()[0]}"
    if isinstance(exc, (duckdb.ConversionException, duckdb.OutOfRangeException)):
        return nc.RecordError(text)
    if isinstance(exc, duckdb.ConstraintException):
        return nc.StorageIntegrityError(text)
    if isinstance(exc, (duckdb.IOException, duckdb.ConnectionException)):
        return nc.StorageConnectionError(text, hint="is another process using this DuckDB file?")
    return nc.StorageQueryError(text)


def _schema_version(r: _Reader, where: str) -> int:
    """0 for an empty database; refuses one netsky did not write, or another schema."""
    sql = "SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns() "
    sql += "WHERE database_name = current_database() AND schema_name = 'main' GROUP BY 1"
    tables = dict(r._all(sql))
    if not tables:
        return 0
    version = r.meta(VERSION_KEY) if tables.get("meta") == _COLUMNS["meta"] else None
    if version is None:
        raise nc.NotANetskyStoreError(f"{where} is a DuckDB database, not a netsky store")
    if version != str(SCHEMA_VERSION) or tables != _COLUMNS:
        raise nc.SchemaVersionError(
            f"{where} has netsky-duckdb schema {version} (written for other record fields?); "
            f"this netsky-duckdb reads schema {SCHEMA_VERSION}"
        )
    return SCHEMA_VERSION


def _create(w: _Writer) -> None:
    for statement in _DDL:
        w.c.execute(statement)
    w.set_meta(VERSION_KEY, str(SCHEMA_VERSION))


def _connect(path: str, read_only: bool, timeout: float) -> duckdb.DuckDBPyConnection:
    """Open the file, waiting up to ``timeout`` s while another process holds it."""
    try:
        if path != ":memory:" and os.path.isfile(path) and os.path.getsize(path):
            with open(path, "rb") as fh:
                if fh.read(12)[8:] != b"DUCK":  # DuckDB's magic bytes
                    raise nc.NotANetskyStoreError(f"{path} is not a DuckDB database")
        elif path != ":memory:" and not read_only:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    except OSError as exc:
        raise nc.StorageConnectionError(f"cannot use {path}: {exc.strerror}") from None
    deadline = time.monotonic() + timeout
    while True:
        try:
            return duckdb.connect(path, read_only=read_only, config=_CONFIG)
        except duckdb.Error as exc:
            if "lock" not in str(exc) or time.monotonic() >= deadline:
                raise _translate(exc, path) from None
        time.sleep(0.05)


class DuckdbEngine:
    """An engine over one DuckDB database file (or ``:memory:``, not persistent)."""

    name = "duckdb"
    latest_schema_version = SCHEMA_VERSION

    def __init__(self, url: str, path: str, *, read_only: bool, migrate: bool, timeout: float):
        self.url, self.read_only, self._path = url, read_only, path
        memory = path == ":memory:"
        caps = {nc.Capability.PERSISTENT, nc.Capability.READ_ONLY, nc.Capability.SIZE_ON_DISK}
        self.capabilities = frozenset() if memory else frozenset(caps)
        key = f"memory:{id(self)}" if memory else os.path.realpath(path)
        self._lock = _LOCKS.setdefault(key, threading.RLock())
        self._conn: duckdb.DuckDBPyConnection | None = _connect(path, read_only, timeout)
        try:
            self.schema_version = self.read(lambda r: _schema_version(r, path))
            if self.schema_version == 0 and read_only:
                raise nc.StorageConnectionError(f"{path} holds no netsky data yet")
            if self.schema_version == 0 and migrate:
                self.migrate()
        except BaseException:
            self.close()
            raise

    def _run(self, work: Callable[[Any], T], writer: bool) -> T:
        """``work`` in one transaction: committed, or rolled back on any exception."""
        with self._lock:
            conn = self._conn
            if conn is None:
                raise nc.StorageError(f"the DuckDB store {self._path} is closed")
            if writer and self.read_only:
                raise nc.ReadOnlyStorageError(f"{self._path} was opened read-only")
            try:
                conn.begin()
                result = work((_Writer if writer else _Reader)(conn))
                conn.commit()
                return result
            except BaseException as exc:
                with contextlib.suppress(duckdb.Error):  # a failed COMMIT rolled back already
                    conn.rollback()
                if isinstance(exc, duckdb.Error):
                    raise _translate(exc, self._path) from None
                raise

    def read(self, work: Callable[[Any], T]) -> T:
        return self._run(work, writer=False)

    def write(self, work: Callable[[Any], T]) -> T:
        return self._run(work, writer=True)

    def migrate(self) -> nc.MigrationResult:
        before = self.schema_version
        if before < SCHEMA_VERSION:
            self.write(lambda w: _schema_version(w, self._path) or _create(w))  # once
            self.schema_version = SCHEMA_VERSION
        return nc.MigrationResult(from_version=before, to_version=self.schema_version)

    def vacuum(self) -> None:
        self.read(lambda r: r.c.execute("CHECKPOINT"))  # folds the WAL into the file

    def describe(self) -> nb.EngineInfo:
        files = [p for p in (self._path, self._path + ".wal") if os.path.isfile(p)]
        details = {"path": self._path, "duckdb_version": duckdb.__version__}
        return nb.EngineInfo(
            size_bytes=sum(map(os.path.getsize, files)) if files else None, details=details
        )

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def open_duckdb(
    url: str, *, read_only: bool = False, migrate: bool = True, timeout: float | None = None
) -> DuckdbEngine:
    """Open ``duckdb:///relative.db``, ``duckdb:////abs/path.db`` or ``duckdb:///:memory:``
    (``timeout``: seconds to wait for a file another process holds)."""
    path = url.removeprefix("duckdb:///")
    if path == url or not path or "?" in url:
        raise nc.InvalidURLError(
            f"not a DuckDB store URL: {url!r}",
            hint="duckdb:///relative.db or duckdb:////abs/path.db",
        )
    return DuckdbEngine(url, path, read_only=read_only, migrate=migrate, timeout=timeout or 0.0)
