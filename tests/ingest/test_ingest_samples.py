"""Ingest of the real sample files: totals equal ccusage 20.0.24 token for token."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from netsky_core import EventQuery, SessionQuery, open_storage
from netsky_core.ingest.scan import discover, ingest
from tests.ccusage import run_ccusage

from .conftest import isolated_env, run_netsky, samples_or_skip

# ccusage 20.0.24, `daily --json --offline` with TZ=UTC on ../shared/samples:
# (framework, day) -> (input, output, cache_creation, cache_read, total, cost)
CCUSAGE_DAILY = {
    ("claude", "2025-10-10"): (34, 424, 25250, 34474, 60182, 0.1114917),
    ("claude", "2026-02-10"): (1657, 1818, 71658, 622375, 697508, 0.9288493),
    ("codex", "2026-01-25"): (3097, 300, 0, 44160, 47557, 0.01734775),
}
# and per model on 2026-02-10 (`--breakdown`): model -> (input, output, cache_creation, cache_read, cost)
CCUSAGE_MODELS_2026_02_10 = {
    "claude-opus-4-6": (1633, 1811, 57373, 527032, 0.8906860000000001),
    "claude-haiku-4-5-20251001": (24, 7, 14285, 95343, 0.0381633),
}


def sample_env() -> dict[str, str]:
    root = samples_or_skip()
    return {"CLAUDE_CONFIG_DIR": str(root / "claude"), "CODEX_HOME": str(root / "codex")}


def daily(store) -> dict[tuple[str, str], list]:
    days: dict[tuple[str, str], list] = defaultdict(lambda: [0, 0, 0, 0, 0, 0.0])
    for e in store.query(EventQuery().api_requests_only()):
        row = days[(e.framework, e.timestamp.date().isoformat())]
        parts = (
            e.tokens_input or 0,
            e.tokens_output or 0,
            e.tokens_cache_write or 0,
            e.tokens_cache_read or 0,
        )
        for i, v in enumerate(parts):
            row[i] += v
        row[4] += sum(parts)
        row[5] += e.cost_usd or 0.0
    return days


def test_daily_totals_equal_ccusage(tmp_path: Path) -> None:
    with open_storage(f"sqlite:///{tmp_path}/s.db") as store:
        summary = ingest(store, discover(environ=sample_env()), machine_id="m")
        assert summary.malformed_lines == 0 and summary.unknown_models == {}
        days = daily(store)
        assert set(days) == set(CCUSAGE_DAILY)
        for key, expected in CCUSAGE_DAILY.items():
            got = days[key]
            assert got[:5] == list(expected[:5]), key
            assert got[5] == pytest.approx(expected[5], abs=0.01)
            assert got[5] == pytest.approx(expected[5], rel=1e-12)


def test_the_reference_figures_are_what_ccusage_prints(tmp_path: Path) -> None:
    """The figures above, and netsky's `report daily`, against ccusage run now (its
    `daily` covers every agent it reads: Claude and Codex here)."""
    env = sample_env()
    expected: dict[str, list[int]] = defaultdict(lambda: [0] * 5)
    for (_framework, date), figures in CCUSAGE_DAILY.items():
        expected[date] = [a + b for a, b in zip(expected[date], figures[:5])]
    live = {
        day.get("date") or day["period"]: [
            day["inputTokens"],
            day["outputTokens"],
            day["cacheCreationTokens"],
            day["cacheReadTokens"],
            day["totalTokens"],
        ]
        for day in run_ccusage(["daily"], tmp_path / "home", **env)["daily"]
    }
    assert live == expected
    n = isolated_env(tmp_path / "n", **env)
    assert run_netsky(["ingest"], n).returncode == 0
    report = json.loads(run_netsky(["report", "daily", "--json", "--timezone", "UTC"], n).stdout)
    ours = {day["date"]: day["total_tokens"] for day in report["daily"]}
    assert ours == {date: figures[4] for date, figures in live.items()}


def test_per_model_totals_equal_ccusage(tmp_path: Path) -> None:
    with open_storage(f"sqlite:///{tmp_path}/s.db") as store:
        ingest(store, discover("claude", environ=sample_env()), machine_id="m")
        models: dict[str, list] = defaultdict(lambda: [0, 0, 0, 0, 0.0])
        for e in store.query(EventQuery().api_requests_only()):
            if e.timestamp.date().isoformat() == "2026-02-10":
                row = models[e.model or ""]
                for i, v in enumerate(
                    (e.tokens_input, e.tokens_output, e.tokens_cache_write, e.tokens_cache_read)
                ):
                    row[i] += v or 0
                row[4] += e.cost_usd or 0.0
        assert set(models) == set(CCUSAGE_MODELS_2026_02_10)
        for model, expected in CCUSAGE_MODELS_2026_02_10.items():
            assert models[model][:4] == list(expected[:4]), model
            assert models[model][4] == pytest.approx(expected[4], rel=1e-12)


def test_codex_sample_is_47557_tokens_even_when_archived_twice(tmp_path: Path) -> None:
    codex = tmp_path / "codex"
    rollout = next((samples_or_skip() / "codex").rglob("rollout-*.jsonl"))
    for sub in ("sessions/2026/01/25", "archived_sessions"):
        (codex / sub).mkdir(parents=True)
        (codex / sub / rollout.name).write_bytes(rollout.read_bytes())
    with open_storage(f"sqlite:///{tmp_path}/s.db") as store:
        summary = ingest(
            store, discover("codex", environ={"CODEX_HOME": str(codex)}), machine_id="m"
        )
        assert summary.files_read == 2
        stats = store.storage_stats(__import__("netsky_core").StorageStatsQuery())
        assert stats.total_tokens == 47557
        assert stats.total_cost_usd == pytest.approx(0.01734775, rel=1e-12)
        (session,) = store.list_sessions(SessionQuery())
        assert session.session_id == "019bf4b5-e7b0-75a0-8bf2-05fbf1b13c9b"
        assert (session.model, session.framework, session.api_request_count) == (
            "gpt-5.2-codex",
            "codex",
            5,
        )


def test_sessions_summaries_of_the_samples(tmp_path: Path) -> None:
    with open_storage(f"sqlite:///{tmp_path}/s.db") as store:
        ingest(store, discover(environ=sample_env()), machine_id="m")
        sessions = {s.session_id: s for s in store.list_sessions(SessionQuery())}
        assert len(sessions) == 6
        tiny = sessions["55604662-cf2a-4331-851a-ec234028f8ca"]
        assert tiny.api_request_count == 1 and tiny.tokens_output == 13
        assert tiny.first_user_message == "mix phx.server doesnt seem to start"
        assert tiny.git_branch == "master" and tiny.cwd == "/home/marco/projects/spotter"
        assert tiny.status is None  # transcripts are history, not a live status
        compact = sessions["0e26ec2f-937e-482c-b889-bc126f996913"]
        assert compact.compaction_count == 1
        subagent = sessions["491e126e-1e71-469c-ade2-fcc8af567c74"]
        assert subagent.model == "claude-opus-4-6"
        assert subagent.tool_call_count > 0
        totals = sum(s.total_tokens or 0 for s in sessions.values())
        assert totals == 60182 + 697508 + 47557


def test_cli_ingest_then_nothing_new(tmp_path: Path) -> None:
    env = isolated_env(tmp_path, **sample_env())
    first = run_netsky(["ingest", "--json"], env)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["files_found"] == 6 and summary["files_read"] == 6
    assert summary["inserted"] > 100 and summary["malformed_lines"] == 0
    second = json.loads(run_netsky(["ingest", "--json"], env).stdout)
    assert (
        second["files_unchanged"],
        second["files_read"],
        second["inserted"],
        second["bytes_read"],
    ) == (6, 0, 0, 0)
    only_codex = json.loads(run_netsky(["ingest", "codex", "--json"], env).stdout)
    assert only_codex["files_found"] == 1
    human = run_netsky(["ingest"], env)
    assert b"unchanged" in human.stdout
