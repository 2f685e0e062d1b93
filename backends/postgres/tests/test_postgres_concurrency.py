"""Many processes writing one store at once: nothing lost, summaries exact."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from netsky_postgres._target import parse_target
from postgres_worker import worker_event

from netsky_core import (
    EventQuery,
    SessionQuery,
    StorageConnectionError,
    aggregate_events,
    open_storage,
)
from tests.fix_postgres import PostgresServer

pytestmark = pytest.mark.postgres

WORKER = str(Path(__file__).with_name("postgres_worker.py"))
PROCESSES = 8
PER_PROCESS = 2_000


def test_processes_inserting_single_events_concurrently(
    postgres_url: Callable[..., str],
) -> None:
    url = postgres_url()
    open_storage(url).close()  # created up front: the race under test is the inserts
    start_at = f"{time.time() + 3.0:.3f}"
    procs = [
        subprocess.Popen(
            [sys.executable, WORKER, "insert", url, str(w), str(PER_PROCESS), start_at],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(PROCESSES)
    ]
    results = [p.communicate(timeout=600) for p in procs]
    for (out, err), proc in zip(results, procs):
        assert proc.returncode == 0, (out, err[-2000:])
        assert json.loads(out)["errors"] == 0

    with open_storage(url) as store:
        assert store.count() == PROCESSES * PER_PROCESS
        sessions = store.list_sessions(SessionQuery())
        assert len(sessions) == 24
        assert sum(s.event_count for s in sessions) == PROCESSES * PER_PROCESS
        for session in sessions:
            events = store.query(
                EventQuery().with_machine(session.machine_id).with_session(session.session_id)
            )
            expected = aggregate_events(session.machine_id, session.session_id, events)
            assert session == expected


def test_timeout_bounds_the_wait_for_a_lock(
    postgres_server: PostgresServer, postgres_url: Callable[..., str]
) -> None:
    """The standard ``timeout`` option: a writer stuck behind another transaction's
    lock gives up after about that long, with nothing stored."""
    url = postgres_url()
    schema = parse_target(url).schema
    with open_storage(url, timeout=1) as store:
        store.insert(worker_event(0, 0))
        with postgres_server.admin(postgres_server.dbname) as other:
            other.execute("BEGIN")
            other.execute(f'SELECT * FROM "{schema}".sessions FOR UPDATE')
            started = time.monotonic()
            with pytest.raises(StorageConnectionError, match="stayed locked"):
                store.insert(worker_event(0, 24))  # same session
            assert 0.9 < time.monotonic() - started < 5
            other.execute("ROLLBACK")
        assert store.count() == 1
        store.insert(worker_event(0, 24))
        assert store.count() == 2


def test_a_deadlock_victim_runs_again(
    postgres_server: PostgresServer, postgres_url: Callable[..., str]
) -> None:
    """Two writes locking two rows in opposite orders: PostgreSQL aborts one as the
    deadlock victim, and that write runs again and succeeds (nothing of the aborted
    attempt stays; both writes' effects are there once)."""
    import threading

    url = postgres_url()
    schema = parse_target(url).schema
    open_storage(url).close()  # creates the schema
    with postgres_server.admin(postgres_server.dbname) as admin:
        admin.execute(f'CREATE TABLE "{schema}".pair (k int PRIMARY KEY, n int NOT NULL)')
        admin.execute(f'INSERT INTO "{schema}".pair VALUES (1, 0), (2, 0)')
        admin.execute(f'GRANT ALL ON "{schema}".pair TO "{postgres_server.user}"')
        before = admin.execute(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()[0]
    both_hold_one = threading.Barrier(2, timeout=30)
    attempts = {1: 0, 2: 0}
    errors: list[BaseException] = []

    def writer(first: int) -> None:
        second = 3 - first
        with open_storage(url) as store:
            db = store._engine._db  # type: ignore[attr-defined]

            def work(conn: Any, attempt: Any) -> None:
                attempts[first] += 1
                conn.execute("BEGIN")
                update = f'UPDATE "{schema}".pair SET n = n + 1 WHERE k = %s'
                conn.execute(update, (first,))
                if attempts[first] == 1:
                    both_hold_one.wait()
                conn.execute(update, (second,))
                attempt.commit(conn)

            try:
                db.run(work, write=True)
            except BaseException as exc:  # reported below
                errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sorted(attempts.values()) == [1, 2]  # the victim ran twice, the other once
    with postgres_server.admin(postgres_server.dbname) as admin:
        rows = admin.execute(f'SELECT k, n FROM "{schema}".pair ORDER BY k').fetchall()
        after = admin.execute(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()[0]
    assert rows == [(1, 2), (2, 2)]
    assert after > before
