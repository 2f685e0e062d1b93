"""Schema versions and migrations: refused when newer, never clobbering foreign
tables, exactly-once under concurrent starts."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from netsky_postgres._schema import LATEST_VERSION
from netsky_postgres._target import parse_target

from netsky_core import (
    NoStoreError,
    NotANetskyStoreError,
    SchemaVersionError,
    StorageError,
    open_storage,
)
from tests.fix_postgres import PostgresServer

pytestmark = pytest.mark.postgres

WORKER = str(Path(__file__).with_name("postgres_worker.py"))


def _schema_of(url: str) -> str:
    return parse_target(url).schema


def _snapshot(server: PostgresServer, schema: str) -> list[tuple[object, ...]]:
    """Tables, columns and the stored version: what "untouched" means."""
    with server.admin(server.dbname) as conn:
        cols = conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s ORDER BY 1, 2",
            (schema,),
        ).fetchall()
        meta = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL", (f'"{schema}".netsky_meta',)
        ).fetchone()
        version = (
            conn.execute(f'SELECT value FROM "{schema}".netsky_meta').fetchall()
            if meta and meta[0]
            else []
        )
    return [*cols, *version]


def test_fresh_store_is_at_the_latest_version(postgres_url: Callable[..., str]) -> None:
    with open_storage(postgres_url()) as store:
        assert store.schema_version == LATEST_VERSION
        result = store.migrate()
        assert (result.from_version, result.to_version) == (LATEST_VERSION, LATEST_VERSION)
        assert store.info().latest_schema_version == LATEST_VERSION


def test_newer_schema_is_refused_and_left_untouched(
    postgres_server: PostgresServer, postgres_url: Callable[..., str]
) -> None:
    url = postgres_url()
    schema = _schema_of(url)
    open_storage(url).close()
    with postgres_server.admin(postgres_server.dbname) as conn:
        conn.execute(
            f"UPDATE \"{schema}\".netsky_meta SET value = '{LATEST_VERSION + 7}' "
            "WHERE key = 'schema_version'"
        )
    before = _snapshot(postgres_server, schema)
    for options in ({}, {"migrate": False}, {"read_only": True}):
        with pytest.raises(SchemaVersionError, match="newer than this netsky-postgres") as info:
            open_storage(url, **options)
        assert info.value.hint and "upgrade" in info.value.hint
    assert _snapshot(postgres_server, schema) == before


def test_foreign_events_table_is_refused_and_left_untouched(
    postgres_server: PostgresServer, postgres_url: Callable[..., str]
) -> None:
    url = postgres_url()
    schema = _schema_of(url)
    with postgres_server.admin(postgres_server.dbname) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}" AUTHORIZATION {postgres_server.user}')
        conn.execute(f'CREATE TABLE "{schema}".events (id int, body json)')
        conn.execute(f"INSERT INTO \"{schema}\".events VALUES (1, '{{}}')")
    before = _snapshot(postgres_server, schema)
    with pytest.raises(NotANetskyStoreError, match="did not create"):
        open_storage(url)
    assert _snapshot(postgres_server, schema) == before


def test_read_only_or_unmigrated_open_of_an_empty_schema(postgres_url: Callable[..., str]) -> None:
    url = postgres_url()
    with pytest.raises(NoStoreError, match="no netsky store"):
        open_storage(url, read_only=True)
    with open_storage(url, migrate=False) as store:
        assert store.schema_version == 0
        with pytest.raises(SchemaVersionError, match="not initialized"):
            store.count()
        assert store.migrate().to_version == LATEST_VERSION
        assert store.count() == 0 and store.schema_version == LATEST_VERSION


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_first_opens_migrate_exactly_once(
    postgres_server: PostgresServer, round_: int
) -> None:
    """Several processes open the same fresh database (default schema) at once."""
    database = postgres_server.create_database()
    url = postgres_server.url(dbname=database)
    start_at = f"{time.time() + 2.0:.3f}"
    procs = [
        subprocess.Popen(
            [sys.executable, WORKER, "open", url, start_at],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    outcomes = [p.communicate(timeout=120) for p in procs]
    for (out, err), proc in zip(outcomes, procs):
        assert proc.returncode == 0, (out, err)
        assert json.loads(out) == {"version": LATEST_VERSION}
    with postgres_server.admin(database) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        versions = conn.execute("SELECT value FROM public.netsky_meta").fetchall()
    assert tables == (6,)  # events, sessions, positions, usage, project_usage, netsky_meta
    assert versions == [(str(LATEST_VERSION),)]


def test_closed_store_refuses_calls(postgres_url: Callable[..., str]) -> None:
    store = open_storage(postgres_url())
    store.close()
    with pytest.raises(StorageError, match="closed"):
        store.count()
    store.close()
