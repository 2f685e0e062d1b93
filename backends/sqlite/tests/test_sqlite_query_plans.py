"""Every main query path uses an index (EXPLAIN QUERY PLAN)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from netsky_sqlite import SqliteEngine
from netsky_sqlite._tx import _EVENTS, _SESSIONS

from netsky_core import EventQuery, SessionQuery, Store, open_storage
from netsky_core.backend import (
    SQLITE,
    event_filter,
    event_order,
    limit,
    session_filter,
    session_order,
)

T = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    from netsky_conformance.builders import api, ev

    with open_storage(f"sqlite:///{tmp_path}/s.db") as s:
        assert isinstance(s.engine, SqliteEngine)
        s.insert_many(
            [ev(t=i, session_id=f"s{i % 7}", pid=i % 5) for i in range(300)]
            + [api(i) for i in range(50)]
        )
        s.engine._conn.execute("ANALYZE")
        yield s


def plan(store: Store, sql: str, params: list) -> str:
    rows = store.engine._conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()  # type: ignore[attr-defined]
    return " | ".join(str(r[-1]) for r in rows)


def event_sql(query: EventQuery) -> tuple[str, list]:
    where, params = event_filter(query, SQLITE)
    return _EVENTS + where + event_order(query, SQLITE) + limit(query, SQLITE, params), params


def session_sql(query: SessionQuery) -> tuple[str, list]:
    clauses, params = session_filter(query, SQLITE)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    return _SESSIONS + where + session_order(query) + limit(query, SQLITE, params), params


CASES = {
    "session events, newest first": (EventQuery().with_session("s1"), "events_session_time"),
    "time window": (EventQuery().with_time_range(T, T.replace(year=2027)), "events_time"),
    "watching by id cursor": (EventQuery().order_by_id().with_after_id(10), "INTEGER PRIMARY KEY"),
    "event type": (EventQuery().with_event_type("ApiRequest"), "events_type_time"),
    "api requests only": (EventQuery().api_requests_only(), "events_type_time"),
    "newest events": (EventQuery().with_limit(50), "events_time"),
    "gc's oldest first": (
        EventQuery().with_until(T).with_direction("asc").with_limit(2000),
        "events_time",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_event_queries_use_an_index(store: Store, name: str) -> None:
    query, index = CASES[name]
    text = plan(store, *event_sql(query))
    assert index in text, text
    assert "SCAN events" not in text or "USING" in text, text


SESSION_CASES = {
    "recent sessions": (SessionQuery().with_limit(50), "sessions_last_activity"),
    "active since": (SessionQuery().with_active_since(T), "sessions_last_activity"),
    "by start": (SessionQuery().order_by_started_at().with_limit(50), "sessions_started"),
    "by repo": (SessionQuery().with_github_repo("o/r"), "sessions_github"),
}


@pytest.mark.parametrize("name", list(SESSION_CASES))
def test_session_queries_use_an_index(store: Store, name: str) -> None:
    query, index = SESSION_CASES[name]
    text = plan(store, *session_sql(query))
    assert index in text, text


def test_lookups_use_indexes(store: Store) -> None:
    by_pid = plan(
        store,
        "SELECT * FROM sessions WHERE pid = ? ORDER BY last_activity DESC NULLS LAST LIMIT 1",
        [3],
    )
    assert "sessions_pid" in by_pid, by_pid
    by_id = plan(
        store,
        "SELECT * FROM sessions WHERE session_id = ? ORDER BY last_activity DESC LIMIT 1",
        ["s1"],
    )
    assert "sessions_session_id" in by_id, by_id
    key = plan(
        store,
        "SELECT 1 FROM events WHERE machine_id = ? AND session_id = ? AND uuid = ?",
        ["m", "s", "u"],
    )
    assert "events_key" in key, key
    expired = plan(store, "SELECT count(*) FROM events WHERE timestamp < ?", [0])
    assert "events_time" in expired, expired


def test_billing_lookup_uses_its_index_without_statistics(tmp_path: Path) -> None:
    """Every batch looks its responses up by billing key on a fresh, never analyzed
    store: scanning the events instead would make a large first ingest quadratic."""
    from netsky_conformance.builders import api, ev

    with open_storage(f"sqlite:///{tmp_path}/fresh.db") as s:
        s.insert_many([ev(t=i, session_id=f"s{i % 7}") for i in range(300)])
        s.insert_many([api(i, uuid=f"api:m{i}:r{i}") for i in range(50)])
        text = plan(s, "SELECT id FROM events WHERE bill_key IN (?, ?) ORDER BY id", ["a", "b"])
        assert "events_bill" in text, text
