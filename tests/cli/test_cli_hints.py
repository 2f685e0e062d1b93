"""Hints that help: a close name is suggested, event types are matched in any letter
case, and no hint nests parentheses inside the ``(hint: ...)`` of the error line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from netsky_core import EventType

from .conftest import Netsky, assert_one_line_error, make_event

ROOT = Path(__file__).resolve().parents[2]


def _hint_texts() -> list[tuple[str, int, str]]:
    """Every literal text of every ``hint=...`` argument in netsky_core."""
    found = []
    for path in sorted((ROOT / "netsky_core").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "hint":
                for part in ast.walk(node.value):
                    if isinstance(part, ast.Constant) and isinstance(part.value, str):
                        found.append((path.relative_to(ROOT).as_posix(), node.lineno, part.value))
    return found


def test_no_hint_text_holds_parentheses() -> None:
    hints = _hint_texts()
    assert len(hints) > 20  # the scan sees the hints
    nested = [h for h in hints if "(" in h[2] or ")" in h[2]]
    assert nested == []


def test_a_misspelt_url_scheme_suggests_the_installed_one(netsky: Netsky) -> None:
    result = netsky("--db", "sqlit:///x.db", "stats")
    assert_one_line_error(result, 1)
    assert "did you mean sqlite://?" in result.stderr
    assert "pip install" not in result.stderr


def test_an_unknown_scheme_far_from_any_names_the_plugin_to_install(netsky: Netsky) -> None:
    result = netsky("--db", "mystore://x", "stats")
    assert_one_line_error(result, 1)
    assert "pip install netsky-mystore" in result.stderr and "did you mean" not in result.stderr


@pytest.mark.parametrize(
    ("args", "suggestion"),
    [
        (["sesions"], "did you mean `netsky sessions`?"),
        (["db", "stauts"], "did you mean `netsky db status`?"),
        (["report", "dayly"], "did you mean 'daily'?"),
    ],
)
def test_a_misspelt_command_gets_a_did_you_mean(
    netsky: Netsky, args: list[str], suggestion: str
) -> None:
    result = netsky(*args)
    assert_one_line_error(result, 2)
    assert suggestion in result.stderr
    assert result.stderr.count("(") == result.stderr.count(")") == 1  # only "(hint: ...)"


@pytest.fixture
def typed_store(tmp_path: Path) -> str:
    from netsky_core import open_storage

    url = f"sqlite:///{tmp_path}/typed.db"
    with open_storage(url) as store:
        store.insert_many(
            [
                make_event(EventType.POST_TOOL_USE, 1, "s1", "u1", tool_name="Bash"),
                make_event(EventType.PRE_TOOL_USE, 2, "s1", "u2", tool_name="Bash"),
                make_event("FutureHookEvent", 3, "s1", "u3"),
            ]
        )
    return url


def test_event_type_in_any_letter_case_is_the_known_type(netsky: Netsky, typed_store: str) -> None:
    rows = netsky.ok("--db", typed_store, "events", "--type", "posttooluse", "--json").json()
    assert [r["event_type"] for r in rows] == ["PostToolUse"]
    assert netsky.ok("--db", typed_store, "events", "--type", "posttooluse").stderr == ""


def test_an_unknown_event_type_is_matched_as_stored_with_a_warning(
    netsky: Netsky, typed_store: str
) -> None:
    result = netsky.ok("--db", typed_store, "events", "--type", "Bogus", "--json")
    assert result.json() == []
    assert "'Bogus' is not a known event type" in result.stderr
    assert "PreToolUse" in result.stderr  # the known types are listed
    close = netsky.ok("--db", typed_store, "events", "--type", "PreTolUse")
    assert "did you mean PreToolUse?" in close.stderr
    # a type netsky does not know can still be stored, and is found
    stored = netsky.ok("--db", typed_store, "events", "--type", "FutureHookEvent", "--json")
    assert [r["event_type"] for r in stored.json()] == ["FutureHookEvent"]


def test_event_type_resolve() -> None:
    assert EventType.resolve("posttooluse") == "PostToolUse"
    assert EventType.resolve(" APIREQUEST ") == "ApiRequest"
    assert EventType.resolve("Bogus") is None
    assert "SessionStart" in EventType.known() and list(EventType.known()) == sorted(
        EventType.known()
    )


def test_every_hook_flag_is_in_the_readme() -> None:
    from netsky_core.hooks.run import USAGE

    readme = (ROOT / "README.md").read_text()
    flags = [f for f in USAGE.replace("[", " ").replace("]", " ").split() if f.startswith("--")]
    assert len(flags) >= 6
    for flag in [*flags, "PAYLOAD_JSON"]:
        assert f"`{flag}" in readme or f" {flag}" in readme.split("`netsky hook [", 1)[1][:900], (
            flag
        )
