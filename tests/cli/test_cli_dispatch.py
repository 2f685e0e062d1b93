"""``netsky COMMAND ...`` builds the parser of that command alone; what a user sees
(results, help, usage errors and their hints) is what the whole parser gives."""

from __future__ import annotations

import argparse
import importlib

import pytest

from netsky_core.cli import _main
from netsky_core.cli._main import COMMAND_MODULES, COMMANDS, build_parser, command_module

from .conftest import Netsky, assert_one_line_error


def _registered_by_module() -> dict[str, str]:
    """Each command name -> the module that registers it (every module, one by one)."""
    common = _main._common()
    sub = argparse.ArgumentParser().add_subparsers()
    found: dict[str, str] = {}
    for name in COMMAND_MODULES:
        importlib.import_module(f"netsky_core.cli.commands.{name}").register(sub, common)
        for command in sub.choices:
            found.setdefault(command, name)
    return found


def test_every_command_is_mapped_to_the_module_that_registers_it() -> None:
    assert _registered_by_module() == COMMANDS


def _command_parser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sub.choices[command]


def test_one_module_gives_the_same_command_parser() -> None:
    full = build_parser()
    for command, module in COMMANDS.items():
        alone = _command_parser(build_parser(module), command)
        assert alone.format_help() == _command_parser(full, command).format_help()


@pytest.mark.parametrize(
    ("argv", "module"),
    [
        (["report", "daily"], "report"),
        (["--db", "sqlite:///x.db", "report", "daily", "--db", "y"], "report"),
        (["--db=sqlite:///x.db", "--debug", "tail"], "events"),
        (["--config", "c.toml", "import", "f.jsonl"], "transfer"),
        (["session", "abc"], "sessions"),
        ([], None),
        (["--help"], None),
        (["--version"], None),
        (["--d", "sqlite:///x.db", "report"], None),  # an abbreviation: the whole parser
        (["--conf", "report", "sessions"], None),
        (["repor"], None),  # a typo: the whole parser says "did you mean"
        (["--db"], None),
    ],
)
def test_the_command_module_of_a_command_line(argv: list[str], module: str | None) -> None:
    assert command_module(argv) == module


def test_a_command_parsed_alone_behaves_as_before(netsky: Netsky, seeded_sqlite: str) -> None:
    daily = netsky.ok("--db", seeded_sqlite, "report", "daily", "--json").json()
    assert daily["daily"] and daily["totals"]["total_tokens"] > 0
    # the same through the whole parser (an abbreviated global option)
    (netsky.root / "empty.toml").write_text("")
    assert (
        netsky.ok(
            "--conf",
            str(netsky.root / "empty.toml"),
            "--db",
            seeded_sqlite,
            "report",
            "daily",
            "--json",
        ).json()
        == daily
    )
    assert_one_line_error(
        netsky("--db", seeded_sqlite, "report", "daily", "--since", "yesterday-ish"), 2, "--since"
    )
    assert_one_line_error(netsky("report", "dialy"), 2, "invalid choice", "daily")
    typo = netsky("repor", "daily")
    assert_one_line_error(typo, 2, "unknown command 'repor'", "did you mean `netsky report`")
    assert "netsky report" in netsky.ok("report", "--help").stdout
