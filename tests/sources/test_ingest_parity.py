"""Every agent end to end: ``netsky ingest <agent>`` (a real subprocess, the agent's
variable pointing at the real samples, an empty HOME) into a real SQLite store, then
``netsky report daily --json`` and ``report session --json``, equal to what ccusage
20.0.24 reports for the same folder (``ccusage-outputs/``), per day and per session.

The rules where netsky differs on purpose (each proven from the files, see the
README's "Other agents" section and the source modules):

- **Qwen**: ``promptTokenCount`` already includes ``cachedContentTokenCount``; ccusage
  counts the cached tokens as input and again as cache read. netsky's input and total
  are ccusage's minus the cache-read tokens; everything else is equal.
- **Unpriced models**: a model ccusage cannot price costs $0 there (``unpricedModels``);
  here its cost is unknown (null): a row of only such models has cost null, a mixed
  row the cost of the priced models.
- **Hermes ``gemma-4-31b-it``**: ccusage prices it from a catalog that is not LiteLLM;
  netsky's LiteLLM table has no price, so it counts as unpriced (rule above).
- Copilot's cost (``totalNanoAiu`` x $0.01 per AIU) and Amp's (credits x $0.01) equal
  ccusage's numbers on these files to the last digit.

A second ``netsky ingest`` reads nothing (every file unchanged, no new event).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from tests.netsky_cli import Netsky

from ._helpers import ccusage, sample_root

VARIABLES = {
    "gemini": ("GEMINI_DATA_DIR", ("gemini",)),
    "opencode": ("OPENCODE_DATA_DIR", ("opencode",)),
    "copilot": ("COPILOT_HOME", ("copilot",)),
    "qwen": ("QWEN_DATA_DIR", ("qwen",)),
    "pi": ("PI_AGENT_DIR", ("pi", "sessions")),
    "kimi": ("KIMI_DATA_DIR", ("kimi",)),
    "amp": ("AMP_DATA_DIR", ("amp",)),
    "hermes": ("HERMES_HOME", ("hermes",)),
    "kilo": ("KILO_DATA_DIR", ("kilo",)),
    "goose": ("GOOSE_PATH_ROOT", ("goose",)),
    "openclaw": ("OPENCLAW_DIR", ("openclaw",)),
    "droid": ("DROID_SESSIONS_DIR", ("droid",)),
}
# ccusage's model label when it is not the model itself
LABEL = {"pi": "[pi] {}", "openclaw": "[openclaw] {}"}
# models netsky cannot price although ccusage does (a price outside LiteLLM)
NETSKY_UNPRICED = {"hermes": {"gemma-4-31b-it"}}
FIELDS = (
    ("input_tokens", "inputTokens"),
    ("output_tokens", "outputTokens"),
    ("cache_creation_tokens", "cacheCreationTokens"),
    ("cache_read_tokens", "cacheReadTokens"),
    ("total_tokens", "totalTokens"),
)


def _netsky(tmp_path: Path, agent: str) -> Netsky:
    variable, parts = VARIABLES[agent]
    root = sample_root(parts[0])
    root = sample_root(*parts) if len(parts) > 1 else root
    others = [v for v, _ in VARIABLES.values() if v != variable]
    return Netsky(
        tmp_path,
        drop=(*others, "CLAUDE_CONFIG_DIR", "CODEX_HOME"),
        extra_env={variable: str(root)},
        timeout=300,
    )


def _expected(agent: str, want: dict[str, Any]) -> dict[str, Any]:
    """ccusage's row as netsky reports it, with the documented rules applied."""
    out = {ours: want[theirs] for ours, theirs in FIELDS}
    if agent == "qwen":  # cached tokens counted once, not twice
        out["input_tokens"] -= want["cacheReadTokens"]
        out["total_tokens"] -= want["cacheReadTokens"]
    unpriced = set(ccusage(agent, "daily")["totals"].get("unpricedModels") or ())
    unpriced |= NETSKY_UNPRICED.get(agent, set())
    label = LABEL.get(agent, "{}")
    priced = [m for m in want["modelBreakdowns"] if m["modelName"] not in unpriced]
    out["cost_usd"] = sum(m["cost"] for m in priced) if priced else None
    out["models"] = sorted(want["modelsUsed"])
    out["_label"] = label
    return out


def _compare(agent: str, row: dict[str, Any], want: dict[str, Any], key: str) -> None:
    expected = _expected(agent, want)
    label = expected.pop("_label")
    for ours, _ in FIELDS:
        assert row[ours] == expected[ours], (agent, key, ours)
    assert sorted(label.format(m) for m in row["models"]) == expected["models"], (agent, key)
    if expected["cost_usd"] is None:
        assert row["cost_usd"] is None, (agent, key, row["cost_usd"])
    else:
        assert row["cost_usd"] is not None, (agent, key)
        assert math.isclose(row["cost_usd"], expected["cost_usd"], rel_tol=1e-9, abs_tol=1e-12), (
            agent,
            key,
            row["cost_usd"],
            expected["cost_usd"],
        )


@pytest.mark.parametrize("agent", sorted(VARIABLES))
def test_ingest_and_reports_equal_ccusage(tmp_path: Path, agent: str) -> None:
    netsky = _netsky(tmp_path, agent)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    first = netsky.ok("--db", db, "ingest", agent, "--json").json()
    assert first["sources"] == {agent: first["files_found"]} and first["files_found"] > 0
    assert first["errors"] == [] and first["files_failed"] == 0
    assert first["inserted"] > 0  # Goose and Droid too: their sessions and events count

    again = netsky.ok("--db", db, "ingest", agent, "--json").json()
    assert again["files_unchanged"] == again["files_found"] == first["files_found"]
    assert again["files_read"] == again["inserted"] == again["events"] == 0

    common = ("--db", db, "--json", "--timezone", "UTC", "--framework", agent)
    daily = netsky.ok("report", "daily", *common).json()["daily"]
    want_daily = ccusage(agent, "daily")["daily"]
    assert [r["date"] for r in daily] == sorted(r["date"] for r in want_daily)
    by_date = {r["date"]: r for r in daily}
    for want in want_daily:
        _compare(agent, by_date[want["date"]], want, want["date"])

    sessions = netsky.ok("report", "session", *common).json()["sessions"]
    want_sessions = ccusage(agent, "session")["sessions"]
    assert sorted(r["session_id"] for r in sessions) == sorted(
        r["sessionId"] for r in want_sessions
    )
    by_id = {r["session_id"]: r for r in sessions}
    for want in want_sessions:
        row = by_id[want["sessionId"]]
        _compare(agent, row, want, want["sessionId"])
        assert row["framework"] == agent
        for ours, theirs in (
            ("first_activity", "firstActivity"),
            ("last_activity", "lastActivity"),
        ):
            if theirs in want:  # the span of usage, to the millisecond
                assert row[ours][:23] == want[theirs][:23], (agent, want["sessionId"], ours)


def test_report_refuses_an_unknown_framework(tmp_path: Path) -> None:
    netsky = Netsky(tmp_path)
    result = netsky(
        "--db", f"sqlite:///{tmp_path / 's.db'}", "report", "daily", "--framework", "gemni"
    )
    assert result.returncode == 2, result
    assert "unknown framework 'gemni'" in result.stderr and "gemini" in result.stderr


def test_one_ingest_reads_every_agent_and_the_html_page_shows_each(tmp_path: Path) -> None:
    """``netsky ingest`` with no name reads every source whose variable points at the
    samples; the HTML page's agent table has one row per agent with usage, with the
    same totals as its own report."""
    env: dict[str, str] = {}
    for variable, parts in VARIABLES.values():
        sample_root(parts[0])
        env[variable] = str(sample_root(*parts))
    netsky = Netsky(tmp_path, drop=("CLAUDE_CONFIG_DIR", "CODEX_HOME"), extra_env=env, timeout=300)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    summary = netsky.ok("--db", db, "ingest", "--json").json()
    assert {k for k, v in summary["sources"].items() if v} == set(VARIABLES)
    page = tmp_path / "usage.html"
    netsky.ok("--db", db, "report", "daily", "--timezone", "UTC", "--html", str(page))
    html = page.read_text(encoding="utf-8")
    agents = html.split('id="agents">', 1)[1].split("</table>", 1)[0]
    with_usage = {a for a in VARIABLES if ccusage(a, "daily")["daily"]}
    for agent in with_usage:
        want = ccusage(agent, "daily")["totals"]["totalTokens"]
        if agent == "qwen":
            want -= ccusage(agent, "daily")["totals"]["cacheReadTokens"]
        assert f"<td>{agent}</td>" in agents and f"{want:,}" in agents, agent
    assert agents.count("<tr>") == 1 + len(with_usage)  # header + one row per agent
