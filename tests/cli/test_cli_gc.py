"""``netsky gc``."""

from __future__ import annotations

import os
import select
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from netsky_core import Event, open_storage

from .conftest import NETSKY, SEED_EVENTS, Netsky, assert_one_line_error


def _fresh(url: str) -> None:
    """Seeded events are from 2026-03-01; add a session active an hour ago."""
    now = datetime.now(UTC)
    with open_storage(url) as store:
        store.insert(
            Event(
                machine_id="laptop",
                session_id="recent",
                event_type="Stop",
                timestamp=now - timedelta(hours=1),
                uuid="r1",
                source="hook",
            )
        )


def test_dry_run_then_delete(netsky: Netsky, seeded: str) -> None:
    _fresh(seeded)
    dry = netsky.ok("--db", seeded, "gc", "--retention", "1d", "--dry-run", "--json").json()
    assert dry["dry_run"] is True
    assert dry["expired_events"] == SEED_EVENTS
    assert dry["expired_sessions"] == 3
    assert dry["deleted_events"] == 0 and dry["deleted_sessions"] == 0
    assert dry["retention"] == "1d"
    cutoff = datetime.fromisoformat(dry["cutoff"])
    assert abs((datetime.now(UTC) - timedelta(days=1) - cutoff).total_seconds()) < 60
    assert netsky.ok("--db", seeded, "stats", "--json").json()["session_count"] == 4

    text = netsky.ok("--db", seeded, "gc", "--retention", "1d", "--dry-run").stdout
    assert "would be deleted" in text and "cutoff" in text

    done = netsky.ok("--db", seeded, "gc", "--retention", "1d", "--yes", "--json").json()
    assert done["dry_run"] is False
    assert done["deleted_events"] == SEED_EVENTS
    assert done["deleted_sessions"] == 3
    assert netsky.ok("--db", seeded, "stats", "--json").json()["session_count"] == 1
    status = netsky.ok("--db", seeded, "db", "status", "--json").json()
    assert status["tables"]["events"] == 1
    assert status["tables"]["positions"] == 2  # positions survive gc

    again = netsky.ok("--db", seeded, "gc", "--retention", "1d", "--yes")
    assert "0 deleted" in again.stdout


def test_needs_yes_when_not_on_a_terminal(netsky: Netsky, seeded_sqlite: str) -> None:
    result = netsky("--db", seeded_sqlite, "gc", "--retention", "1d")
    assert_one_line_error(result, 2, "--yes")
    assert netsky.ok("--db", seeded_sqlite, "stats", "--json").json()["session_count"] == 3


def test_retention_from_the_config_file(netsky: Netsky, seeded_sqlite: str, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[storage]\nretention = "2w"\n')
    data = netsky.ok(
        "--config", str(config), "--db", seeded_sqlite, "gc", "--dry-run", "--json"
    ).json()
    assert data["retention"] == "2w"
    assert data["expired_events"] == SEED_EVENTS
    # the flag wins over the file; the global options also work after the sub-command
    data = netsky.ok(
        "gc",
        "--dry-run",
        "--json",
        "--retention",
        "36500d",
        "--config",
        str(config),
        "--db",
        seeded_sqlite,
    ).json()
    assert data["expired_events"] == 0
    config.write_text('[storage]\nretention = "1mo"\n')
    result = netsky("--config", str(config), "--db", seeded_sqlite, "gc", "--dry-run")
    assert_one_line_error(result, 1, "retention", "config.toml")


def test_no_retention_anywhere_is_a_usage_error(netsky: Netsky, sqlite_url: str) -> None:
    result = netsky("--db", sqlite_url, "gc", "--dry-run")
    assert_one_line_error(result, 2, "no retention", "hint:", "--retention 30d")


@pytest.mark.parametrize("value", ["0d", "-5d", "30", "1mo", "abc", "", "1y", "5d5d", "1.5d"])
def test_nonsense_retention_is_refused(netsky: Netsky, seeded_sqlite: str, value: str) -> None:
    result = netsky("--db", seeded_sqlite, "gc", f"--retention={value}", "--yes")
    assert_one_line_error(result, 2, "retention")
    assert "hint:" in result.stderr
    assert (
        netsky.ok("--db", seeded_sqlite, "db", "status", "--json").json()["tables"]["events"]
        == SEED_EVENTS
    )


@pytest.mark.parametrize(("answer", "deleted"), [("n\n", False), ("y\n", True)])
def test_on_a_terminal_gc_asks_first(
    netsky: Netsky, seeded_sqlite: str, answer: str, deleted: bool
) -> None:
    import pty

    controller, terminal = pty.openpty()
    try:
        proc = subprocess.Popen(
            [str(NETSKY), "--db", seeded_sqlite, "gc", "--retention", "1d"],
            cwd=netsky.root,
            env=netsky.env,
            stdin=terminal,
            stderr=terminal,
            stdout=subprocess.PIPE,
            text=True,
        )
        os.close(terminal)
        prompt = b""
        deadline = time.monotonic() + 60
        while b"[y/N]" not in prompt:
            assert time.monotonic() < deadline, prompt
            if select.select([controller], [], [], 0.5)[0]:
                prompt += os.read(controller, 1024)
        assert b"delete 13 events and 3 sessions older than" in prompt
        os.write(controller, answer.encode())
        stdout, _ = proc.communicate(timeout=60)
    finally:
        os.close(controller)
    assert proc.returncode == (0 if deleted else 1)
    events = netsky.ok("--db", seeded_sqlite, "db", "status", "--json").json()["tables"]["events"]
    assert events == (0 if deleted else SEED_EVENTS)
    if deleted:
        assert "13 deleted" in stdout
