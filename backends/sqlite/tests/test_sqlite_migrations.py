"""Schema versions: every kept fixture upgrades with its data; fresh files race safely."""

from __future__ import annotations

import multiprocessing
import shutil
import sys
from pathlib import Path

import attrs
import pytest
from netsky_sqlite import _schema

from netsky_core import EventQuery, SessionQuery, aggregate_events, open_storage

HERE = Path(__file__).parent
FIXTURES = sorted((HERE / "fixtures").glob("schema_v*.db"))
sys.path.insert(0, str(HERE / "fixtures"))
from make_fixtures import fixture_events  # noqa: E402


def test_there_is_a_fixture_for_every_released_version() -> None:
    versions = sorted(int(p.stem.removeprefix("schema_v")) for p in FIXTURES)
    assert versions == list(range(1, _schema.LATEST + 1))


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_fixture_upgrades_to_latest_with_all_data(fixture: Path, tmp_path: Path) -> None:
    db = tmp_path / fixture.name
    shutil.copy(fixture, db)
    with open_storage(f"sqlite:///{db}") as store:
        assert store.schema_version == _schema.LATEST
        assert store.engine.integrity_check() == ["ok"]
        stored = sorted(store.query(EventQuery()), key=lambda e: e.uuid or "")
        expected = sorted(fixture_events(), key=lambda e: e.uuid or "")
        assert [attrs.evolve(e, id=None) for e in stored] == expected
        sessions = {s.session_id: s for s in store.list_sessions(SessionQuery())}
        assert set(sessions) == {"fixture-0", "fixture-1", "fixture-2"}
        for sid, session in sessions.items():
            events = [e for e in expected if e.session_id == sid]
            reference = aggregate_events("fixture-machine", sid, events)
            git = {"github_repo", "github_pr"} if sid == "fixture-0" else set()
            for field in attrs.fields(type(session)):
                if field.name not in git:
                    assert getattr(session, field.name) == getattr(reference, field.name), (
                        field.name
                    )
        assert sessions["fixture-0"].github_repo == "owner/repo"
        from netsky_conformance.usage import expected_usage

        from netsky_core import UsageQuery

        assert store.usage(UsageQuery()) == expected_usage(store.query(EventQuery()))
        assert store.info().tables["usage"] > 0
        from netsky_conformance.projects import expected_project_usage

        projects = store.project_usage()
        assert projects == expected_project_usage(store.query(EventQuery())) and projects
        (position,) = store.query_transcript_positions()
        assert (position.offset, position.line_number, position.inode) == (4096, 60, 42)
        # the upgraded store keeps working
        from netsky_conformance.builders import ev

        store.insert(ev(session_id="fixture-0", machine_id="fixture-machine"))
        assert store.count() == len(expected) + 1


def _open_fresh(
    path: str, barrier: multiprocessing.synchronize.Barrier, results: multiprocessing.Queue
) -> None:
    try:
        barrier.wait(timeout=30)
        with open_storage(f"sqlite:///{path}") as store:
            results.put(("ok", store.schema_version))
    except BaseException as exc:  # report everything to the parent
        results.put(("error", f"{type(exc).__name__}: {exc}"))


def test_processes_opening_a_fresh_file_at_once_all_succeed(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    n = 6
    barrier = ctx.Barrier(n)
    results = ctx.Queue()
    db = tmp_path / "race.db"
    procs = [ctx.Process(target=_open_fresh, args=(str(db), barrier, results)) for _ in range(n)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in range(n)]
    for p in procs:
        p.join(timeout=60)
    assert outcomes == [("ok", _schema.LATEST)] * n
    with open_storage(f"sqlite:///{db}") as store:
        assert store.engine.integrity_check() == ["ok"]
        tables = store.engine._conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'"
        ).fetchone()[0]
        assert tables == 1


def test_migrate_on_a_current_store_changes_nothing(tmp_path: Path) -> None:
    with open_storage(f"sqlite:///{tmp_path}/s.db") as store:
        result = store.migrate()
        assert (result.from_version, result.to_version) == (_schema.LATEST, _schema.LATEST)
        assert not result.changed


def test_open_without_migrating_a_fresh_file(tmp_path: Path) -> None:
    db = tmp_path / "lazy.db"
    with open_storage(f"sqlite:///{db}", migrate=False) as store:
        assert store.schema_version == 0
        assert store.migrate().to_version == _schema.LATEST
        assert store.schema_version == _schema.LATEST
