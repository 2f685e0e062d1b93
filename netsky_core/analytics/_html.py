"""A report as one self-contained HTML page: tables rendered here, charts drawn as
inline SVG by a small inline script from the data embedded in the page. No network:
no CDN, no fonts, no images. ``body[data-rendered=true]`` marks a page whose charts
were drawn (tests read it from a headless browser's DOM).
"""

from __future__ import annotations

import html
import os
from datetime import UTC, datetime
from typing import Any

import orjson

from .._display import money, short_id, short_model
from .results import Report

__all__ = ["render_html"]

_TOKEN_HEADERS = (
    ("input_tokens", "input"),
    ("output_tokens", "output"),
    ("cache_creation_tokens", "cache write"),
    ("cache_read_tokens", "cache read"),
    ("total_tokens", "total"),
)

_CSS = """
:root { --fg:#1d2330; --muted:#667085; --line:#e4e7ec; --bg:#fff; --card:#f8f9fb; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
       background: var(--bg); margin: 0 auto; padding: 24px; max-width: 1600px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 8px; }
.sub { color: var(--muted); margin-bottom: 16px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
        padding: 10px 14px; min-width: 160px; }
.card .v { font-size: 20px; font-weight: 600; }
.card .k { color: var(--muted); font-size: 12px; }
.note { background: #fff8e6; border: 1px solid #f5d68a; border-radius: 6px; padding: 8px 12px;
        margin-top: 12px; }
.charts { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; }
.chart, .panel { border: 1px solid var(--line); border-radius: 8px; padding: 10px;
        min-width: 0; }
.chart { min-height: 120px; }
.chart svg { display: block; width: 100%; }
.chart h3 { font-size: 13px; margin: 0 0 6px; color: var(--muted); font-weight: 600; }
.wide { grid-column: 1 / -1; }
svg text { font: 11px system-ui, sans-serif; fill: var(--fg); }
svg .axis { stroke: var(--line); }
.legend { display: flex; flex-wrap: wrap; gap: 10px; margin-top: 4px; font-size: 12px; }
.legend span::before { content: ""; display: inline-block; width: 10px; height: 10px;
        margin-right: 4px; background: var(--c); border-radius: 2px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left;
         vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.k { white-space: nowrap; }
td.w { overflow-wrap: anywhere; min-width: 8em; }
tr.breakdown td { color: var(--muted); font-size: 12px; }
tr.total td { font-weight: 600; border-top: 2px solid var(--fg); }
#errors { color: #b42318; white-space: pre-wrap; }
.table { overflow-x: auto; }
@media (max-width: 800px) { .charts { grid-template-columns: minmax(0, 1fr); }
  body { padding: 12px; } .card { min-width: 0; flex: 1 1 140px; } }
"""

_JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("netsky-data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  var PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948",
                 "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
  var colors = {};
  data.models.forEach(function (m, i) { colors[m.model] = PALETTE[i % PALETTE.length]; });

  function money(v) {
    if (v === null || v === undefined) return "unknown";
    if (v > 0 && v < 0.005) return "<$0.01";
    return "$" + v.toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
  }
  function label(model) { return (data.labels && data.labels[model]) || model; }
  function compact(v) {
    var units = [[1e9, "G"], [1e6, "M"], [1e3, "k"]];
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(v) >= units[i][0]) return (v / units[i][0]).toFixed(1) + units[i][1];
    }
    return String(v);
  }
  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }
  function text(parent, x, y, value, anchor) {
    var t = el("text", {x: x, y: y, "text-anchor": anchor || "start"}, parent);
    t.textContent = value;
    return t;
  }
  function legend(container, names) {
    var box = document.createElement("div");
    box.className = "legend";
    names.forEach(function (n) {
      var s = document.createElement("span");
      s.style.setProperty("--c", colors[n] || "#999");
      s.textContent = label(n);
      s.title = n;
      box.appendChild(s);
    });
    container.appendChild(box);
  }
  // the width a chart may use: its card's content box
  function room(container) {
    var cs = getComputedStyle(container);
    var w = container.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    return Math.max(160, Math.floor(w || 520));
  }
  function clear(container) {
    Array.prototype.slice.call(container.children).forEach(function (c) {
      if (c.tagName.toLowerCase() !== "h3") container.removeChild(c);
    });
  }
  // show labels in priority order, hiding one that would touch a label already shown
  function place(nodes, kept) {
    nodes.forEach(function (n) {
      var b = n.getBBox(), x0 = b.x - 3, x1 = b.x + b.width + 3;
      var clash = kept.some(function (k) {
        return x0 < k.x + k.width && k.x < x1 && b.y < k.y + k.height && k.y < b.y + b.height;
      });
      if (clash) n.setAttribute("display", "none");
      else kept.push(b);
    });
  }
  // shorten a label until it fits ``width`` pixels
  function fit(node, width) {
    var full = node.textContent, n = full.length;
    while (n > 1 && node.getComputedTextLength() > width) {
      n -= 1;
      node.textContent = full.slice(0, n) + "\u2026";
    }
    if (n < full.length) el("title", {}, node).textContent = full;
  }

  // stacked vertical bars: one bar per day, one segment per model
  function stacked(container, metric, format) {
    clear(container);
    var days = [], byDay = {};
    data.days.forEach(function (r) {
      if (!(r.date in byDay)) { byDay[r.date] = []; days.push(r.date); }
      byDay[r.date].push(r);
    });
    var totals = days.map(function (d) {
      return byDay[d].reduce(function (s, r) { return s + (r[metric] || 0); }, 0);
    });
    var max = Math.max.apply(null, totals.concat([0])) || 1;
    var W = room(container), H = 240, top = 20, bottom = 40, left = 54;
    var bw = (W - left - 10) / Math.max(days.length, 1);
    var years = days.length > 0 && days[0].slice(0, 4) !== days[days.length - 1].slice(0, 4);
    var svg = el("svg", {width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img",
                         "data-chart": metric}, container);
    el("line", {x1: left, y1: H - bottom, x2: W - 5, y2: H - bottom, "class": "axis"}, svg);
    var axis = text(svg, left - 4, top + 4, format(max), "end");
    var ticks = [], firsts = [], labels = [];
    days.forEach(function (d, i) {
      var y = H - bottom, x = left + i * bw + bw * 0.15, w = bw * 0.7;
      byDay[d].forEach(function (r) {
        var v = r[metric] || 0, h = (H - bottom - top) * v / max;
        y -= h;
        var rect = el("rect", {x: x, y: y, width: w, height: Math.max(h, 0),
                               fill: colors[r.model] || "#999", "data-date": d,
                               "data-model": r.model, "data-value": v}, svg);
        var tip = el("title", {}, rect);
        tip.textContent = d + " " + label(r.model) + ": " + format(r[metric]);
      });
      var total = text(svg, x + w / 2, y - 4, format(totals[i]), "middle");
      total.setAttribute("class", "total");
      total.setAttribute("data-date", d);
      labels.push(total);
      // a day is MM-DD; the first day and the first day of a year carry the year
      // when the days span years
      var newYear = i === 0 || d.slice(0, 4) !== days[i - 1].slice(0, 4);
      var tick = text(svg, x + w / 2, H - bottom + 14, years && newYear ? d : d.slice(5),
                      "middle");
      tick.setAttribute("class", "tick");
      tick.setAttribute("data-date", d);
      (years && newYear ? firsts : ticks).push(tick);
    });
    var kept = [axis.getBBox()];
    place(firsts, kept);
    place(ticks, kept);
    place(labels, kept);
    legend(container, Object.keys(colors).filter(function (m) {
      return data.days.some(function (r) { return r.model === m; });
    }));
  }

  // horizontal bars with a label and a value
  function bars(container, items, format, name) {
    clear(container);
    var max = Math.max.apply(null, items.map(function (i) { return i.value || 0; }).concat([0])) || 1;
    var row = 22, W = room(container), left = Math.min(200, Math.round(W * 0.38));
    var H = Math.max(items.length * row + 10, 30), span = Math.max(W - left - 86, 10);
    var svg = el("svg", {width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img",
                         "data-chart": name}, container);
    items.forEach(function (item, i) {
      var y = 5 + i * row, w = span * (item.value || 0) / max;
      fit(text(svg, left - 6, y + 14, item.label, "end"), left - 10);
      var rect = el("rect", {x: left, y: y + 3, width: Math.max(w, 1), height: row - 6,
                             fill: item.color || "#4e79a7", "data-label": item.label,
                             "data-value": item.value === null ? "" : item.value}, svg);
      el("title", {}, rect).textContent = item.label + ": " + format(item.value);
      text(svg, left + w + 6, y + 14, format(item.value)).setAttribute("class", "value");
    });
  }

  function draw() {
    stacked(document.getElementById("chart-cost-day"), "cost_usd", money);
    stacked(document.getElementById("chart-tokens-day"), "total_tokens", compact);
    bars(document.getElementById("chart-cost-model"), data.models.map(function (m) {
      return {label: label(m.model), value: m.cost_usd, color: colors[m.model]};
    }), money, "cost-model");
    bars(document.getElementById("chart-tokens-model"), data.models.map(function (m) {
      return {label: label(m.model), value: m.total_tokens, color: colors[m.model]};
    }), compact, "tokens-model");
    var sessions = document.getElementById("chart-sessions");
    if (sessions) {
      bars(sessions, data.sessions.map(function (s) {
        var name = (s.project || "?").split("/").filter(Boolean).pop() || s.project || "?";
        return {label: name + " " + s.session_id.slice(0, 8), value: s.cost_usd};
      }), money, "sessions");
    }
    document.body.setAttribute("data-rendered", "true");
  }
  var pending = null;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(function () { try { draw(); } catch (e) { /* keep the last */ } }, 150);
  });

  try { draw(); } catch (e) {
    document.getElementById("errors").textContent = "chart error: " + e;
    document.body.setAttribute("data-rendered", "error");
  }
})();
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _money(value: float | None, partial: bool = False) -> str:
    return money(value) + ("*" if partial and value is not None else "")


def _key_headers(report: Report) -> list[str]:
    return {
        "daily": ["date"],
        "weekly": ["week of"],
        "monthly": ["month"],
        "model": ["model"],
        "project": ["project"],
        "session": ["session", "project", "last activity (UTC)"],
        "blocks": ["block start (UTC)", "end", "status"],
    }[report.kind]


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _key_cells(report: Report, values: dict[str, Any]) -> list[str]:
    """The key cells of a row, as HTML (``<td>`` elements)."""
    kind = report.kind
    if kind in ("daily", "weekly", "monthly"):
        return [_td(values[report.key_fields[0]], "k")]
    if kind == "model":
        return [_td(short_model(values["model"]), "k", title=values["model"])]
    if kind == "project":
        return [_td(values["project"] or "(unknown)", "w")]
    if kind == "session":
        sid = values["session_id"]
        return [
            _td(short_id(sid), "k", title=sid),
            _td(values["project"] or "-", "w"),
            _td(_utc(values["last_activity"]), "k"),
        ]
    return [
        _td(_utc(values["start"]), "k"),
        _td(values["end"].astimezone(UTC).strftime("%H:%M"), "k"),
        _td("ACTIVE" if values["is_active"] else "", "k"),
    ]


def _td(value: Any, cls: str, *, title: str | None = None) -> str:
    tip = f' title="{_e(title)}"' if title and title != value else ""
    return f'<td class="{cls}"{tip}>{_e(value)}</td>'


def _models(names: Any) -> str:
    full = ", ".join(str(m) for m in names if m)
    return _td(", ".join(short_model(m) for m in names), "w", title=full)


def _table(report: Report) -> str:
    keys = _key_headers(report)
    head = "".join(f"<th>{_e(k)}</th>" for k in keys) + "<th>models</th>"
    head += "".join(f'<th class="n">{_e(h)}</th>' for _, h in _TOKEN_HEADERS)
    head += '<th class="n">cost</th>'
    body = []
    for row in report.rows:
        values = row.values
        partial = 0 < row.unpriced_requests < row.requests
        cells = "".join(_key_cells(report, values))
        cells += _models(values["models"])
        cells += "".join(f'<td class="n">{values[f]:,}</td>' for f, _ in _TOKEN_HEADERS)
        cells += f'<td class="n">{_e(_money(values["cost_usd"], partial))}</td>'
        body.append(f"<tr>{cells}</tr>")
        for item in row.breakdown:
            sub = "<td></td>" * len(keys) + _models([item["model"]])
            sub += "".join(f'<td class="n">{item[f]:,}</td>' for f, _ in _TOKEN_HEADERS)
            sub += f'<td class="n">{_e(_money(item["cost_usd"]))}</td>'
            body.append(f'<tr class="breakdown">{sub}</tr>')
    totals = report.totals
    partial = 0 < report.unpriced_requests < report.requests
    cells = "<td>total</td>" + "<td></td>" * (len(keys) - 1)
    cells += f'<td class="k">{report.requests:,} requests</td>'
    cells += "".join(f'<td class="n">{totals[f]:,}</td>' for f, _ in _TOKEN_HEADERS)
    cells += f'<td class="n">{_e(_money(totals["cost_usd"], partial))}</td>'
    body.append(f'<tr class="total">{cells}</tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _agents_table(agents: list[dict[str, Any]]) -> str:
    """Usage per agent (framework): every source in the period, one row each."""
    head = '<th>agent</th><th class="n">requests</th>'
    head += "".join(f'<th class="n">{_e(h)}</th>' for _, h in _TOKEN_HEADERS)
    head += '<th class="n">cost</th>'
    body = []
    for row in agents:
        partial = 0 < row["unpriced_requests"] < row["requests"]
        cells = f'<td>{_e(row["framework"])}</td><td class="n">{row["requests"]:,}</td>'
        cells += "".join(f'<td class="n">{row[f]:,}</td>' for f, _ in _TOKEN_HEADERS)
        cells += f'<td class="n">{_e(_money(row["cost_usd"], partial))}</td>'
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _json_script(value: Any) -> str:
    text = orjson.dumps(value).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_html(report: Report, board: dict[str, Any], *, title: str | None = None) -> str:
    """The page for ``report`` with the charts of ``board`` (``reports.dashboard``)."""
    title = title or f"netsky {report.kind} usage report"
    period = (
        " to ".join(d.isoformat() for d in (report.since, report.until) if d is not None)
        or "all stored usage"
    )
    scope = f"{period}; days in {report.timezone}"
    if report.framework:
        scope += f"; {report.framework} only"
    totals = report.totals
    partial = 0 < report.unpriced_requests < report.requests
    cards = [
        ("cost", _money(totals["cost_usd"], partial)),
        ("total tokens", f"{totals['total_tokens']:,}"),
        ("API requests", f"{report.requests:,}"),
        ("models", f"{len(board['models'])}"),
        ("agents", f"{len(board.get('agents') or ())}"),
    ]
    card_html = "".join(
        f'<div class="card"><div class="v" data-card="{_e(k)}">{_e(v)}</div>'
        f'<div class="k">{_e(k)}</div></div>'
        for k, v in cards
    )
    note = ""
    if report.unpriced_requests:
        note = (
            f'<div class="note">{report.unpriced_requests:,} of {report.requests:,} requests '
            f"have no known price (models: {_e(', '.join(report.unpriced_models))}): their cost "
            "is unknown and not included. A cost marked * is partial; 'unknown' means nothing "
            "in that row is priced.</div>"
        )
    sessions = ""
    if board.get("sessions"):
        sessions = '<div class="chart wide" id="chart-sessions"><h3>top sessions by cost</h3></div>'
    generated = _generated_at().strftime("%Y-%m-%d %H:%M UTC")
    labels = {m["model"]: short_model(m["model"]) for m in board.get("models", ()) if m["model"]}
    embedded = {**board, "labels": labels}
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{_e(title)}</h1>
<div class="sub">{_e(scope)} &middot; generated {_e(generated)}</div>
<div class="cards">{card_html}</div>
{note}
<noscript><p>Charts need JavaScript; the tables below hold every number.</p></noscript>
<div id="errors"></div>
<h2>charts</h2>
<div class="charts">
<div class="chart wide" id="chart-cost-day"><h3>cost per day (by model)</h3></div>
<div class="chart wide" id="chart-tokens-day"><h3>tokens per day (by model)</h3></div>
<div class="chart" id="chart-cost-model"><h3>cost per model</h3></div>
<div class="chart" id="chart-tokens-model"><h3>tokens per model</h3></div>
{sessions}
</div>
<h2>by agent</h2>
<div class="panel"><div class="table" id="agents">{_agents_table(board.get("agents") or [])}</div></div>
<h2>{_e(report.kind)} report</h2>
<div class="panel"><div class="table">{_table(report)}</div></div>
<script type="application/json" id="netsky-data">{_json_script(embedded)}</script>
<script>{_JS}</script>
</body>
</html>
"""


def _generated_at() -> datetime:
    """Now, or ``SOURCE_DATE_EPOCH`` when set (reproducible pages: the same data makes
    the same bytes)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC)
