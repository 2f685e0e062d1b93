"""Reports from usage buckets equal the reports computed from every request."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from netsky_core import open_storage
from netsky_core.analytics.rollup import ROLLUP_KINDS, local_timezone, rollup_report
from netsky_core.analytics.usage_report import usage_report
from netsky_core.ingest.scan import discover, ingest
from tests.history import generate


@pytest.fixture(autouse=True, scope="module")
def _load_from_the_store() -> Any:
    """These tests compare the ways of loading a store: without the analytics mirror."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NETSKY_MIRROR", "0")
        yield


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("rollup")
    generate(root / "history", target_bytes=3_000_000, seed=5, days=20)
    url = f"sqlite:///{root}/s.db"
    env = {
        "CLAUDE_CONFIG_DIR": str(root / "history" / "claude"),
        "CODEX_HOME": str(root / "history" / "codex"),
    }
    with open_storage(url) as store:
        ingest(store, discover(environ=env), machine_id="m")
    return url


CASES = [
    {"timezone": "UTC"},
    {"timezone": "America/New_York", "breakdown": True},
    {"timezone": "Asia/Kolkata"},
    {"timezone": "Asia/Kathmandu", "breakdown": True},
    {"timezone": "UTC", "framework": "codex"},
    {"timezone": "Europe/Berlin", "since": date(2026, 1, 10), "until": date(2026, 1, 20)},
    {"timezone": "UTC", "start_of_week": "sunday"},
]


@pytest.mark.parametrize("kind", sorted(ROLLUP_KINDS))
@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_bucket_reports_equal_request_reports(store_url: str, kind: str, case: dict) -> None:
    options = dict(case)
    if kind != "weekly":
        options.pop("start_of_week", None)
    with open_storage(store_url, read_only=True) as store:
        fast = rollup_report(kind, store, **options)
        slow = usage_report(kind, store, native=False, use_buckets=False, **options)
    assert fast.to_json() == slow.to_json()
    assert fast.rows and fast.requests == slow.requests


@pytest.mark.parametrize("kind", sorted(ROLLUP_KINDS))
@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_a_report_read_by_the_backends_reader_equals_one_read_through_the_store(
    store_url: str, kind: str, case: dict
) -> None:
    """Given a URL, the SQLite backend's own reader lists the buckets (no Store opened)."""
    options = dict(case)
    if kind != "weekly":
        options.pop("start_of_week", None)
    with open_storage(store_url, read_only=True) as store:
        through_store = rollup_report(kind, store, **options)
    assert rollup_report(kind, store_url, **options).to_json() == through_store.to_json()


def test_a_report_from_a_url_opens_no_store(store_url: str) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from netsky_core.analytics.usage_report import usage_report\n"
        f"usage_report('daily', {store_url!r}, timezone='UTC', use_buckets=True)\n"
        "print(sorted(m for m in ('apsw', 'netsky_core.storage.store', 'netsky_core._records',"
        " 'duckdb', 'pyarrow') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_local_timezone_is_an_iana_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    assert local_timezone() == "Asia/Tokyo"
    monkeypatch.setenv("TZ", "Not/AZone")
    assert local_timezone()  # falls back to /etc/localtime or UTC


def test_other_kinds_are_refused(store_url: str) -> None:
    with open_storage(store_url) as store, pytest.raises(Exception, match="needs the requests"):
        rollup_report("session", store)


def test_a_tiny_store(tmp_path: Path) -> None:
    with open_storage(f"sqlite:///{tmp_path}/e.db") as store:
        report = rollup_report("daily", store, timezone="UTC")
        assert report.to_json() == {"daily": [], "totals": {**report.to_json()["totals"]}}
        assert report.requests == 0 and report.totals["cost_usd"] is None
