"""``netsky doctor``: transcripts at risk from Claude Code's cleanup, and the
SessionStart option that reads them in the background."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from netsky_core import open_storage
from tests.netsky_cli import Netsky

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "samples" / "claude" / "projects"


def transcript(samples: Path) -> Path:
    found = sorted(samples.glob("*/*.jsonl")) if samples.is_dir() else []
    if not found:
        pytest.skip(f"no Claude transcripts under {samples}")
    return found[0]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    claude = tmp_path / "claude"
    target = claude / "projects" / "-tmp-project"
    target.mkdir(parents=True)
    copy = target / "session.jsonl"
    shutil.copyfile(transcript(SAMPLES), copy)
    old = time.time() - 26 * 86400  # due for deletion in 4 days by the default 30
    os.utime(copy, (old, old))
    return tmp_path


def make(home: Path) -> Netsky:
    return Netsky(
        home,
        extra_env={
            "CLAUDE_CONFIG_DIR": str(home / "claude"),
            "CODEX_HOME": str(home / "codex"),
            "NETSKY_DATABASE_URL": f"sqlite:///{home / 'n.db'}",
        },
    )


def checks(result: object) -> dict[str, dict[str, object]]:
    return {c["name"]: c for c in json.loads(result.stdout)["checks"]}  # type: ignore[attr-defined]


def test_an_unread_transcript_due_for_deletion_is_a_problem_until_ingested(home: Path) -> None:
    netsky = make(home)
    with open_storage(f"sqlite:///{home / 'n.db'}"):
        pass  # an empty store
    r = netsky("doctor", "--json")
    assert r.returncode == 1, r
    claude = checks(r)["claude retention"]
    assert claude["level"] == "problem"
    assert claude["cleanup_period_days"] == 30.0
    [risk] = claude["at_risk"]  # type: ignore[misc]
    assert risk["state"] == "not read" and 3.5 < risk["deleted_in_days"] < 4.5
    text = netsky("doctor")
    assert text.returncode == 1 and "PROBLEM" in text.stdout and "netsky ingest" in text.stdout
    netsky.ok("ingest")
    r = netsky.ok("doctor", "--json")
    assert checks(r)["claude retention"]["level"] == "ok"
    assert checks(r)["claude retention"]["at_risk"][0]["state"] == "read"  # type: ignore[index]


def test_cleanup_period_days_comes_from_claude_settings(home: Path) -> None:
    netsky = make(home)
    (home / "claude" / "settings.json").write_text(json.dumps({"cleanupPeriodDays": 90}))
    with open_storage(f"sqlite:///{home / 'n.db'}"):
        pass
    r = netsky.ok("doctor", "--json")
    claude = checks(r)["claude retention"]
    assert claude["cleanup_period_days"] == 90 and claude["at_risk"] == []
    assert checks(r)["hooks"]["level"] == "warn"  # no netsky hook installed


def test_a_missing_store_is_a_problem(home: Path) -> None:
    r = make(home)("doctor")
    assert r.returncode == 1 and "PROBLEM  store" in r.stdout, r


def test_session_start_reads_pending_history_in_the_background(home: Path) -> None:
    netsky = make(home)
    config = home / "c.toml"
    config.write_text("[hooks]\ningest_pending_on_start = true\n")
    payload = {"session_id": "s-new", "hook_event_name": "SessionStart", "source": "startup"}
    netsky.ok(
        "hook",
        "--config",
        str(config),
        input=json.dumps(payload),
        env={"NETSKY_HOOK_FOREGROUND": "1"},
    )
    r = netsky.ok("doctor", "--config", str(config), "--json")
    assert checks(r)["claude retention"]["at_risk"][0]["state"] == "read"  # type: ignore[index]
