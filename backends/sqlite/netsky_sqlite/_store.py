"""The SQLite store.

One connection per storage object, guarded by a lock (so one object may be shared by
threads). Every write is one ``BEGIN IMMEDIATE`` transaction: the events and the
session summaries they change commit together. When another process holds the write
lock, SQLite's busy timeout waits, and beyond it the write is retried with jittered
backoff until ``lock_timeout`` so "database is locked" never reaches the caller.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import apsw

from netsky_core import (
    Capability,
    Event,
    FilePosition,
    GitBranchInfo,
    GitContext,
    InsertResult,
    InvalidURLError,
    ReadOnlyStorageError,
    RecordError,
    SchemaVersionError,
    Session,
    StorageConnectionError,
    StorageError,
    StorageIntegrityError,
    StorageQueryError,
)

if TYPE_CHECKING:  # queries and results are imported where used: a hook only inserts
    from netsky_core import (
        EventQuery,
        GcResult,
        MigrationResult,
        SessionQuery,
        StorageInfo,
        StorageStats,
        StorageStatsQuery,
        UsageBucket,
        UsageQuery,
    )
from netsky_core.backend import (
    EVENT_FIELDS,
    USAGE_WINDOW_US,
    StorageBase,
    apply_git_context,
    apply_git_info,
    apply_github_repo,
    apply_transcript_path,
    apply_usage,
    cutoff_for,
    fold_session,
    outranks,
    plan_batch,
    stats_from_sums,
    usage_deltas,
    utcnow,
)

from . import _schema
from ._rows import (
    EVENT_COLUMNS,
    POSITION_COLUMNS,
    SESSION_COLUMNS,
    USAGE_COLUMNS,
    dt,
    event_row,
    position_row,
    row_event,
    row_position,
    row_session,
    row_usage,
    session_row,
    us,
    usage_row,
)
from ._url import parse_sqlite_url

T = TypeVar("T")

_SYNCHRONOUS = {"OFF", "NORMAL", "FULL", "EXTRA"}
_ACTIVE = "status IN ('Idle', 'Busy', 'Wait')"
_STARTED = "coalesce(first_started_at, first_activity)"

_EVENT_SELECT = "SELECT " + ", ".join(EVENT_COLUMNS) + " FROM events"
_EVENT_INSERT = (
    "INSERT INTO events ("
    + ", ".join(EVENT_FIELDS)
    + ") VALUES ("
    + ", ".join("?" * len(EVENT_FIELDS))
    + ") ON CONFLICT (machine_id, session_id, uuid) DO NOTHING"
)
_EVENT_UPDATE = "UPDATE events SET " + ", ".join(f"{c} = ?" for c in EVENT_FIELDS) + " WHERE id = ?"
_SESSION_SELECT = "SELECT " + ", ".join(SESSION_COLUMNS) + " FROM sessions"
_SESSION_UPSERT = (
    "INSERT INTO sessions ("
    + ", ".join(SESSION_COLUMNS)
    + ") VALUES ("
    + ", ".join("?" * len(SESSION_COLUMNS))
    + ") ON CONFLICT (machine_id, session_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in SESSION_COLUMNS[2:])
)
_POSITION_COLS = ", ".join(f'"{c}"' for c in POSITION_COLUMNS)
_POSITION_UPSERT = (
    f"INSERT OR REPLACE INTO positions ({_POSITION_COLS}) VALUES ("
    + ", ".join("?" * len(POSITION_COLUMNS))
    + ")"
)
_USAGE_COLS = ", ".join(USAGE_COLUMNS)
_USAGE_UPSERT = (
    f"INSERT INTO usage ({_USAGE_COLS}) VALUES ({', '.join('?' * len(USAGE_COLUMNS))}) "
    "ON CONFLICT (machine_id, framework, model, start) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in USAGE_COLUMNS[4:])
)
_GC_BATCH = 2000


def _is_busy(exc: BaseException) -> bool:
    return isinstance(exc, (apsw.BusyError, apsw.LockedError))


def _translate(exc: apsw.Error, path: str) -> StorageError:
    text = str(exc)
    if isinstance(exc, apsw.ReadOnlyError):
        return ReadOnlyStorageError(f"{path} is read-only: {text}")
    if isinstance(exc, apsw.ConstraintError):
        return StorageIntegrityError(f"{path}: {text}")
    if isinstance(exc, (apsw.CorruptError, apsw.NotADBError)):
        return StorageIntegrityError(
            f"{path} is damaged: {text}",
            hint="check it with `sqlite3 FILE 'PRAGMA integrity_check'`",
        )
    if isinstance(exc, (apsw.CantOpenError, apsw.IOError, apsw.FullError, apsw.PermissionsError)):
        return StorageConnectionError(f"cannot use {path}: {text}")
    if _is_busy(exc):
        return StorageConnectionError(
            f"{path} stayed locked by another process: {text}",
            hint="another netsky process holds a long write; retry later",
        )
    return StorageQueryError(f"{path}: {text}")


def _busy_handler(timeout_s: float) -> Callable[[int], bool]:
    """Wait for a lock in short jittered sleeps (SQLite's default sleeps grow to 100 ms,
    which lets a steady stream of writers starve one of them)."""
    state = {"deadline": 0.0}

    def handler(attempt: int) -> bool:
        now = time.monotonic()
        if attempt == 0:
            state["deadline"] = now + timeout_s
        elif now >= state["deadline"]:
            return False
        time.sleep(min(0.0005 * (1 + attempt) ** 0.5, 0.004) * (0.5 + random.random()))
        return True

    return handler


def _create_private(path: Path) -> None:
    """Create the database file 0600 (in a 0700 folder we create) if it is missing."""
    parent = path.parent
    if not parent.exists():
        old = os.umask(0o077)
        try:
            parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        finally:
            os.umask(old)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)


class SqliteStorage(StorageBase):
    """Storage in one SQLite file (WAL mode)."""

    def __init__(
        self,
        path: Path,
        *,
        url: str,
        read_only: bool = False,
        migrate: bool = True,
        synchronous: str = "NORMAL",
        busy_timeout_ms: int = 5000,
        lock_timeout_s: float = 60.0,
    ) -> None:
        self._path = path
        self._name = str(path)
        self._url = url
        self._read_only = read_only
        self._lock = threading.RLock()
        self._lock_timeout = float(lock_timeout_s)
        synchronous = str(synchronous).upper()
        if synchronous not in _SYNCHRONOUS:
            raise InvalidURLError(
                f"synchronous must be one of {', '.join(sorted(_SYNCHRONOUS))}, got {synchronous!r}"
            )
        if not read_only:
            _create_private(path)
        elif not path.exists():
            raise StorageConnectionError(f"no netsky database at {path}")
        try:
            with path.open("rb") as fh:
                _schema.check_header(fh.read(16), self._name)
        except OSError as exc:
            raise StorageConnectionError(f"cannot read {path}: {exc.strerror}") from None
        flags = (
            apsw.SQLITE_OPEN_READONLY
            if read_only
            else apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE
        )
        try:
            conn = apsw.Connection(str(path), flags=flags)
        except apsw.Error as exc:
            raise _translate(exc, self._name) from None
        self._conn = conn
        try:
            conn.set_busy_handler(_busy_handler(busy_timeout_ms / 1000))
            conn.execute(f"PRAGMA synchronous = {synchronous}")
            conn.execute("PRAGMA foreign_keys = ON")
            version = self._retry(lambda: _schema.read_version(conn, self._name))
            if version < _schema.LATEST:
                if read_only or not migrate:
                    if read_only and version == 0:
                        raise StorageConnectionError(f"{path} holds no netsky data yet")
                    if read_only:
                        raise SchemaVersionError(
                            f"{path} has schema version {version}; this netsky needs {_schema.LATEST}",
                            hint="run `netsky db migrate` first",
                        )
                else:
                    self._retry(lambda: _schema.migrate(conn, self._name))
            if not read_only:
                mode = self._retry(lambda: conn.execute("PRAGMA journal_mode").fetchone()[0])
                if str(mode).lower() != "wal":
                    self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone())
        except BaseException:
            conn.close()
            raise
        self._version = self._retry(lambda: conn.execute("PRAGMA user_version").fetchone()[0])

    def __repr__(self) -> str:
        mode = ", read_only=True" if self._read_only else ""
        return f"SqliteStorage({self._url!r}{mode})"

    # -- plumbing -------------------------------------------------------------------

    def _retry(self, fn: Callable[[], T]) -> T:
        """Run ``fn``, retrying while the database is locked, up to ``lock_timeout``."""
        deadline = time.monotonic() + self._lock_timeout
        delay = 0.005
        while True:
            try:
                return fn()
            except apsw.Error as exc:
                if not _is_busy(exc) or time.monotonic() >= deadline:
                    raise _translate(exc, self._name) from None
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.25)

    def _write(self, fn: Callable[[apsw.Connection], T]) -> T:
        """Run ``fn`` in one ``BEGIN IMMEDIATE`` transaction (retried while busy)."""
        conn = self._conn

        def attempt() -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
                conn.execute("COMMIT")
                return result
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

        with self._lock:
            self._check_writable()
            return self._retry(attempt)

    def _read(self, fn: Callable[[apsw.Connection], T]) -> T:
        with self._lock:
            self._check_open()
            return self._retry(lambda: fn(self._conn))

    def _check_writable(self) -> None:
        self._check_open()
        if self._read_only:
            raise ReadOnlyStorageError(f"{self._name} was opened read-only")

    @property
    def path(self) -> Path:
        return self._path

    @property
    def schema_version(self) -> int:
        return self._version

    @property
    def capabilities(self) -> frozenset[Capability]:
        return frozenset(
            {
                Capability.PERSISTENT,
                Capability.MULTI_PROCESS,
                Capability.READ_ONLY,
                Capability.VACUUM,
                Capability.SIZE_ON_DISK,
            }
        )

    # -- events ---------------------------------------------------------------------

    def insert_many(self, events: Iterable[Event]) -> InsertResult:
        plan = plan_batch(events)
        if not plan.candidates:
            self._check_writable()
            return InsertResult()
        rows = [event_row(c) for c in plan.candidates]

        def work(conn: apsw.Connection) -> InsertResult:
            last_before = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
            changes_before = conn.total_changes()
            conn.executemany(_EVENT_INSERT, rows)
            n_new = conn.total_changes() - changes_before
            candidates = plan.candidates
            count = len(candidates)
            if n_new == count:
                first = conn.last_insert_rowid() - count + 1
                ids = list(range(first, first + count))
                inserted = [True] * count
                replaced: list[Event | None] = [None] * count
            else:
                ids, inserted, replaced = self._resolve_conflicts(conn, candidates, last_before)
            result, changes = plan.finish(ids, inserted=inserted, replaced=replaced)
            self._fold(conn, changes)
            self._fold_usage(conn, changes)
            return result

        return self._write(work)

    def _resolve_conflicts(
        self, conn: apsw.Connection, candidates: Sequence[Event], last_before: int
    ) -> tuple[list[int], list[bool], list[Event | None]]:
        """After a partly ignored insert: which candidates were new, which supersede."""
        new_rows = conn.execute(
            "SELECT id, machine_id, session_id, uuid FROM events WHERE id > ? ORDER BY id",
            (last_before,),
        ).fetchall()
        new_keys = {(m, s, u): i for i, m, s, u in new_rows if u is not None}
        keyless_ids = iter([i for i, _m, _s, u in new_rows if u is None])
        ids: list[int] = []
        inserted: list[bool] = []
        replaced: list[Event | None] = []
        for cand in candidates:
            key = cand.key
            if key is None:
                ids.append(next(keyless_ids))
                inserted.append(True)
                replaced.append(None)
                continue
            new_id = new_keys.get(key)
            if new_id is not None:
                ids.append(new_id)
                inserted.append(True)
                replaced.append(None)
                continue
            row = conn.execute(
                _EVENT_SELECT + " WHERE machine_id = ? AND session_id = ? AND uuid = ?", key
            ).fetchone()
            stored = row_event(row)
            ids.append(row[0])
            inserted.append(False)
            if outranks(cand, stored):
                conn.execute(_EVENT_UPDATE, (*event_row(cand), row[0]))
                replaced.append(stored)
            else:
                replaced.append(None)
        return ids, inserted, replaced

    def _fold(self, conn: apsw.Connection, changes: dict[tuple[str, str], Any]) -> None:
        stored: dict[tuple[str, str], Session] = {}
        keys = list(changes)
        for i in range(0, len(keys), 400):
            chunk = keys[i : i + 400]
            params = [v for key in chunk for v in key]
            found = conn.execute(
                f"{_SESSION_SELECT} WHERE (machine_id, session_id) IN "
                f"(VALUES {', '.join(['(?, ?)'] * len(chunk))})",
                params,
            ).fetchall()
            for row in found:
                session = row_session(row)
                stored[session.key] = session
        rows = []
        for (machine_id, session_id), change in changes.items():
            state = stored.get((machine_id, session_id))
            session = fold_session(
                state,
                machine_id,
                session_id,
                added=change.added,
                removed=change.removed,
                seen=change.seen,
            )
            rows.append(session_row(session))
        conn.executemany(_SESSION_UPSERT, rows)

    def _fold_usage(self, conn: apsw.Connection, changes: dict[tuple[str, str], Any]) -> None:
        deltas = usage_deltas(changes)
        if not deltas:
            return
        keys = [(k[0], k[1] or "", k[2] or "", us(k[3])) for k in deltas]
        stored: dict[tuple, Any] = {}
        for i in range(0, len(keys), 200):
            chunk = keys[i : i + 200]
            for row in conn.execute(
                f"SELECT {_USAGE_COLS} FROM usage WHERE (machine_id, framework, model, start) IN "
                f"(VALUES {', '.join(['(?, ?, ?, ?)'] * len(chunk))})",
                [v for key in chunk for v in key],
            ):
                bucket = row_usage(row)
                stored[bucket.key] = bucket
        upserts, deletes = [], []
        for key, delta in deltas.items():
            bucket = apply_usage(stored.get(key), key, delta)
            row_key = (key[0], key[1] or "", key[2] or "", us(key[3]))
            if bucket is None:
                deletes.append(row_key)
            else:
                upserts.append(usage_row(bucket))
        if deletes:
            conn.executemany(
                "DELETE FROM usage WHERE machine_id = ? AND framework = ? AND model = ? AND start = ?",
                deletes,
            )
        if upserts:
            conn.executemany(_USAGE_UPSERT, upserts)

    def usage(self, query: UsageQuery) -> list[UsageBucket]:
        clauses: list[str] = []
        params: list[Any] = []
        if query.since is not None:
            clauses.append("start >= ?")
            params.append(us(query.since))
        if query.until is not None:
            clauses.append("start < ?")
            params.append(us(query.until))
        if query.framework is not None:
            clauses.append("framework = ?")
            params.append(query.framework)
        if query.machine_id is not None:
            clauses.append("machine_id = ?")
            params.append(query.machine_id)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        sql = f"SELECT {_USAGE_COLS} FROM usage{where} ORDER BY start, machine_id, framework, model"
        rows = self._read(lambda c: c.execute(sql, params).fetchall())
        return [row_usage(r) for r in rows]

    def _where(self, query: EventQuery) -> tuple[str, list[Any]]:
        from netsky_core import ApiFilter

        clauses: list[str] = []
        params: list[Any] = []
        # A uuid list is the most selective filter (ingest looks events up by uuid):
        # a unary + keeps the planner from preferring the machine / session indexes.
        plus = "+" if query.uuids else ""
        if query.session_ids is not None:
            if not query.session_ids:
                clauses.append("0")
            else:
                marks = ", ".join("?" * len(query.session_ids))
                clauses.append(f"{plus}session_id IN ({marks})")
                params.extend(query.session_ids)
        if query.machine_id is not None:
            clauses.append(f"{plus}machine_id = ?")
            params.append(query.machine_id)
        if query.framework is not None:
            clauses.append("framework = ?")
            params.append(query.framework)
        if query.event_types is not None:
            if not query.event_types:
                clauses.append("0")
            else:
                marks = ", ".join("?" * len(query.event_types))
                clauses.append(f"{plus}event_type IN ({marks})")
                params.extend(query.event_types)
        if query.tool_name is not None:
            clauses.append("tool_name = ?")
            params.append(query.tool_name)
        if query.uuids is not None:
            if not query.uuids:
                clauses.append("0")
            else:
                clauses.append(f"uuid IN ({', '.join('?' * len(query.uuids))})")
                params.extend(query.uuids)
        if query.since is not None:
            clauses.append("timestamp >= ?")
            params.append(us(query.since))
        if query.until is not None:
            clauses.append("timestamp < ?")
            params.append(us(query.until))
        if query.after_id is not None:
            clauses.append("id > ?")
            params.append(query.after_id)
        if query.api is ApiFilter.ONLY:
            clauses.append("event_type = 'ApiRequest'")
        elif query.api is ApiFilter.EXCLUDE:
            clauses.append("event_type != 'ApiRequest'")
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def event_sql(self, query: EventQuery) -> tuple[str, list[Any]]:
        """The SELECT statement and parameters ``query`` runs (used by tests)."""
        from netsky_core import EventOrder, Order

        where, params = self._where(query)
        direction = "DESC" if query.effective_direction is Order.DESC else "ASC"
        if query.order is EventOrder.ID:
            order = f" ORDER BY id {direction}"
        else:
            order = f" ORDER BY timestamp {direction}, id {direction}"
        sql = _EVENT_SELECT + where + order
        if query.limit is not None:
            sql += " LIMIT ?"
            params.append(query.limit)
        return sql, params

    def query(self, query: EventQuery) -> list[Event]:
        sql, params = self.event_sql(query)
        rows = self._read(lambda c: c.execute(sql, params).fetchall())
        return [row_event(r) for r in rows]

    def count(self, query: EventQuery | None = None) -> int:
        from netsky_core import EventQuery

        where, params = self._where(query or EventQuery())
        return self._read(
            lambda c: c.execute("SELECT count(*) FROM events" + where, params).fetchone()[0]
        )

    def event_exists_by_uuid(self, machine_id: str, session_id: str, uuid: str) -> bool:
        return self._read(
            lambda c: (
                c.execute(
                    "SELECT 1 FROM events WHERE machine_id = ? AND session_id = ? AND uuid = ?",
                    (machine_id, session_id, uuid),
                ).fetchone()
                is not None
            )
        )

    def gc(
        self, retention: timedelta, *, dry_run: bool = False, now: datetime | None = None
    ) -> GcResult:
        from netsky_core import GcResult

        cutoff = cutoff_for(retention, now)
        limit = us(cutoff)

        def counts(c: apsw.Connection) -> tuple[int, int]:
            events = c.execute(
                "SELECT count(*) FROM events WHERE timestamp < ?", (limit,)
            ).fetchone()[0]
            sessions = c.execute(
                "SELECT count(*) FROM sessions WHERE last_activity < ?", (limit,)
            ).fetchone()[0]
            return events, sessions

        expired_events, expired_sessions = self._read(counts)
        if dry_run:
            return GcResult(
                cutoff=cutoff,
                expired_events=expired_events,
                expired_sessions=expired_sessions,
                dry_run=True,
            )
        deleted_events = deleted_sessions = 0

        def delete(sql: str) -> Callable[[apsw.Connection], int]:
            def run(c: apsw.Connection) -> int:
                c.execute(sql, (limit, _GC_BATCH))
                return c.changes()

            return run

        delete_events = delete(
            "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE timestamp < ? LIMIT ?)"
        )
        delete_sessions = delete(
            "DELETE FROM sessions WHERE rowid IN "
            "(SELECT rowid FROM sessions WHERE last_activity < ? LIMIT ?)"
        )
        self._write(
            lambda c: c.execute("DELETE FROM usage WHERE start <= ?", (limit - USAGE_WINDOW_US,))
        )
        while True:
            n = self._write(delete_events)
            deleted_events += n
            if n < _GC_BATCH:
                break
        while True:
            n = self._write(delete_sessions)
            deleted_sessions += n
            if n < _GC_BATCH:
                break
        return GcResult(
            cutoff=cutoff,
            expired_events=max(expired_events, deleted_events),
            expired_sessions=max(expired_sessions, deleted_sessions),
            deleted_events=deleted_events,
            deleted_sessions=deleted_sessions,
        )

    # -- sessions -------------------------------------------------------------------

    def session_sql(self, query: SessionQuery) -> tuple[str, list[Any]]:
        """The SELECT statement and parameters ``query`` runs (used by tests)."""
        from netsky_core import Order, SessionOrder

        clauses: list[str] = []
        params: list[Any] = []
        if query.machine_id is not None:
            clauses.append("machine_id = ?")
            params.append(query.machine_id)
        if query.framework is not None:
            clauses.append("framework = ?")
            params.append(query.framework)
        if query.only_active:
            clauses.append(_ACTIVE)
        if query.active_since is not None:
            clauses.append("last_activity >= ?")
            params.append(us(query.active_since))
        if query.started_after is not None:
            clauses.append(f"{_STARTED} >= ?")
            params.append(us(query.started_after))
        if query.started_before is not None:
            clauses.append(f"{_STARTED} < ?")
            params.append(us(query.started_before))
        for column, value in (
            ("github_repo", query.github_repo),
            ("github_issue", query.github_issue),
            ("github_pr", query.github_pr),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        key = {
            SessionOrder.STARTED_AT: _STARTED,
            SessionOrder.LAST_ACTIVITY: "last_activity",
            SessionOrder.COST: "cost_picousd",
        }[query.order]
        if query.direction is Order.DESC:
            # SQLite sorts NULL lowest, so a descending order already puts them last
            # and the (key, machine_id, session_id) indexes serve it directly.
            order = f"{key} DESC, machine_id DESC, session_id DESC"
        else:
            order = f"{key} IS NULL, {key} ASC, machine_id ASC, session_id ASC"
        sql = f"{_SESSION_SELECT}{where} ORDER BY {order}"
        if query.limit is not None:
            sql += " LIMIT ?"
            params.append(query.limit)
        return sql, params

    def list_sessions(self, query: SessionQuery) -> list[Session]:
        sql, params = self.session_sql(query)
        rows = self._read(lambda c: c.execute(sql, params).fetchall())
        return [row_session(r) for r in rows]

    def _one_session(self, where: str, params: tuple[Any, ...]) -> Session | None:
        row = self._read(
            lambda c: c.execute(
                f"{_SESSION_SELECT} WHERE {where} "
                "ORDER BY last_activity DESC NULLS LAST, machine_id ASC, session_id ASC LIMIT 1",
                params,
            ).fetchone()
        )
        return None if row is None else row_session(row)

    def get_session(self, session_id: str) -> Session | None:
        return self._one_session("session_id = ?", (session_id,))

    def get_session_by_key(self, machine_id: str, session_id: str) -> Session | None:
        return self._one_session("machine_id = ? AND session_id = ?", (machine_id, session_id))

    def get_session_by_pid(self, pid: int) -> Session | None:
        return self._one_session("pid = ?", (pid,))

    def _change_session(
        self,
        machine_id: str,
        session_id: str,
        change: Callable[[Session | None], Session | None],
    ) -> Session | None:
        def work(c: apsw.Connection) -> Session | None:
            row = c.execute(
                _SESSION_SELECT + " WHERE machine_id = ? AND session_id = ?",
                (machine_id, session_id),
            ).fetchone()
            current = None if row is None else row_session(row)
            updated = change(current)
            if updated is not None and updated != current:
                c.execute(_SESSION_UPSERT, session_row(updated))
            return updated

        return self._write(work)

    def update_session_git_info(
        self,
        machine_id: str,
        session_id: str,
        info: GitBranchInfo,
        *,
        at: datetime | None = None,
    ) -> bool:
        when = at or utcnow()
        result = self._change_session(
            machine_id, session_id, lambda s: None if s is None else apply_git_info(s, info, when)
        )
        return result is not None

    def update_session_github_repo(self, machine_id: str, session_id: str, repo: str) -> bool:
        changed = []

        def change(s: Session | None) -> Session | None:
            updated = None if s is None else apply_github_repo(s, repo)
            changed.append(updated is not None)
            return updated

        self._change_session(machine_id, session_id, change)
        return changed[-1]

    def upsert_session_git_context(
        self,
        machine_id: str,
        session_id: str,
        context: GitContext,
        *,
        at: datetime | None = None,
    ) -> Session:
        when = at or utcnow()
        result = self._change_session(
            machine_id,
            session_id,
            lambda s: apply_git_context(s, machine_id, session_id, context, when),
        )
        assert result is not None
        return result

    def update_session_transcript_path(
        self, machine_id: str, session_id: str, path: str, *, at: datetime | None = None
    ) -> bool:
        when = at or utcnow()
        result = self._change_session(
            machine_id,
            session_id,
            lambda s: None if s is None else apply_transcript_path(s, path, when),
        )
        return result is not None

    def restore_sessions(self, sessions: Iterable[Session]) -> int:
        items = self._restore_check(sessions)
        if not items:
            self._check_writable()
            return 0
        rows = [session_row(s) for s in items]
        self._write(lambda c: c.executemany(_SESSION_UPSERT, rows))
        return len(items)

    def storage_stats(self, query: StorageStatsQuery) -> StorageStats:
        clauses: list[str] = []
        params: list[Any] = []
        if query.only_active:
            clauses.append(_ACTIVE)
        if query.framework is not None:
            clauses.append("framework = ?")
            params.append(query.framework)
        if query.machine_id is not None:
            clauses.append("machine_id = ?")
            params.append(query.machine_id)
        if query.since is not None:
            clauses.append("last_activity >= ?")
            params.append(us(query.since))
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        sql = (
            "SELECT count(*), "
            f"coalesce(sum({_ACTIVE}), 0), "
            "coalesce(sum(tokens_input), 0), coalesce(sum(tokens_output), 0), "
            "coalesce(sum(tokens_cache_read), 0), coalesce(sum(tokens_cache_write), 0), "
            "coalesce(sum(api_request_count), 0), sum(cost_picousd) "
            f"FROM sessions{where}"
        )
        n, active, ti, to, tr, tw, requests, cost = self._read(
            lambda c: c.execute(sql, params).fetchone()
        )
        return stats_from_sums(n, active, ti, to, tr, tw, cost, requests)

    # -- positions ------------------------------------------------------------------

    def get_transcript_position(self, machine_id: str, path: str) -> FilePosition | None:
        row = self._read(
            lambda c: c.execute(
                f"SELECT {_POSITION_COLS} FROM positions WHERE machine_id = ? AND path = ?",
                (machine_id, path),
            ).fetchone()
        )
        return None if row is None else row_position(row)

    def set_transcript_position(self, position: FilePosition) -> None:
        if type(position) is not FilePosition:
            raise RecordError(f"expected a FilePosition, got {type(position).__name__}")
        if position.updated_at is None:
            import attrs

            position = attrs.evolve(position, updated_at=utcnow())
        row = position_row(position)
        self._write(lambda c: c.execute(_POSITION_UPSERT, row))

    def query_transcript_positions(self, machine_id: str | None = None) -> list[FilePosition]:
        if machine_id is None:
            sql, params = f"SELECT {_POSITION_COLS} FROM positions ORDER BY machine_id, path", ()
        else:
            sql = f"SELECT {_POSITION_COLS} FROM positions WHERE machine_id = ? ORDER BY path"
            params = (machine_id,)
        rows = self._read(lambda c: c.execute(sql, params).fetchall())
        return [row_position(r) for r in rows]

    # -- lifecycle ------------------------------------------------------------------

    def info(self) -> StorageInfo:
        def gather(c: apsw.Connection) -> tuple[dict[str, int], Any, Any, str]:
            c.execute("BEGIN")
            try:
                tables = {
                    name: c.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
                    for name in ("events", "sessions", "positions", "usage")
                }
                oldest, newest = c.execute(
                    "SELECT min(timestamp), max(timestamp) FROM events"
                ).fetchone()
                mode = c.execute("PRAGMA journal_mode").fetchone()[0]
            finally:
                c.execute("COMMIT")
            return tables, oldest, newest, mode

        from netsky_core import StorageInfo

        tables, oldest, newest, mode = self._read(gather)
        size = 0
        for suffix in ("", "-wal", "-shm"):
            try:
                size += os.path.getsize(str(self._path) + suffix)
            except OSError:
                pass
        return StorageInfo(
            backend="sqlite",
            url=self._url,
            schema_version=self._version,
            latest_schema_version=_schema.LATEST,
            tables=tables,
            size_bytes=size,
            oldest_event=dt(oldest),
            newest_event=dt(newest),
            details={
                "path": str(self._path),
                "journal_mode": str(mode),
                "sqlite_version": apsw.sqlite_lib_version(),
                "read_only": str(self._read_only).lower(),
            },
        )

    def migrate(self) -> MigrationResult:
        from netsky_core import MigrationResult

        with self._lock:
            self._check_writable()
            before, after = self._retry(lambda: _schema.migrate(self._conn, self._name))
            self._version = after
        return MigrationResult(from_version=before, to_version=after)

    def vacuum(self) -> None:
        with self._lock:
            self._check_writable()
            self._retry(lambda: self._conn.execute("VACUUM"))
            self._retry(lambda: self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone())

    def integrity_check(self) -> list[str]:
        """``PRAGMA integrity_check`` messages (``['ok']`` when healthy)."""
        return [r[0] for r in self._read(lambda c: c.execute("PRAGMA integrity_check").fetchall())]

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._conn.close()
            except apsw.Error:
                pass


def open_sqlite(
    url: str,
    *,
    read_only: bool = False,
    migrate: bool = True,
    synchronous: str | None = None,
    busy_timeout_ms: int | None = None,
    lock_timeout_s: float | None = None,
    timeout: float | None = None,
) -> SqliteStorage:
    """Open (creating if needed) the SQLite store a ``sqlite:`` URL names.

    ``timeout`` (seconds, the standard option every backend accepts) bounds how long
    any call waits for another process's write lock.
    """
    if timeout is not None:
        lock_timeout_s = lock_timeout_s or timeout
        busy_timeout_ms = busy_timeout_ms or int(min(timeout, 5.0) * 1000)
    path, params = parse_sqlite_url(url)
    unknown = set(params) - {"synchronous", "busy_timeout_ms", "lock_timeout_s", "mode"}
    if unknown:
        raise InvalidURLError(
            f"unknown sqlite URL option(s): {', '.join(sorted(unknown))}",
            hint="known: synchronous, busy_timeout_ms, lock_timeout_s, mode=ro",
        )
    try:
        return SqliteStorage(
            path,
            url=url,
            read_only=read_only or params.get("mode") == "ro",
            migrate=migrate,
            synchronous=synchronous or params.get("synchronous", "NORMAL"),
            busy_timeout_ms=int(busy_timeout_ms or params.get("busy_timeout_ms", 5000)),
            lock_timeout_s=float(lock_timeout_s or params.get("lock_timeout_s", 60.0)),
        )
    except ValueError as exc:
        if isinstance(exc, RecordError):
            raise
        raise InvalidURLError(f"invalid sqlite option in {url!r}: {exc}") from None
