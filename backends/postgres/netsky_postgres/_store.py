"""The PostgreSQL Storage: many machines and processes writing to one server.

Every rule comes from ``netsky_core.backend``; this module persists what those pure
functions compute. Reads are single autocommit statements; writes are explicit
transactions (see ``_insert`` for events). Sessions are locked ``FOR UPDATE`` while
their summary is recomputed, so concurrent writers in any number of processes
produce the same summaries as one writer would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import psycopg

from netsky_core import (
    Capability,
    Event,
    EventQuery,
    FilePosition,
    GcResult,
    GitBranchInfo,
    GitContext,
    InsertResult,
    MigrationResult,
    NetskyError,
    ReadOnlyStorageError,
    RecordError,
    SchemaVersionError,
    Session,
    SessionQuery,
    StorageInfo,
    StorageStats,
    StorageStatsQuery,
    UsageBucket,
    UsageQuery,
)
from netsky_core.backend import (
    USAGE_WINDOW_US,
    StorageBase,
    apply_git_context,
    apply_git_info,
    apply_github_repo,
    apply_transcript_path,
    cutoff_for,
    plan_batch,
    stats_from_sums,
    utcnow,
)

from . import _schema
from ._connection import Attempt, Database
from ._errors import translate
from ._insert import Batch, insert_one
from ._sql import (
    Statements,
    event_from_row,
    position_from_row,
    position_params,
    session_from_row,
    session_params,
    usage_from_row,
)
from ._target import Options, Target, make_options, parse_target

__all__ = ["PostgresStorage", "open_postgres"]

GC_EVENTS = 10_000
GC_SESSIONS = 1_000
_EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
_CAPABILITIES = frozenset(
    {
        Capability.PERSISTENT,
        Capability.MULTI_PROCESS,
        Capability.READ_ONLY,
        Capability.VACUUM,
        Capability.SIZE_ON_DISK,
    }
)


class PostgresStorage(StorageBase):
    """A Storage in one schema of a PostgreSQL database; thread-safe.

    The events id sequence is looked up by the first batch insert, not at open: a hook
    process opens the store for one single insert, which does not need it.
    """

    def __init__(self, target: Target, options: Options) -> None:
        self._target = target
        self._options = options
        self._read_only = options.read_only
        self._st = Statements(target)
        self._db = Database(target, options)
        self._sequence: str | None = None
        conn = self._db.connect()
        error: NetskyError | None = None
        try:
            self._version = self._open_checks(conn)
        except psycopg.Error as exc:
            error = translate(exc, target, conn=conn)
        except BaseException:
            conn.close()
            raise
        if error is not None:
            conn.close()
            raise error
        self._db.keep(conn)

    def _open_checks(self, conn: psycopg.Connection) -> int:
        target, options = self._target, self._options
        if options.migrate and not options.read_only:
            version = _schema.migrate(conn, target).to_version
        else:
            version = _schema.read_version(conn, target)
            _schema.check_version(version, target)
            if options.read_only and version < _schema.LATEST_VERSION:
                what = "no netsky store" if version == 0 else f"schema version {version}"
                raise SchemaVersionError(
                    f"{target.masked} (schema {target.schema!r}) holds {what}; a read-only "
                    f"store needs version {_schema.LATEST_VERSION}",
                    hint="open it once without read_only to create or migrate it",
                )
        return version

    def _resolve_sequence(self, conn: psycopg.Connection) -> str:
        row = conn.execute(self._st.event_sequence, (self._target.regclass("events"),)).fetchone()
        return str(row[0])

    def __repr__(self) -> str:
        mode = ", read_only=True" if self._read_only else ""
        return f"PostgresStorage({self._target.masked!r}, schema={self._target.schema!r}{mode})"

    @property
    def url(self) -> str:
        """The store's URL with the password masked."""
        return self._target.masked

    @property
    def schema(self) -> str:
        """The PostgreSQL schema holding the tables."""
        return self._target.schema

    @property
    def schema_version(self) -> int:
        return self._version

    @property
    def capabilities(self) -> frozenset[Capability]:
        return _CAPABILITIES

    # -- plumbing -------------------------------------------------------------------

    def _writable(self) -> None:
        self._check_open()
        if self._read_only:
            raise ReadOnlyStorageError(f"the store at {self._target.masked} was opened read-only")

    def _read(self, fn: Callable[[psycopg.Connection], Any]) -> Any:
        self._check_open()
        return self._db.read(fn)

    def _write(self, fn: Callable[[psycopg.Connection, Attempt], Any]) -> Any:
        self._writable()
        return self._db.run(fn, write=True)

    def _fetchall(self, sql: str, params: Iterable[Any]) -> list[tuple[Any, ...]]:
        return self._read(lambda conn: conn.execute(sql, list(params), binary=True).fetchall())

    def _fetchone(self, sql: str, params: Iterable[Any]) -> tuple[Any, ...] | None:
        return self._read(lambda conn: conn.execute(sql, list(params), binary=True).fetchone())

    # -- events ---------------------------------------------------------------------

    def insert_many(self, events: Iterable[Event]) -> InsertResult:
        self._writable()
        plan = plan_batch(events)
        if not plan.candidates:
            return InsertResult()
        st = self._st
        if len(plan.candidates) == 1:
            return self._write(lambda conn, attempt: insert_one(conn, attempt, st, plan))
        if self._sequence is None:
            self._sequence = self._read(self._resolve_sequence)
        sequence = self._sequence
        return self._write(Batch(st, plan, sequence))  # type: ignore[no-any-return]

    def query(self, query: EventQuery) -> list[Event]:
        if query.limit == 0:
            self._check_open()
            return []
        sql, params = self._st.select_events(query)
        return [event_from_row(r) for r in self._fetchall(sql, params)]

    def count(self, query: EventQuery | None = None) -> int:
        sql, params = self._st.count_events(query)
        row = self._fetchone(sql, params)
        return int(row[0]) if row else 0

    def event_exists_by_uuid(self, machine_id: str, session_id: str, uuid: str) -> bool:
        row = self._fetchone(self._st.event_exists, (machine_id, session_id, uuid))
        return bool(row and row[0])

    def gc(
        self, retention: timedelta, *, dry_run: bool = False, now: datetime | None = None
    ) -> GcResult:
        cutoff = cutoff_for(retention, now)
        if dry_run:
            events, sessions = self._count_expired(cutoff)
            return GcResult(
                cutoff=cutoff, expired_events=events, expired_sessions=sessions, dry_run=True
            )
        self._writable()
        deleted_events = self._delete_events(cutoff)
        deleted_sessions = self._delete_sessions(cutoff)
        self._delete_usage(cutoff)
        return GcResult(
            cutoff=cutoff,
            expired_events=deleted_events,
            expired_sessions=deleted_sessions,
            deleted_events=deleted_events,
            deleted_sessions=deleted_sessions,
        )

    def _gc_step(self, sql: str, params: Any) -> tuple[Any, ...]:
        """One gc statement in its own short transaction (so that a concurrent
        writer never waits long for a row gc holds), planned along the index."""
        planner = self._st.gc_planner

        def step(conn: psycopg.Connection, attempt: Attempt) -> tuple[Any, ...]:
            with conn.pipeline():
                conn.execute("BEGIN")
                for setting in planner:
                    conn.execute(setting)
                cur = conn.execute(sql, params)
                attempt.commit(conn)
            row = cur.fetchone()
            assert row is not None
            return tuple(row)

        return self._write(step)  # type: ignore[no-any-return]

    def _delete_events(self, cutoff: datetime) -> int:
        total = 0
        lower = _EARLIEST
        while lower < cutoff:
            deleted, lower = self._gc_step(
                self._st.delete_old_events, {"lo": lower, "cut": cutoff, "n": GC_EVENTS}
            )
            total += int(deleted)
        return total

    def _delete_sessions(self, cutoff: datetime) -> int:
        total = 0
        position: tuple[Any, ...] = (_EARLIEST, "", "")
        while True:
            deleted, seen, *reached = self._gc_step(
                self._st.delete_old_sessions, (*position, cutoff, GC_SESSIONS, cutoff)
            )
            total += int(deleted)
            if seen < GC_SESSIONS:
                return total
            position = tuple(reached)

    def _delete_usage(self, cutoff: datetime) -> None:
        """Usage buckets that end before the cutoff (few rows: one statement)."""
        sql = self._st.delete_old_usage
        window = timedelta(microseconds=USAGE_WINDOW_US)

        def step(conn: psycopg.Connection, attempt: Attempt) -> None:
            with conn.pipeline():
                conn.execute("BEGIN")
                conn.execute(sql, (cutoff - window,))
                attempt.commit(conn)

        self._write(step)

    def usage(self, query: UsageQuery) -> list[UsageBucket]:
        where: list[str] = []
        params: list[Any] = []
        for clause, value in (
            ("start >= %s", query.since),
            ("start < %s", query.until),
            ("framework = %s", query.framework),
            ("machine_id = %s", query.machine_id),
        ):
            if value is not None:
                where.append(clause)
                params.append(value)
        st = self._st
        sql = (
            f"SELECT {st.usage_select} FROM {st.usage}"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY start, machine_id, framework, model"
        )
        return [usage_from_row(r) for r in self._fetchall(sql, params)]

    def _count_expired(self, cutoff: datetime) -> tuple[int, int]:
        st = self._st
        row = self._fetchone(
            f"SELECT ({st.count_old_events}), ({st.count_old_sessions})", (cutoff, cutoff)
        )
        assert row is not None
        return int(row[0]), int(row[1])

    def count_expired(self, retention: timedelta, *, now: datetime | None = None) -> int:
        cutoff = cutoff_for(retention, now)
        row = self._fetchone(self._st.count_old_events, (cutoff,))
        return int(row[0]) if row else 0

    # -- sessions -------------------------------------------------------------------

    def list_sessions(self, query: SessionQuery) -> list[Session]:
        if query.limit == 0:
            self._check_open()
            return []
        (present, p1), (missing, p2) = self._st.list_sessions(query)
        limit = query.limit
        rows = self._fetchall(present, p1) if limit is not None else []
        if limit is None or len(rows) < limit:
            # Sessions without the value are needed too: both halves, one snapshot.
            def both(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
                with conn.pipeline():
                    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    first = conn.execute(present, p1, binary=True)
                    second = conn.execute(missing, p2, binary=True)
                    conn.execute("COMMIT")
                return first.fetchall() + second.fetchall()

            rows = self._read(both)[:limit]
        return [session_from_row(r) for r in rows]

    def _one_session(self, sql: str, params: Iterable[Any]) -> Session | None:
        row = self._fetchone(sql, params)
        return None if row is None else session_from_row(row)

    def get_session(self, session_id: str) -> Session | None:
        return self._one_session(self._st.most_recent_session.format("session_id"), (session_id,))

    def get_session_by_key(self, machine_id: str, session_id: str) -> Session | None:
        return self._one_session(self._st.select_session, (machine_id, session_id))

    def get_session_by_pid(self, pid: int) -> Session | None:
        return self._one_session(self._st.most_recent_session.format("pid"), (pid,))

    def _modify(
        self,
        machine_id: str,
        session_id: str,
        change: Callable[[Session | None], Session | None],
        *,
        create: bool = False,
    ) -> Session | None:
        """Lock one session, apply ``change`` to it (None: missing, or just created
        when ``create``), write the result. Returns the new state (None: the session
        is missing, or ``change`` made no change to write)."""
        st = self._st
        key = (machine_id, session_id)

        def work(conn: psycopg.Connection, attempt: Attempt) -> Session | None:
            with conn.pipeline():
                conn.execute("BEGIN")
                created = conn.execute(st.session_placeholder, key) if create else None
                lock = conn.cursor(binary=True)
                lock.execute(st.lock_session, key)
            attempt.retryable = False
            row = lock.fetchone()
            if row is None:
                conn.execute("ROLLBACK")
                return None
            state = session_from_row(row)
            is_new = created is not None and created.fetchone() is not None
            new = change(None if is_new else state)
            if new is None or new == state:
                conn.execute("ROLLBACK")  # nothing to write
                return new
            with conn.pipeline():
                psycopg.RawCursor(conn).execute(st.update_session, [*session_params(new)[2:], *key])
                attempt.commit(conn)
            return new

        return self._write(work)  # type: ignore[no-any-return]

    def update_session_git_info(
        self,
        machine_id: str,
        session_id: str,
        info: GitBranchInfo,
        *,
        at: datetime | None = None,
    ) -> bool:
        when = at or utcnow()
        new = self._modify(
            machine_id, session_id, lambda s: None if s is None else apply_git_info(s, info, when)
        )
        return new is not None

    def update_session_github_repo(self, machine_id: str, session_id: str, repo: str) -> bool:
        new = self._modify(
            machine_id, session_id, lambda s: None if s is None else apply_github_repo(s, repo)
        )
        return new is not None

    def upsert_session_git_context(
        self,
        machine_id: str,
        session_id: str,
        context: GitContext,
        *,
        at: datetime | None = None,
    ) -> Session:
        when = at or utcnow()
        new = self._modify(
            machine_id,
            session_id,
            lambda s: apply_git_context(s, machine_id, session_id, context, when),
            create=True,
        )
        assert new is not None
        return new

    def update_session_transcript_path(
        self, machine_id: str, session_id: str, path: str, *, at: datetime | None = None
    ) -> bool:
        when = at or utcnow()
        new = self._modify(
            machine_id,
            session_id,
            lambda s: None if s is None else apply_transcript_path(s, path, when),
        )
        return new is not None

    def restore_sessions(self, sessions: Iterable[Session]) -> int:
        items = self._restore_check(sessions)
        self._writable()
        if not items:
            return 0
        rows = [session_params(s) for s in sorted(items, key=lambda s: s.key)]
        sql = self._st.upsert_session

        def work(conn: psycopg.Connection, attempt: Attempt) -> None:
            # Idempotent (rows written as given), so retrying after a lost
            # connection is safe even when the first try committed.
            attempt.committing = True
            with conn.pipeline():
                conn.execute("BEGIN")
                psycopg.RawCursor(conn).executemany(sql, rows)
                conn.execute("COMMIT")

        self._write(work)
        return len(items)

    def storage_stats(self, query: StorageStatsQuery) -> StorageStats:
        sql, params = self._st.stats(query)
        row = self._fetchone(sql, params)
        assert row is not None
        n, active, ti, to, tr, tw, cost, requests = row  # sum(bigint) is numeric: Decimal
        return stats_from_sums(
            *(int(v) for v in (n, active, ti, to, tr, tw)),
            None if cost is None else int(cost),
            int(requests),
        )

    # -- positions ------------------------------------------------------------------

    def get_transcript_position(self, machine_id: str, path: str) -> FilePosition | None:
        row = self._fetchone(self._st.select_position, (machine_id, path))
        return None if row is None else position_from_row(row)

    def set_transcript_position(self, position: FilePosition) -> None:
        if type(position) is not FilePosition:
            raise RecordError(f"expected a FilePosition, got {type(position).__name__}")
        if position.updated_at is None:
            position = attrs.evolve(position, updated_at=utcnow())
        params = position_params(position)
        sql = self._st.upsert_position

        def work(conn: psycopg.Connection, attempt: Attempt) -> None:
            attempt.committing = True  # an idempotent upsert: a retry is safe
            conn.execute(sql, params)

        self._write(work)

    def query_transcript_positions(self, machine_id: str | None = None) -> list[FilePosition]:
        if machine_id is None:
            sql, params = self._st.select_positions.format(""), []
        else:
            sql, params = self._st.select_positions.format("WHERE machine_id = %s"), [machine_id]
        return [position_from_row(r) for r in self._fetchall(sql, params)]

    # -- lifecycle ------------------------------------------------------------------

    def info(self) -> StorageInfo:
        st, t = self._st, self._target
        sql = (
            f"SELECT (SELECT count(*) FROM {st.events}), (SELECT count(*) FROM {st.sessions}), "
            f"(SELECT count(*) FROM {st.positions}), (SELECT count(*) FROM {st.usage}), "
            "pg_total_relation_size(%s::regclass) + pg_total_relation_size(%s::regclass) "
            "+ pg_total_relation_size(%s::regclass) + pg_total_relation_size(%s::regclass) "
            "+ pg_total_relation_size(%s::regclass), "
            f'(SELECT min("timestamp") FROM {st.events}), '
            f'(SELECT max("timestamp") FROM {st.events}), '
            "current_database(), current_setting('server_version')"
        )
        names = [t.regclass(n) for n in ("events", "sessions", "positions", "usage", _schema.META)]
        row = self._fetchone(sql, names)
        assert row is not None
        n_events, n_sessions, n_positions, n_usage, size, oldest, newest, database, server = row
        return StorageInfo(
            backend="postgres",
            url=t.masked,
            schema_version=self._version,
            latest_schema_version=_schema.LATEST_VERSION,
            tables={
                "events": int(n_events),
                "sessions": int(n_sessions),
                "positions": int(n_positions),
                "usage": int(n_usage),
            },
            size_bytes=int(size),
            oldest_event=None if oldest is None else _utc(oldest),
            newest_event=None if newest is None else _utc(newest),
            details={"database": str(database), "schema": t.schema, "server_version": str(server)},
        )

    def migrate(self) -> MigrationResult:
        self._check_open()
        if self._read_only:
            if self._version == _schema.LATEST_VERSION:
                return MigrationResult(from_version=self._version, to_version=self._version)
            raise ReadOnlyStorageError(
                f"the store at {self._target.masked} was opened read-only and needs a migration"
            )

        def work(conn: psycopg.Connection, attempt: Attempt) -> MigrationResult:
            self._sequence = None  # looked up again by the next batch insert
            return _schema.migrate(conn, self._target)

        result: MigrationResult = self._db.run(work, write=True)
        self._version = result.to_version
        return result

    def vacuum(self) -> None:
        self._writable()
        st = self._st
        sql = f"VACUUM (ANALYZE) {st.events}, {st.sessions}, {st.positions}, {st.usage}"
        self._db.run(lambda conn, attempt: conn.execute(sql, ()), write=True)

    def close(self) -> None:
        self._closed = True
        self._db.close()


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def open_postgres(url: str, **options: Any) -> PostgresStorage:
    """Open (creating or migrating unless ``migrate=False``) the store at ``url``.

    Options: ``read_only=False``, ``migrate=True``, ``timeout`` (seconds a call may
    wait for a lock or a connection; unbounded locks and 30 s by default),
    ``pool_min=1``, ``pool_max=4`` (pooled connections, besides the first one, which
    is kept), ``connect_timeout`` (seconds, default the URL's or 5),
    ``pool_timeout`` (seconds a call waits for a free pooled connection; default
    ``timeout`` or 30). Unknown options raise TypeError.
    """
    target = parse_target(url)
    return PostgresStorage(target, make_options(target, **options))
