"""The HTML report's layout, measured in real headless Chromium at a desktop width
(1400 px) and a phone width (390 px): charts fill their card, nothing sticks out of a
card, no two labels of a chart overlap, tables fit or scroll inside their card, and
the year is shown when the days span two years.

The page is loaded in an ``iframe`` of the exact width (headless Chromium will not open
a window narrower than 500 px); a probe script inside the page measures element boxes
(``getBoundingClientRect``) and writes them as JSON into the DOM, which Chromium dumps.
"""

from __future__ import annotations

import html
import re
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from netsky_core import open_storage
from netsky_core.analytics import render_html
from netsky_core.analytics.reports import build_report, dashboard, load_usage
from tests.history import generate

from . import ingest_tree
from .test_analytics_html import _chromium, _run_chromium

PROBE = r"""
(function () {
  function box(e) { return e.getBoundingClientRect(); }
  function shown(e) {
    for (var p = e; p && p.getAttribute; p = p.parentNode) {
      if (p.getAttribute("display") === "none") return false;
    }
    var r = box(e);
    return r.width > 0 && r.height > 0;
  }
  function scroller(e, card) {
    for (var p = e.parentElement; p && p !== card; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") return p;
    }
    return null;
  }
  var out = {width: window.innerWidth, pageWidth: document.documentElement.scrollWidth,
             cards: 0, overflow: [], overlaps: [], charts: [], ticks: [], tables: []};
  document.querySelectorAll(".chart, .panel, .card").forEach(function (card) {
    out.cards += 1;
    var c = box(card);
    if (c.left < -0.5 || c.right > window.innerWidth + 0.5) {
      out.overflow.push({card: card.id || card.className, what: "the card itself",
                         left: c.left, right: c.right});
    }
    card.querySelectorAll("*").forEach(function (e) {
      if (!shown(e)) return;
      var outer = scroller(e, card) || e, r = box(outer);
      if (r.left < c.left - 0.5 || r.right > c.right + 0.5) {
        out.overflow.push({card: card.id || card.className,
                           what: outer.tagName + " " + (outer.textContent || "").slice(0, 40),
                           left: r.left, right: r.right, cardLeft: c.left, cardRight: c.right});
      }
    });
  });
  document.querySelectorAll(".chart").forEach(function (card) {
    var svg = card.querySelector("svg");
    if (!svg) return;
    var cs = getComputedStyle(card);
    var inner = box(card).width - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    out.charts.push({id: card.id, ratio: box(svg).width / inner});
    var texts = Array.prototype.filter.call(svg.querySelectorAll("text"), shown);
    texts.forEach(function (t) {
      if (t.getAttribute("class") === "tick") out.ticks.push([card.id, t.textContent]);
    });
    for (var i = 0; i < texts.length; i++) {
      for (var j = i + 1; j < texts.length; j++) {
        var a = box(texts[i]), b = box(texts[j]);
        if (a.left < b.right - 0.5 && b.left < a.right - 0.5 &&
            a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) {
          out.overlaps.push([card.id, texts[i].textContent, texts[j].textContent]);
        }
      }
    }
  });
  document.querySelectorAll("table").forEach(function (t) {
    var wrap = t.parentElement;
    out.tables.push({scrolls: wrap.scrollWidth > wrap.clientWidth + 1,
                     inCard: !!t.closest(".panel")});
  });
  var pre = document.createElement("pre");
  pre.id = "netsky-layout";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
"""

FRAME = """<!DOCTYPE html>
<html><head><meta charset="utf-8"></head>
<body style="margin:0">
<iframe id="page" style="border:0;width:{width}px;height:2400px" srcdoc="{page}"></iframe>
<pre id="copied"></pre>
<script>
document.getElementById("page").addEventListener("load", function () {{
  var found = this.contentDocument.getElementById("netsky-layout");
  document.getElementById("copied").textContent = found ? found.textContent : "no probe";
}});
</script>
</body></html>
"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A daily and a session report over 16 days across a new year."""
    root = tmp_path_factory.mktemp("layout")
    generate(root / "history", target_bytes=600_000, seed=5, start=date(2025, 12, 24), days=16)
    url = f"sqlite:///{root / 'store.db'}"
    with open_storage(url) as store:
        ingest_tree(store, root / "history")
    out = {}
    for kind in ("daily", "session"):
        with load_usage(url, timezone="UTC", kinds=(kind,), html=True) as data:
            report = build_report(data, kind, breakdown=True)
            board = dashboard(data)
        assert len({d["date"] for d in board["days"]}) >= 14
        target = root / f"{kind}.html"
        target.write_text(render_html(report, board), encoding="utf-8")
        out[kind] = target
    return out


def _measure(page: Path, width: int) -> dict[str, Any]:
    chromium = _chromium()
    text = page.read_text(encoding="utf-8").replace("</body>", f"<script>{PROBE}</script></body>")
    frame = page.with_name(f"{page.stem}-{width}.html")
    frame.write_text(
        FRAME.format(width=width, page=html.escape(text, quote=True)), encoding="utf-8"
    )
    proc = _run_chromium(chromium, frame, "--window-size=1500,2500", "--dump-dom")
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    found = re.search(r'<pre id="copied">(.*?)</pre>', proc.stdout.decode("utf-8"), re.S)
    assert found, proc.stdout[-3000:]
    return dict(orjson.loads(html.unescape(found.group(1))))


@pytest.mark.parametrize("width", [1400, 390])
@pytest.mark.parametrize("kind", ["daily", "session"])
def test_layout_fits_at_desktop_and_phone_width(
    pages: dict[str, Path], kind: str, width: int
) -> None:
    m = _measure(pages[kind], width)
    assert m["width"] == width, m["width"]
    assert m["cards"] >= 8
    assert m["pageWidth"] <= width, "the page scrolls sideways"
    assert m["overflow"] == [], m["overflow"][:5]
    assert m["overlaps"] == [], m["overlaps"][:5]
    for chart in m["charts"]:
        assert chart["ratio"] >= 0.9, chart  # the chart uses its card's width
    assert m["tables"] and all(t["inCard"] for t in m["tables"]), m["tables"]
    if width == 1400:
        assert not any(t["scrolls"] for t in m["tables"]), m["tables"]
    days = [t for chart, t in m["ticks"] if chart == "chart-cost-day"]
    assert len(days) >= 3, days
    assert any("2025" in t for t in days) and any("2026" in t for t in days), days
