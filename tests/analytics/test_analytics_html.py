"""The HTML report renders in a real browser (headless Chromium): the charts are drawn
and show the report's numbers; the page needs no network.

Skipped when Chromium is not installed, unless ``NETSKY_REQUIRE_CHROMIUM=1``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from netsky_core import open_storage
from netsky_core.analytics import render_html
from netsky_core.analytics.reports import build_report, dashboard, load_usage
from tests.history import generate

from . import Netsky, ingest_tree

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def _chromium() -> str:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    reason = "headless Chromium is not installed (apt-get install chromium)"
    if os.environ.get("NETSKY_REQUIRE_CHROMIUM") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _run_chromium(chromium: str, page: Path, *extra: str) -> subprocess.CompletedProcess[bytes]:
    with tempfile.TemporaryDirectory(prefix="netsky-chromium-") as profile:
        return subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--window-size=1280,1600",
                *extra,
                page.resolve().as_uri(),
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )


class _Dom(HTMLParser):
    """The bits of the rendered DOM the test reads."""

    def __init__(self) -> None:
        super().__init__()
        self.body: dict[str, str | None] = {}
        self.rects: list[dict[str, str | None]] = []
        self.labels: list[tuple[dict[str, str | None], str]] = []
        self.charts: set[str] = set()
        self._text: dict[str, str | None] | None = None
        self.chart: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "body":
            self.body = a
        elif tag == "svg" and a.get("data-chart"):
            self.chart = str(a["data-chart"])
            self.charts.add(self.chart)
        elif tag == "rect":
            self.rects.append({**a, "chart": self.chart})
        elif tag == "text":
            self._text = a

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self.labels.append((self._text, data))
            self._text = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "text":
            self._text = None


def _money(value: float | None) -> str:
    """The page's cost format: two decimals, ``<$0.01`` for a cost that rounds to zero."""
    if value is None:
        return "unknown"
    if 0 < value < 0.005:
        return "<$0.01"
    return f"${value:,.2f}"


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, dict[str, Any]]:
    root = tmp_path_factory.mktemp("html")
    generate(root / "history", target_bytes=600_000, seed=21, days=6)
    url = f"sqlite:///{root / 'store.db'}"
    with open_storage(url) as store:
        ingest_tree(store, root / "history")
    with load_usage(url, timezone="UTC", kinds=("daily",), html=True) as data:
        report = build_report(data, "daily", breakdown=True)
        board = dashboard(data)
    target = root / "report.html"
    target.write_text(render_html(report, board), encoding="utf-8")
    return target, report, board


def test_source_date_epoch_makes_the_page_reproducible(
    page: tuple[Path, Any, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, report, board = page
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    first = render_html(report, board)
    assert "generated 2026-01-01 00:00 UTC" in first
    assert render_html(report, board) == first


def test_page_is_self_contained(page: tuple[Path, Any, dict[str, Any]]) -> None:
    text = page[0].read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "https://" not in text
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "<script src" not in text and "<link" not in text


def test_charts_render_in_headless_chromium(page: tuple[Path, Any, dict[str, Any]]) -> None:
    chromium = _chromium()
    path, report, board = page
    proc = _run_chromium(chromium, path, "--dump-dom")
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    dom = _Dom()
    dom.feed(proc.stdout.decode("utf-8"))
    assert dom.body.get("data-rendered") == "true", proc.stdout[:3000]
    assert {"cost_usd", "total_tokens", "cost-model", "tokens-model", "sessions"} <= dom.charts

    # one bar segment per (day, model), carrying its value
    segments = {
        (r["chart"], r.get("data-date"), r.get("data-model")): float(r.get("data-value") or 0)
        for r in dom.rects
        if r.get("data-date") and r.get("data-model")
    }
    assert len(segments) == 2 * len(board["days"])
    for item in board["days"]:
        key = (item["date"], item["model"])
        assert segments[("cost_usd", *key)] == pytest.approx(item["cost_usd"] or 0.0)
        assert segments[("total_tokens", *key)] == item["total_tokens"]

    # the label over each day's bar is the report's cost of that day
    totals = {
        a.get("data-date"): text
        for a, text in dom.labels
        if a.get("class") == "total" and text.startswith("$")
    }
    rows = report.to_json()["daily"]
    assert len(rows) >= 5
    for row in rows:
        assert totals[row["date"]] == _money(row["cost_usd"]), row["date"]

    # the per-model bars show each model's cost
    values = [text for a, text in dom.labels if a.get("class") == "value"]
    for model in board["models"]:
        assert _money(model["cost_usd"]) in values, model["model"]


def test_screenshot_and_cli_page(page: tuple[Path, Any, dict[str, Any]], tmp_path: Path) -> None:
    chromium = _chromium()
    shot = tmp_path / "report.png"
    proc = _run_chromium(chromium, page[0], f"--screenshot={shot}")
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000

    # the same page written by the command line, for another report kind
    netsky = Netsky(tmp_path)
    url = f"sqlite:///{page[0].parent / 'store.db'}"
    cli_page = tmp_path / "sessions.html"
    netsky.ok("--db", url, "report", "session", "--html", str(cli_page))
    proc = _run_chromium(chromium, cli_page, "--dump-dom")
    dom = _Dom()
    dom.feed(proc.stdout.decode("utf-8"))
    assert dom.body.get("data-rendered") == "true"
    assert "sessions" in dom.charts
