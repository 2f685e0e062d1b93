"""The documentation of the views' columns (shown by the README and ``--help``)."""

from __future__ import annotations

__all__ = ["COMMON_DOCS", "EVENT_DOCS", "SESSION_DOCS", "TOKENS_DOC", "column_doc"]

EVENT_DOCS = {
    "id": "the store's row id (order of arrival within one store)",
    "machine_id": "machine that recorded the event",
    "session_id": "agent session id; sessions are keyed by (machine_id, session_id)",
    "event_type": "SessionStart, UserPromptSubmit, PreToolUse, PostToolUse, ApiRequest, ... (open set)",
    "timestamp": "when it happened (UTC instant)",
    "uuid": "dedup key within the session (NULL for events without one)",
    "framework": "the source that recorded it (claude, codex, gemini, ...; NULL when unknown)",
    "source": "hook, transcript, otel, api or import",
    "tool_use_id": "tool call id (PreToolUse / PostToolUse*)",
    "tool_name": "tool name (Bash, Edit, apply_patch, ...)",
    "spawned_agent_id": "subagent id (SubagentStart / SubagentStop)",
    "subagent_type": "subagent type (Task / Agent tool calls, SubagentStart)",
    "permission_mode": "permission mode reported by the hook",
    "transcript_path": "transcript file the event came from or names",
    "pid": "agent process id (hooks)",
    "process_start_time": "agent process start time (hooks)",
    "cwd": "working directory",
    "git_branch": "git branch",
    "model": "model name (ApiRequest)",
    "tokens_input": "input tokens (NULL: unknown)",
    "tokens_output": "output tokens",
    "tokens_cache_read": "cache read tokens",
    "tokens_cache_write": "cache creation tokens",
    "tokens_reasoning": "reasoning tokens reported apart from output (NULL: part of output)",
    "cost_usd": "cost in USD (NULL: unknown, e.g. an unpriced model)",
    "duration_ms": "duration reported by the agent",
    "is_sidechain": "true for subagent (sidechain) activity",
    "payload": "the event's JSON payload (prompt, tool input, raw line, ...) as text",
    "metadata": "netsky's JSON metadata (message_id, request_id, cache split, ...) as text",
}

SESSION_DOCS = {
    "framework": "the source (claude, codex, gemini, ...)",
    "first_activity": "first event",
    "last_activity": "last event",
    "first_started_at": "first SessionStart",
    "last_started_at": "last SessionStart",
    "first_ended_at": "first SessionEnd",
    "last_ended_at": "last SessionEnd",
    "revival_count": "resumes (SessionStart with source=resume)",
    "status": "live status from hooks: Idle, Busy, Wait, Done (NULL: transcript only)",
    "status_updated_at": "when the status was set",
    "pid": "agent process id",
    "cwd": "latest working directory",
    "local_git_dir": "git directory",
    "git_branch": "latest git branch",
    "git_worktree_path": "git worktree",
    "github_repo": "owner/name",
    "github_issue": "issue number named by the branch",
    "github_pr": "pull request number",
    "first_user_message": "first prompt (shortened to 2000 characters)",
    "last_user_message": "latest prompt",
    "model": "latest model",
    "transcript_path": "latest transcript file",
    "event_count": "events stored for the session (all sources)",
    "message_count": "prompts (the larger of the hook and transcript counts)",
    "compaction_count": "compactions",
    "tool_call_count": "PreToolUse events",
    "api_request_count": "ApiRequest events",
    "api_error_count": "ApiError events",
    "tokens_input": "input tokens (NULL: no usage known)",
    "tokens_output": "output tokens",
    "tokens_cache_read": "cache read tokens",
    "tokens_cache_write": "cache creation tokens",
    "tokens_reasoning": "reasoning tokens reported apart from output",
    "unpriced_request_count": "API requests without a known price",
    "cost_picousd": "cost in 10^-12 USD (exact sum; NULL: nothing priced)",
    "cost_usd": "cost in USD (NULL: nothing priced)",
    "process_start_time": "agent process start time",
    "hook_event_count": "events from hooks",
    "transcript_event_count": "events from transcripts",
    "otel_event_count": "events from OpenTelemetry",
    "api_event_count": "events written through the API",
    "import_event_count": "events imported from an export",
    "prompts_hook": "prompts seen by hooks",
    "prompts_transcript": "prompts seen in transcripts",
    "prompts_other": "prompts from other sources",
    "compactions_hook": "compactions seen by hooks",
    "compactions_transcript": "compactions seen in transcripts",
    "compactions_other": "compactions from other sources",
    "usage_event_count": "events carrying token counts",
    "priced_event_count": "events carrying a cost",
}

COMMON_DOCS = {
    "machine_id": "machine that recorded it",
    "session_id": "agent session id",
    "framework": "the source (claude, codex, gemini, ...)",
    "cwd": "working directory",
    "git_branch": "git branch",
    "timestamp": "when it happened",
    "tool_use_id": "tool call id",
    "model": "model name",
    "source": "hook, transcript, ...",
    "id": "event row id",
}


def column_doc(view: str, column: str, text: str) -> str:
    if text:
        return text
    if column.endswith("_at"):
        return f"when `{column[:-3]}` was last observed"
    return COMMON_DOCS.get(column, "")


TOKENS_DOC = (
    ("input_tokens", "input tokens (NULL: unknown)"),
    ("output_tokens", "output tokens (reasoning included)"),
    ("cache_creation_tokens", "cache creation (write) tokens (NULL for Codex: not reported)"),
    ("cache_read_tokens", "cache read tokens"),
    ("reasoning_tokens", "reasoning tokens reported apart from output (NULL: part of output)"),
    ("total_tokens", "sum of the five (unknown parts count 0)"),
)
