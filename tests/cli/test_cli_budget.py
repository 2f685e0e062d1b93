"""Budgets: ``netsky hook`` answers with Claude Code's documented hook output at a
limit and says nothing below it; ``netsky budget`` shows usage against each limit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from netsky_core import open_storage
from tests.cli.test_cli_statusline import SESSION, api
from tests.netsky_cli import Netsky


@pytest.fixture
def netsky(tmp_path: Path) -> Netsky:
    return Netsky(tmp_path, extra_env={"NETSKY_HOOK_FOREGROUND": "1"})


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """$1.00 and 4,000 tokens today, all in SESSION."""
    url = f"sqlite:///{tmp_path / 'netsky.db'}"
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    when = max(midnight + timedelta(seconds=1), now - timedelta(minutes=1))
    with open_storage(url) as store:
        store.insert_many([api(SESSION, when, 0.25, f"b{i}") for i in range(4)])
    return url


def config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return str(path)


def hook(netsky: Netsky, url: str, cfg: str, event: str) -> str:
    body: dict[str, object] = {"session_id": SESSION, "hook_event_name": event, "cwd": "/tmp"}
    if event == "PreToolUse":
        body.update(tool_name="Bash", tool_input={"command": "ls"}, tool_use_id="toolu_1")
    else:
        body.update(prompt="go on")
    r = netsky.ok("hook", "--db", url, "--config", cfg, input=json.dumps(body))
    return r.stdout


@pytest.mark.parametrize(
    "limit", ["day_usd = 1.0", "session_usd = 1.0", "week_tokens = 4000", "month_usd = 0.5"]
)
def test_block_at_the_limit(tmp_path: Path, netsky: Netsky, store_url: str, limit: str) -> None:
    cfg = config(tmp_path, f'[budget]\nmode = "block"\n{limit}\n')
    out = json.loads(hook(netsky, store_url, cfg, "PreToolUse"))
    specific = out["hookSpecificOutput"]
    assert specific["hookEventName"] == "PreToolUse"
    assert specific["permissionDecision"] == "deny"
    assert "budget reached" in specific["permissionDecisionReason"]
    assert "limit" in out["systemMessage"]
    out = json.loads(hook(netsky, store_url, cfg, "UserPromptSubmit"))
    assert out["decision"] == "block"
    assert "budget reached" in out["reason"]


@pytest.mark.parametrize(
    "limit", ["day_usd = 1.01", "session_usd = 1.000001", "week_tokens = 4001"]
)
def test_nothing_below_the_limit(
    tmp_path: Path, netsky: Netsky, store_url: str, limit: str
) -> None:
    cfg = config(tmp_path, f'[budget]\nmode = "block"\n{limit}\n')
    assert hook(netsky, store_url, cfg, "PreToolUse") == ""
    assert hook(netsky, store_url, cfg, "UserPromptSubmit") == ""


def test_warn_mode_shows_a_message_and_blocks_nothing(
    tmp_path: Path, netsky: Netsky, store_url: str
) -> None:
    cfg = config(tmp_path, "[budget]\nday_usd = 1.0\n")
    for event in ("PreToolUse", "UserPromptSubmit"):
        out = json.loads(hook(netsky, store_url, cfg, event))
        assert list(out) == ["systemMessage"]
        assert "day limit $1.00: $1.00 used" in out["systemMessage"]


def test_the_event_is_stored_whatever_the_budget_says(
    tmp_path: Path, netsky: Netsky, store_url: str
) -> None:
    cfg = config(tmp_path, '[budget]\nmode = "block"\nday_usd = 0.5\n')
    hook(netsky, store_url, cfg, "PreToolUse")
    with open_storage(store_url) as store:
        assert store.get_session_by_key("test-machine", SESSION).hook_event_count == 1


def test_budget_command_shows_every_limit(tmp_path: Path, netsky: Netsky, store_url: str) -> None:
    cfg = config(tmp_path, "[budget]\nday_usd = 2.0\nweek_tokens = 4000\nsession_usd = 1\n")
    r = netsky.ok("budget", "--db", store_url, "--config", cfg, "--session", SESSION, "--json")
    limits = {(x["period"], x["unit"]): x for x in r.json()["limits"]}
    assert limits["day", "usd"]["used"] == 1.0 and limits["day", "usd"]["reached"] is False
    assert limits["week", "tokens"]["used"] == 4000 and limits["week", "tokens"]["reached"]
    assert limits["session", "usd"]["fraction"] == 1.0
    text = netsky.ok("budget", "--db", store_url, "--config", cfg).stdout
    assert "REACHED" in text and "day (USD)" in text and "no session" in text


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[budget]\nday_usd = -1\n", "[budget].day_usd"),
        ('[budget]\nmode = "stop"\n', "[budget].mode"),
        ("[budget]\nday_tokens = 1.5\n", "[budget].day_tokens"),
        ("[budget]\ndaily_usd = 1\n", "did you mean"),
    ],
)
def test_a_bad_budget_is_a_one_line_error(
    tmp_path: Path, netsky: Netsky, store_url: str, text: str, needle: str
) -> None:
    r = netsky("budget", "--db", store_url, "--config", config(tmp_path, text))
    assert r.returncode != 0 and needle in r.stderr and len(r.stderr.splitlines()) == 1, r
    # the hook still stores its event and says nothing
    assert hook(netsky, store_url, config(tmp_path, text), "PreToolUse") == ""
