"""The PostgreSQL engine: many machines and processes writing to one server.

Reads are single autocommit statements; writes are explicit transactions (see
``_tx``). Sessions are locked ``FOR UPDATE`` while the Store recomputes their
summaries, so concurrent writers in any number of processes produce the same store
as one writer would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import psycopg

from netsky_core import (
    Capability,
    MigrationResult,
    NetskyError,
    NoStoreError,
    ReadOnlyStorageError,
    StorageIntegrityError,
    StoreNeedsMigrationError,
)
from netsky_core.backend import EngineInfo

from . import _schema
from ._connection import Attempt, Database
from ._errors import translate
from ._sql import TABLES, Statements
from ._target import Options, Target, make_options, parse_target
from ._tx import BatchState, PgReader, PgWriter

__all__ = ["PostgresEngine", "open_postgres"]

T = TypeVar("T")
_CAPABILITIES = frozenset(
    {
        Capability.PERSISTENT,
        Capability.MULTI_PROCESS,
        Capability.READ_ONLY,
        Capability.VACUUM,
        Capability.SIZE_ON_DISK,
        Capability.PROJECT_USAGE,
    }
)


class PostgresEngine:
    """An engine over one schema of a PostgreSQL database; thread-safe.

    The events id sequence is looked up by the first batch insert, not at open: a hook
    process opens the store for one single insert, which does not need it.
    """

    name = "postgres"
    capabilities = _CAPABILITIES
    latest_schema_version = _schema.LATEST_VERSION

    def __init__(self, target: Target, options: Options) -> None:
        self._target = target
        self._options = options
        self.read_only = options.read_only
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
            if options.read_only and version == 0:
                raise NoStoreError(
                    f"there is no netsky store at {target.masked} (schema {target.schema!r})",
                    hint="check the URL; `netsky ingest` or `netsky db migrate` creates one",
                )
            if options.read_only and version < _schema.LATEST_VERSION:
                raise StoreNeedsMigrationError(
                    f"{target.masked} (schema {target.schema!r}) has schema version "
                    f"{version}; a read-only store needs version {_schema.LATEST_VERSION}",
                    hint="open it once without read_only to migrate it",
                )
        if version == _schema.LATEST_VERSION:
            self._verify(conn)
        return version

    def _verify(self, conn: psycopg.Connection) -> None:
        """Refuse a store whose tables or columns are not all there (dropped by hand):
        one line, and nothing is written to it."""
        try:
            with conn.transaction():
                conn.execute(self._st.probe_tables, ())
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn) as exc:
            detail = str(exc).splitlines()[0]
            raise StorageIntegrityError(
                f"the store at {self._target.masked} (schema {self._target.schema!r}) is "
                f"damaged: {detail}; it was left untouched",
                hint="restore a backup (or `netsky export` from a copy of it)",
            ) from None

    def __repr__(self) -> str:
        mode = ", read_only=True" if self.read_only else ""
        return f"PostgresEngine({self._target.masked!r}, schema={self._target.schema!r}{mode})"

    @property
    def url(self) -> str:
        """The store's URL with the password masked."""
        return self._target.masked

    @property
    def target(self) -> Target:
        return self._target

    @property
    def schema(self) -> str:
        """The PostgreSQL schema holding the tables."""
        return self._target.schema

    @property
    def schema_version(self) -> int:
        return self._version

    # -- transactions ---------------------------------------------------------------

    def _resolve_sequence(self) -> str:
        if self._sequence is None:
            regclass = self._target.regclass("events")
            row = self._db.read(
                lambda c: c.execute(self._st.event_sequence, (regclass,)).fetchone()
            )
            if row is None:
                raise AssertionError("pg_get_serial_sequence gave no row")
            self._sequence = str(row[0])
        return self._sequence

    def read(self, work: Callable[[Any], T]) -> T:
        return self._db.read(lambda conn: work(PgReader(conn, self._st, self._target)))

    def write(self, work: Callable[[Any], T]) -> T:
        if self.read_only:
            raise ReadOnlyStorageError(f"the store at {self._target.masked} was opened read-only")
        state = BatchState()

        def attempt(conn: psycopg.Connection, attempt: Attempt) -> T:
            writer = PgWriter(conn, self._st, self._target, attempt, state, self._resolve_sequence)
            result = work(writer)
            writer.commit()
            return result

        return self._db.run(attempt, write=True)

    def run(self, fn: Callable[[psycopg.Connection], T]) -> T:
        """Run ``fn`` with a pooled connection (native analytics paths)."""
        return self._db.read(fn)

    # -- lifecycle ------------------------------------------------------------------

    def migrate(self) -> MigrationResult:
        if self.read_only:
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
        tables = ", ".join(self._target.table(n) for n in TABLES)
        sql = f"VACUUM (ANALYZE) {tables}"
        self._db.run(lambda conn, attempt: conn.execute(sql, ()), write=True)

    def describe(self) -> EngineInfo:
        t = self._target
        names = [t.regclass(n) for n in (*TABLES, _schema.META)]
        sql = (
            " + ".join(["pg_total_relation_size(%s::regclass)"] * len(names))
            + ", current_database(), current_setting('server_version')"
        )
        row = self._db.read(lambda c: c.execute("SELECT " + sql, names).fetchone())
        if row is None:
            raise AssertionError("SELECT without FROM gave no row")
        size, database, server = row
        return EngineInfo(
            size_bytes=int(size),
            details={"database": str(database), "schema": t.schema, "server_version": str(server)},
        )

    def close(self) -> None:
        self._db.close()


def open_postgres(url: str, **options: Any) -> PostgresEngine:
    """Open (creating or migrating unless ``migrate=False``) the store at ``url``.

    Options: ``read_only=False``, ``migrate=True``, ``timeout`` (seconds a call may
    wait for a lock or a connection; unbounded locks and 30 s by default),
    ``pool_min=1``, ``pool_max=4`` (pooled connections, besides the first one, which
    is kept), ``connect_timeout`` (seconds, default the URL's or 5),
    ``pool_timeout`` (seconds a call waits for a free pooled connection; default
    ``timeout`` or 30). Unknown options raise TypeError.
    """
    target = parse_target(url)
    return PostgresEngine(target, make_options(target, **options))
