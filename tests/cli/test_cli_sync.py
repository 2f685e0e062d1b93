"""``netsky sync`` and ``netsky sync status`` as a user runs them (real subprocesses)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from netsky_core import EventQuery, open_storage

from .conftest import SEED_EVENTS, Netsky, assert_one_line_error, make_event, seed


def _keys(url: str) -> list[tuple[str, ...]]:
    """Every stored event once per copy (keyless ones by type and time)."""
    with open_storage(url) as store:
        return sorted(
            (e.machine_id, e.session_id, e.uuid or "", e.event_type, e.timestamp.isoformat())
            for e in store.query(EventQuery())
        )


def test_sync_pushes_then_status_shows_no_lag(
    netsky: Netsky, seeded_sqlite: str, tmp_path: Path
) -> None:
    target = f"sqlite:///{tmp_path / 'shared.db'}"
    first = netsky.ok("--db", seeded_sqlite, "sync", "--to", target, "--json").json()
    assert first["events"]["inserted"] == SEED_EVENTS and first["behind"] == 0
    assert first["positions_restored"] == 2 and first["sessions_restored"] >= 1
    assert _keys(target) == _keys(seeded_sqlite)
    with open_storage(seeded_sqlite) as store:
        store.insert(make_event("Stop", 500, "s-new", "u-new"))
    (row,) = netsky.ok("--db", seeded_sqlite, "sync", "status", "--json").json()
    assert row["target"] == target and row["behind"] == 1 and row["events_sent"] == SEED_EVENTS
    text = netsky.ok("--db", seeded_sqlite, "sync", "status").stdout
    assert "1 events" in text and target in text
    again = netsky.ok("--db", seeded_sqlite, "sync", "--to", target, "--json").json()
    assert again["events"]["inserted"] == 1
    assert _keys(target) == _keys(seeded_sqlite)
    (row,) = netsky.ok("--db", seeded_sqlite, "sync", "status", "--json").json()
    assert row["behind"] == 0 and row["synced_at"] is not None


def test_the_target_comes_from_the_config_file(
    netsky: Netsky, seeded_sqlite: str, tmp_path: Path
) -> None:
    target = f"sqlite:///{tmp_path / 'shared.db'}"
    config = tmp_path / "config.toml"
    config.write_text(f'[sync]\nto = "{target}"\n')
    (row,) = netsky.ok(
        "--config", str(config), "--db", seeded_sqlite, "sync", "status", "--json"
    ).json()
    assert row["behind"] == SEED_EVENTS and row["synced_at"] is None
    text = netsky.ok("--config", str(config), "--db", seeded_sqlite, "sync").stdout
    assert f"{SEED_EVENTS} new" in text
    assert _keys(target) == _keys(seeded_sqlite)


def test_no_target_is_a_usage_error(netsky: Netsky, seeded_sqlite: str) -> None:
    assert_one_line_error(netsky("--db", seeded_sqlite, "sync"), 2, "no sync target", strict=True)


def test_an_unreachable_target_is_one_line_and_loses_nothing(
    netsky: Netsky, seeded_sqlite: str
) -> None:
    url = "postgresql://me:pw-not-shown@127.0.0.1:1/netsky?connect_timeout=2"
    result = netsky("--db", seeded_sqlite, "sync", "--to", url)
    assert_one_line_error(result, 1)
    assert "pw-not-shown" not in result.output
    (row,) = netsky.ok("--db", seeded_sqlite, "sync", "status", "--to", url, "--json").json()
    assert row["behind"] == SEED_EVENTS and row["events_sent"] == 0
    assert "pw-not-shown" not in row["target"]


def test_syncing_a_store_to_itself_is_refused(netsky: Netsky, seeded_sqlite: str) -> None:
    result = netsky("--db", seeded_sqlite, "sync", "--to", seeded_sqlite)
    assert_one_line_error(result, 2, "same store", strict=True)


def test_watch_keeps_syncing_until_stopped(
    netsky: Netsky, seeded_sqlite: str, tmp_path: Path
) -> None:
    target = f"sqlite:///{tmp_path / 'shared.db'}"
    proc = netsky.popen(
        "--db", seeded_sqlite, "sync", "--to", target, "--watch", "--interval", "1s", "--json"
    )
    try:
        deadline = time.monotonic() + 60
        while (
            time.monotonic() < deadline
            and len(_keys(target) if (tmp_path / "shared.db").exists() else []) < SEED_EVENTS
        ):
            time.sleep(0.2)
        with open_storage(seeded_sqlite) as store:
            store.insert(make_event("Stop", 600, "s-watch", "u-watch"))
        while time.monotonic() < deadline and not any(k[2] == "u-watch" for k in _keys(target)):
            time.sleep(0.2)
        assert _keys(target) == _keys(seeded_sqlite)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err
    rounds = [json.loads(line) for line in out.splitlines()]
    assert len(rounds) >= 2, out  # one compact JSON object per line, one line per round
    assert all(r["target"] == target for r in rounds)
    assert sum(r["events"]["inserted"] for r in rounds) == SEED_EVENTS + 1


def test_seed_is_unchanged_by_a_sync(netsky: Netsky, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'local.db'}"
    seed(url)
    before = _keys(url)
    netsky.ok("--db", url, "sync", "--to", f"sqlite:///{tmp_path / 'shared.db'}")
    assert _keys(url) == before


def test_a_second_sync_to_the_same_target_is_refused_while_one_runs(
    netsky: Netsky, seeded_sqlite: str, tmp_path: Path, monkeypatch
) -> None:
    from netsky_core.cli.commands.sync import _exclusive
    from netsky_core.sync import target_key

    target = f"sqlite:///{tmp_path / 'shared.db'}"
    monkeypatch.setenv("NETSKY_HOME", netsky.env["NETSKY_HOME"])
    with _exclusive(seeded_sqlite, target_key(target)):
        busy = netsky("--db", seeded_sqlite, "sync", "--to", target)
    assert_one_line_error(busy, 1, "another netsky sync")
    assert not (tmp_path / "shared.db").exists() or _keys(target) == []
    netsky.ok("--db", seeded_sqlite, "sync", "--to", target)
    assert _keys(target) == _keys(seeded_sqlite)


def test_watch_json_reports_a_failing_target_as_a_line_and_keeps_going(
    netsky: Netsky, seeded_sqlite: str, tmp_path: Path
) -> None:
    target = "postgresql://netsky:secret@127.0.0.1:1/none"
    proc = netsky.popen(
        "--db", seeded_sqlite, "sync", "--to", target, "--watch", "--interval", "1s", "--json"
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        second = proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    for line in (first, second):
        round_ = json.loads(line)
        assert round_["target"] == "postgresql://netsky:***@127.0.0.1:1/none"
        assert round_["error"]
        assert "secret" not in line
    assert "secret" not in err and "Traceback" not in err
