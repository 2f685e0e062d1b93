"""The primitives of one PostgreSQL transaction (see ``netsky_core.backend.Engine``).

A writer sends its changes lazily: statements that return nothing are queued and go
to the server in one pipeline with the next read, and the rest with ``COMMIT``, so a
batch insert costs a handful of round trips whatever its size. New events stream in
with binary COPY (a few go as INSERTs in the pipeline). Sessions are locked ``FOR
UPDATE`` in key order (placeholder rows make a new session lockable; the ones never
written are deleted before the commit); named locks are transaction advisory locks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg

from netsky_core import (
    Event,
    EventQuery,
    FilePosition,
    Order,
    Session,
    SessionQuery,
    StorageStatsQuery,
    UsageBucket,
    UsageQuery,
)
from netsky_core.backend import (
    POSTGRES,
    USAGE_ORDER,
    EventKey,
    LockBusy,
    Restart,
    SessionKey,
    SessionSums,
    event_filter,
    event_order,
    limit,
    session_filter,
    session_order_column,
    session_sums_select,
    usage_filter,
)

from ._connection import Attempt, Retry
from ._projects import ProjectUsageReads, ProjectUsageWrites
from ._sql import (
    EVENT_COPY_TYPES,
    TABLES,
    Statements,
    event_from_row,
    event_params,
    lock_id,
    lock_statement,
    position_from_row,
    position_params,
    session_from_row,
    session_params,
    usage_delta_rows,
    usage_from_row,
)
from ._target import Target

__all__ = ["SMALL_BATCH", "BatchState", "PgReader", "PgWriter"]

SMALL_BATCH = 64
"""Up to this many new rows go as INSERTs in a pipeline instead of a COPY."""
Query = Callable[[psycopg.Connection], Any]


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is UTC:
        return value
    return value.astimezone(UTC)


class BatchState:
    """What survives the retries of one ``write`` call (a unique key violation means
    a stored event's session was gone: the next attempt probes every key)."""

    def __init__(self) -> None:
        self.probe_all = False


class PgReader(ProjectUsageReads):
    """Reads; in autocommit (each statement its own snapshot) unless a writer's."""

    def __init__(self, conn: psycopg.Connection, st: Statements, target: Target) -> None:
        self.conn = conn
        self.st = st
        self.target = target

    def _run(self, query: Query) -> Any:
        return query(self.conn)

    def _all(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self._run(lambda c: c.execute(sql, list(params), binary=True)).fetchall()

    def _one(self, sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        return self._run(lambda c: c.execute(sql, list(params), binary=True)).fetchone()

    # -- events ---------------------------------------------------------------------

    def events(self, query: EventQuery) -> list[Event]:
        where, params = event_filter(query, POSTGRES)
        sql = (
            f"SELECT {self.st.event_select} FROM {self.st.events}{where}"
            + event_order(query, POSTGRES)
            + limit(query, POSTGRES, params)
        )
        return [event_from_row(r) for r in self._all(sql, params)]

    def count_events(self, query: EventQuery) -> int:
        where, params = event_filter(query, POSTGRES)
        row = self._one(f"SELECT count(*) FROM {self.st.events}{where}", params)
        return int(row[0]) if row else 0

    def events_by_key(self, keys: Sequence[EventKey]) -> dict[EventKey, Event]:
        if not keys:
            return {}
        rows = self._all(
            self.st.select_events_by_keys,
            ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]),
        )
        found = (event_from_row(r) for r in rows)
        return {(e.machine_id, e.session_id, e.uuid): e for e in found}  # type: ignore[misc]

    def events_by_billing_key(self, keys: Sequence[str]) -> list[Event]:
        if not keys:
            return []
        return [event_from_row(r) for r in self._all(self.st.select_events_by_bill, (list(keys),))]

    def count_billing_keys(self, keys: Sequence[str]) -> dict[str, int]:
        if not keys:
            return {}
        rows = self._all(self.st.count_bill_keys, (list(keys),))
        return {str(k): int(n) for k, n in rows}

    # -- sessions -------------------------------------------------------------------

    def _session_statements(self, query: SessionQuery) -> tuple[str, str, list[Any]]:
        """The sessions with a value to order by, in order, then those without one
        (each walks an index in either direction); the shared parameters."""
        clauses, params = session_filter(query, POSTGRES)
        value = session_order_column(query)
        d = "DESC" if query.direction is Order.DESC else "ASC"
        cond = "".join(f" AND {w}" for w in clauses)
        base = f"SELECT {self.st.session_select} FROM {self.st.sessions} WHERE "
        present = (
            f"{base}{value} IS NOT NULL{cond} ORDER BY {value} {d}, machine_id {d}, session_id {d}"
        )
        missing = f"{base}{value} IS NULL{cond} ORDER BY machine_id {d}, session_id {d}"
        if query.limit is not None:
            present += f" LIMIT {int(query.limit)}"
            missing += f" LIMIT {int(query.limit)}"
        return present, missing, params

    def sessions(self, query: SessionQuery) -> list[Session]:
        present, missing, params = self._session_statements(query)
        if query.limit is not None:
            rows = self._all(present, params)
            if len(rows) >= query.limit:
                return [session_from_row(r) for r in rows[: query.limit]]
        rows = self._both(present, missing, params)
        if query.limit is not None:
            rows = rows[: query.limit]
        return [session_from_row(r) for r in rows]

    def _both(self, first: str, second: str, params: list[Any]) -> list[tuple[Any, ...]]:
        """Both statements on one snapshot."""
        conn = self.conn
        with conn.pipeline():
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            a = conn.execute(first, params, binary=True)
            b = conn.execute(second, params, binary=True)
            conn.execute("COMMIT")
        return a.fetchall() + b.fetchall()

    def count_sessions(self, query: SessionQuery) -> int:
        clauses, params = session_filter(query, POSTGRES)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        row = self._one(f"SELECT count(*) FROM {self.st.sessions}{where}", params)
        return int(row[0]) if row else 0

    def sessions_by_key(self, keys: Sequence[SessionKey]) -> dict[SessionKey, Session]:
        if not keys:
            return {}
        rows = self._all(
            self.st.select_sessions_by_keys, ([k[0] for k in keys], [k[1] for k in keys])
        )
        return {(r[0], r[1]): session_from_row(r) for r in rows}

    def session_sums(self, query: StorageStatsQuery) -> SessionSums:
        clauses, params = session_filter(query, POSTGRES)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        row = self._one(session_sums_select(self.st.sessions, where), params)
        assert row is not None
        n, active, ti, to, tr, tw, tx, cost, requests = row  # sums of bigint: numeric
        return SessionSums(
            sessions=int(n),
            active=int(active),
            tokens_input=int(ti),
            tokens_output=int(to),
            tokens_cache_read=int(tr),
            tokens_cache_write=int(tw),
            tokens_reasoning=int(tx),
            cost_picousd=None if cost is None else int(cost),
            api_requests=int(requests),
        )

    # -- the rest -------------------------------------------------------------------

    def usage(self, query: UsageQuery) -> list[UsageBucket]:
        where, params = usage_filter(query, POSTGRES)
        sql = f"SELECT {self.st.usage_select} FROM {self.st.usage}{where}{USAGE_ORDER}"
        return [usage_from_row(r) for r in self._all(sql, params)]

    def positions(
        self, machine_id: str | None = None, path: str | None = None
    ) -> list[FilePosition]:
        clauses, params = [], []
        if machine_id is not None:
            clauses.append("machine_id = %s")
            params.append(machine_id)
        if path is not None:
            clauses.append("path = %s")
            params.append(path)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        sql = f"SELECT {self.st.position_select} FROM {self.st.positions}{where} ORDER BY machine_id, path"
        return [position_from_row(r) for r in self._all(sql, params)]

    def meta(self, name: str) -> str | None:
        row = self._one(self.st.select_meta, (name,))
        return None if row is None else str(row[0])

    def table_counts(self) -> dict[str, int]:
        counts = ", ".join(f"(SELECT count(*) FROM {self.target.table(n)})" for n in TABLES)
        row = self._one(f"SELECT {counts}", ())
        assert row is not None
        return dict(zip(TABLES, (int(v) for v in row)))

    def event_time_range(self) -> tuple[datetime | None, datetime | None]:
        row = self._one(f'SELECT min("timestamp"), max("timestamp") FROM {self.st.events}', ())
        assert row is not None
        return _utc(row[0]), _utc(row[1])


class PgWriter(ProjectUsageWrites, PgReader):
    """One transaction: queued changes, pipelined with the reads and the commit."""

    def __init__(
        self,
        conn: psycopg.Connection,
        st: Statements,
        target: Target,
        attempt: Attempt,
        state: BatchState,
        sequence: Callable[[], str],
    ) -> None:
        super().__init__(conn, st, target)
        self.attempt = attempt
        self.state = state
        self._sequence = sequence
        self._queue: list[Query] = []
        self._begun = False
        self._locked: dict[SessionKey, Session | None] = {}
        self._placeholders: set[SessionKey] = set()
        self._written: set[SessionKey] = set()

    def _trip(self, final: Query | None = None) -> Any:
        """Send BEGIN (first time), the queued statements and ``final`` in one round
        trip; ``final``'s result (cursors) is returned."""
        conn = self.conn
        with conn.pipeline():
            if not self._begun:
                conn.execute("BEGIN")
                self._begun = True
            for queued in self._queue:
                queued(conn)
            self._queue.clear()
            result = final(conn) if final is not None else None
        self.attempt.retryable = False
        return result

    def _run(self, query: Query) -> Any:
        return self._trip(query)

    def _both(self, first: str, second: str, params: list[Any]) -> list[tuple[Any, ...]]:
        a, b = self._trip(
            lambda c: (
                c.execute(first, params, binary=True),
                c.execute(second, params, binary=True),
            )
        )
        return a.fetchall() + b.fetchall()

    def _queue_many(self, sql: str, rows: list[Any], raw: bool = False) -> None:
        if not rows:
            return
        cursor = psycopg.RawCursor if raw else psycopg.Cursor
        self._queue.append(lambda c: cursor(c).executemany(sql, rows))

    # -- locks ------------------------------------------------------------------------

    def open_batch(
        self, keys: Sequence[SessionKey], lock_name: str, meta_name: str
    ) -> tuple[dict[SessionKey, Session], str | None]:
        """``lock_names([lock_name], shared=True)``, ``lock_sessions(keys)`` and
        ``meta(meta_name)`` in one round trip."""
        self.lock_names([lock_name], shared=True)
        meta: list[Any] = []
        states = self._lock(
            keys,
            wait=True,
            extra=lambda c: meta.append(c.execute(self.st.select_meta, (meta_name,))),
        )
        row = meta[0].fetchone()
        return states, (None if row is None else str(row[0]))

    def open_and_insert(
        self,
        keys: Sequence[SessionKey],
        events: Sequence[Event],
        names: Sequence[str],
        bill_keys: Sequence[str],
        lock_name: str,
        meta_name: str,
    ) -> tuple[dict[SessionKey, Session], str | None, list[int | None], dict[str, int]]:
        """A few events into sessions that exist, in one round trip (see
        ``netsky_core.storage.engine``): the horizon lock and value, the session locks,
        the inserts, the billing locks and counts. A missing session: ``Restart``."""
        st = self.st
        self.lock_names([lock_name], shared=True)
        lock_sql, columns = lock_statement(st, keys, wait=True)
        ids = sorted({lock_id(self.target.schema, n) for n in names})

        def statements(c: psycopg.Connection) -> tuple[Any, Any, list[Any], Any]:
            meta = c.execute(st.select_meta, (meta_name,))
            lock = c.execute(lock_sql, columns, binary=True)
            inserted = []
            for e in events:
                cur = c.cursor(binary=True)
                cur.execute(st.insert_event, event_params(e))
                inserted.append(cur)
            counted = None
            if bill_keys:
                c.execute(st.lock_names, (ids,))
                counted = c.execute(st.count_bill_keys, (list(bill_keys),))
            return meta, lock, inserted, counted

        meta, lock, inserted, counted = self._trip(statements)
        states = {(r[0], r[1]): session_from_row(r) for r in lock.fetchall()}
        if len(states) < len(keys):
            raise Restart  # a new session: the careful path creates and locks it first
        for key, state in states.items():
            self._locked[key] = state
        row = meta.fetchone()
        out: list[int | None] = []
        for cur in inserted:
            got = cur.fetchone()
            out.append(None if got is None else int(got[0]))
        counts = {str(k): int(n) for k, n in counted.fetchall()} if counted is not None else {}
        return states, (None if row is None else str(row[0])), out, counts

    def lock_sessions(
        self, keys: Sequence[SessionKey], *, wait: bool = True
    ) -> dict[SessionKey, Session]:
        return self._lock(keys, wait=wait)

    def _lock(
        self, keys: Sequence[SessionKey], *, wait: bool, extra: Query | None = None
    ) -> dict[SessionKey, Session]:
        """Lock the stored sessions (one round trip, with ``extra``'s statements), then,
        only when some are missing, create placeholder rows for them and lock those:
        most writes go to sessions that exist."""
        known = {k: s for k in keys if (s := self._locked.get(k)) is not None}
        keys = [k for k in keys if k not in self._locked]
        if not keys and extra is None:
            return known
        st = self.st
        sql, columns = lock_statement(st, keys, wait=wait) if keys else ("", None)

        def first(c: psycopg.Connection) -> Any:
            if extra is not None:
                extra(c)
            return c.execute(sql, columns, binary=True) if keys else None

        try:
            lock = self._trip(first)
        except psycopg.errors.LockNotAvailable:
            if wait:
                raise  # lock_timeout: translated by the engine
            raise LockBusy(keys) from None
        states: dict[SessionKey, Session] = {}
        if lock is not None:
            for row in lock.fetchall():
                states[(row[0], row[1])] = session_from_row(row)
        missing = [k for k in keys if k not in states]
        if missing and wait:
            # Placeholder rows make new sessions lockable (INSERT waits for a concurrent
            # creator); the ones never written are deleted before the commit.
            cols = ([k[0] for k in missing], [k[1] for k in missing])
            again_sql, again_params = lock_statement(st, missing, wait=True)

            def create(c: psycopg.Connection) -> tuple[Any, Any]:
                made = c.execute(st.session_placeholders, cols, binary=True)
                return made, c.execute(again_sql, again_params, binary=True)

            made, again = self._trip(create)
            created = {(r[0], r[1]) for r in made.fetchall()}
            self._placeholders |= created
            for row in again.fetchall():
                key = (row[0], row[1])
                if key not in created:  # created meanwhile by a writer that committed
                    states[key] = session_from_row(row)
        for key in keys:
            self._locked[key] = states.get(key)
        states.update(known)
        return states

    def lock_names(self, names: Sequence[str], *, shared: bool = False) -> None:
        if not names:
            return
        ids = sorted({lock_id(self.target.schema, n) for n in names})
        sql = self.st.lock_names_shared if shared else self.st.lock_names
        self._queue.append(lambda c: c.execute(sql, (ids,)))

    # -- events -------------------------------------------------------------------------

    def insert_events(self, events: Sequence[Event]) -> list[int | None]:
        return self.insert_and_count(events, (), ())[0]

    def insert_and_count(
        self, events: Sequence[Event], names: Sequence[str], bill_keys: Sequence[str]
    ) -> tuple[list[int | None], dict[str, int]]:
        """``insert_events``, then ``lock_names(names)`` and ``count_billing_keys``,
        the locks and counts riding in the insert's first round trip."""
        if not events:
            return [], (self.count_billing_keys(bill_keys) if bill_keys else {})
        if len(events) <= SMALL_BATCH:
            return self._insert_few(events, names, bill_keys)
        st = self.st
        lock_ids = sorted({lock_id(self.target.schema, n) for n in names})
        probe_all = self.state.probe_all
        probe = [
            e
            for e in events
            if e.uuid is not None
            and (probe_all or self._locked.get((e.machine_id, e.session_id), True) is not None)
        ]
        sequence = self._sequence()
        found: list[Any] = []
        counted: list[Any] = []

        def reads(c: psycopg.Connection) -> Any:
            if bill_keys:  # counted before the insert: the rows about to go in add one
                c.execute(st.lock_names, (lock_ids,))
                counted.append(c.execute(st.count_bill_keys, (list(bill_keys),)))
            if probe:
                found.append(
                    c.execute(
                        st.select_events_by_keys,
                        (
                            [e.machine_id for e in probe],
                            [e.session_id for e in probe],
                            [e.uuid for e in probe],
                        ),
                        binary=True,
                    )
                )
            return c.execute(st.next_ids, (sequence, len(events)), binary=True)

        alloc = self._trip(reads)
        stored = {(r[1], r[2], r[5]) for r in found[0].fetchall()} if found else set()
        first, last, spread = alloc.fetchone()
        new_ids = list(range(first, last + 1)) if spread is None else list(spread)
        out: list[int | None] = []
        rows = []
        for e, new_id in zip(events, new_ids):
            if e.uuid is not None and (e.machine_id, e.session_id, e.uuid) in stored:
                out.append(None)
            else:
                out.append(new_id)
                rows.append((new_id, *event_params(e)))
        try:
            with self.conn.cursor().copy(st.copy_events) as copy:
                copy.set_types(EVENT_COPY_TYPES)
                for row in rows:
                    copy.write_row(row)
        except psycopg.errors.UniqueViolation:
            self.state.probe_all = True
            raise Retry from None
        counts: dict[str, int] = {}
        if counted:
            counts = {str(k): int(n) for k, n in counted[0].fetchall()}
            wanted = set(bill_keys)
            for row in rows:  # the rows copied in: their bill_key is the last value
                key = row[-1]
                if key is not None and key in wanted:
                    counts[key] = counts.get(key, 0) + 1
        return out, counts

    def _insert_few(
        self, events: Sequence[Event], names: Sequence[str], bill_keys: Sequence[str]
    ) -> tuple[list[int | None], dict[str, int]]:
        st = self.st
        lock_ids = sorted({lock_id(self.target.schema, n) for n in names})

        def inserts(c: psycopg.Connection) -> tuple[list[Any], Any]:
            cursors = []
            for e in events:
                cur = c.cursor(binary=True)
                cur.execute(st.insert_event, event_params(e))
                cursors.append(cur)
            counted = None
            if bill_keys:
                c.execute(st.lock_names, (lock_ids,))
                counted = c.execute(st.count_bill_keys, (list(bill_keys),))
            return cursors, counted

        out: list[int | None] = []
        cursors, counted = self._trip(inserts)
        for cur in cursors:
            row = cur.fetchone()
            out.append(None if row is None else int(row[0]))
        counts = {str(k): int(n) for k, n in counted.fetchall()} if counted is not None else {}
        return out, counts

    def update_events(self, events: Sequence[Event]) -> None:
        self._queue_many(self.st.update_event, [(*event_params(e), e.id) for e in events])

    def delete_events(self, ids: Sequence[int]) -> None:
        if ids:
            sql, values = self.st.delete_events, list(ids)
            self._queue.append(lambda c: c.execute(sql, (values,)))

    # -- sessions, usage, positions, meta ----------------------------------------------

    def put_sessions(self, sessions: Sequence[Session]) -> None:
        ordered = sorted(sessions, key=lambda s: s.key)
        self._written.update(s.key for s in ordered)
        # rows this writer locked (stored or placeholders) are updated; others upserted
        update, upsert = [], []
        for s in ordered:
            values = session_params(s)
            if s.key in self._locked or s.key in self._placeholders:
                update.append([*values[2:], values[0], values[1]])
            else:
                upsert.append(values)
        self._queue_many(self.st.update_session, update, raw=True)
        self._queue_many(self.st.upsert_session, upsert, raw=True)

    def delete_sessions(self, keys: Sequence[SessionKey]) -> None:
        if keys:
            sql = self.st.delete_sessions
            params = ([k[0] for k in keys], [k[1] for k in keys])
            self._queue.append(lambda c: c.execute(sql, params))

    def add_usage(self, deltas: Mapping[tuple[Any, ...], Sequence[int]]) -> None:
        rows = usage_delta_rows(dict(deltas))
        if not rows:
            return
        self._queue_many(self.st.increment_usage, rows)
        if any(r[4] < 0 for r in rows):
            sql = self.st.delete_empty_usage
            params = tuple([r[i] for r in rows] for i in range(4))
            self._queue.append(lambda c: c.execute(sql, params))

    def delete_usage(self, before: datetime) -> None:
        sql = self.st.delete_old_usage
        self._queue.append(lambda c: c.execute(sql, (before,)))

    def put_position(self, position: FilePosition) -> None:
        sql, params = self.st.upsert_position, position_params(position)
        self._queue.append(lambda c: c.execute(sql, params))

    def set_meta(self, name: str, value: str | None) -> None:
        if value is None:
            sql, params = self.st.delete_meta, (name,)
        else:
            sql, params = self.st.upsert_meta, (name, value)  # type: ignore[assignment]
        self._queue.append(lambda c: c.execute(sql, params))

    # -- end ----------------------------------------------------------------------------

    def commit(self) -> None:
        """Delete the placeholders never written, send what is queued, ``COMMIT``."""
        unused = sorted(self._placeholders - self._written)
        if unused:
            self.delete_sessions(unused)
        if not self._queue and not self._begun:
            return  # nothing was asked: no transaction was opened
        self._trip(lambda c: self.attempt.commit(c))
