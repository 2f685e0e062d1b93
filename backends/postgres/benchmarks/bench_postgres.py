"""pytest-benchmark: netsky-postgres vs raw psycopg on the same server and tables.

    pytest backends/postgres/benchmarks -o python_files='bench_*.py' --benchmark-only

Not collected by the default test run (files are ``bench_*.py``). Each measure has an
``ours`` and a ``raw`` variant in one benchmark group; ``compare.py`` prints the
ratios of an interleaved run at scale.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from netsky_postgres._sql import EVENT_COPY_TYPES, EVENT_WRITE_FIELDS, event_params
from netsky_postgres._target import quote_ident
from pg_bench_data import event, make_events

from netsky_core import SessionQuery, Storage, StorageStatsQuery, open_storage
from tests.fix_postgres import PostgresServer

pytestmark = pytest.mark.postgres

COLS = ", ".join(quote_ident(c) for c in EVENT_WRITE_FIELDS)
LOADED = 50_000
BATCH = 5_000


def _schema(server: PostgresServer, prefix: str) -> tuple[str, str]:
    name = f"{prefix}_{secrets.token_hex(3)}"
    url = server.url(name)
    open_storage(url).close()
    return name, url


@pytest.fixture(scope="module")
def loaded(postgres_server: PostgresServer) -> Iterator[tuple[Storage, Any, str]]:
    """A store with LOADED events, and a raw connection, for the read benchmarks."""
    name, url = _schema(postgres_server, "bench_read")
    store = open_storage(url)
    for start in range(0, LOADED, BATCH):
        store.insert_many(make_events(start, start + BATCH, LOADED))
    raw = psycopg.connect(url.split("?")[0], autocommit=True)
    raw.execute(f"VACUUM ANALYZE {quote_ident(name)}.sessions")
    yield store, raw, name
    store.close()
    raw.close()
    postgres_server.drop_schemas([name])


@pytest.fixture(scope="module")
def targets(postgres_server: PostgresServer) -> Iterator[tuple[Storage, Any, str]]:
    """An empty store (ours) and an identical empty schema (raw) to write into."""
    ours, ours_url = _schema(postgres_server, "bench_w")
    raw_name, _ = _schema(postgres_server, "bench_w_raw")
    store = open_storage(ours_url)
    raw = psycopg.connect(ours_url.split("?")[0], autocommit=True)
    yield store, raw, raw_name
    store.close()
    raw.close()
    postgres_server.drop_schemas([ours, raw_name])


_batches = itertools.count()


@pytest.mark.benchmark(group="insert_many 5000")
def test_insert_many_ours(benchmark: Any, targets: tuple[Storage, Any, str]) -> None:
    store, _, _ = targets

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (make_events(0, BATCH, BATCH, tag=f"b{next(_batches)}-"),), {}

    benchmark.pedantic(store.insert_many, setup=setup, rounds=10)


@pytest.mark.benchmark(group="insert_many 5000")
def test_insert_many_raw_copy(benchmark: Any, targets: tuple[Storage, Any, str]) -> None:
    _, raw, raw_name = targets
    sql = f"COPY {quote_ident(raw_name)}.events ({COLS}) FROM STDIN (FORMAT BINARY)"

    def copy(rows: list[tuple[Any, ...]]) -> None:
        with raw.transaction(), raw.cursor().copy(sql) as cp:
            cp.set_types(EVENT_COPY_TYPES[1:])
            for row in rows:
                cp.write_row(row)

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        events = make_events(0, BATCH, BATCH, tag=f"b{next(_batches)}-")
        return ([event_params(e) for e in events],), {}

    benchmark.pedantic(copy, setup=setup, rounds=10)


_singles = itertools.count()


@pytest.mark.benchmark(group="insert one")
def test_insert_ours(benchmark: Any, targets: tuple[Storage, Any, str]) -> None:
    store, _, _ = targets
    benchmark(lambda: store.insert(event(next(_singles), 10_000_000, tag="one-")))


@pytest.mark.benchmark(group="insert one")
def test_insert_raw(benchmark: Any, targets: tuple[Storage, Any, str]) -> None:
    _, raw, raw_name = targets
    sql = (
        f"INSERT INTO {quote_ident(raw_name)}.events ({COLS}) "
        f"VALUES ({', '.join(['%s'] * len(EVENT_WRITE_FIELDS))})"
    )
    benchmark(lambda: raw.execute(sql, event_params(event(next(_singles), 10_000_000))))


@pytest.mark.benchmark(group="list_sessions 50")
def test_list_sessions_ours(benchmark: Any, loaded: tuple[Storage, Any, str]) -> None:
    store, _, _ = loaded
    assert len(benchmark(store.list_sessions, SessionQuery().with_limit(50))) == 50


@pytest.mark.benchmark(group="list_sessions 50")
def test_list_sessions_raw(benchmark: Any, loaded: tuple[Storage, Any, str]) -> None:
    _, raw, name = loaded
    sql = (
        f"SELECT * FROM {quote_ident(name)}.sessions WHERE last_activity IS NOT NULL "
        "ORDER BY last_activity DESC, machine_id DESC, session_id DESC LIMIT 50"
    )
    assert len(benchmark(lambda: raw.execute(sql).fetchall())) == 50


@pytest.mark.benchmark(group="storage_stats")
def test_storage_stats_ours(benchmark: Any, loaded: tuple[Storage, Any, str]) -> None:
    store, _, _ = loaded
    assert benchmark(store.storage_stats, StorageStatsQuery()).session_count > 0


@pytest.mark.benchmark(group="storage_stats")
def test_storage_stats_raw(benchmark: Any, loaded: tuple[Storage, Any, str]) -> None:
    _, raw, name = loaded
    sql = (
        "SELECT count(*), count(*) FILTER (WHERE status IS NOT NULL AND status <> 'Done'), "
        "sum(tokens_input), sum(tokens_output), sum(tokens_cache_read), "
        f"sum(tokens_cache_write), sum(cost_picousd), sum(api_request_count) "
        f"FROM {quote_ident(name)}.sessions"
    )
    benchmark(lambda: raw.execute(sql).fetchall())
