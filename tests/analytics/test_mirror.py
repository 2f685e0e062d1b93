"""The analytics mirror: queries read the events from a DuckDB copy that is kept equal
to the store through inserts, supersession, billing, repricing, gc and restore."""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsky_core import Event, EventSource, EventType, open_storage
from netsky_core.analytics import lock_down, mirror_status, open_analytics, run_query
from netsky_core.analytics._mirror import Mirror, mirror_for
from tests.netsky_cli import Netsky

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EVENTS_SQL = "SELECT * FROM events ORDER BY id"
USAGE_SQL = (
    "SELECT session_id, event_type, count(*), sum(tokens_input), round(sum(cost_usd), 9) "
    "FROM events GROUP BY ALL ORDER BY ALL"
)
VIEWS_SQL = "SELECT count(*), round(sum(cost_usd), 9) FROM api_requests"


def _event(session: int, n: int, minute: int, *, hook: bool, cost: float | None) -> Event:
    """An API response: ``n`` names the response (shared across sessions: billed once),
    ``hook`` picks the lesser source (a transcript version supersedes it)."""
    return Event(
        machine_id="m",
        session_id=f"s{session}",
        event_type=EventType.API_REQUEST,
        timestamp=T0 + timedelta(minutes=minute),
        uuid=f"api:msg{n}:req{n}",
        framework="claude",
        source=EventSource.HOOK if hook else EventSource.TRANSCRIPT,
        model="claude-sonnet-4-5-20250929",
        tokens_input=10 + n,
        tokens_output=None if hook else 20 + n,
        cost_usd=cost,
        payload=f'{{"n": {n}, "hook": {str(hook).lower()}}}',
    )


def _prompt(session: int, n: int, minute: int) -> Event:
    return Event(
        machine_id="m",
        session_id=f"s{session}",
        event_type=EventType.USER_PROMPT_SUBMIT,
        timestamp=T0 + timedelta(minutes=minute),
        uuid=f"prompt-{session}-{n}",
        framework="claude",
        source=EventSource.HOOK,
        payload=f'{{"prompt": "p{n}"}}',
    )


inserts = st.lists(
    st.one_of(
        st.builds(
            _event,
            st.integers(0, 2),
            st.integers(0, 8),
            st.integers(0, 600),
            hook=st.booleans(),
            cost=st.one_of(st.none(), st.sampled_from([0.25, 0.5, 1.0])),
        ),
        st.builds(_prompt, st.integers(0, 2), st.integers(0, 5), st.integers(0, 600)),
    ),
    min_size=1,
    max_size=8,
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), inserts),
        st.tuples(st.just("reprice"), st.sampled_from([0.5, 2.0, 3.0])),
        st.tuples(st.just("gc"), st.integers(0, 600)),
        st.tuples(st.just("restore"), st.integers(1, 120)),
    ),
    min_size=1,
    max_size=6,
)


def _apply(store: Any, op: tuple[str, Any]) -> None:
    kind, arg = op
    if kind == "insert":
        store.insert_many(arg)
    elif kind == "reprice":
        store.recost(lambda e: None if e.tokens_input is None else e.tokens_input * arg / 100)
    elif kind == "gc":
        store.gc(timedelta(days=1), now=T0 + timedelta(days=1, minutes=arg))
    else:  # restore the summaries, as an import does, with an earlier first activity
        from netsky_core import SessionQuery

        sessions = store.list_sessions(SessionQuery())
        earlier = [
            attrs.evolve(s, first_activity=s.first_activity - timedelta(minutes=arg))
            if s.first_activity is not None
            else s
            for s in sessions
        ]
        store.restore_sessions(earlier)


def _answers(store: Any, mirror: Any) -> tuple[list[Any], str]:
    con = open_analytics(store, ["events", "api_requests"], mirror=mirror)
    try:
        rows = [run_query(con, sql).rows() for sql in (EVENTS_SQL, USAGE_SQL, VIEWS_SQL)]
        methods = run_query(
            con, "SELECT method FROM netsky_raw.loads WHERE table_name = 'events'"
        ).rows()
    finally:
        con.close()
    return rows, methods[0][0] if methods else ""


def _check_equal_through(store: Any, ops: list[tuple[str, Any]], mirror: Any) -> set[str]:
    seen = set()
    for op in ops:
        _apply(store, op)
        mirrored, method = _answers(store, mirror)
        direct, direct_method = _answers(store, False)
        assert method.startswith("mirror:"), method
        assert not direct_method.startswith("mirror:")
        assert mirrored == direct, (op, method)
        seen.add(method)
    return seen


_PROPERTY = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@_PROPERTY
@given(ops=operations)
def test_sqlite_mirror_equals_the_direct_load(ops: list[tuple[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp, open_storage(f"sqlite:///{tmp}/s.db") as store:
        _check_equal_through(store, ops, True)
        assert (Path(tmp) / "s.db.mirror.duckdb").exists()


@_PROPERTY
@given(ops=operations)
def test_memory_mirror_equals_the_direct_load(ops: list[tuple[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp, open_storage("memory://") as store:
        _check_equal_through(store, ops, Path(tmp) / "m.duckdb")


def test_each_way_of_refreshing_is_taken(tmp_path: Path) -> None:
    with open_storage(f"sqlite:///{tmp_path / 's.db'}") as store:
        ops: list[tuple[str, Any]] = [
            ("insert", [_event(0, 1, 10, hook=True, cost=0.5)]),
            ("insert", [_prompt(0, 1, 11)]),
            ("insert", [_event(0, 1, 10, hook=False, cost=0.5)]),  # supersedes
            ("reprice", 2.0),
            ("insert", [_event(1, 1, 12, hook=False, cost=0.5)]),  # billed once: flips
            ("gc", 11),
        ]
        seen = _check_equal_through(store, ops, True)
        assert _answers(store, True)[1] == "mirror:fresh"
    assert {"mirror:rebuilt", "mirror:appended", "mirror:resynced"} <= seen


def test_gc_drops_the_deleted_rows_without_loading_the_others_again(tmp_path: Path) -> None:
    with open_storage(f"sqlite:///{tmp_path / 's.db'}") as store:
        store.insert_many([_event(i % 3, i, i % 600, hook=False, cost=0.5) for i in range(900)])
        mirror = mirror_for(store)
        assert mirror is not None
        assert mirror.refresh(store).action == "rebuilt"
        result = store.gc(timedelta(days=1), now=T0 + timedelta(days=1, minutes=300))
        assert result.deleted_events == 600
        store.insert_many([_event(0, 1000, 700, hook=False, cost=0.5)])
        done = mirror.refresh(store)
        assert (done.action, done.added, done.rows) == ("resynced", 1, 301)
        assert _answers(store, True)[0] == _answers(store, False)[0]


def test_postgres_mirror_equals_the_direct_load(postgres_url: Any, tmp_path: Path) -> None:
    with open_storage(postgres_url()) as store:
        ops: list[tuple[str, Any]] = [
            ("insert", [_event(0, 1, 10, hook=True, cost=0.5), _prompt(0, 1, 11)]),
            ("insert", [_event(1, 2, 12, hook=False, cost=None)]),
            ("insert", [_event(0, 1, 10, hook=False, cost=0.5)]),
            ("reprice", 3.0),
            ("insert", [_event(2, 1, 13, hook=False, cost=1.0), _prompt(1, 2, 30)]),
            ("gc", 11),
            ("restore", 30),
        ]
        seen = _check_equal_through(store, ops, tmp_path / "pg.duckdb")
    assert {"mirror:rebuilt", "mirror:appended", "mirror:resynced"} <= seen


# -- the file --------------------------------------------------------------------------------


def _store(tmp_path: Path, n: int = 5) -> str:
    url = f"sqlite:///{tmp_path / 's.db'}"
    with open_storage(url) as store:
        store.insert_many([_event(0, i, i, hook=False, cost=0.5) for i in range(n)])
    return url


def _count(url: str) -> tuple[int, str]:
    con = open_analytics(url, ["events"])
    try:
        (n,) = run_query(con, "SELECT count(*) FROM events").rows()[0]
        method = run_query(con, "SELECT method FROM netsky_raw.loads").rows()[0][0]
    finally:
        con.close()
    return n, method


def test_files_are_private(tmp_path: Path) -> None:
    _count(_store(tmp_path))
    for name in ("s.db.mirror.duckdb", "s.db.mirror.duckdb.seal", "s.db.mirror.duckdb.lock"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


@pytest.mark.parametrize("damage", ["truncate", "garbage", "same-size-garbage", "no-seal"])
def test_a_damaged_mirror_is_rebuilt_not_trusted(tmp_path: Path, damage: str) -> None:
    url = _store(tmp_path, 50)
    assert _count(url) == (50, "mirror:rebuilt")
    assert _count(url) == (50, "mirror:fresh")
    file = tmp_path / "s.db.mirror.duckdb"
    data = file.read_bytes()
    st_before = file.stat()
    if damage == "truncate":
        file.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        file.write_bytes(b"not a database at all")
    elif damage == "same-size-garbage":
        file.write_bytes(bytes(len(data)))
        os.utime(file, ns=(st_before.st_atime_ns, st_before.st_mtime_ns))
    else:
        (tmp_path / "s.db.mirror.duckdb.seal").unlink()
    assert _count(url) == (50, "mirror:rebuilt")
    assert _count(url) == (50, "mirror:fresh")


def test_an_unusable_place_falls_back_with_one_line(tmp_path: Path, capfd: Any) -> None:
    url = _store(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    con = open_analytics(url, ["events"], mirror=blocker / "m.duckdb")
    try:
        assert run_query(con, "SELECT count(*) FROM events").rows() == [(5,)]
        assert run_query(con, "SELECT method FROM netsky_raw.loads").rows()[0][0] != "mirror"
    finally:
        con.close()
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and "analytics mirror" in err and "not used" in err


def test_turned_off_by_the_environment(tmp_path: Path, monkeypatch: Any) -> None:
    url = _store(tmp_path)
    monkeypatch.setenv("NETSKY_MIRROR", "0")
    assert _count(url)[1].startswith("native:")
    assert not (tmp_path / "s.db.mirror.duckdb").exists()


def test_the_mirror_cannot_be_written_through_sql(tmp_path: Path) -> None:
    url = _store(tmp_path)
    con = open_analytics(url, ["events"])
    try:
        lock_down(con)
        for sql in (
            "INSERT INTO netsky_mirror.netsky_raw.events (id) VALUES (99)",
            "DELETE FROM netsky_mirror.netsky_raw.events",
            "DROP TABLE netsky_mirror.netsky_raw.events",
            f"ATTACH '{tmp_path / 'other.duckdb'}' AS other",
            "COPY netsky_mirror.netsky_raw.events TO 'out.csv'",
        ):
            with pytest.raises(Exception):  # noqa: B017 - DuckDB's error classes vary
                con.execute(sql)
        assert run_query(con, "SELECT count(*) FROM events").rows() == [(5,)]
    finally:
        con.close()
    assert not (tmp_path / "other.duckdb").exists()
    assert _count(url) == (5, "mirror:fresh")


def test_status_of_a_store_that_keeps_none() -> None:
    with open_storage("memory://") as store:
        assert mirror_for(store) is None
        assert mirror_status(store).state == "unsupported"


# -- the command line --------------------------------------------------------------------------


@pytest.fixture
def netsky(tmp_path: Path) -> Netsky:
    return Netsky(tmp_path)


def test_db_mirror_status_and_rebuild(netsky: Netsky, tmp_path: Path) -> None:
    url = _store(tmp_path, 7)
    status = netsky.ok("--db", url, "db", "mirror", "status", "--json").json()
    assert status["state"] == "missing" and status["store_rows"] == 7
    assert status["path"] == str(tmp_path / "s.db.mirror.duckdb")
    netsky.ok("--db", url, "query", "SELECT count(*) FROM events")
    status = netsky.ok("--db", url, "db", "mirror", "status", "--json").json()
    assert (status["state"], status["rows"], status["max_id"]) == ("fresh", 7, 7)
    with open_storage(url) as store:
        store.insert_many([_prompt(0, 1, 5)])
    status = netsky.ok("--db", url, "db", "mirror", "status", "--json").json()
    assert (status["state"], status["reason"]) == ("stale", "new events")
    text = netsky.ok("--db", url, "db", "mirror", "status").stdout
    assert "stale (new events)" in text
    rebuilt = netsky.ok("--db", url, "db", "mirror", "rebuild", "--json").json()
    assert rebuilt["rows"] == 8
    done = netsky.ok("--db", url, "db", "mirror", "rebuild")
    assert "rebuilt" in done.stdout and "building the analytics mirror" in done.stderr
    assert netsky.ok("--db", url, "db", "mirror", "status", "--json").json()["state"] == "fresh"


def test_config_turns_it_off(netsky: Netsky, tmp_path: Path) -> None:
    url = _store(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text("[analytics]\nmirror = false\n")
    out = netsky.ok("--config", str(config), "--db", url, "query", "SELECT count(*) FROM events")
    assert "5" in out.stdout
    assert not (tmp_path / "s.db.mirror.duckdb").exists()
    status = netsky.ok("--config", str(config), "--db", url, "db", "mirror", "status", "--json")
    assert status.json()["enabled"] is False


def test_sql_through_the_cli_cannot_detach_or_write_it(netsky: Netsky, tmp_path: Path) -> None:
    url = _store(tmp_path)
    for sql in (
        "DETACH netsky_mirror",
        "INSERT INTO netsky_mirror.netsky_raw.events (id) VALUES (99)",
        f"ATTACH '{tmp_path / 'x.duckdb'}' AS x",
    ):
        result = netsky("--db", url, "query", sql)
        assert result.returncode != 0 and "Traceback" not in result.stderr, result
    assert not (tmp_path / "x.duckdb").exists()
    out = netsky.ok("--db", url, "query", "SELECT count(*) AS n FROM events", "--json").json()
    assert out == [{"n": 5}]


def test_concurrent_queries_refresh_safely(netsky: Netsky, tmp_path: Path) -> None:
    url = _store(tmp_path, 200)
    sql = "SELECT count(*), sum(tokens_input) FROM events"
    for round_ in range(2):
        with open_storage(url) as store:  # stale for everyone at once
            store.insert_many(
                [_prompt(1, i, 300 + i) for i in range(20 * round_, 20 * round_ + 20)]
            )
        procs = [netsky.popen("--db", url, "query", sql, "--format", "csv") for _ in range(4)]
        outs = [p.communicate(timeout=120) for p in procs]
        assert all(p.returncode == 0 for p in procs), outs
        assert len({out for out, _err in outs}) == 1, outs
        expected = f"{200 + 20 * (round_ + 1)}"
        assert outs[0][0].splitlines()[1].startswith(expected + ","), outs
    assert Mirror(tmp_path / "s.db.mirror.duckdb").state() is not None
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith((".tmp", ".staging"))]
    assert leftovers == []


def test_a_reader_never_blocks_a_refresh_for_ever(tmp_path: Path) -> None:
    """A refresh while another process reads the mirror waits a little, then the query
    reads the store directly, correct all the same."""
    url = _store(tmp_path, 3)
    _count(url)
    holder = subprocess.Popen(
        [
            str(Path(os.sys.executable)),
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); "
            "print('ready', flush=True); time.sleep(30)",
            str(tmp_path / "s.db.mirror.duckdb"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with open_storage(url) as store:
            store.insert_many([_prompt(0, 9, 50)])
        assert _count(url)[0] == 4
    finally:
        holder.kill()
        holder.wait()
    assert _count(url) == (4, "mirror:appended")


def test_a_log_that_no_longer_reaches_back_means_a_rebuild(tmp_path: Path) -> None:
    from netsky_core.storage._write import REWRITE_LOG

    with open_storage(f"sqlite:///{tmp_path / 's.db'}") as store:
        _apply(store, ("insert", [_event(0, i, i, hook=False, cost=0.5) for i in range(4)]))
        assert _answers(store, True)[1] == "mirror:rebuilt"
        _apply(store, ("reprice", 2.0))
        assert _answers(store, True)[1] == "mirror:resynced"
        for i in range(REWRITE_LOG + 1):  # more rewriting transactions than the log keeps
            _apply(store, ("reprice", 2.0 if i % 2 else 3.0))
        mirrored, method = _answers(store, True)
        assert method == "mirror:rebuilt"
        assert mirrored == _answers(store, False)[0]
