"""Connections: the pool, liveness checks, retries and error translation.

Every connection is in autocommit mode; writes open their own transaction (``BEGIN``
travels in the same pipeline as the first statements). A pooled connection whose
server went away while it sat idle is noticed before use (its socket turned
readable) and replaced. A call that fails because the connection broke is retried
once when that is safe: a read, an idempotent write, or a write whose first round
trip (which never carries ``COMMIT``) did not come back. Otherwise it raises
StorageConnectionError: the server rolled the transaction back, unless the
connection dropped while the ``COMMIT`` itself was in flight (the message says so).
"""

from __future__ import annotations

import random
import select
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from netsky_core import NetskyError, StorageConnectionError, StorageError

from ._errors import is_connection_error, translate
from ._target import Options, Target

__all__ = ["Attempt", "Database", "Retry"]

T = TypeVar("T")

#: How many times a transaction aborted by a deadlock or a serialization failure runs.
CONFLICT_ATTEMPTS = 8


def _is_conflict(exc: BaseException) -> bool:
    """The server rolled the whole transaction back to resolve a conflict between
    concurrent transactions (SQLSTATE 40P01 or 40001): safe to run it again."""
    return isinstance(exc, psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure)


class Attempt:
    """What a write call tells the retry logic: ``retryable`` until a round trip
    came back or a ``COMMIT`` was sent; ``committing`` once the statement that
    commits is on its way (a connection lost then leaves the outcome unknown)."""

    __slots__ = ("committing", "retryable")

    def __init__(self) -> None:
        self.retryable = True
        self.committing = False

    def commit(self, conn: psycopg.Connection) -> None:
        """Send ``COMMIT`` (inside or outside a pipeline)."""
        self.retryable = False
        self.committing = True
        conn.execute("COMMIT")


class Retry(Exception):
    """A write found the store changed under it (e.g. by gc); run it again."""


def _idle_and_alive(conn: psycopg.Connection) -> bool:
    if conn.closed or conn.broken:
        return False
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError):
        return False
    # An idle connection has nothing to read unless the server closed it (or sent
    # a FATAL on shutdown); discarding the odd healthy one is harmless.
    return not readable


class Database:
    """A pool of connections to one store, with the open-time checks."""

    def __init__(self, target: Target, options: Options) -> None:
        self.target = target
        self.options = options
        self._pool: ConnectionPool | None = None
        self._closed = False
        self._suspect = False
        # The connection opened first (for the open-time checks) is kept and lent
        # out first: a process that makes a few calls (a hook) never waits for the
        # pool, which only opens when a second connection is wanted.
        self._own: psycopg.Connection | None = None
        self._spare: psycopg.Connection | None = None
        self._lock = threading.Lock()
        kwargs: dict[str, Any] = {
            "autocommit": True,
            "connect_timeout": options.libpq_connect_timeout,
        }
        if not target.has_application_name:
            kwargs["fallback_application_name"] = "netsky"
        self._kwargs = kwargs

    # -- opening --------------------------------------------------------------------

    def _configure(self, conn: psycopg.Connection) -> None:
        # UTC makes the driver hand back datetime.UTC values. JIT compilation costs
        # ~100 ms per statement and never pays off for netsky's short queries.
        sql = "SET TIME ZONE 'UTC'; SET jit = off"
        if self.options.read_only:
            sql += "; SET default_transaction_read_only = on"
        if self.options.lock_timeout is not None:
            sql += f"; SET lock_timeout = {max(1, round(self.options.lock_timeout * 1000))}"
        conn.execute(sql)

    def connect(self) -> psycopg.Connection:
        """A direct (unpooled) connection, configured like the pooled ones."""
        error: NetskyError | None = None
        try:
            conn = psycopg.connect(self.target.conninfo, **self._kwargs)
            self._configure(conn)
            return conn
        except psycopg.Error as exc:
            error = translate(exc, self.target, connecting=True)
        raise error

    def keep(self, conn: psycopg.Connection) -> None:
        """Keep ``conn`` (from :meth:`connect`) as the first connection to lend."""
        self._own = self._spare = conn

    def _ensure_pool(self) -> ConnectionPool:
        with self._lock:
            if self._closed:
                raise StorageError("this PostgreSQL store is closed")
            if self._pool is None:
                opts = self.options
                self._pool = ConnectionPool(
                    self.target.conninfo,
                    kwargs=self._kwargs,
                    min_size=opts.pool_min,
                    max_size=opts.pool_max,
                    open=False,
                    configure=self._configure,
                    timeout=opts.pool_timeout,
                    reconnect_timeout=max(2.0, opts.connect_timeout),
                    name="netsky-postgres",
                )
                self._pool.open(wait=False)
            return self._pool

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
            spare, self._spare = self._spare, None
        if spare is not None:
            spare.close()
        if pool is not None:
            pool.close(timeout=5.0)

    # -- connections ----------------------------------------------------------------

    def _acquire(self) -> psycopg.Connection:
        with self._lock:
            if self._closed:
                raise StorageError("this PostgreSQL store is closed")
            spare, self._spare = self._spare, None
        if spare is not None:
            if _idle_and_alive(spare):
                return spare
            self._suspect = True
            self._own = None
            spare.close()
        pool = self._ensure_pool()
        for _ in range(self.options.pool_max + 2):
            timeout = self.options.connect_timeout if self._suspect else self.options.pool_timeout
            error: NetskyError | None = None
            try:
                conn = pool.getconn(timeout=timeout)
            except PoolTimeout as exc:
                error = translate(exc, self.target)
            if error is not None:
                raise error
            if _idle_and_alive(conn):
                return conn
            # The server closed this one while it was idle (e.g. a restart): the
            # others are likely dead too.
            self._suspect = True
            conn.close()
            pool.putconn(conn)
        error = StorageConnectionError(
            f"cannot get a working connection to PostgreSQL at {self.target.masked}",
            hint="check that the server is running",
        )
        raise error

    def _release(self, conn: psycopg.Connection) -> None:
        if conn is self._own:
            healthy = (
                not conn.closed
                and not conn.broken
                and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            )
            with self._lock:
                if healthy and not self._closed:
                    self._spare = conn
                    return
                self._own = None
            conn.close()
            return
        with self._lock:
            pool = self._pool
        if pool is None:
            conn.close()
        else:
            pool.putconn(conn)

    def run(self, fn: Callable[[psycopg.Connection, Attempt], T], *, write: bool) -> T:
        """Run ``fn(conn, attempt)`` with a pooled connection; translate errors.

        A connection failure is retried once for a read, or for a write while
        ``attempt.retryable``; a ``Retry`` from ``fn`` is retried once too. A
        transaction the server aborted as a deadlock victim or a serialization
        failure (nothing of it committed) runs again, up to ``CONFLICT_ATTEMPTS``
        times with a growing, jittered pause: concurrent writers that lock rows,
        index keys and named locks in different orders (a gc beside ingests and
        hooks) then both finish instead of one failing.
        """
        reconnects = retries = conflicts = 0
        while True:
            conn = self._acquire()
            attempt = Attempt()
            error: BaseException | None = None
            try:
                result = fn(conn, attempt)
            except Retry:
                self._rollback(conn)
                self._release(conn)
                retries += 1
                if retries <= 1:
                    continue
                error = StorageError(
                    f"a write to {self.target.masked} kept conflicting with concurrent changes"
                )
            except NetskyError as exc:
                self._rollback(conn)
                self._release(conn)
                error = exc
            except (psycopg.Error, OverflowError, UnicodeEncodeError) as exc:
                lost = is_connection_error(exc, conn)
                self._rollback(conn)
                self._release(conn)
                if lost:
                    self._suspect = True
                    reconnects += 1
                    if reconnects <= 1 and (not write or attempt.retryable):
                        continue
                elif _is_conflict(exc):
                    conflicts += 1
                    if conflicts < CONFLICT_ATTEMPTS:
                        time.sleep(random.uniform(0.5, 1.0) * 0.02 * 2**conflicts)
                        continue
                error = translate(exc, self.target, conn=conn, committing=attempt.committing)
            except BaseException:
                self._rollback(conn)
                self._release(conn)
                raise
            else:
                self._release(conn)
                self._suspect = False
                return result
            raise error

    @staticmethod
    def _rollback(conn: psycopg.Connection) -> None:
        if conn.closed or conn.broken:
            return
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            try:
                conn.execute("ROLLBACK")
            except psycopg.Error:
                conn.close()

    def read(self, fn: Callable[[psycopg.Connection], T]) -> T:
        return self.run(lambda conn, _attempt: fn(conn), write=False)
