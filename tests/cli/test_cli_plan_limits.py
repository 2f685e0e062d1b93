"""Plan limits: Codex's ``rate_limits`` and the statusline's are kept as
``PlanLimits`` events and shown by ``netsky report blocks``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netsky_core import EventQuery, open_storage
from tests.cli.test_cli_statusline import api, payload
from tests.netsky_cli import Netsky

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "samples"


def limits_events(url: str) -> list[tuple[str, dict[str, object]]]:
    with open_storage(url) as store:
        found = store.query(EventQuery().with_event_type("PlanLimits"))
    return [(e.framework or "", json.loads(e.metadata or "{}")) for e in found]


def test_codex_rate_limits_are_kept_once_per_change(tmp_path: Path) -> None:
    if not (SAMPLES / "codex" / "sessions").is_dir():
        pytest.skip(f"no samples under {SAMPLES}")
    netsky = Netsky(
        tmp_path,
        extra_env={
            "CLAUDE_CONFIG_DIR": str(tmp_path / "none"),
            "CODEX_HOME": str(SAMPLES / "codex"),
        },
    )
    url = f"sqlite:///{tmp_path / 'n.db'}"
    netsky.ok("--db", url, "ingest")
    found = limits_events(url)
    # the rollout repeats every token_count line and has two distinct rate_limits
    assert [f for f, _ in found] == ["codex", "codex"]
    assert found[0][1]["windows"] == [
        {"window": "5h", "used_percent": 5.0, "resets_at": 1769354480},
        {"window": "7d", "used_percent": 20.0, "resets_at": 1769769918},
    ]
    report = netsky.ok("--db", url, "report", "blocks", "--json").json()
    assert report["plan_limits"]["codex"]["windows"][1]["used_percent"] == 20.0
    text = netsky.ok("--db", url, "report", "blocks").stdout
    assert "plan limits (codex, " in text and "5h 5%" in text and "7d 20%" in text


def test_the_statusline_keeps_claude_plan_limits_when_they_change(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    netsky = Netsky(tmp_path, extra_env={"NO_COLOR": "1", "NETSKY_HOOK_FOREGROUND": "1"})
    url = f"sqlite:///{tmp_path / 'n.db'}"
    with open_storage(url) as store:
        store.insert(api("s1", datetime.now(UTC), 0.1, "u1"))

    def line(five: float, seven: float) -> str:
        limits = {
            "five_hour": {"used_percentage": five, "resets_at": 1800000000},
            "seven_day": {"used_percentage": seven, "resets_at": 1800500000},
        }
        return netsky.ok("statusline", "--db", url, input=payload(rate_limits=limits)).stdout

    assert line(42, 12).rstrip().endswith("| 5h 42% 7d 12%")
    line(42, 12)  # unchanged: nothing new kept
    line(43, 12)
    found = limits_events(url)
    assert [f for f, _ in found] == ["claude", "claude"]
    assert [w["used_percent"] for w in found[0][1]["windows"]] == [43.0, 12.0]  # newest first
    report = netsky.ok("--db", url, "report", "blocks", "--json").json()
    assert report["plan_limits"]["claude"]["windows"][0] == {
        "window": "5h",
        "used_percent": 43.0,
        "resets_at": 1800000000,
    }
