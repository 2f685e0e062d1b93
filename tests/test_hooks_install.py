"""``netsky hooks install | uninstall | status``: Claude Code settings edited safely.

Real files in temporary folders, no mocks: the planning and writing functions of
:mod:`netsky_core.hooks.install` directly, then the ``netsky`` executable in
a subprocess with an isolated ``HOME`` / ``CLAUDE_CONFIG_DIR`` / ``CODEX_HOME``, and
finally the very command written into settings.json run through a shell with a real
Claude Code payload.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from netsky_core import EventQuery, open_storage
from netsky_core.hooks import install as cs

NETSKY = Path(sys.executable).with_name("netsky")
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
PASSWORD = "hunter2-s3cret"

# A settings file as Claude Code writes it (JSON.stringify(settings, null, 2)).
CLAUDE_WRITTEN = """{
  "permissions": {
    "allow": [
      "Bash(npm run test:*)",
      "Read(~/.zshrc)"
    ],
    "deny": []
  },
  "env": {
    "FOO": "bär ✓"
  },
  "hooks": {
    "PreToolUse": [
      {
        "matcher": "Bash",
        "hooks": [
          {
            "type": "command",
            "command": "~/.claude/guard.sh",
            "timeout": 30
          }
        ]
      }
    ],
    "Stop": [
      {
        "hooks": [
          {
            "type": "command",
            "command": "say done"
          }
        ]
      }
    ]
  },
  "model": "opus",
  "statusLine": {
    "type": "command",
    "command": "echo status"
  }
}
"""

# One written by hand: four-space indent, inline objects, no final newline.
HAND_WRITTEN = (
    "{\n"
    '    "model": "sonnet",\n'
    '    "hooks": {\n'
    '        "PostToolUse": [{"matcher": "Edit|Write", "hooks": [{"type": "command", '
    '"command": "prettier --write"}]}]\n'
    "    },\n"
    '    "includeCoAuthoredBy": false,\n'
    '    "cleanupPeriodDays": 3650\n'
    "}"
)


def netsky_command() -> str:
    return cs.hook_command(cs.netsky_executable())


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    return path


def install(path: Path, **kwargs: Any) -> cs.Plan:
    plan = cs.plan_install(
        cs.read_settings(path), kwargs.pop("command", netsky_command()), **kwargs
    )
    cs.apply(plan)
    return plan


def uninstall(path: Path, **kwargs: Any) -> cs.Plan:
    plan = cs.plan_uninstall(cs.read_settings(path), **kwargs)
    cs.apply(plan)
    return plan


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".netsky-backup-*"))


def netsky_entries(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for event, groups in data.get("hooks", {}).items():
        for group in groups:
            for entry in group["hooks"]:
                if cs.is_netsky_command(entry.get("command")):
                    out.setdefault(event, []).append({**entry, "_matcher": group.get("matcher")})
    return out


# -- the command --------------------------------------------------------------------


def test_the_command_is_the_absolute_path_of_an_existing_netsky_executable() -> None:
    exe = cs.netsky_executable()
    assert exe.is_absolute() and exe.is_file() and os.access(exe, os.X_OK)
    assert exe == exe.resolve() and exe.name in ("netsky", "netsky.exe")
    words = shlex.split(netsky_command())
    assert words == [str(exe), "hook"]


def test_options_are_quoted_for_the_shell_and_parsed_back() -> None:
    db = f"postgresql://me:{PASSWORD}@db.example/netsky?sslmode=require&x='1 2'"
    command = cs.hook_command(
        "/opt/my tools/bin/netsky", db=db, config="/etc/net sky.toml", transcript=False
    )
    assert shlex.split(command) == [
        "/opt/my tools/bin/netsky",
        "hook",
        "--db",
        db,
        "--config",
        "/etc/net sky.toml",
        "--no-transcript",
    ]
    parsed = cs.parse_hook_command(command)
    assert parsed == cs.HookCommand(
        executable="/opt/my tools/bin/netsky",
        db=db,
        config="/etc/net sky.toml",
        transcript=False,
    )
    masked = cs.mask_command(command)
    assert PASSWORD not in masked and "***" in masked


@pytest.mark.parametrize(
    ("command", "ours"),
    [
        ("/work/old-venv/bin/netsky hook", True),  # moved or deleted: still ours
        ("netsky hook --db sqlite:////x.db", True),
        ("'/Users/me/Application Support/bin/netsky' hook", True),
        ("NETSKY_HOME=/tmp/n /usr/local/bin/netsky hook --no-transcript", True),
        ("C:\\Tools\\netsky.exe hook", True),
        ("/usr/bin/netsky hooks status", False),
        ("/usr/bin/netsky ingest", False),
        ("/usr/bin/mynetsky hook", False),
        ("/usr/bin/netsky-helper hook", False),
        ("echo netsky hook", False),
        ("python3 ~/.claude/hooks/log.py", False),
        ("", False),
        (None, False),
        (42, False),
    ],
)
def test_netsky_entries_are_recognised_by_their_command(command: object, ours: bool) -> None:
    assert cs.is_netsky_command(command) is ours


def test_a_relative_sqlite_url_is_made_absolute(tmp_path: Path) -> None:
    assert cs.absolute_store_url("sqlite:///s.db?synchronous=FULL", tmp_path) == (
        f"sqlite:///{tmp_path.as_posix()}/s.db?synchronous=FULL"
    )
    for url in ("sqlite:////abs/s.db", "sqlite:///~/s.db", "postgresql://h/db", "memory://"):
        assert cs.absolute_store_url(url, tmp_path) == url


def test_settings_paths_per_scope(tmp_path: Path) -> None:
    env = {"CLAUDE_CONFIG_DIR": f"{tmp_path}/one, {tmp_path}/two"}
    assert cs.settings_path("user", environ=env) == tmp_path / "one" / "settings.json"
    home = Path(os.path.expanduser("~"))
    assert cs.settings_path("user", environ={}) == home / ".claude" / "settings.json"
    assert cs.settings_path("project", cwd=tmp_path) == tmp_path / ".claude" / "settings.json"
    assert cs.settings_path("local", cwd=tmp_path) == tmp_path / ".claude" / "settings.local.json"


# -- install ------------------------------------------------------------------------


def test_install_into_a_missing_file_and_folder(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / ".claude" / "settings.json"
    plan = install(path)
    assert plan.added == list(cs.HOOK_EVENTS) and not plan.updated and not plan.unchanged
    data = json.loads(path.read_text())
    assert list(data) == ["hooks"]
    assert list(data["hooks"]) == list(cs.HOOK_EVENTS)
    for event, groups in data["hooks"].items():
        assert len(groups) == 1
        group = groups[0]
        if event in cs.TOOL_EVENTS:
            assert group == {"matcher": "*", "hooks": group["hooks"]}
        else:
            assert "matcher" not in group
        assert group["hooks"] == [
            {"type": "command", "command": netsky_command(), "timeout": cs.DEFAULT_TIMEOUT}
        ]
    assert path.read_text().startswith('{\n  "hooks": {\n    "SessionStart": [')
    assert path.read_text().endswith("}\n")
    assert backups(path) == []
    assert not list(path.parent.glob(".*netsky-tmp"))


def test_install_keeps_every_other_setting_and_hook_in_order(tmp_path: Path) -> None:
    path = write(tmp_path / "settings.json", CLAUDE_WRITTEN)
    before = json.loads(CLAUDE_WRITTEN)
    install(path)
    text = path.read_text()
    after = json.loads(text)
    assert list(after) == list(before)  # key order kept, hooks where it was
    for key in ("permissions", "env", "model", "statusLine"):
        assert after[key] == before[key]
    # the other hooks come first, untouched; netsky's group follows
    assert after["hooks"]["PreToolUse"][0] == before["hooks"]["PreToolUse"][0]
    assert after["hooks"]["Stop"][0] == before["hooks"]["Stop"][0]
    assert list(after["hooks"])[:2] == ["PreToolUse", "Stop"]
    assert set(after["hooks"]) == set(cs.HOOK_EVENTS)
    assert set(netsky_entries(after)) == set(cs.HOOK_EVENTS)
    # untouched parts are the original bytes (same indentation, unicode unescaped)
    head = CLAUDE_WRITTEN.split('  "hooks"')[0]
    tail = CLAUDE_WRITTEN.split('  "model"')[1]
    assert text.startswith(head) and text.endswith(tail)
    assert "bär ✓" in text


def test_a_second_install_changes_nothing_and_keeps_one_backup(tmp_path: Path) -> None:
    path = write(tmp_path / "settings.json", CLAUDE_WRITTEN)
    install(path)
    after_first = path.read_bytes()
    stamp = path.stat().st_mtime_ns
    plan = cs.plan_install(cs.read_settings(path), netsky_command())
    assert not plan.changed and plan.unchanged == list(cs.HOOK_EVENTS)
    assert plan.diff() == ""
    result = cs.apply(plan)
    assert not result.written and result.backup is None
    assert path.read_bytes() == after_first and path.stat().st_mtime_ns == stamp
    assert [b.read_text() for b in backups(path)] == [CLAUDE_WRITTEN]


def test_backups_are_not_piled_up(tmp_path: Path) -> None:
    path = write(tmp_path / "settings.json", CLAUDE_WRITTEN)
    install(path)
    installed = path.read_text()
    (only,) = backups(path)
    assert only.read_text() == CLAUDE_WRITTEN
    for _ in range(3):
        uninstall(path)
        # one backup: the file before netsky's latest change
        assert [b.read_text() for b in backups(path)] == [installed]
        install(path)
        assert [b.read_text() for b in backups(path)] == [CLAUDE_WRITTEN]
    uninstall(path)
    assert path.read_text() == CLAUDE_WRITTEN
    assert len(backups(path)) == 1


def test_install_brings_a_stale_entry_up_to_date_in_place(tmp_path: Path) -> None:
    settings = {
        "hooks": {
            "PreToolUse": [
                {
                    "matcher": "Bash|Edit",
                    "hooks": [
                        {"type": "command", "command": "~/guard.sh"},
                        {
                            "type": "command",
                            "command": "/gone/venv/bin/netsky hook --db sqlite:////old.db",
                            "timeout": 3,
                            "statusMessage": "logging",
                        },
                    ],
                }
            ],
            "Stop": [
                {"hooks": [{"type": "command", "command": "/gone/bin/netsky hook"}]},
                {"hooks": [{"type": "command", "command": "/other/bin/netsky hook"}]},
            ],
        }
    }
    path = write(tmp_path / "settings.json", json.dumps(settings, indent=2) + "\n")
    plan = install(path, events=["PreToolUse", "Stop"], timeout=7)
    assert plan.updated == ["PreToolUse", "Stop"] and not plan.added
    data = json.loads(path.read_text())
    pre = data["hooks"]["PreToolUse"]
    assert len(pre) == 1 and pre[0]["matcher"] == "Bash|Edit"  # the user's matcher is kept
    assert pre[0]["hooks"][0] == {"type": "command", "command": "~/guard.sh"}
    assert pre[0]["hooks"][1] == {
        "type": "command",
        "command": netsky_command(),
        "timeout": 7,
        "statusMessage": "logging",
    }
    # the duplicate netsky entry (and its now empty group) is gone
    assert data["hooks"]["Stop"] == [
        {"hooks": [{"type": "command", "command": netsky_command(), "timeout": 7}]}
    ]


def test_install_only_the_chosen_events(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    install(path, events=["Stop", "SessionEnd"])
    assert list(json.loads(path.read_text())["hooks"]) == ["Stop", "SessionEnd"]


def test_file_mode_is_kept_and_a_symlink_stays_a_link(tmp_path: Path) -> None:
    real = write(tmp_path / "dotfiles" / "claude-settings.json", CLAUDE_WRITTEN)
    os.chmod(real, 0o600)
    link = tmp_path / ".claude" / "settings.json"
    link.parent.mkdir()
    link.symlink_to(real)
    install(link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert set(netsky_entries(json.loads(real.read_text()))) == set(cs.HOOK_EVENTS)
    (backup,) = backups(real)
    assert backup.read_text() == CLAUDE_WRITTEN and stat.S_IMODE(backup.stat().st_mode) == 0o600


def test_indentation_line_ends_and_final_newline_are_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "tabs.json", '{\r\n\t"model": "opus",\r\n\t"env": {}\r\n}')
    install(path, events=["Stop"])
    text = path.read_bytes().decode()
    assert text.startswith('{\r\n\t"model": "opus",\r\n\t"env": {},\r\n\t"hooks": {\r\n\t\t"Stop"')
    assert "\n" not in text.replace("\r\n", "") and not text.endswith("\n")
    uninstall(path)
    assert path.read_bytes() == b'{\r\n\t"model": "opus",\r\n\t"env": {}\r\n}'


# -- uninstall ----------------------------------------------------------------------


@pytest.mark.parametrize("original", [CLAUDE_WRITTEN, HAND_WRITTEN, "{}\n", '{"model": "x"}'])
def test_uninstall_restores_the_original_file(tmp_path: Path, original: str) -> None:
    path = write(tmp_path / "settings.json", original)
    install(path)
    assert set(netsky_entries(json.loads(path.read_text()))) == set(cs.HOOK_EVENTS)
    plan = uninstall(path)
    assert sorted(plan.removed) == sorted(cs.HOOK_EVENTS)
    assert json.loads(path.read_text()) == json.loads(original)
    if original != HAND_WRITTEN:  # an inline list that netsky's group went into is expanded
        assert path.read_text() == original  # byte for byte


def test_install_into_a_hand_written_file_touches_only_hooks(tmp_path: Path) -> None:
    path = write(tmp_path / "settings.json", HAND_WRITTEN)
    plan = install(path)
    text = path.read_text()
    assert text.startswith('{\n    "model": "sonnet",\n    "hooks": {\n        "PostToolUse": [')
    assert '{"matcher": "Edit|Write", "hooks": [{"type": "command", "command": "prettier' in text
    assert text.endswith('    "includeCoAuthoredBy": false,\n    "cleanupPeriodDays": 3650\n}')
    diff = plan.diff()
    assert "-" + HAND_WRITTEN.splitlines()[1] not in diff  # "model" is not rewritten
    assert all(not line.startswith("-") or line.startswith("---") for line in diff.splitlines()[:3])


def test_uninstall_removes_only_netsky_entries(tmp_path: Path) -> None:
    settings = {
        "hooks": {
            "PreToolUse": [
                {
                    "matcher": "*",
                    "hooks": [
                        {"type": "command", "command": "/moved/bin/netsky hook --no-transcript"},
                        {"type": "command", "command": "/usr/bin/netsky-helper hook"},
                    ],
                },
                {"matcher": "*", "hooks": [{"type": "command", "command": "netsky hook"}]},
            ],
            "Stop": [{"hooks": [{"type": "command", "command": "echo netsky hook"}]}],
            "Notification": [],
        },
        "model": "opus",
    }
    path = write(tmp_path / "settings.json", json.dumps(settings, indent=2))
    plan = uninstall(path)
    assert plan.removed == ["PreToolUse"]
    assert json.loads(path.read_text()) == {
        "hooks": {
            "PreToolUse": [
                {
                    "matcher": "*",
                    "hooks": [{"type": "command", "command": "/usr/bin/netsky-helper hook"}],
                }
            ],
            "Stop": [{"hooks": [{"type": "command", "command": "echo netsky hook"}]}],
            "Notification": [],  # already empty: not ours to remove
        },
        "model": "opus",
    }


def test_uninstall_without_netsky_hooks_writes_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "none" / "settings.json"
    assert not cs.plan_uninstall(cs.read_settings(missing)).changed
    uninstall(missing)
    assert not missing.parent.exists()
    path = write(tmp_path / "settings.json", CLAUDE_WRITTEN)
    plan = cs.plan_uninstall(cs.read_settings(path))
    assert not plan.changed and plan.removed == []
    uninstall(path)
    assert backups(path) == []


def test_uninstall_of_some_events(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    install(path)
    uninstall(path, events=["PermissionRequest", "SubagentStart"])
    left = set(json.loads(path.read_text())["hooks"])
    assert left == set(cs.HOOK_EVENTS) - {"PermissionRequest", "SubagentStart"}


# -- dry run, malformed files, races ------------------------------------------------


def test_a_plan_writes_nothing_until_applied_and_its_diff_masks_passwords(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "settings.json", CLAUDE_WRITTEN)
    db = f"postgresql://me:{PASSWORD}@db.example/netsky"
    command = cs.hook_command(cs.netsky_executable(), db=db)
    plan = cs.plan_install(cs.read_settings(path), command)
    diff = plan.diff()
    assert path.read_text() == CLAUDE_WRITTEN and backups(path) == []
    assert diff.startswith(f"--- {path}\n+++ {path}\n@@ ")
    assert PASSWORD not in diff and "postgresql://me:***@db.example/netsky" in diff
    assert PASSWORD in plan.diff(mask=False)
    added = [line for line in diff.splitlines() if line.startswith("+") and '"command":' in line]
    assert len(added) == len(cs.HOOK_EVENTS)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"hooks": {"Stop": [}', "not valid JSON"),
        ('{"a": 1,}', "not valid JSON"),
        ("[]", "does not hold a JSON object"),
        ('"hooks"', "does not hold a JSON object"),
        ('{"hooks": []}', "hooks is not an object"),
        ('{"hooks": {"Stop": {"hooks": []}}}', "hooks.Stop is not a list"),
        ('{"hooks": {"Stop": ["echo"]}}', "hooks.Stop[0] is not an object"),
        ('{"hooks": {"Stop": [{"matcher": ""}]}}', "hooks.Stop[0].hooks"),
        ('{"hooks": {"Stop": [{"hooks": ["echo"]}]}}', "hooks.Stop[0].hooks[0]"),
    ],
)
def test_malformed_files_are_refused_untouched(tmp_path: Path, text: str, needle: str) -> None:
    path = write(tmp_path / "settings.json", text)
    with pytest.raises(cs.SettingsFileError) as info:
        cs.read_settings(path)
    assert needle in str(info.value) and str(path) in str(info.value)
    assert "\n" not in str(info.value)
    assert path.read_text() == text and backups(path) == []


def test_invalid_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(b'{"model": "\xff"}')
    with pytest.raises(cs.SettingsFileError, match="not UTF-8"):
        cs.read_settings(path)


def test_a_file_changed_since_it_was_read_is_not_overwritten(tmp_path: Path) -> None:
    path = write(tmp_path / "settings.json", CLAUDE_WRITTEN)
    plan = cs.plan_install(cs.read_settings(path), netsky_command())
    path.write_text(CLAUDE_WRITTEN.replace("opus", "sonnet"))  # Claude Code saved meanwhile
    with pytest.raises(cs.SettingsFileError, match="changed while"):
        cs.apply(plan)
    assert "sonnet" in path.read_text() and backups(path) == []


# -- status -------------------------------------------------------------------------


def test_inspect_reports_events_executables_and_other_hooks(tmp_path: Path) -> None:
    path = write(tmp_path / "settings.json", CLAUDE_WRITTEN)
    install(path, events=["Stop", "PreToolUse"])
    install(path, events=["SessionEnd"], command="/gone/bin/netsky hook")
    info = cs.inspect(cs.read_settings(path), cs.netsky_executable())
    assert info["events"] == ["SessionEnd", "PreToolUse", "Stop"]
    assert "SessionStart" in info["missing_events"]
    assert info["other_hooks"] == 2
    states = {x["path"]: x["state"] for x in info["executables"]}
    assert states == {str(cs.netsky_executable()): "current", "/gone/bin/netsky": "missing"}
    assert info["stale"] is True


# -- Codex --------------------------------------------------------------------------


CODEX_CONFIG = 'model = "gpt-5-codex"\n\n[projects."/src/app"]\ntrust_level = "trusted"\n'


def codex_argv() -> list[str]:
    return cs.hook_argv(cs.netsky_executable(), framework="codex")


def test_codex_notify_is_added_and_removed_exactly(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", CODEX_CONFIG)
    plan = cs.plan_codex_install(path, codex_argv())
    assert plan.changed and plan.reason is None
    cs.apply_codex(plan)
    data = tomllib.loads(path.read_text())
    assert data["notify"] == codex_argv()
    assert data["projects"] == {"/src/app": {"trust_level": "trusted"}}
    assert not cs.plan_codex_install(path, codex_argv()).changed  # idempotent
    assert cs.inspect_codex(path, cs.netsky_executable())["installed"] is True
    installed = path.read_text()
    assert [b.read_text() for b in backups(path)] == [CODEX_CONFIG]
    cs.apply_codex(cs.plan_codex_uninstall(path))
    assert path.read_text() == CODEX_CONFIG
    assert [b.read_text() for b in backups(path)] == [installed]


def test_codex_notify_of_another_program_is_never_replaced(tmp_path: Path) -> None:
    text = 'notify = ["notify-send", "Codex"]\n' + CODEX_CONFIG
    path = write(tmp_path / "config.toml", text)
    plan = cs.plan_codex_install(path, codex_argv())
    assert plan.text is None and "another program" in (plan.reason or "")
    assert (
        plan.line.startswith('notify = ["') and tomllib.loads(plan.line)["notify"] == codex_argv()
    )
    assert not cs.apply_codex(plan).written and path.read_text() == text
    assert not cs.plan_codex_uninstall(path).changed


def test_codex_netsky_notify_is_updated_in_place(tmp_path: Path) -> None:
    old = 'notify = ["/old/bin/netsky", "hook", "--framework", "codex"]\n' + CODEX_CONFIG
    path = write(tmp_path / "config.toml", old)
    cs.apply_codex(cs.plan_codex_install(path, codex_argv()))
    text = path.read_text()
    assert text.endswith(CODEX_CONFIG) and tomllib.loads(text)["notify"] == codex_argv()


# -- the command line ---------------------------------------------------------------


class Env:
    """An isolated environment for the ``netsky`` executable."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.project = root / "project"
        self.claude = root / "claude-config"
        self.codex = root / "codex"
        for folder in (self.home, self.project):
            folder.mkdir(parents=True, exist_ok=True)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("NETSKY_", "CLAUDE_", "CODEX_", "XDG_"))
        }
        env.update(
            NETSKY_DRAINER_LINGER="0s",  # see the root conftest.py
            HOME=str(self.home),
            CLAUDE_CONFIG_DIR=str(self.claude),
            CODEX_HOME=str(self.codex),
            NETSKY_HOME=str(root / "netsky-home"),
            NETSKY_MACHINE_ID="test-machine",
            NETSKY_DATABASE_URL=f"sqlite:///{root}/store.db",
            TZ="UTC",
        )
        self.env = env

    @property
    def user_settings(self) -> Path:
        return self.claude / "settings.json"

    def run(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(NETSKY), *args],
            cwd=self.project,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )

    def ok(self, *args: str) -> subprocess.CompletedProcess[str]:
        proc = self.run(*args)
        assert proc.returncode == 0, proc
        return proc


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(tmp_path)


def test_cli_install_json_then_again_then_uninstall(env: Env) -> None:
    write(env.user_settings, CLAUDE_WRITTEN)
    first = json.loads(env.ok("hooks", "install", "--json").stdout)
    assert first["framework"] == "claude" and first["scope"] == "user"
    assert first["path"] == str(env.user_settings)
    assert first["changed"] is True and first["dry_run"] is False and first["created"] is False
    assert first["added"] == list(cs.HOOK_EVENTS) and first["updated"] == []
    assert first["command"] == f"{NETSKY.resolve()} hook"
    assert first["timeout"] == cs.DEFAULT_TIMEOUT
    assert Path(first["backup"]).read_text() == CLAUDE_WRITTEN
    installed = env.user_settings.read_text()

    again = env.ok("hooks", "install")
    assert "already installed" in again.stdout and "nothing changed" in again.stdout
    assert env.user_settings.read_text() == installed and len(backups(env.user_settings)) == 1

    removed = json.loads(env.ok("hooks", "uninstall", "--json").stdout)
    assert sorted(removed["removed"]) == sorted(cs.HOOK_EVENTS) and removed["changed"] is True
    assert env.user_settings.read_text() == CLAUDE_WRITTEN


def test_cli_dry_run_prints_the_diff_and_writes_nothing(env: Env) -> None:
    proc = env.ok("hooks", "install", "--scope", "project", "--dry-run")
    target = env.project / ".claude" / "settings.json"
    assert proc.stdout.startswith(f"--- /dev/null\n+++ {target}\n")
    assert f'+            "command": "{NETSKY.resolve()} hook",' in proc.stdout
    assert "dry run: nothing was written" in proc.stdout
    assert not (env.project / ".claude").exists()


def test_cli_never_prints_the_password(env: Env) -> None:
    db = f"postgresql://me:{PASSWORD}@127.0.0.1:1/netsky?connect_timeout=1"
    outputs = []
    for args in (
        ("hooks", "install", "--scope", "local", "--db", db, "--dry-run"),
        ("hooks", "install", "--scope", "local", "--db", db),
        ("hooks", "install", "--scope", "local", "--db", db, "--json"),
        ("hooks", "status"),
        ("hooks", "status", "--json"),
        ("hooks", "install", "--framework", "codex", "--db", db),
        ("hooks", "uninstall", "--scope", "local", "--dry-run"),
    ):
        proc = env.ok(*args)
        outputs.append(proc.stdout + proc.stderr)
    assert all(PASSWORD not in out for out in outputs), outputs
    assert "***" in outputs[0]
    written = json.loads((env.project / ".claude" / "settings.local.json").read_text())
    command = written["hooks"]["Stop"][0]["hooks"][0]["command"]
    assert shlex.split(command)[1:] == ["hook", "--db", db]  # the file has the real URL
    status = json.loads(outputs[4])
    assert status["store"]["reachable"] is False and "***" in status["store"]["url"]


def test_cli_refuses_a_malformed_file_untouched(env: Env) -> None:
    bad = '{"hooks": {"Stop": "echo"}}\n'
    write(env.user_settings, bad)
    for args in (("hooks", "install"), ("hooks", "uninstall"), ("hooks", "install", "--dry-run")):
        proc = env.run(*args)
        assert proc.returncode == 1, proc
        assert proc.stdout == "" and "Traceback" not in proc.stderr
        (line,) = proc.stderr.strip().splitlines()
        assert line.startswith("netsky: error: ") and "hooks.Stop is not a list" in line
    assert env.user_settings.read_text() == bad and backups(env.user_settings) == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("hooks", "install", "--events", "PreToolUse,Bogus"), "unknown event Bogus"),
        (("hooks", "install", "--timeout", "0"), "--timeout"),
        (("hooks", "install", "--scope", "global"), "invalid choice"),
        (("hooks", "install", "--db", "not-a-url"), "not a storage URL"),
        (("hooks", "install", "--framework", "codex", "--scope", "local"), "Codex"),
    ],
)
def test_cli_usage_errors(env: Env, args: tuple[str, ...], needle: str) -> None:
    proc = env.run(*args)
    assert proc.returncode == 2, proc
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("netsky: error: ") and needle in line
    assert not env.user_settings.exists()


def test_cli_status_json_shape(env: Env) -> None:
    env.ok("hooks", "install", "--events", "Stop,SessionEnd")
    write(env.project / ".claude" / "settings.local.json", '{"hooks": []}')
    status = json.loads(env.ok("hooks", "status", "--json").stdout)
    assert set(status) == {
        "executable",
        "scopes",
        "codex",
        "store",
        "stores",
        "spool",
        "warnings",
    }
    assert status["executable"] == str(NETSKY.resolve())
    assert [s["scope"] for s in status["scopes"]] == ["user", "project", "local"]
    user, project, local = status["scopes"]
    assert user["path"] == str(env.user_settings) and user["exists"] is True
    assert user["events"] == ["SessionEnd", "Stop"] and user["error"] is None
    assert user["commands"] == [f"{NETSKY.resolve()} hook"]
    assert user["executables"] == [{"path": str(NETSKY.resolve()), "state": "current"}]
    assert user["stale"] is False and user["other_hooks"] == 0
    assert "PreToolUse" in user["missing_events"]
    assert project["exists"] is False and project["events"] == []
    assert "hooks is not an object" in local["error"]
    assert status["codex"]["installed"] is False
    assert status["store"]["reachable"] is True and status["store"]["url"].startswith("sqlite:")
    assert status["spool"]["pending"] == 0
    assert any("local" in w for w in status["warnings"])


def test_cli_status_checks_the_store_of_every_installed_hook(env: Env) -> None:
    """Two scopes, two stores, the second one down: status names the one that is
    down (it used to check the first only) and each store's spool."""
    blocker = env.root / "blocked"
    blocker.write_text("a file where the store's folder should be")
    up, down = f"sqlite:///{env.root}/up.db", f"sqlite:///{blocker}/down.db"
    env.ok("hooks", "install", "--events", "Stop", "--db", up)
    env.ok("hooks", "install", "--scope", "project", "--events", "Stop", "--db", down)
    status = json.loads(env.ok("hooks", "status", "--json").stdout)
    assert [(s["url"], s["reachable"]) for s in status["stores"]] == [(up, True), (down, False)]
    assert any(down in w and "cannot reach" in w for w in status["warnings"])
    assert not any(up in w and "cannot reach" in w for w in status["warnings"])


def test_a_hook_command_with_global_options_before_hook_is_netskys() -> None:
    parsed = cs.parse_hook_command(
        "/opt/bin/netsky --db sqlite:////s.db --debug hook --no-transcript"
    )
    assert parsed == cs.HookCommand(
        executable="/opt/bin/netsky", db="sqlite:////s.db", transcript=False
    )
    assert cs.parse_hook_command("/opt/bin/netsky --db hook") is None  # --db's value
    assert cs.parse_hook_command("/opt/bin/netsky sessions hook") is None


def test_cli_status_warns_about_a_moved_executable(env: Env) -> None:
    write(
        env.user_settings,
        json.dumps(
            {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "/gone/netsky hook"}]}]}}
        ),
    )
    proc = env.ok("hooks", "status", "--scope", "user")
    assert "missing" in proc.stdout
    assert "/gone/netsky, which does not exist" in proc.stderr
    env.ok("hooks", "install", "--events", "Stop")  # points it at this netsky again
    data = json.loads(env.user_settings.read_text())
    assert data["hooks"]["Stop"][0]["hooks"][0]["command"] == f"{NETSKY.resolve()} hook"


def test_cli_codex_install_and_uninstall(env: Env) -> None:
    config = write(env.codex / "config.toml", CODEX_CONFIG)
    env.ok("hooks", "install", "--framework", "codex")
    assert tomllib.loads(config.read_text())["notify"] == [
        str(NETSKY.resolve()),
        "hook",
        "--framework",
        "codex",
    ]
    status = json.loads(env.ok("hooks", "status", "--json").stdout)
    assert status["codex"]["installed"] is True
    assert status["codex"]["executable_state"] == "current"
    env.ok("hooks", "uninstall", "--framework", "codex")
    assert config.read_text() == CODEX_CONFIG
    config.write_text('notify = ["say", "done"]\n')
    proc = env.ok("hooks", "install", "--framework", "codex")
    assert "did not change" in proc.stdout and 'notify = ["' in proc.stdout
    assert config.read_text() == 'notify = ["say", "done"]\n'


def test_cli_help_has_examples(env: Env) -> None:
    for action in ("install", "uninstall", "status"):
        out = env.ok("hooks", action, "--help").stdout
        assert "examples:" in out and f"netsky hooks {action}" in out


# -- end to end: the written command, run by a shell as Claude Code does ------------


def test_the_written_command_stores_a_real_payload(env: Env) -> None:
    samples = sorted(SAMPLES.glob("hooks/*/pre_tool_use.json"))
    if not samples:
        pytest.skip(f"no hook samples under {SAMPLES}")
    payload = json.loads(samples[0].read_text())[0]
    env.ok("hooks", "install")
    settings = json.loads(env.user_settings.read_text())
    (group,) = settings["hooks"]["PreToolUse"]
    assert group["matcher"] == "*"
    command = group["hooks"][0]["command"]
    exe = Path(shlex.split(command)[0])
    assert exe.is_absolute() and exe.is_file() and os.access(exe, os.X_OK)

    db = env.root / "s.db"
    shell_env = {**env.env, "NETSKY_DATABASE_URL": f"sqlite:///{db}"}
    proc = subprocess.run(
        command,
        shell=True,
        input=json.dumps(payload),
        env=shell_env,
        cwd=env.project,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc
    assert proc.stdout == "" and proc.stderr == ""
    events = wait_for_events(f"sqlite:///{db}")
    assert [(e.event_type, e.tool_use_id, e.session_id) for e in events] == [
        ("PreToolUse", payload["tool_use_id"], payload["session_id"])
    ]


def wait_for_events(url: str, timeout: float = 30.0) -> list[Any]:
    """The stored events, waiting for a hook that stores in the background."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open_storage(url, read_only=True) as store:
                events = store.query(EventQuery())
            if events:
                return events
        except Exception:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            return []
        time.sleep(0.1)
