"""How tables read: one display rule per value (model, prompt, id, count, cost) in every
table; boxed, coloured tables on a terminal that fit its width; plain, stable text in
a pipe; no colour under ``NO_COLOR``."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netsky_core import EventType, GitContext, open_storage
from netsky_core._display import count, money, prompt_text, request_cost, short_model

from .conftest import NETSKY, Netsky, at, make_api, make_event

L1 = "cccc1111-1111-4111-8111-111111111111"  # sonnet, /model, $0.04, big counts
L2 = "dddd2222-2222-4222-8222-222222222222"  # haiku, /review 12, $0.0084
L3 = "eeee3333-3333-4333-8333-333333333333"  # codex, a prompt, no API request
SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"
MODEL_PROMPT = (
    "<command-message>model</command-message>\n<command-name>/model</command-name>\n"
    "<command-args></command-args>"
)
REVIEW_PROMPT = (
    "<command-name>/review</command-name>\n            <command-message>review</command-message>\n"
    "            <command-args>12</command-args>"
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
COLOUR = re.compile(r"\x1b\[[0-9;]*(?:3[0-9]|9[0-7]|38;)[0-9;]*m")


def seed_looks(url: str) -> None:
    c = {"framework": "claude", "cwd": "/home/me/projects/widgets", "git_branch": "main"}
    events = [
        make_event(EventType.SESSION_START, 0, L1, "l1-start", pid=777, **c),
        make_event(
            EventType.USER_PROMPT_SUBMIT, 1, L1, "l1-p1", payload={"prompt": MODEL_PROMPT}, **c
        ),
        make_event(
            EventType.USER_PROMPT_SUBMIT,
            2,
            L1,
            "l1-p2",
            payload={"prompt": "make the widget list sortable by price"},
            **c,
        ),
        make_event(EventType.PRE_TOOL_USE, 3, L1, "l1-t1", tool_name="Edit", tool_use_id="e1", **c),
        make_event(
            EventType.POST_TOOL_USE, 4, L1, "l1-t2", tool_name="Edit", tool_use_id="e1", **c
        ),
        make_api(5, L1, "l1-a1", 0.04, model=SONNET, **c),
        make_event(EventType.STOP, 6, L1, "l1-stop", **c),
        make_event(
            EventType.USER_PROMPT_SUBMIT, 60, L2, "l2-p1", payload={"prompt": REVIEW_PROMPT}, **c
        ),
        make_api(65, L2, "l2-a1", 0.0084, model=HAIKU, **c),
        make_event(
            EventType.USER_PROMPT_SUBMIT,
            120,
            L3,
            "l3-p1",
            payload={"prompt": "hello"},
            framework="codex",
        ),
    ]
    with open_storage(url) as store:
        store.insert_many(events)
        store.upsert_session_git_context(
            "laptop",
            L1,
            GitContext(github_repo="octo/widgets", git_branch="main", github_pr=7),
            at=at(2),
        )


@pytest.fixture
def looks(sqlite_url: str) -> str:
    seed_looks(sqlite_url)
    return sqlite_url


# -- the rules -----------------------------------------------------------------------------


def test_display_rules() -> None:
    assert short_model(SONNET) == "sonnet-4-5"
    assert short_model("claude-opus-4-6") == "opus-4-6"
    assert short_model("gpt-5.2-codex") == "gpt-5.2-codex"
    assert short_model(None) == "(no model)"
    assert prompt_text(MODEL_PROMPT) == "/model"
    assert prompt_text(REVIEW_PROMPT) == "/review 12"
    assert prompt_text("fix  the\nflaky test") == "fix the flaky test"
    assert prompt_text("compare <b>x</b> and y") == "compare x and y"
    assert prompt_text("a < b and b > c") == "a < b and b > c"
    assert count(1234567) == "1,234,567" and count(None) == "-"
    assert money(0.04) == "$0.04" and money(0.0084) == "$0.01" and money(0.0021) == "<$0.01"
    assert money(1234.5) == "$1,234.50" and money(0.0) == "$0.00" and money(None) == "unknown"
    assert request_cost(None, 0) == "-" and request_cost(None, 3) == "unknown"


@given(st.one_of(st.none(), st.floats(min_value=0, max_value=1e7, allow_nan=False)))
def test_one_cost_format(value: float | None) -> None:
    """Every cost has the same shape: two decimals, ``<$0.01`` or ``unknown``."""
    text = money(value)
    assert re.fullmatch(r"\$\d{1,3}(,\d{3})*\.\d\d|<\$0\.01|unknown", text), text
    if value is not None and value > 0:
        assert text != "$0.00"


# -- pipes: plain text, the same rules ------------------------------------------------------


def test_sessions_show_short_models_and_commands(netsky: Netsky, looks: str) -> None:
    out = netsky.ok("--db", looks, "sessions").stdout
    assert "\x1b[" not in out
    row = next(line for line in out.splitlines() if line.startswith(L1[:8]))
    assert "sonnet-4-5" in row and "claude-sonnet" not in row
    assert "/model" in row and "<command" not in out
    review = next(line for line in out.splitlines() if line.startswith(L2[:8]))
    assert "haiku-4-5" in review and "/review 12" in review


def test_report_session_fits_and_costs_have_one_format(netsky: Netsky, looks: str) -> None:
    out = netsky.ok("--db", looks, "report", "session").stdout
    lines = out.splitlines()
    assert L1 not in out and L1[:8] in out
    table = [line for line in lines if not line.startswith(("note", "("))]
    assert max(len(line) for line in table) <= 120, out
    costs = [line.split()[-1] for line in table[2:] if line.strip()]
    assert costs, out
    for text in costs:
        assert re.fullmatch(r"\$\d+\.\d\d\*?|<\$0\.01|unknown", text), (text, out)
    assert "$0.0084" not in out and "$0.01" in out


def test_report_model_aligns_numbers_right(netsky: Netsky, looks: str) -> None:
    out = netsky.ok("--db", looks, "report", "model").stdout
    lines = out.splitlines()
    header, rule = lines[0], lines[1]
    start = header.index("requests")
    end = start + len("requests")
    assert rule[start:end].strip("-") == ""
    for line in lines[2:]:
        if line.startswith(("sonnet", "haiku")):
            cell = line[start:end]
            assert cell.endswith("1") and cell.strip() == "1", (line, header)
    assert "sonnet-4-5" in out and SONNET not in out


def test_stats_and_sessions_agree_on_nothing_to_price(netsky: Netsky, looks: str) -> None:
    row = next(
        line
        for line in netsky.ok("--db", looks, "sessions").stdout.splitlines()
        if line.startswith(L3[:8])
    )
    stats = netsky.ok("--db", looks, "stats", "--framework", "codex").stdout
    cost_line = next(line for line in stats.splitlines() if line.startswith("total cost"))
    assert " - " in f" {row} " and cost_line.split()[-1] == "-", (row, stats)
    assert "unknown" not in stats


# -- a terminal: boxes, colour, width --------------------------------------------------------


def _on_terminal(netsky: Netsky, *args: str, columns: int, env: dict[str, str]) -> str:
    """Run ``netsky`` with stdout on a pseudo-terminal ``columns`` wide; its output."""
    master, slave = pty.openpty()
    full = {**netsky.env, "COLUMNS": str(columns), "LINES": "50", "TERM": "xterm-256color"}
    full.pop("NO_COLOR", None)
    full.pop("FORCE_COLOR", None)
    full.update(env)
    proc = subprocess.Popen(
        [str(NETSKY), *args],
        cwd=netsky.root,
        env=full,
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
    )
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            proc.kill()
            raise AssertionError("netsky on a terminal did not finish")
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(60) == 0, proc.stderr.read() if proc.stderr else ""
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def _width(line: str) -> int:
    return len(ANSI.sub("", line))


@pytest.mark.parametrize(
    "args",
    [
        ("sessions",),
        ("report", "daily", "--breakdown"),
        ("report", "session"),
        ("report", "model"),
    ],
)
def test_terminal_tables_are_boxed_coloured_and_fit(
    netsky: Netsky, looks: str, args: tuple[str, ...]
) -> None:
    out = _on_terminal(netsky, "--db", looks, *args, columns=100, env={})
    assert COLOUR.search(out), out
    plain = ANSI.sub("", out)
    assert "╭" in plain and "╰" in plain, plain
    assert max(_width(line) for line in out.splitlines()) <= 100, plain
    narrow = _on_terminal(netsky, "--db", looks, *args, columns=72, env={})
    assert max(_width(line) for line in narrow.splitlines()) <= 72, ANSI.sub("", narrow)


def test_terminal_totals_row_is_highlighted(netsky: Netsky, looks: str) -> None:
    out = _on_terminal(netsky, "--db", looks, "report", "daily", columns=120, env={})
    total = next(line for line in out.splitlines() if "total" in ANSI.sub("", line))
    body = next(line for line in out.splitlines() if "2026-03-01" in ANSI.sub("", line))
    assert COLOUR.search(total), total
    assert COLOUR.findall(total) != COLOUR.findall(body), (total, body)


def test_no_color_keeps_boxes_without_escapes(netsky: Netsky, looks: str) -> None:
    out = _on_terminal(netsky, "--db", looks, "report", "daily", columns=100, env={"NO_COLOR": "1"})
    assert "\x1b[" not in out, out
    assert "╭" in out and "total" in out
    assert "\x1b[" not in netsky.ok("--db", looks, "report", "daily").stdout


def test_session_page_reads_like_a_page(netsky: Netsky, looks: str, tmp_path: Path) -> None:
    out = netsky.ok("--db", looks, "session", L1[:8]).stdout
    assert "cost_picousd" not in out and "otel_event_count" not in out
    lines = out.splitlines()
    assert L1 in lines[0]
    for needle in ("claude", "widgets", "main", "sonnet-4-5", "PR #7", "octo/widgets"):
        assert needle in out, needle
    assert re.search(r"duration\s+6s", out), out
    assert re.search(r"input\s+100\b", out) and re.search(r"total\s+1,000\b", out), out
    assert re.search(r"cost\s+\$0\.04", out), out
    assert re.search(r"requests\s+1\b", out) and re.search(r"tools?\s+1\b", out), out
    timeline = out[out.index("timeline") :]
    assert "/model" in timeline and "make the widget list sortable" in timeline
    assert "Edit" in timeline and "sonnet-4-5" in timeline
    order = [timeline.index(w) for w in ("/model", "make the widget", "Edit", "sonnet-4-5")]
    assert order == sorted(order), timeline
    assert max(len(line) for line in lines) <= 200
    data = netsky.ok("--db", looks, "session", L1[:8], "--json").json()
    assert data["session"]["session_id"] == L1
    assert data["session"]["model"] == SONNET
    assert data["session"]["first_user_message"].startswith("<command-message>")
