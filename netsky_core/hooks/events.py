"""The Claude Code hook events netsky installs, as plain constants.

Kept apart from ``install`` (which edits settings files and imports much more)
so that building the command line's help does not pay for that module.
"""

from __future__ import annotations

__all__ = ["DEFAULT_TIMEOUT", "HOOK_EVENTS", "NEWER_EVENTS", "SELECTABLE_EVENTS", "TOOL_EVENTS"]

#: The events netsky hooks by default, in the order they are added to a file.
HOOK_EVENTS: tuple[str, ...] = (
    "SessionStart",
    "SessionEnd",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "PermissionRequest",
    "Notification",
    "Stop",
    "SubagentStart",
    "SubagentStop",
    "PreCompact",
)
#: Events ``--events`` accepts: the defaults plus ones netsky knows but does not
#: hook by default (an unknown name would make Claude Code skip the whole file).
SELECTABLE_EVENTS: tuple[str, ...] = (*HOOK_EVENTS, "PostCompact")
#: Events whose matcher is a tool name; netsky matches every tool with ``"*"``.
TOOL_EVENTS = frozenset({"PreToolUse", "PostToolUse", "PostToolUseFailure", "PermissionRequest"})
#: Events added in later Claude Code versions (SubagentStart 2.0.43, PermissionRequest
#: 2.0.45, the others later): an older Claude Code rejects a file that names them.
NEWER_EVENTS = frozenset(
    {"SubagentStart", "PermissionRequest", "PostToolUseFailure", "PostCompact"}
)
#: Seconds Claude Code lets the hook run (it normally exits in about 0.1 s).
DEFAULT_TIMEOUT = 10
