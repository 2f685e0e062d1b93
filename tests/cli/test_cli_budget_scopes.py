"""Per-project and per-branch budgets: ``[budget.project."<name or path>"]`` and
``[budget.branch."<name or glob>"]`` limits, measured from the project usage rows the
store keeps; the hook answers with Claude Code's block output at such a limit, says
nothing below it or outside that project or branch."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest

from netsky_core import open_storage
from tests.cli.test_cli_statusline import api
from tests.netsky_cli import Netsky

WIDGETS = "5d1f0e2a-0000-4000-8000-0000000000a1"
GADGETS = "5d1f0e2a-0000-4000-8000-0000000000b2"


@pytest.fixture
def netsky(tmp_path: Path) -> Netsky:
    return Netsky(tmp_path, extra_env={"NETSKY_HOOK_FOREGROUND": "1"})


def repo(path: Path, branch: str) -> str:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", branch, str(path)], check=True)
    return str(path)


@pytest.fixture
def work(tmp_path: Path) -> dict[str, str]:
    """Two projects, each a git repository: widgets on main, gadgets on fix/7."""
    return {
        "widgets": repo(tmp_path / "w" / "widgets", "main"),
        "gadgets": repo(tmp_path / "w" / "gadgets", "fix/7"),
    }


@pytest.fixture
def store_url(tmp_path: Path, work: dict[str, str]) -> str:
    """Today: $1.00 in widgets on main (session WIDGETS, the last $0.25 of it in a
    subdirectory, on release/1.2), $0.50 in gadgets on fix/7 (session GADGETS)."""
    url = f"sqlite:///{tmp_path / 'netsky.db'}"
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    when = max(midnight + timedelta(seconds=1), now - timedelta(minutes=1))
    w, g = work["widgets"], work["gadgets"]
    events = [
        attrs.evolve(api(WIDGETS, when, 0.25, f"w{i}"), cwd=w, git_branch="main") for i in range(3)
    ]
    events.append(
        attrs.evolve(api(WIDGETS, when, 0.25, "w3"), cwd=f"{w}/src", git_branch="release/1.2")
    )
    events += [
        attrs.evolve(api(GADGETS, when, 0.25, f"g{i}"), cwd=g, git_branch="fix/7") for i in range(2)
    ]
    with open_storage(url) as store:
        store.insert_many(events)
    return url


def config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text('[budget]\nmode = "block"\n' + text)
    return str(path)


def hook(netsky: Netsky, url: str, cfg: str, event: str, session: str, cwd: str) -> str:
    body: dict[str, object] = {"session_id": session, "hook_event_name": event, "cwd": cwd}
    if event == "PreToolUse":
        body.update(tool_name="Bash", tool_input={"command": "ls"}, tool_use_id="toolu_1")
    else:
        body.update(prompt="go on")
    return netsky.ok("hook", "--db", url, "--config", cfg, input=json.dumps(body)).stdout


def assert_blocked(netsky: Netsky, url: str, cfg: str, session: str, cwd: str, what: str) -> None:
    out = json.loads(hook(netsky, url, cfg, "PreToolUse", session, cwd))
    specific = out["hookSpecificOutput"]
    assert (specific["hookEventName"], specific["permissionDecision"]) == ("PreToolUse", "deny")
    assert what in specific["permissionDecisionReason"], specific
    out = json.loads(hook(netsky, url, cfg, "UserPromptSubmit", session, cwd))
    assert out["decision"] == "block" and what in out["reason"], out


def assert_silent(netsky: Netsky, url: str, cfg: str, session: str, cwd: str) -> None:
    assert hook(netsky, url, cfg, "PreToolUse", session, cwd) == ""
    assert hook(netsky, url, cfg, "UserPromptSubmit", session, cwd) == ""


@pytest.mark.parametrize("name", ["widgets", "{widgets}"])
def test_a_project_limit_blocks_at_the_limit_and_not_below(
    tmp_path: Path, netsky: Netsky, store_url: str, work: dict[str, str], name: str
) -> None:
    key = name.format(**work)
    at_limit = config(tmp_path, f'[budget.project."{key}"]\nday_usd = 1.0\n')
    assert_blocked(netsky, store_url, at_limit, WIDGETS, work["widgets"], "day limit $1.00")
    # the same limit, from a subdirectory of the project
    assert_blocked(netsky, store_url, at_limit, WIDGETS, f"{work['widgets']}/src", "$1.00 used")
    # another project's work is not held to it
    assert_silent(netsky, store_url, at_limit, GADGETS, work["gadgets"])
    below = config(tmp_path, f'[budget.project."{key}"]\nday_usd = 1.000001\n')
    assert_silent(netsky, store_url, below, WIDGETS, work["widgets"])


def test_a_path_names_that_directory_not_a_longer_name(
    tmp_path: Path, netsky: Netsky, store_url: str, work: dict[str, str]
) -> None:
    cfg = config(tmp_path, f'[budget.project."{work["widgets"][:-1]}"]\nday_usd = 0.01\n')
    assert_silent(netsky, store_url, cfg, WIDGETS, work["widgets"])


def test_a_branch_limit_counts_the_branch_the_work_is_on(
    tmp_path: Path, netsky: Netsky, store_url: str, work: dict[str, str]
) -> None:
    cfg = config(tmp_path, '[budget.branch."main"]\nday_usd = 0.75\n')
    assert_blocked(netsky, store_url, cfg, WIDGETS, work["widgets"], "branch main day limit")
    assert_silent(netsky, store_url, cfg, GADGETS, work["gadgets"])  # on fix/7
    below = config(tmp_path, '[budget.branch."main"]\nday_usd = 0.76\n')
    assert_silent(netsky, store_url, below, WIDGETS, work["widgets"])
    glob = config(tmp_path, '[budget.branch."fix/*"]\nday_tokens = 2000\n')
    assert_blocked(netsky, store_url, glob, GADGETS, work["gadgets"], "2,000 tokens used")


def test_a_project_session_limit_counts_a_session_working_there(
    tmp_path: Path, netsky: Netsky, store_url: str, work: dict[str, str]
) -> None:
    cfg = config(tmp_path, '[budget.project."widgets"]\nsession_usd = 0.5\n')
    assert_blocked(netsky, store_url, cfg, WIDGETS, work["widgets"], "session limit $0.50")
    assert_silent(netsky, store_url, cfg, GADGETS, work["gadgets"])


def test_budget_shows_every_limit_with_its_project_and_branch(
    tmp_path: Path, netsky: Netsky, store_url: str, work: dict[str, str]
) -> None:
    cfg = config(
        tmp_path,
        "day_usd = 10.0\n"
        '[budget.project."widgets"]\nday_usd = 2.0\nsession_usd = 0.5\n'
        f'[budget.project."{work["gadgets"]}"]\nweek_tokens = 2000\n'
        '[budget.branch."release/*"]\nmonth_usd = 0.25\n',
    )
    r = netsky.ok("budget", "--db", store_url, "--config", cfg, "--json")
    got = {(x["scope"], x["name"], x["period"]): x for x in r.json()["limits"]}
    assert got[None, None, "day"]["used"] == 1.5
    assert got["project", "widgets", "day"]["used"] == 1.0
    assert got["project", "widgets", "session"]["used"] is None  # no --session
    assert got["project", work["gadgets"], "week"]["used"] == 2000
    assert got["project", work["gadgets"], "week"]["reached"] is True
    assert got["branch", "release/*", "month"]["used"] == 0.25
    r = netsky.ok("budget", "--db", store_url, "--config", cfg, "--session", GADGETS, "--json")
    got = {(x["scope"], x["name"], x["period"]): x for x in r.json()["limits"]}
    assert got["project", "widgets", "session"]["used"] is None  # gadgets' session
    r = netsky.ok("budget", "--db", store_url, "--config", cfg, "--session", WIDGETS, "--json")
    got = {(x["scope"], x["name"], x["period"]): x for x in r.json()["limits"]}
    assert got["project", "widgets", "session"]["used"] == 1.0
    text = netsky.ok("budget", "--db", store_url, "--config", cfg, "--session", GADGETS).stdout
    assert "project widgets day (USD)" in text and "branch release/* month (USD)" in text
    assert "not this session's project" in text


def test_the_statusline_shows_the_budget_of_the_sessions_project(
    tmp_path: Path, netsky: Netsky, store_url: str, work: dict[str, str]
) -> None:
    cfg = config(
        tmp_path,
        '[budget.project."widgets"]\nday_usd = 2.0\n[budget.project."gadgets"]\nday_usd = 1.0\n'
        '[budget.branch."fix/*"]\nday_usd = 0.5\n',
    )

    def line(session: str, cwd: str) -> str:
        payload = {"session_id": session, "model": {"display_name": "Opus"}, "cwd": cwd}
        return netsky.ok(
            "statusline",
            "--db",
            store_url,
            "--config",
            cfg,
            "--no-color",
            input=json.dumps(payload),
        ).stdout

    assert "budget widgets day 50%" in line(WIDGETS, work["widgets"])
    assert "gadgets" not in line(WIDGETS, work["widgets"])
    gadgets = line(GADGETS, work["gadgets"])
    assert "gadgets day 50%" in gadgets and "fix/* day 100%" in gadgets, gadgets


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[budget.project."src/app"]\nday_usd = 1.0\n', "must be absolute"),
        ('[budget.project."app"]\n', "sets no limit"),
        ('[budget.project."app"]\nday_usd = 0\n', "[budget.project.app].day_usd"),
        ('[budget.branch."main"]\nmode = "warn"\n', "unknown key"),
        ('[budget.branch.""]\nday_usd = 1.0\n', "empty string"),
        ("branch = 1\n", "[budget].branch: expected a table"),
    ],
)
def test_a_bad_project_or_branch_budget_is_a_one_line_error(
    tmp_path: Path, netsky: Netsky, store_url: str, text: str, needle: str
) -> None:
    r = netsky("budget", "--db", store_url, "--config", config(tmp_path, text))
    assert r.returncode != 0 and needle in r.stderr and len(r.stderr.splitlines()) == 1, r
