"""The write path of events: dedup, supersession and session folding in one transaction.

For a batch (``plan_batch`` has deduplicated it in memory), in one transaction:

1. One pipelined round trip: ``BEGIN``; a placeholder row for every touched session
   (``ON CONFLICT DO NOTHING``); lock those session rows ``FOR UPDATE`` in key order
   (the "C" order, which is Python's order, so concurrent writers never deadlock);
   take one id per candidate from the events identity sequence.
2. Holding the session locks, no other writer can insert these keys. The stored
   versions of the candidates' keys are fetched (one index probe per key), only in
   sessions that already have events.
3. New candidates go straight into ``events``: binary COPY, or for a few rows plain
   INSERTs in the final pipeline. Candidates that ``outrank`` their stored version
   replace it in place (same id). The unique key is the safety net: a violation
   (an event whose session row was deleted) rolls back and retries probing every key.
4. ``BatchPlan.finish``, ``fold_session`` per session, session rows updated and
   ``COMMIT``, one round trip.

This skips the staging table + ``INSERT ... SELECT ... ON CONFLICT`` route on purpose:
measured, a direct COPY costs about 60% of it on the server, and the session locks
already make the conflict check race-free.

A single event takes the same steps with ``INSERT ... ON CONFLICT DO NOTHING
RETURNING id`` in the first round trip, so it costs two round trips in all (four for
the first event of a new session).
"""

from __future__ import annotations

from typing import Any

import psycopg

from netsky_core import Event, InsertResult, Session
from netsky_core.backend import BatchPlan, fold_session, outranks, usage_deltas

from ._connection import Attempt, Retry
from ._sql import (
    EVENT_COPY_TYPES,
    Statements,
    event_from_row,
    event_params,
    session_from_row,
    session_params,
)

__all__ = ["SMALL_BATCH", "Batch", "insert_one"]


def _session_updates(
    plan: BatchPlan,
    states: dict[tuple[str, str], Session],
    ids: list[int],
    inserted: list[bool],
    replaced: list[Event | None],
) -> tuple[InsertResult, list[list[Any]], list[tuple[Any, ...]]]:
    """The result, the session rows to write and the usage bucket increments."""
    result, changes = plan.finish(ids, inserted=inserted, replaced=replaced)
    usage = Statements.usage_delta_rows(usage_deltas(changes))
    rows: list[list[Any]] = []
    for key, change in changes.items():
        state = states.get(key)
        if state is None:  # deleted (gc) between placeholder and lock: start over
            raise Retry
        new = fold_session(
            state,
            key[0],
            key[1],
            added=change.added,
            removed=change.removed,
            seen=change.seen,
        )
        if new != state:
            values = session_params(new)
            rows.append([*values[2:], key[0], key[1]])
    return result, rows, usage


def _write_usage(conn: psycopg.Connection, st: Statements, usage: list[tuple[Any, ...]]) -> None:
    """Add the bucket increments, then drop the buckets left without a request."""
    if not usage:
        return
    conn.cursor().executemany(st.increment_usage, usage)
    if any(r[4] < 0 for r in usage):
        conn.execute(
            st.delete_empty_usage,
            (
                [r[0] for r in usage],
                [r[1] for r in usage],
                [r[2] for r in usage],
                [r[3] for r in usage],
            ),
        )


def _finish(
    conn: psycopg.Connection,
    attempt: Attempt,
    st: Statements,
    rows: list[list[Any]],
    usage: list[tuple[Any, ...]],
) -> None:
    with conn.pipeline():
        if rows:
            psycopg.RawCursor(conn).executemany(st.update_session, rows)
        _write_usage(conn, st, usage)
        attempt.commit(conn)


def insert_one(
    conn: psycopg.Connection, attempt: Attempt, st: Statements, plan: BatchPlan
) -> InsertResult:
    """Store a plan of exactly one candidate."""
    (event,) = plan.candidates
    key = (event.machine_id, event.session_id)
    params = event_params(event)

    def first_round_trip(create: bool) -> tuple[Any, Any, Any]:
        with conn.pipeline():
            conn.execute("BEGIN")
            if create:
                conn.execute(st.session_placeholder, key)
            lock = conn.cursor(binary=True)
            lock.execute(st.lock_session, key)
            ins = conn.cursor(binary=True)
            ins.execute(st.insert_event, params)
            old = None
            if event.uuid is not None:
                old = conn.cursor(binary=True)
                old.execute(st.select_event_by_key, (*key, event.uuid))
        return lock.fetchone(), ins, old

    # Usually the session exists: lock it, then insert. For a new session the event
    # went in before any session lock was held, so start over creating it first
    # (locks are always taken session first, then event).
    state_row, ins, old = first_round_trip(create=False)
    if state_row is None:
        conn.execute("ROLLBACK")
        state_row, ins, old = first_round_trip(create=True)
    attempt.retryable = False
    if state_row is None:
        raise Retry
    states = {key: session_from_row(state_row)}
    row = ins.fetchone()
    replaced: list[Event | None] = [None]
    if row is not None:
        ids, inserted = [row[0]], [True]
    else:
        stored_row = old.fetchone() if old is not None else None
        if stored_row is None:
            raise Retry
        stored = event_from_row(stored_row)
        ids, inserted = [stored.id or 0], [False]
        if outranks(event, stored):
            cur = conn.execute(st.update_event, (*params, stored.id))
            if cur.rowcount != 1:
                raise Retry
            replaced = [stored]
    result, rows, usage = _session_updates(plan, states, ids, inserted, replaced)
    _finish(conn, attempt, st, rows, usage)
    return result


class Batch:
    """One ``insert_many`` call; remembers across a retry that it must look up
    every key (a stored event without its session row was found)."""

    def __init__(self, st: Statements, plan: BatchPlan, sequence: str) -> None:
        self.st = st
        self.plan = plan
        self.sequence = sequence
        self.probe_all = False

    def __call__(self, conn: psycopg.Connection, attempt: Attempt) -> InsertResult:
        try:
            return self._run(conn, attempt)
        except psycopg.errors.UniqueViolation:
            if self.probe_all:
                raise
            self.probe_all = True
            raise Retry from None

    def _run(self, conn: psycopg.Connection, attempt: Attempt) -> InsertResult:
        st, plan = self.st, self.plan
        candidates = plan.candidates
        n = len(candidates)
        session_keys = sorted({(c.machine_id, c.session_id) for c in candidates})
        machines = [k[0] for k in session_keys]
        sessions = [k[1] for k in session_keys]
        with conn.pipeline():
            conn.execute("BEGIN")
            conn.execute(st.session_placeholders, (machines, sessions))
            lock = conn.cursor(binary=True)
            lock.execute(st.lock_sessions, (machines, sessions))
            alloc = conn.cursor(binary=True)
            alloc.execute(st.next_ids, (self.sequence, n))
        attempt.retryable = False
        states = {(r[0], r[1]): session_from_row(r) for r in lock.fetchall()}
        if len(states) != len(session_keys):
            raise Retry
        first, last, spread = alloc.fetchone()
        new_ids = list(range(first, last + 1)) if spread is None else spread

        # Keys can only be stored already in sessions that have events (the unique
        # key catches the odd exception, and the retry then probes every key).
        if self.probe_all:
            probe = [c for c in candidates if c.uuid is not None]
        else:
            busy = {k for k, s in states.items() if s.event_count > 0}
            probe = (
                [
                    c
                    for c in candidates
                    if c.uuid is not None and (c.machine_id, c.session_id) in busy
                ]
                if busy
                else []
            )
        stored: dict[tuple[str, str, str] | None, Event] = {}
        if probe:
            found = conn.execute(
                st.select_events_by_keys,
                (
                    [c.machine_id for c in probe],
                    [c.session_id for c in probe],
                    [c.uuid for c in probe],
                ),
                binary=True,
            ).fetchall()
            for r in found:
                e = event_from_row(r)
                stored[e.key] = e

        ids = new_ids[:n]
        inserted = [True] * n
        replaced: list[Event | None] = [None] * n
        updates: list[tuple[Any, ...]] = []
        if stored:
            for i, c in enumerate(candidates):
                prior = stored.get(c.key) if c.uuid is not None else None
                if prior is not None:
                    ids[i] = prior.id or 0
                    inserted[i] = False
                    if outranks(c, prior):
                        replaced[i] = prior
                        updates.append((*event_params(c), prior.id))
        n_fresh = n - len(stored)
        cur = conn.cursor()
        small: list[tuple[Any, ...]] = []
        if n_fresh > SMALL_BATCH:
            # Rows stream to the server as they are written; the fold runs while
            # the server digests them.
            with cur.copy(st.copy_events) as copy:
                copy.set_types(EVENT_COPY_TYPES)
                write = copy.write_row
                for i, c in enumerate(candidates):
                    if inserted[i]:
                        write((ids[i], *event_params(c)))
                result, rows, usage = _session_updates(plan, states, ids, inserted, replaced)
        else:
            small = [(ids[i], *event_params(c)) for i, c in enumerate(candidates) if inserted[i]]
            result, rows, usage = _session_updates(plan, states, ids, inserted, replaced)
        if updates:
            cur.executemany(st.update_event, updates)
            if cur.rowcount != len(updates):
                raise Retry
        with conn.pipeline():
            if small:
                cur.executemany(st.insert_event_with_id, small)
            if rows:
                psycopg.RawCursor(conn).executemany(st.update_session, rows)
            _write_usage(conn, st, usage)
            attempt.commit(conn)
        return result


SMALL_BATCH = 64
"""Up to this many new rows go in the final pipeline as INSERTs instead of a COPY."""
