"""Every main query path uses an index (EXPLAIN QUERY PLAN)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from netsky_sqlite import SqliteStorage

from netsky_core import EventQuery, SessionQuery, open_storage

T = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStorage]:
    from netsky_conformance.builders import api, ev

    with open_storage(f"sqlite:///{tmp_path}/s.db") as s:
        assert isinstance(s, SqliteStorage)
        s.insert_many(
            [ev(t=i, session_id=f"s{i % 7}", pid=i % 5) for i in range(300)]
            + [api(i) for i in range(50)]
        )
        s._conn.execute("ANALYZE")
        yield s


def plan(store: SqliteStorage, sql: str, params: list) -> str:
    rows = store._conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    return " | ".join(str(r[-1]) for r in rows)


CASES = {
    "session events, newest first": (EventQuery().with_session("s1"), "events_session_time"),
    "time window": (EventQuery().with_time_range(T, T.replace(year=2027)), "events_time"),
    "watching by id cursor": (EventQuery().order_by_id().with_after_id(10), "INTEGER PRIMARY KEY"),
    "event type": (EventQuery().with_event_type("ApiRequest"), "events_type_time"),
    "api requests only": (EventQuery().api_requests_only(), "events_type_time"),
    "newest events": (EventQuery().with_limit(50), "events_time"),
    "ingest's lookup by uuid": (
        EventQuery().with_machine("m").with_uuids(["api:a", "api:b"]),
        "events_uuid",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_event_queries_use_an_index(store: SqliteStorage, name: str) -> None:
    query, index = CASES[name]
    text = plan(store, *store.event_sql(query))
    assert index in text, text
    assert "SCAN events" not in text or "USING" in text, text


SESSION_CASES = {
    "recent sessions": (SessionQuery().with_limit(50), "sessions_last_activity"),
    "active since": (SessionQuery().with_active_since(T), "sessions_last_activity"),
    "by start": (SessionQuery().order_by_started_at().with_limit(50), "sessions_started"),
    "by repo": (SessionQuery().with_github_repo("o/r"), "sessions_github"),
}


@pytest.mark.parametrize("name", list(SESSION_CASES))
def test_session_queries_use_an_index(store: SqliteStorage, name: str) -> None:
    query, index = SESSION_CASES[name]
    text = plan(store, *store.session_sql(query))
    assert index in text, text


def test_lookups_use_indexes(store: SqliteStorage) -> None:
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


def test_uuid_lookup_uses_its_index_without_statistics(tmp_path: Path) -> None:
    """Ingest looks up each batch's uuids on a fresh, never analyzed store: scanning
    the machine's events instead would make a large first ingest quadratic."""
    from netsky_conformance.builders import ev

    with open_storage(f"sqlite:///{tmp_path}/fresh.db") as s:
        assert isinstance(s, SqliteStorage)
        s.insert_many([ev(t=i, session_id=f"s{i % 7}") for i in range(300)])
        for query in (
            EventQuery().with_machine("m").with_uuids(["u1", "u2"]),
            EventQuery().with_machine("m").with_session("s1").with_uuids(["u1"]),
        ):
            text = plan(s, *s.event_sql(query))
            assert "events_uuid" in text, text
