"""How values are shown to people: one rule per kind of value, used by every table
(terminal and HTML), so a model, a prompt, an id, a count or a cost reads the same
everywhere.

- models: ``claude-sonnet-4-5-20250929`` -> ``sonnet-4-5`` (vendor prefix and date dropped)
- prompts: a slash command stored as ``<command-name>/model</command-name>...`` -> ``/model``
- ids: the first 8 characters (every command takes a unique prefix)
- counts: thousands separators (``1,234,567``)
- costs: two decimals (``$1,234.56``); a positive cost that rounds to $0.00 is ``<$0.01``;
  an unknown cost is ``unknown``, never ``$0``; nothing to price (no requests) is ``-``
"""

from __future__ import annotations

import re

__all__ = [
    "SHORT_ID",
    "count",
    "event_kind",
    "event_text",
    "money",
    "prompt_text",
    "request_cost",
    "short_id",
    "short_model",
]

SHORT_ID = 8

_DATE_SUFFIX = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})$")
_VENDOR = ("claude-", "anthropic/", "openai/")
_TAG = re.compile(r"<([a-z][a-z0-9-]*)>(.*?)</\1>", re.DOTALL)
_DROPPED_TAGS = {"command-message", "local-command-caveat", "system-reminder"}


def short_model(name: str | None) -> str:
    """``claude-sonnet-4-5-20250929`` -> ``sonnet-4-5``; other names unchanged."""
    if not name:
        return "(no model)"
    for prefix in _VENDOR:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return _DATE_SUFFIX.sub("", name) or name


def prompt_text(text: str | None) -> str:
    """A prompt as its author typed it: a slash command's tags become the command
    (``/model``, ``/review 12``); other markup tags keep their text; whitespace is
    flattened to single spaces."""
    if not text:
        return ""
    if "<" not in text:
        return " ".join(text.split())
    parts: dict[str, str] = {}
    for match in _TAG.finditer(text):
        parts.setdefault(match.group(1), match.group(2).strip())
    if "command-name" in parts:
        name = parts["command-name"]
        if not name.startswith("/"):
            name = "/" + name
        shown = f"{name} {parts.get('command-args', '')}"
    else:
        shown = _TAG.sub(lambda m: "" if m.group(1) in _DROPPED_TAGS else f" {m.group(2)} ", text)
    return " ".join(shown.split())


def short_id(value: str) -> str:
    """The first :data:`SHORT_ID` characters of a session id."""
    return value[:SHORT_ID]


def count(value: int | None) -> str:
    """A count with thousands separators; ``-`` when unknown."""
    return "-" if value is None else f"{value:,}"


def money(value: float | None) -> str:
    """A cost: ``$1,234.56``, ``<$0.01`` for a positive cost that rounds to $0.00, ``$0.00``,
    or ``unknown`` (never shown as $0)."""
    if value is None:
        return "unknown"
    if 0 < value < 0.005:
        return "<$0.01"
    return f"${value:,.2f}"


def request_cost(value: float | None, requests: int) -> str:
    """The cost of ``requests`` API requests: ``-`` when there is none to price."""
    if requests == 0 and not value:
        return "-"
    return money(value)


_TOOL_INPUT_KEYS = (
    "command",
    "file_path",
    "path",
    "notebook_path",
    "pattern",
    "query",
    "url",
    "description",
    "prompt",
)
_KINDS = {
    "SessionStart": "start",
    "SessionEnd": "end",
    "UserPromptSubmit": "prompt",
    "PreToolUse": "tool",
    "PostToolUse": "tool result",
    "PostToolUseFailure": "tool failed",
    "PermissionRequest": "permission",
    "Notification": "notification",
    "Stop": "stop",
    "SubagentStart": "subagent",
    "SubagentStop": "subagent end",
    "PreCompact": "compact",
    "PostCompact": "compacted",
    "ApiRequest": "response",
    "ApiError": "api error",
    "ApiRequestRepeated": "response (repeat)",
}


def event_kind(event_type: str) -> str:
    """A timeline word for an event type (``PreToolUse`` -> ``tool``); unknown types as given."""
    return _KINDS.get(event_type, event_type)


def event_text(
    event_type: str,
    payload: dict[str, object] | None,
    *,
    tool_name: str | None = None,
    model: str | None = None,
    total_tokens: int | None = None,
    cost_usd: float | None = None,
) -> str:
    """One line about an event: the prompt, the tool and what it was given, the model
    and tokens of a response."""
    data = payload or {}
    if event_type == "UserPromptSubmit":
        return prompt_text(_text(data.get("prompt")))
    if event_type in ("ApiRequest", "ApiRequestRepeated"):
        parts = [short_model(model)]
        if total_tokens is not None:
            parts.append(f"{count(total_tokens)} tokens")
        if event_type == "ApiRequest":
            parts.append(money(cost_usd))
        return " \u00b7 ".join(parts)
    if event_type in ("PreToolUse", "PostToolUse", "PostToolUseFailure", "PermissionRequest"):
        name = tool_name or _text(data.get("tool_name"))
        detail = ""
        tool_input = data.get("tool_input")
        if event_type != "PostToolUse" and isinstance(tool_input, dict):
            for key in _TOOL_INPUT_KEYS:
                if isinstance(tool_input.get(key), str) and tool_input[key]:
                    detail = str(tool_input[key])
                    break
        elif event_type == "PostToolUse" and data.get("is_error") is True:
            detail = "error"
        return " ".join(f"{name} {detail}".split())
    for key in ("message", "reason", "notification_type", "source", "agent_type"):
        if isinstance(data.get(key), str) and data[key]:
            return " ".join(str(data[key]).split())
    return ""


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
