"""A server restart under a live storage object: the write in flight fails cleanly
(StorageConnectionError, nothing partial), calls during the outage fail fast, and the
same object works again once the server is back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from netsky_postgres._target import parse_target

from netsky_core import (
    Event,
    EventQuery,
    EventType,
    SessionQuery,
    Storage,
    StorageConnectionError,
    aggregate_events,
    open_storage,
)
from tests.fix_postgres import PostgresServer

pytestmark = pytest.mark.postgres

APP = "netsky-restart-test"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _events(prefix: str, n: int, sessions: int = 3) -> list[Event]:
    return [
        Event(
            machine_id="m1",
            session_id=f"s{i % sessions}",
            event_type=EventType.PRE_TOOL_USE if i % 3 else EventType.API_REQUEST,
            timestamp=T0 + timedelta(seconds=i),
            uuid=f"{prefix}-{i}",
            tokens_input=i if i % 3 == 0 else None,
        )
        for i in range(n)
    ]


def _our_backend(server: PostgresServer, state: str) -> bool:
    with server.admin() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
            "AND wait_event_type = 'Lock' AND state = %s",
            (APP, state),
        ).fetchone()
    return bool(row and row[0])


@pytest.fixture
def server(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    if not postgres_server.can_restart:
        pytest.skip("NETSKY_TEST_POSTGRES_URL names a server this suite cannot restart")
    yield postgres_server
    try:  # never leave the shared server down for the next tests
        postgres_server.start()
    except Exception:
        pass


def _consistent(store: Storage) -> None:
    for session in store.list_sessions(SessionQuery()):
        events = store.query(EventQuery().with_session(session.session_id))
        assert session == aggregate_events(session.machine_id, session.session_id, events)


def test_restart_mid_write(server: PostgresServer, postgres_url: Callable[..., str]) -> None:
    url = postgres_url(application_name=APP)
    schema = parse_target(url).schema
    store = open_storage(url, connect_timeout=2, pool_max=2)
    store.insert_many(_events("before", 300))
    store.insert(_events("one", 1)[0])
    sessions_before = store.list_sessions(SessionQuery())
    assert store.count() == 301

    # Hold the events table so that the next batch is provably in flight: its first
    # round trip (placeholders, session locks) is done, its rows wait for the table.
    blocker = server.admin(server.dbname)
    blocker.execute("BEGIN")
    blocker.execute(f'LOCK TABLE "{schema}".events IN SHARE MODE')
    outcome: dict[str, BaseException | None] = {}

    def write() -> None:
        try:
            store.insert_many(_events("inflight", 5000, sessions=7))
            outcome["error"] = None
        except BaseException as exc:
            outcome["error"] = exc

    writer = threading.Thread(target=write)
    writer.start()
    deadline = time.monotonic() + 30
    while not _our_backend(server, "active"):
        assert time.monotonic() < deadline, "the write never reached the server"
        time.sleep(0.02)

    server.stop("fast")
    writer.join(30)
    assert not writer.is_alive()
    error = outcome["error"]
    assert isinstance(error, StorageConnectionError), repr(error)
    assert "nothing of this call was committed" in str(error)
    assert server.password not in str(error)

    # While the server is down: calls fail fast with the same error.
    started = time.monotonic()
    with pytest.raises(StorageConnectionError):
        store.insert(_events("down", 1)[0])
    with pytest.raises(StorageConnectionError):
        store.count()
    assert time.monotonic() - started < 15

    server.start()
    # The same object reconnects; nothing of the interrupted batch was kept.
    assert store.count() == 301
    assert store.list_sessions(SessionQuery()) == sessions_before
    assert store.get_session_by_key("m1", "s5") is None  # its placeholder rolled back
    result = store.insert_many(_events("after", 50))
    assert result.inserted == 50
    store.insert(_events("after-one", 1)[0])
    assert store.count() == 352
    _consistent(store)
    store.close()


def test_idle_connections_survive_a_restart(
    server: PostgresServer, postgres_url: Callable[..., str]
) -> None:
    """Every pooled connection dies while idle; the next calls just work."""
    store = open_storage(postgres_url(), pool_min=3, pool_max=3)
    threads = [threading.Thread(target=store.count) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.insert_many(_events("x", 10))
    server.restart("fast")
    assert store.count() == 10  # a read right after the restart
    assert store.insert(_events("y", 1)[0]) > 0  # and a write
    server.restart("immediate")  # a crash this time
    store.insert_many(_events("z", 10))
    assert store.count() == 21
    _consistent(store)
    store.close()
