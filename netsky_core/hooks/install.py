"""Wiring ``netsky hook`` into Claude Code's settings files (and Codex's ``notify``).

Pure logic: find, read, plan, write and remove; nothing here prints. The
``netsky hooks`` command (:mod:`netsky_core.cli.commands.hooks`) is the front end.

Facts about Claude Code this module relies on (hooks reference,
https://code.claude.com/docs/en/hooks, and Claude Code's issue tracker):

* Settings files: user ``~/.claude/settings.json`` (``CLAUDE_CONFIG_DIR`` replaces
  ``~/.claude``), project ``<dir>/.claude/settings.json`` (shared, usually committed),
  local ``<dir>/.claude/settings.local.json`` (not committed). Hooks of all of them run.
* Shape: ``"hooks": {"<Event>": [{"matcher": "...", "hooks": [{"type": "command",
  "command": "...", "timeout": <seconds>}]}]}``.
* ``matcher``: ``"*"``, ``""`` or no matcher match every occurrence. Tool events
  (PreToolUse, PostToolUse, PostToolUseFailure, PermissionRequest) match the tool
  name; other events match other fields or have no matcher at all, so netsky writes
  ``"*"`` for tool events and no matcher elsewhere.
* A settings file with an error, including an event name the running Claude Code
  does not know, is skipped whole ("Invalid key in record"): only known event names
  are ever written, and a malformed file is refused, never "repaired".
* Claude Code rewrites settings files itself and drops unknown keys inside hook
  groups, so netsky recognises its entries by their command (an executable named
  ``netsky`` followed by ``hook``), never by a marker key.
"""

from __future__ import annotations

from ._files import (
    SCOPES,
    SettingsFileError,
    WriteResult,
)
from .codex_config import (
    CodexPlan,
    apply_codex,
    codex_notify,
    inspect_codex,
    plan_codex_install,
    plan_codex_uninstall,
)
from .command import (
    HookCommand,
    claude_home,
    codex_config_path,
    executable_state,
    hook_argv,
    hook_command,
    is_netsky_command,
    is_netsky_statusline,
    mask_command,
    netsky_executable,
    parse_hook_command,
    settings_path,
    statusline_command,
)
from .events import (
    DEFAULT_TIMEOUT,
    HOOK_EVENTS,
    NEWER_EVENTS,
    SELECTABLE_EVENTS,
    TOOL_EVENTS,
)
from .settings import (
    Plan,
    SettingsFile,
    apply,
    inspect,
    installed_commands,
    plan_install,
    plan_statusline,
    plan_uninstall,
    read_settings,
    unplan_statusline,
)
from .spool import absolute_store_url

__all__ = [
    "DEFAULT_TIMEOUT",
    "HOOK_EVENTS",
    "NEWER_EVENTS",
    "SCOPES",
    "SELECTABLE_EVENTS",
    "TOOL_EVENTS",
    "CodexPlan",
    "HookCommand",
    "Plan",
    "SettingsFile",
    "SettingsFileError",
    "WriteResult",
    "absolute_store_url",
    "apply",
    "apply_codex",
    "claude_home",
    "codex_config_path",
    "codex_notify",
    "executable_state",
    "hook_argv",
    "hook_command",
    "inspect",
    "inspect_codex",
    "installed_commands",
    "is_netsky_command",
    "is_netsky_statusline",
    "mask_command",
    "netsky_executable",
    "parse_hook_command",
    "plan_codex_install",
    "plan_codex_uninstall",
    "plan_install",
    "plan_statusline",
    "plan_uninstall",
    "read_settings",
    "settings_path",
    "statusline_command",
    "unplan_statusline",
]
