"""Conventions every storage command keeps: help with examples, one-line errors, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Netsky, assert_one_line_error

COMMANDS = [
    ["db"],
    ["db", "status"],
    ["db", "migrate"],
    ["db", "vacuum"],
    ["sessions"],
    ["session"],
    ["events"],
    ["tail"],
    ["stats"],
    ["gc"],
    ["copy"],
    ["export"],
    ["import"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_shows_examples(netsky: Netsky, command: list[str]) -> None:
    result = netsky.ok(*command, "--help")
    assert "examples:" in result.stdout
    assert f"netsky {command[0]}" in result.stdout.split("examples:", 1)[1]
    assert "--db URL" in result.stdout  # the global options are there too


@pytest.mark.parametrize(
    "args",
    [
        ["sessions", "--bogus"],
        ["sessions", "--order"],
        ["session"],
        ["session", "a", "b"],
        ["events", "--type"],
        ["events", "--since", "never"],
        ["tail", "--interval", "0"],
        ["tail", "--interval", "soon"],
        ["tail", "-n", "-1"],
        ["stats", "--active", "yes"],
        ["gc", "--retention", "1mo"],
        ["copy"],
        ["export", "--format", "xml"],
        ["import"],
        ["db", "compact"],
        ["nosuchcommand"],
    ],
    ids=" ".join,
)
def test_bad_arguments_exit_2_in_one_line(netsky: Netsky, sqlite_url: str, args: list[str]) -> None:
    assert_one_line_error(netsky("--db", sqlite_url, *args), 2)


def test_global_options_before_or_after_the_command(netsky: Netsky, seeded_sqlite: str) -> None:
    before = netsky.ok("--db", seeded_sqlite, "stats", "--json").json()
    after = netsky.ok("stats", "--json", "--db", seeded_sqlite).json()
    assert before == after
    assert before["session_count"] == 3
    nested = netsky.ok("db", "status", "--db", seeded_sqlite, "--json").json()
    assert nested["tables"]["sessions"] == 3


def test_database_url_from_the_environment_and_config(
    netsky: Netsky, seeded_sqlite: str, tmp_path: Path
) -> None:
    env = netsky.ok("stats", "--json", env={"NETSKY_DATABASE_URL": seeded_sqlite}).json()
    assert env["session_count"] == 3
    config = tmp_path / "c.toml"
    config.write_text(f'[storage]\nurl = "{seeded_sqlite}"\n')
    assert netsky.ok("--config", str(config), "stats", "--json").json()["session_count"] == 3


def test_debug_shows_a_traceback(netsky: Netsky, tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("not a database\n" * 20)
    quiet = netsky("--db", f"sqlite:///{path}", "stats")
    assert_one_line_error(quiet, 1)
    loud = netsky("--debug", "--db", f"sqlite:///{path}", "stats")
    assert loud.returncode != 0
    assert "Traceback" in loud.stderr


def test_default_store_in_the_data_dir(netsky: Netsky) -> None:
    before = netsky("sessions")
    assert before.returncode == 1 and "no netsky store" in before.stderr, before
    assert str(netsky.root / "netsky-home") in before.stderr
    assert not list((netsky.root / "netsky-home").rglob("*.db"))
    netsky.ok("ingest")
    data = netsky.ok("db", "status", "--json").json()
    assert str(netsky.root / "netsky-home") in data["url"]
    assert netsky.ok("sessions").stdout.strip() == "no sessions match"


def test_the_hook_command_is_in_the_help(netsky: Netsky) -> None:
    listed = netsky.ok("--help").stdout
    assert any(line.split()[:1] == ["hook"] for line in listed.splitlines()), listed
    own = netsky.ok("hook", "--help").stdout
    for option in ("--framework", "--db", "--config", "--foreground", "--no-transcript"):
        assert option in own
