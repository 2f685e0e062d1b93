"""The README's command-line section documents every registered sub-command."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from netsky_core.cli._main import build_parser

README = Path(__file__).resolve().parents[2] / "README.md"


def _cli_section() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- cli:begin -->(.*?)<!-- cli:end -->", text, re.S)
    assert match, "README.md has no <!-- cli:begin --> ... <!-- cli:end --> section"
    return match.group(1)


def _commands(parser: argparse.ArgumentParser, prefix: str = "netsky") -> Iterator[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix} {name}"
                yield from _commands(sub, f"{prefix} {name}")


def test_the_registered_commands_are_found() -> None:
    found = set(_commands(build_parser()))
    assert {"netsky sessions", "netsky db status", "netsky import", "netsky tail"} <= found


@pytest.mark.parametrize("command", sorted(set(_commands(build_parser()))))
def test_every_command_is_in_the_readme(command: str) -> None:
    section = _cli_section()
    assert re.search(rf"`{re.escape(command)}(?![\w-])", section), (
        f"`{command}` is registered but not documented between <!-- cli:begin --> and "
        "<!-- cli:end --> in README.md"
    )
