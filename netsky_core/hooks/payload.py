"""Hook payloads (JSON on a hook's stdin) -> events.

Claude Code sends ``{"session_id", "transcript_path", "cwd", "hook_event_name", ...}``;
Codex's notify hook sends ``{"type": "agent-turn-complete", "thread-id", ...}`` and
newer Codex hooks send Claude-like payloads. The ids derived here are the ones the
transcript parser derives for the same real events (``tool_use:<id>``,
``tool_result:<id>``, ``subagent:<id>``), so a tool call seen by a hook and in the
transcript is stored once. Events without such an id get a random one, assigned once
at receipt (and kept in the spool), so a replay never duplicates them.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # records (attrs) are imported by to_event only: the hook's fast path
    from datetime import datetime  # validates and spools without them (nor typing)
    from typing import Any

    from .._records import Event

__all__ = ["HookInputError", "agent_process", "check_payload", "hook_uuid", "to_event"]

PRE_TOOL_USE = "PreToolUse"
POST_TOOL_USE = "PostToolUse"
POST_TOOL_USE_FAILURE = "PostToolUseFailure"
SUBAGENT_START = "SubagentStart"
SUBAGENT_STOP = "SubagentStop"
USER_PROMPT_SUBMIT = "UserPromptSubmit"

_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "fish", "ksh", "tcsh", "csh", "env", "timeout"})


class HookInputError(ValueError):
    """The hook input is not a payload netsky can store."""


def _text(value: Any) -> str | None:
    """A string field every store can keep: NULs dropped, lone surrogates replaced."""
    if not isinstance(value, str) or not value:
        return None
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
    return value or None


def hook_uuid(payload: dict[str, Any], event_type: str, random_id: str) -> str:
    """The dedup id of a hook event (shared with transcript-derived events)."""
    tool_use_id = _text(payload.get("tool_use_id"))
    agent_id = _text(payload.get("agent_id"))
    if tool_use_id:
        if event_type == PRE_TOOL_USE:
            return f"tool_use:{tool_use_id}"
        if event_type in (POST_TOOL_USE, POST_TOOL_USE_FAILURE):
            return f"tool_result:{tool_use_id}"
    if agent_id:
        if event_type == SUBAGENT_START:
            return f"subagent:{agent_id}"
        if event_type == SUBAGENT_STOP:
            return f"subagent_stop:{agent_id}"
    prompt_id = _text(payload.get("prompt_id"))
    if prompt_id and event_type == USER_PROMPT_SUBMIT:
        return f"prompt:{prompt_id}"
    return f"hook:{random_id}"


def _proc_stat(pid: int) -> tuple[str, int, int] | None:
    from .._process import proc_stat

    return proc_stat(pid)


def agent_process() -> tuple[int | None, int | None]:
    """The agent's pid and process start time: the hook's parent, skipping shells."""
    pid = os.getppid()
    if pid <= 1:
        return None, None
    if not sys.platform.startswith("linux"):
        return pid, None
    for _ in range(4):
        info = _proc_stat(pid)
        if info is None:
            return pid, None
        comm, ppid, start = info
        if comm not in _SHELLS or ppid <= 1:
            return pid, start
        pid = ppid
    return pid, None


def check_payload(payload: Any, framework: str) -> tuple[str, str]:
    """The (event type, session id) of a hook payload; ``HookInputError`` if it has none."""
    if not isinstance(payload, dict):
        raise HookInputError(f"hook input is JSON {type(payload).__name__}, not an object")
    if framework == "codex" and "hook_event_name" not in payload:
        kind = _text(payload.get("type"))
        event_type = {"agent-turn-complete": "Stop"}.get(kind or "", kind or "")
        session_id = _text(payload.get("session_id")) or _text(payload.get("thread-id"))
    else:
        event_type = _text(payload.get("hook_event_name")) or ""
        session_id = _text(payload.get("session_id"))
    if not event_type:
        raise HookInputError("hook input has no hook_event_name")
    if not session_id:
        raise HookInputError(f"{event_type} hook input has no session_id")
    return event_type, session_id


def to_event(
    payload: Any,
    *,
    raw: str,
    framework: str,
    machine_id: str,
    received_at: datetime,
    random_id: str,
    pid: int | None,
    process_start_time: int | None,
    git_branch: str | None = None,
) -> Event:
    """The event a hook payload describes (``HookInputError`` if it is not one)."""
    from .._records import Event, EventSource

    event_type, session_id = check_payload(payload, framework)
    agent_id = _text(payload.get("agent_id"))
    agent_type = _text(payload.get("agent_type"))
    lifecycle = event_type in (SUBAGENT_START, SUBAGENT_STOP)
    duration = payload.get("duration_ms")
    metadata = None
    if agent_id and not lifecycle:
        import json

        metadata = json.dumps({"agent_id": agent_id, "agent_type": agent_type})
    elif event_type == "PlanLimits":  # kept by `netsky statusline` (see live.limits)
        import json

        from ..live.limits import claude_windows

        metadata = json.dumps({"windows": claude_windows(payload.get("rate_limits"))})
    return Event(
        machine_id=machine_id,
        session_id=session_id,
        event_type=event_type,
        timestamp=received_at,
        uuid=hook_uuid(payload, event_type, random_id),
        framework=framework,
        source=EventSource.HOOK,
        tool_use_id=_text(payload.get("tool_use_id")),
        tool_name=_text(payload.get("tool_name")),
        spawned_agent_id=agent_id if lifecycle else None,
        subagent_type=agent_type if lifecycle else None,
        permission_mode=_text(payload.get("permission_mode")),
        transcript_path=_text(payload.get("transcript_path")),
        pid=pid,
        process_start_time=process_start_time,
        cwd=_text(payload.get("cwd")),
        git_branch=git_branch,
        model=_text(payload.get("model")),
        duration_ms=duration if type(duration) is int and 0 <= duration < 1 << 63 else None,
        is_sidechain=bool(agent_id) and not lifecycle,
        payload=_text(raw),
        metadata=metadata,
    )
