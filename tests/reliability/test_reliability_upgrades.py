"""Upgrades: old stores migrate with all their data, newer ones are refused untouched,
and processes migrating one fresh (or old) store at once all succeed.

* SQLite: every ``backends/sqlite/tests/fixtures/schema_v*.db``; PostgreSQL: every
  kept ``pg_dump`` of ``backends/postgres/tests/fixtures`` (``tests/pg_dumps.py``: v1
  whole, later versions as diffs), restored with ``psql`` into a fresh database. Both hold ``make_fixtures.fixture_events()`` plus a
  git context and a file position; after opening with the current netsky every event,
  session and position must be as written, and the store must keep working.
* A store stamped with a version newer than this netsky is refused by ``open_storage``
  (default, ``migrate=False``, ``read_only=True``) and by ``netsky db status`` /
  ``db migrate``; its bytes (SQLite) or its ``pg_dump`` (PostgreSQL) are unchanged.
* Processes start together on one fresh store and on one old fixture: all succeed,
  at the latest version, with the schema created once. Short: 2 processes x 2 rounds;
  full: 6 processes x 10 rounds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from netsky_postgres import _schema as pg_schema
from netsky_sqlite import _schema as sqlite_schema

from netsky_core import (
    Event,
    EventQuery,
    SchemaVersionError,
    SessionQuery,
    Storage,
    aggregate_events,
    open_storage,
)
from tests import pg_dumps
from tests.fix_postgres import PostgresServer, _find_bin

from .recorder import record, scale

ROOT = Path(__file__).resolve().parents[2]
SQLITE_FIXTURES = ROOT / "backends" / "sqlite" / "tests" / "fixtures"
SQLITE_DUMPS = sorted(SQLITE_FIXTURES.glob("schema_v*.db"))
PG_DUMPS = pg_dumps.versions()  # schema versions with a kept dump (see tests/pg_dumps.py)
PG_SCHEMA = "netsky"  # the schema the dumps hold (see make_fixtures.py there)
NETSKY = Path(sys.executable).with_name("netsky")
PROCESSES = scale(2, 6)
ROUNDS = scale(2, 10)

sys.path.insert(0, str(SQLITE_FIXTURES))
from make_fixtures import fixture_events  # noqa: E402

MACHINE = "fixture-machine"
POSITION_PATH = "/home/fixture/.claude/projects/p/fixture-0.jsonl"


def _version(path: Path) -> int:
    return int(path.stem.removeprefix("schema_v"))


# -- checking a store against the fixture data ---------------------------------------------


def _check_fixture_data(store: Storage) -> tuple[int, int]:
    """Assert the store holds exactly the fixture data; returns (lost, duplicated)."""
    expected = sorted(fixture_events(), key=lambda e: e.uuid or "")
    stored = sorted(store.query(EventQuery()), key=lambda e: e.uuid or "")
    want = {e.uuid for e in expected}
    got = [e.uuid for e in stored]
    lost = len(want - set(got))
    duplicated = len(got) - len(set(got)) + len(set(got) - want)
    assert [attrs.evolve(e, id=None) for e in stored] == expected
    sessions = {s.session_id: s for s in store.list_sessions(SessionQuery())}
    assert set(sessions) == {"fixture-0", "fixture-1", "fixture-2"}
    for sid, session in sessions.items():
        reference = aggregate_events(MACHINE, sid, [e for e in expected if e.session_id == sid])
        git = {"github_repo", "github_pr"} if sid == "fixture-0" else set()
        for field in attrs.fields(type(session)):
            if field.name not in git:
                assert getattr(session, field.name) == getattr(reference, field.name), (
                    sid,
                    field.name,
                )
    assert (sessions["fixture-0"].github_repo, sessions["fixture-0"].github_pr) == (
        "owner/repo",
        5,
    )
    from netsky_conformance.projects import expected_project_usage

    projects = store.project_usage()  # backfilled by the migration that added them
    assert projects and projects == expected_project_usage(stored)
    (position,) = store.query_transcript_positions()
    assert (position.path, position.offset, position.line_number, position.inode) == (
        POSITION_PATH,
        4096,
        60,
        42,
    )
    assert (position.last_uuid, position.state) == ("ev-59", '{"model": "x"}')
    return lost, duplicated


def _keeps_working(store: Storage) -> None:
    """New events go in after the old ones (ids too), and old keys still dedup."""
    from netsky_conformance.builders import ev

    old_max = max(e.id or 0 for e in store.query(EventQuery()))
    new_id = store.insert(ev(session_id="fixture-0", machine_id=MACHINE, uuid="after-upgrade"))
    assert new_id > old_max
    again = store.insert_many([fixture_events()[5]])
    assert (again.inserted, again.duplicates) == (0, 1)
    assert store.count() == len(fixture_events()) + 1


# -- SQLite ------------------------------------------------------------------------------------


def test_sqlite_fixtures_cover_every_released_version() -> None:
    missing = set(range(1, sqlite_schema.LATEST + 1)) - {_version(p) for p in SQLITE_DUMPS}
    assert not missing, (
        f"no SQLite fixture for schema version(s) {sorted(missing)}: run "
        "backends/sqlite/tests/fixtures/make_fixtures.py and commit the file"
    )


@pytest.mark.parametrize("fixture", SQLITE_DUMPS, ids=lambda p: p.stem)
def test_sqlite_store_of_every_version_upgrades_with_all_data(
    fixture: Path, tmp_path: Path
) -> None:
    db = tmp_path / fixture.name
    shutil.copy(fixture, db)
    started = time.perf_counter()
    with open_storage(f"sqlite:///{db}") as store:
        seconds = time.perf_counter() - started
        assert store.schema_version == sqlite_schema.LATEST
        assert store.engine.integrity_check() == ["ok"]
        lost, duplicated = _check_fixture_data(store)
        _keeps_working(store)
    record(
        test="Upgrade: every earlier schema version",
        backend="sqlite",
        load=f"{fixture.name} -> v{sqlite_schema.LATEST}, {len(fixture_events())} events",
        faults="none",
        inputs="kept fixture file",
        lost=lost,
        duplicated=duplicated,
        result="pass",
        open_and_migrate_seconds=round(seconds, 3),
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sqlite_dump(path: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NETSKY), *args], capture_output=True, text=True, timeout=120, env=env
    )


def _isolated_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETSKY_", "XDG_"))}
    env["NETSKY_DRAINER_LINGER"] = "0s"  # see the root conftest.py
    (root / "home").mkdir(exist_ok=True)
    env.update(HOME=str(root / "home"), NETSKY_HOME=str(root / "nh"), TZ="UTC")
    return env


def _refusals(url: str, env: dict[str, str]) -> list[str]:
    """Every way of opening ``url``; each must refuse. Returns the CLI messages."""
    for options in ({}, {"migrate": False}, {"read_only": True}):
        with pytest.raises(SchemaVersionError, match="newer than") as info:
            open_storage(url, **options)
        assert info.value.hint and "upgrade" in info.value.hint.lower()
    messages = []
    for command in (["db", "status"], ["db", "migrate"], ["sessions"]):
        proc = _cli("--db", url, *command, env=env)
        assert proc.returncode != 0, (command, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert "newer" in proc.stderr, proc.stderr
        messages.append(proc.stderr.strip().splitlines()[0])
    return messages


def test_sqlite_store_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "newer.db"
    shutil.copy(SQLITE_DUMPS[-1], db)
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {sqlite_schema.LATEST + 1}")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    before = (_sha256(db), _sqlite_dump(db))
    messages = _refusals(f"sqlite:///{db}", _isolated_env(tmp_path))
    after = (_sha256(db), _sqlite_dump(db))
    wal = Path(f"{db}-wal")
    record(
        test="Upgrade: newer schema refused untouched",
        backend="sqlite",
        load=f"v{sqlite_schema.LATEST + 1} store, 3 API opens + 3 CLI commands",
        faults="none",
        inputs="store stamped with a newer user_version",
        lost=0 if after[1] == before[1] else 1,
        duplicated=0,
        result="pass" if after == before else "FAIL: the file changed",
        message=messages[0],
    )
    assert after[0] == before[0], "file bytes changed"
    assert after[1] == before[1]
    assert not wal.exists() or wal.stat().st_size == 0


_OPEN_WORKER = """
import json, sys, time
from netsky_core import EventQuery, open_storage
url, start_at = sys.argv[1], float(sys.argv[2])
time.sleep(max(0.0, start_at - time.time()))
try:
    with open_storage(url) as store:
        print(json.dumps({"version": store.schema_version, "events": store.count()}))
except Exception as exc:
    print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
    sys.exit(1)
"""


def _open_together(url: str, n: int) -> list[dict[str, Any]]:
    start_at = f"{time.time() + 1.5:.3f}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _OPEN_WORKER, url, start_at],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    outcomes = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, (out, err)
        outcomes.append(json.loads(out))
    return outcomes


def _sqlite_tables(store: Storage) -> list[str]:
    rows = store.engine._conn.execute(  # type: ignore[attr-defined]
        "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_autoindex%' ORDER BY 2"
    ).fetchall()
    return [f"{kind} {name}" for kind, name in rows]


def test_sqlite_processes_migrating_one_store_at_once_all_succeed(tmp_path: Path) -> None:
    with open_storage(f"sqlite:///{tmp_path}/reference.db") as store:
        reference = _sqlite_tables(store)  # what one process alone creates
    outcomes: list[dict[str, Any]] = []
    for round_ in range(ROUNDS):
        fresh = tmp_path / f"fresh-{round_}.db"
        old = tmp_path / f"old-{round_}.db"
        shutil.copy(SQLITE_DUMPS[0], old)
        for db, events in ((fresh, 0), (old, len(fixture_events()))):
            got = _open_together(f"sqlite:///{db}", PROCESSES)
            outcomes += got
            assert got == [{"version": sqlite_schema.LATEST, "events": events}] * PROCESSES
            with open_storage(f"sqlite:///{db}") as store:
                assert store.engine.integrity_check() == ["ok"]
                assert _sqlite_tables(store) == reference
                if events:
                    _check_fixture_data(store)
    record(
        test="Upgrade: processes migrating one store at once",
        backend="sqlite",
        load=f"{ROUNDS} rounds x {PROCESSES} processes x (fresh file, {SQLITE_DUMPS[0].name})",
        faults="simultaneous first open",
        inputs="none",
        lost=0,
        duplicated=0,
        result="pass",
        processes_ok=len(outcomes),
    )


# -- PostgreSQL ------------------------------------------------------------------------------


def _pg_tool(
    server: PostgresServer, tool: str, database: str, *args: str, stdin: str | None = None
) -> str:
    """Run the PostgreSQL client ``tool`` on ``database`` of ``server``; its stdout."""
    binary = _find_bin(tool)
    if binary is None:
        pytest.skip(f"{tool} not found")
    connection = ("--host", server.host, "--port", str(server.port), "--username", server.user)
    return subprocess.run(
        [binary, *args, *connection, "--dbname", database],
        input=stdin,
        check=True,
        capture_output=True,
        encoding="utf-8",
        env={**os.environ, "PGPASSWORD": server.password},
        timeout=120,
    ).stdout


def _psql(server: PostgresServer, database: str, sql: str) -> None:
    options = ("--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "--file", "-")
    _pg_tool(server, "psql", database, *options, stdin=sql)


def _pg_dump(server: PostgresServer, database: str) -> str:
    out = _pg_tool(
        server, "pg_dump", database, "--schema", PG_SCHEMA, "--no-owner", "--no-privileges"
    )
    return "".join(
        line
        for line in out.splitlines(keepends=True)
        if not line.startswith(("\\restrict", "\\unrestrict"))
    )


@pytest.fixture
def restored(postgres_server: PostgresServer) -> Iterator[Any]:
    """``restore(version)``: a fresh database holding the dump of that schema version;
    its URL (schema netsky)."""
    made: list[str] = []

    def restore(version: int) -> tuple[str, str]:
        database = postgres_server.create_database()
        made.append(database)
        _psql(postgres_server, database, pg_dumps.dump_text(version))
        return database, postgres_server.url(PG_SCHEMA, dbname=database)

    yield restore
    with postgres_server.admin() as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_postgres_fixtures_cover_every_released_version() -> None:
    missing = set(range(1, pg_schema.LATEST_VERSION + 1)) - set(PG_DUMPS)
    assert not missing, (
        f"no PostgreSQL fixture for schema version(s) {sorted(missing)}: run "
        "backends/postgres/tests/fixtures/make_fixtures.py and commit the file"
    )


@pytest.mark.postgres
@pytest.mark.parametrize("dump", PG_DUMPS, ids=lambda v: f"schema_v{v}")
def test_postgres_store_of_every_version_upgrades_with_all_data(dump: int, restored: Any) -> None:
    _database, url = restored(dump)
    started = time.perf_counter()
    with open_storage(url) as store:
        seconds = time.perf_counter() - started
        assert store.schema_version == pg_schema.LATEST_VERSION
        lost, duplicated = _check_fixture_data(store)
        _keeps_working(store)
    record(
        test="Upgrade: every earlier schema version",
        backend="postgres",
        load=f"{pg_dumps.dump_name(dump)} -> v{pg_schema.LATEST_VERSION}, "
        f"{len(fixture_events())} events",
        faults="none",
        inputs="kept pg_dump, restored with psql",
        lost=lost,
        duplicated=duplicated,
        result="pass",
        open_and_migrate_seconds=round(seconds, 3),
    )


@pytest.mark.postgres
def test_postgres_store_from_a_newer_version_is_refused_untouched(
    postgres_server: PostgresServer, restored: Any, tmp_path: Path
) -> None:
    database, url = restored(PG_DUMPS[-1])
    with postgres_server.admin(database) as conn:
        conn.execute(
            f"UPDATE {PG_SCHEMA}.netsky_meta SET value = %s WHERE key = 'schema_version'",
            (str(pg_schema.LATEST_VERSION + 1),),
        )
    before = _pg_dump(postgres_server, database)
    messages = _refusals(url, _isolated_env(tmp_path))
    after = _pg_dump(postgres_server, database)
    record(
        test="Upgrade: newer schema refused untouched",
        backend="postgres",
        load=f"v{pg_schema.LATEST_VERSION + 1} store, 3 API opens + 3 CLI commands",
        faults="none",
        inputs="store stamped with a newer netsky_meta.schema_version",
        lost=0 if after == before else 1,
        duplicated=0,
        result="pass" if after == before else "FAIL: the dump changed",
        message=messages[0],
    )
    assert after == before
    for message in messages:
        assert postgres_server.password not in message


@pytest.mark.postgres
def test_postgres_processes_migrating_one_store_at_once_all_succeed(
    postgres_server: PostgresServer, restored: Any, postgres_url: Any
) -> None:
    url = postgres_url()
    open_storage(url).close()
    with postgres_server.admin(postgres_server.dbname) as conn:
        reference = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                "ORDER BY 1",
                (url.rsplit("schema=", 1)[1],),
            ).fetchall()
        ]  # what one process alone creates
    outcomes: list[dict[str, Any]] = []
    for _ in range(ROUNDS):
        fresh_db = postgres_server.create_database()
        try:
            targets = [
                (fresh_db, postgres_server.url(dbname=fresh_db), "public", 0),
                (*restored(PG_DUMPS[0]), PG_SCHEMA, len(fixture_events())),
            ]
            for database, url, schema, events in targets:
                got = _open_together(url, PROCESSES)
                outcomes += got
                assert got == [{"version": pg_schema.LATEST_VERSION, "events": events}] * PROCESSES
                with postgres_server.admin(database) as conn:
                    tables = conn.execute(
                        "SELECT table_name FROM information_schema.tables "
                        "WHERE table_schema = %s ORDER BY 1",
                        (schema,),
                    ).fetchall()
                    versions = conn.execute(f'SELECT value FROM "{schema}".netsky_meta').fetchall()
                assert [t[0] for t in tables] == reference
                assert versions == [(str(pg_schema.LATEST_VERSION),)]
                if events:
                    with open_storage(url) as store:
                        _check_fixture_data(store)
        finally:
            with postgres_server.admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{fresh_db}" WITH (FORCE)')
    record(
        test="Upgrade: processes migrating one store at once",
        backend="postgres",
        load=f"{ROUNDS} rounds x {PROCESSES} processes x "
        f"(fresh database, {pg_dumps.dump_name(PG_DUMPS[0])})",
        faults="simultaneous first open",
        inputs="none",
        lost=0,
        duplicated=0,
        result="pass",
        processes_ok=len(outcomes),
    )


def test_fixture_events_are_what_the_dumps_hold() -> None:
    """The PostgreSQL dumps hold the SQLite fixtures' events (spot check of the text)."""
    events: list[Event] = fixture_events()
    for dump in PG_DUMPS:
        text = pg_dumps.dump_text(dump)
        for e in events:
            assert f"\t{e.uuid}\t" in text, (dump, e.uuid)
