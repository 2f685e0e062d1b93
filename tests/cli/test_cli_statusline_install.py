"""``netsky hooks install --statusline``: the statusLine of Claude Code's settings."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from tests.netsky_cli import NETSKY, Netsky


def settings(root: Path) -> dict[str, object]:
    return json.loads((root / "claude" / "settings.json").read_text())


def make(tmp_path: Path) -> Netsky:
    (tmp_path / "claude").mkdir()
    return Netsky(tmp_path, extra_env={"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")})


def test_install_wires_the_statusline_and_uninstall_removes_it(tmp_path: Path) -> None:
    netsky = make(tmp_path)
    db = f"sqlite:///{tmp_path / 'n.db'}"
    r = netsky.ok("hooks", "install", "--statusline", "--db", db, "--json")
    assert r.json()["statusline"] == "added"
    line = settings(tmp_path)["statusLine"]
    assert line == {
        "type": "command",
        "command": shlex.join([str(NETSKY), "statusline", "--db", db]),
        "padding": 0,
    }
    again = netsky.ok("hooks", "install", "--statusline", "--db", db, "--json").json()
    assert again["statusline"] == "unchanged" and again["changed"] is False
    # the command installed works: Claude Code runs it with a payload on stdin
    words = shlex.split(line["command"])  # type: ignore[index]
    netsky.ok("--db", db, "ingest")  # nothing to read, but the store exists now
    out = netsky.ok(*words[1:], input='{"session_id": "s", "model": {"display_name": "M"}}')
    assert out.stdout.startswith("M | ") or "\x1b[1;36mM" in out.stdout, out
    netsky.ok("hooks", "uninstall")
    assert "statusLine" not in settings(tmp_path)


def test_another_statusline_is_kept_unless_forced(tmp_path: Path) -> None:
    netsky = make(tmp_path)
    mine = {"type": "command", "command": "~/bin/my-line.sh"}
    (tmp_path / "claude" / "settings.json").write_text(json.dumps({"statusLine": mine}))
    r = netsky.ok("hooks", "install", "--statusline")
    assert "already has a statusLine of another program: kept" in r.stderr, r
    assert settings(tmp_path)["statusLine"] == mine
    netsky.ok("hooks", "uninstall")
    assert settings(tmp_path)["statusLine"] == mine  # not netsky's: never removed
    r = netsky.ok("hooks", "install", "--statusline", "--force", "--json")
    assert r.json()["statusline"] == "replaced"
    assert "statusline" in settings(tmp_path)["statusLine"]["command"]  # type: ignore[index]


def test_force_without_statusline_is_a_usage_error(tmp_path: Path) -> None:
    r = make(tmp_path)("hooks", "install", "--force")
    assert r.returncode == 2 and "--force applies to --statusline only" in r.stderr, r
