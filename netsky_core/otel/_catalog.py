"""The event and metric names the agents document, and their service names.

The facts and their sources are listed in :mod:`netsky_core.otel.decode`.
"""

from __future__ import annotations

CLAUDE = "claude"
CODEX = "codex"
PREFIX = {CLAUDE: "claude_code.", CODEX: "codex."}

CLAUDE_EVENTS = frozenset(
    "claude_code." + name
    for name in (
        "user_prompt",
        "assistant_response",
        "tool_result",
        "tool_decision",
        "api_request",
        "api_error",
        "api_refusal",
        "api_request_body",
        "api_response_body",
        "permission_mode_changed",
        "auth",
        "mcp_server_connection",
        "internal_error",
        "plugin_installed",
        "plugin_loaded",
        "skill_activated",
        "at_mention",
        "api_retries_exhausted",
        "hook_registered",
        "hook_execution_start",
        "hook_execution_complete",
        "hook_plugin_metrics",
        "compaction",
        "subagent_completed",
        "feedback_survey",
        "retention_sweep",
    )
)
CODEX_EVENTS = frozenset(
    "codex." + name
    for name in (
        "conversation_starts",
        "api_request",
        "sse_event",
        "user_prompt",
        "tool_decision",
        "tool_result",
        "websocket_request",
        "websocket_event",
    )
)
KNOWN_EVENTS = CLAUDE_EVENTS | CODEX_EVENTS

CLAUDE_METRICS = frozenset(
    "claude_code." + name
    for name in (
        "session.count",
        "lines_of_code.count",
        "pull_request.count",
        "commit.count",
        "cost.usage",
        "token.usage",
        "code_edit_tool.decision",
        "active_time.total",
    )
)

#: Values an agent puts in place of text it was told not to export.
REDACTED = frozenset({"<REDACTED>", "[REDACTED]", "REDACTED", "<redacted>", "[redacted]"})


def framework_of_service(service: object) -> str | None:
    """The agent a resource's ``service.name`` names, or None."""
    if not isinstance(service, str):
        return None
    name = service.strip().lower()
    if name.startswith("claude"):
        return CLAUDE
    if name.startswith("codex"):
        return CODEX
    return None


def framework_of_name(name: str) -> str | None:
    for framework, prefix in PREFIX.items():
        if name.startswith(prefix):
            return framework
    return None
