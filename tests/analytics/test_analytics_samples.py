"""Reports on the real sample files equal ccusage 20.0.24's figures, and agree with
each other (daily = weekly = monthly = session = model = project = blocks totals)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from netsky_core import open_storage
from netsky_core.analytics import open_analytics, run_query
from netsky_core.analytics.reports import KINDS, build_report, load_usage
from netsky_core.analytics.usage_report import usage_report

from . import CCUSAGE_DAILY, Netsky, ingest_samples, native_sqlite, needs_samples, sample_environ

pytestmark = needs_samples


@pytest.fixture(autouse=True, scope="module")
def _load_from_the_store() -> Any:
    """These tests compare the ways of loading a store: without the analytics mirror."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NETSKY_MIRROR", "0")
        yield


TOTALS = {
    name: sum(day[name] for day in CCUSAGE_DAILY.values())
    for name in (
        "input_tokens",
        "output_tokens",
        "cache_creation_tokens",
        "cache_read_tokens",
        "total_tokens",
    )
}
TOTAL_COST = sum(day["cost_usd"] for day in CCUSAGE_DAILY.values())


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('samples') / 'samples.db'}"
    with open_storage(url) as store:
        summary = ingest_samples(store)
    assert summary.files_read == 6 and summary.files_failed == 0
    return url


def _assert_ccusage_daily(document: dict) -> None:
    assert set(document) == {"daily", "totals"}
    rows = document["daily"]
    assert [r["date"] for r in rows] == sorted(CCUSAGE_DAILY)
    for row in rows:
        assert list(row) == [
            "date",
            "input_tokens",
            "output_tokens",
            "cache_creation_tokens",
            "cache_read_tokens",
            "total_tokens",
            "cost_usd",
            "models",
        ]
        want = CCUSAGE_DAILY[row["date"]]
        for name in TOTALS:
            assert row[name] == want[name], (row["date"], name)
        assert row["cost_usd"] == pytest.approx(want["cost_usd"], abs=0.01)
        assert row["cost_usd"] == pytest.approx(want["cost_usd"], rel=1e-9)
        assert row["models"] == want["models"]
    totals = document["totals"]
    for name, value in TOTALS.items():
        assert totals[name] == value
    assert totals["cost_usd"] == pytest.approx(TOTAL_COST, rel=1e-9)
    assert totals["unpriced_requests"] == 0


@pytest.mark.parametrize("native", [True, False], ids=["native", "generic"])
def test_daily_report_equals_ccusage(sample_db: str, native: bool) -> None:
    with native_sqlite():
        report = usage_report("daily", sample_db, timezone="UTC", native=native)
    _assert_ccusage_daily(report.to_json())


def test_daily_report_on_the_memory_backend_equals_ccusage() -> None:
    with open_storage("memory://") as store:
        ingest_samples(store)
        report = usage_report("daily", store, timezone="UTC")
    _assert_ccusage_daily(report.to_json())


def test_cli_report_daily_json_equals_ccusage(tmp_path: Path) -> None:
    netsky = Netsky(tmp_path)
    netsky.ok("ingest", env=sample_environ(tmp_path / "home"))
    run = netsky.ok("report", "daily", "--json", "--timezone", "UTC")
    _assert_ccusage_daily(run.json())
    # the same with the system zone set to UTC and no --timezone
    assert netsky.ok("report", "daily", "--json").json() == run.json()


def test_every_report_has_the_same_totals(sample_db: str) -> None:
    with native_sqlite(), load_usage(sample_db, timezone="UTC") as data:
        reports = {kind: build_report(data, kind) for kind in KINDS}
    for kind, report in reports.items():
        document = report.to_json()
        rows = document[report.list_key]
        for name, value in TOTALS.items():
            assert report.totals[name] == value, (kind, name)
            assert sum(r[name] for r in rows) == value, (kind, name)
        assert report.totals["cost_usd"] == pytest.approx(TOTAL_COST, rel=1e-12), kind
        assert sum(r["cost_usd"] for r in rows) == pytest.approx(TOTAL_COST, rel=1e-12), kind
        assert report.requests == 31


def test_session_and_monthly_reports(sample_db: str) -> None:
    with native_sqlite():
        sessions = usage_report("session", sample_db, timezone="UTC").to_json()
        monthly = usage_report("monthly", sample_db, timezone="UTC").to_json()
    assert len(sessions["sessions"]) == 6
    codex = [s for s in sessions["sessions"] if s["framework"] == "codex"]
    assert len(codex) == 1
    assert codex[0]["session_id"] == "019bf4b5-e7b0-75a0-8bf2-05fbf1b13c9b"
    assert codex[0]["total_tokens"] == 47557
    assert codex[0]["project"] == "/Users/philipp/dev/agentlogs/fixtures"
    assert [m["month"] for m in monthly["monthly"]] == ["2025-10", "2026-01", "2026-02"]
    february = monthly["monthly"][2]
    assert february["total_tokens"] == CCUSAGE_DAILY["2026-02-10"]["total_tokens"]
    assert sessions["totals"] == monthly["totals"]


def test_breakdown_rows_sum_to_their_day(sample_db: str) -> None:
    with native_sqlite():
        report = usage_report("daily", sample_db, timezone="UTC", breakdown=True)
    day = next(r for r in report.to_json()["daily"] if r["date"] == "2026-02-10")
    models = {b["model"]: b for b in day["breakdown"]}
    assert set(models) == {"claude-opus-4-6", "claude-haiku-4-5-20251001"}
    assert models["claude-opus-4-6"]["total_tokens"] == 587849
    assert models["claude-haiku-4-5-20251001"]["total_tokens"] == 109659
    assert sum(b["total_tokens"] for b in day["breakdown"]) == day["total_tokens"]
    assert sum(b["cost_usd"] for b in day["breakdown"]) == pytest.approx(day["cost_usd"])


def test_framework_filter_and_inclusive_days(sample_db: str) -> None:
    with native_sqlite():
        codex = usage_report("daily", sample_db, timezone="UTC", framework="codex").to_json()
        one_day = usage_report(
            "daily",
            sample_db,
            timezone="UTC",
            since=date(2026, 2, 10),
            until=date(2026, 2, 10),
        ).to_json()
    assert [r["date"] for r in codex["daily"]] == ["2026-01-25"]
    assert [r["date"] for r in one_day["daily"]] == ["2026-02-10"]
    assert one_day["totals"]["total_tokens"] == 697508


def test_days_follow_the_time_zone(sample_db: str) -> None:
    # 2026-02-10 21:11 .. 22:59 UTC is already 2026-02-11 in Tokyo (UTC+9)
    with native_sqlite():
        tokyo = usage_report("daily", sample_db, timezone="Asia/Tokyo").to_json()
    dates = [r["date"] for r in tokyo["daily"]]
    assert "2026-02-11" in dates and "2026-02-10" not in dates
    assert tokyo["totals"]["total_tokens"] == TOTALS["total_tokens"]


def test_views_on_the_samples(sample_db: str) -> None:
    with native_sqlite():
        con = open_analytics(sample_db, timezone="UTC")
    try:
        daily = run_query(
            con,
            "SELECT day, sum(total_tokens) AS t FROM daily_usage GROUP BY 1 ORDER BY 1",
        ).rows()
        assert [(d.isoformat(), t) for d, t in daily] == [
            (day, v["total_tokens"]) for day, v in sorted(CCUSAGE_DAILY.items())
        ]
        calls = run_query(
            con,
            "SELECT count(*), count(ended_at), count(*) FILTER (WHERE NOT success) FROM tool_calls",
        ).rows()[0]
        assert calls == (38, 38, 5)
        changes = run_query(
            con, "SELECT framework, tool_name, file_path, change FROM file_changes ORDER BY 1"
        ).rows()
        assert changes == [
            ("claude", "Write", "/home/marco/projects/spotter/plan.md", "write"),
            ("codex", "apply_patch", "/Users/philipp/dev/agentlogs/fixtures/JOKE.md", "update"),
        ]
        prompts = run_query(
            con, "SELECT count(*) FROM prompts WHERE prompt = 'how are you doing'"
        ).rows()
        assert prompts == [(1,)]
        sessions = run_query(con, "SELECT count(*), sum(total_tokens) FROM sessions").rows()
        assert sessions == [(6, TOTALS["total_tokens"])]
        loads = run_query(con, "SELECT table_name, method FROM netsky_raw.loads ORDER BY 1").rows()
        assert len(loads) == 3 and all(m.startswith("native:") for _, m in loads), loads
    finally:
        con.close()
