"""The SQL views analytics offers over the base tables, and what each one needs.

Every view reads ``netsky_raw.<base table>`` and re-applies the connection's time
range, so a loader that ignored the range still gives the right answer. Each
:class:`View` declares the base table, event types and event columns it reads: the
loader reads nothing more (``open_analytics(tables=...)`` and ``netsky query`` load
only what the referenced views need).

Timestamps are ``TIMESTAMPTZ``; DuckDB shows them and cuts days in the connection's
``TimeZone`` setting (``open_analytics(timezone=...)``, default the system's zone).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from ._tables import RAW_SCHEMA, base_columns
from ._view_docs import EVENT_DOCS, SESSION_DOCS, TOKENS_DOC, column_doc

__all__ = [
    "COST_SUM",
    "SUM_COLUMNS",
    "TOKEN_COLUMNS",
    "USAGE_BASE_COLUMNS",
    "VIEWS",
    "View",
    "column_docs",
    "needed_views",
    "render_sql",
    "render_view",
    "usage_rows_sql",
]


PRE_TOOL = "PreToolUse"
POST_TOOLS = ("PostToolUse", "PostToolUseFailure")
API = "ApiRequest"
PROMPT = "UserPromptSubmit"


@attrs.frozen
class View:
    """One view: its SQL template, what it reads, and its documented columns."""

    name: str
    base: str
    sql: str
    doc: str
    columns: tuple[tuple[str, str], ...]
    event_types: frozenset[str] | None = None
    event_columns: tuple[str, ...] | None = None
    depends: tuple[str, ...] = ()


def _t(name: str) -> str:
    return f"{RAW_SCHEMA}.{name}"


_EVENTS_SQL = (
    "SELECT "
    + ", ".join(f'"{c.name}"' for c in base_columns("events"))
    + f" FROM {_t('events')} WHERE {{range}}"
)

_API_META = (
    '{"cache_write_5m": "BIGINT", "cache_write_1h": "BIGINT", '
    '"reasoning_output_tokens": "BIGINT", "message_id": "VARCHAR", "request_id": "VARCHAR", '
    '"speed": "VARCHAR", "service_tier": "VARCHAR", "stop_reason": "VARCHAR", "agent_id": "VARCHAR"}'
)

TOKEN_COLUMNS = """
    tokens_input AS input_tokens,
    tokens_output AS output_tokens,
    tokens_cache_write AS cache_creation_tokens,
    tokens_cache_read AS cache_read_tokens,
    tokens_reasoning AS reasoning_tokens,
    coalesce(tokens_input, 0) + coalesce(tokens_output, 0)
        + coalesce(tokens_cache_write, 0) + coalesce(tokens_cache_read, 0)
        + coalesce(tokens_reasoning, 0) AS total_tokens,
    cost_usd"""
"""The accounting columns of an ApiRequest row, shared by every view and report."""

USAGE_BASE_COLUMNS = (
    "machine_id",
    "session_id",
    "uuid",
    "framework",
    "model",
    "tokens_input",
    "tokens_output",
    "tokens_cache_read",
    "tokens_cache_write",
    "tokens_reasoning",
    "cost_usd",
    "is_sidechain",
)
"""The ``events`` columns usage rows need (accounting, day, model, framework, dedup)."""


def _api_rows(columns: str = "*") -> str:
    """FROM-able SQL of the ApiRequest rows (``{range}`` to be filled): one per API
    response, the store bills each response once (``netsky_core.storage.billing``);
    the other copies are ``ApiRequestRepeated`` events."""
    return f"(SELECT {columns} FROM {_t('events')} WHERE event_type = '{API}' AND {{range}})"


COST_SUM = "CAST(sum(CAST(round(cost_usd * 1e12) AS BIGINT)) AS DOUBLE) / 1e12"
"""Exact, order-independent cost sum (picodollars); NULL when nothing is priced."""

_API_SQL = f"""
SELECT id, machine_id, session_id, "timestamp", framework, source, model,{TOKEN_COLUMNS},
    struct_extract(netsky_meta, 'cache_write_5m') AS cache_creation_5m_tokens,
    struct_extract(netsky_meta, 'cache_write_1h') AS cache_creation_1h_tokens,
    struct_extract(netsky_meta, 'reasoning_output_tokens') AS reasoning_output_tokens,
    struct_extract(netsky_meta, 'speed') AS speed,
    struct_extract(netsky_meta, 'service_tier') AS service_tier,
    struct_extract(netsky_meta, 'stop_reason') AS stop_reason,
    struct_extract(netsky_meta, 'message_id') AS message_id,
    struct_extract(netsky_meta, 'request_id') AS request_id,
    struct_extract(netsky_meta, 'agent_id') AS agent_id,
    is_sidechain, cwd, git_branch
FROM (
    SELECT *, try(json_transform(metadata, '{_API_META}')) AS netsky_meta
    FROM {_api_rows()}
)
"""

_TOOL_CALLS_SQL = f"""
WITH pre AS (
    SELECT id, machine_id, session_id, tool_use_id, "timestamp", tool_name, framework, source,
        cwd, git_branch, is_sidechain, subagent_type, payload
    FROM {_t("events")}
    WHERE event_type = '{PRE_TOOL}' AND tool_use_id IS NOT NULL
    QUALIFY row_number() OVER (
        PARTITION BY machine_id, session_id, tool_use_id ORDER BY "timestamp", id) = 1
), post AS (
    SELECT id, machine_id, session_id, tool_use_id, "timestamp", event_type, tool_name,
        framework, source, cwd, git_branch, is_sidechain, duration_ms, payload
    FROM {_t("events")}
    WHERE event_type IN ('{POST_TOOLS[0]}', '{POST_TOOLS[1]}') AND tool_use_id IS NOT NULL
    QUALIFY row_number() OVER (
        PARTITION BY machine_id, session_id, tool_use_id ORDER BY "timestamp", id) = 1
), joined AS (
    SELECT
        coalesce(pre.machine_id, post.machine_id) AS machine_id,
        coalesce(pre.session_id, post.session_id) AS session_id,
        coalesce(pre.tool_use_id, post.tool_use_id) AS tool_use_id,
        coalesce(pre.tool_name, post.tool_name) AS tool_name,
        coalesce(pre.framework, post.framework) AS framework,
        coalesce(pre.source, post.source) AS source,
        pre."timestamp" AS started_at,
        post."timestamp" AS ended_at,
        (epoch_us(post."timestamp") - epoch_us(pre."timestamp")) / 1000.0 AS duration_ms,
        post.duration_ms AS reported_duration_ms,
        post.event_type <> '{POST_TOOLS[1]}' AS success,
        CASE WHEN post.event_type = '{POST_TOOLS[1]}'
             THEN left(coalesce(try(json_extract_string(post.payload, '$.error')),
                                try(json_extract_string(post.payload, '$.tool_response'))), 2000)
        END AS error,
        try(json_extract(pre.payload, '$.tool_input')) AS tool_input,
        pre.subagent_type AS subagent_type,
        coalesce(pre.is_sidechain, post.is_sidechain) AS is_sidechain,
        coalesce(pre.cwd, post.cwd) AS cwd,
        coalesce(pre.git_branch, post.git_branch) AS git_branch,
        pre.id AS pre_event_id,
        post.id AS post_event_id
    FROM pre FULL OUTER JOIN post
        ON pre.machine_id = post.machine_id
        AND pre.session_id = post.session_id
        AND pre.tool_use_id = post.tool_use_id
)
SELECT * FROM joined
WHERE {{range_of:coalesce(started_at, ended_at)}}
"""

_FILE_CHANGES_SQL = r"""
WITH calls AS (
    SELECT * FROM tool_calls WHERE tool_input IS NOT NULL
), edits AS (
    SELECT machine_id, session_id, tool_use_id,
        coalesce(started_at, ended_at) AS "timestamp", framework, tool_name,
        coalesce(tool_input ->> 'file_path', tool_input ->> 'notebook_path') AS file_path,
        CASE tool_name WHEN 'Write' THEN 'write' WHEN 'NotebookEdit' THEN 'notebook_edit'
            ELSE 'edit' END AS change,
        success, cwd
    FROM calls
    WHERE tool_name IN ('Write', 'Edit', 'MultiEdit', 'NotebookEdit')
), patch_text AS (
    SELECT *,
        CASE json_type(tool_input)
            WHEN 'VARCHAR' THEN tool_input ->> '$'
            ELSE coalesce(
                tool_input ->> 'input', tool_input ->> 'patch', tool_input ->> 'cmd',
                CASE json_type(tool_input -> 'command')
                    WHEN 'ARRAY' THEN array_to_string(
                        try(CAST(tool_input -> 'command' AS VARCHAR[])), ' ')
                    ELSE tool_input ->> 'command' END)
        END AS patch
    FROM calls
    WHERE tool_name NOT IN ('Write', 'Edit', 'MultiEdit', 'NotebookEdit')
), patch_lines AS (
    SELECT *, unnest(regexp_extract_all(
        patch, '(?m)^\*\*\* (?:(?:Add|Update|Delete) File|Move to): [^\r\n]+')) AS line
    FROM patch_text
    WHERE contains(patch, '*** Begin Patch')
), patches AS (
    SELECT machine_id, session_id, tool_use_id,
        coalesce(started_at, ended_at) AS "timestamp", framework, tool_name,
        trim(regexp_extract(line, ': (.+)$', 1)) AS file_path,
        CASE regexp_extract(line, '^\*\*\* (\w+)', 1)
            WHEN 'Add' THEN 'add' WHEN 'Update' THEN 'update' WHEN 'Delete' THEN 'delete'
            ELSE 'move' END AS change,
        success, cwd
    FROM patch_lines
)
SELECT * FROM edits WHERE file_path IS NOT NULL
UNION ALL
SELECT * FROM patches WHERE file_path <> ''
"""

_PROMPTS_SQL = f"""
SELECT id, machine_id, session_id, "timestamp", framework, source,
    try(json_extract_string(payload, '$.prompt')) AS prompt,
    length(try(json_extract_string(payload, '$.prompt'))) AS prompt_chars,
    cwd, git_branch, is_sidechain
FROM {_t("events")}
WHERE event_type = '{PROMPT}' AND {{range}}
"""

_SESSION_TIMES = "{range_sessions}"

_SESSIONS_SQL = (
    "SELECT "
    + ", ".join(f'"{c.name}"' for c in base_columns("sessions"))
    + ", coalesce(first_started_at, first_activity) AS started_at"
    + ", CASE WHEN usage_event_count > 0 THEN coalesce(tokens_input, 0)"
    " + coalesce(tokens_output, 0) + coalesce(tokens_cache_read, 0)"
    " + coalesce(tokens_cache_write, 0) + coalesce(tokens_reasoning, 0) END AS total_tokens"
    + ", last_activity - coalesce(first_started_at, first_activity) AS duration"
    + f" FROM {_t('sessions')} WHERE {_SESSION_TIMES}"
)

_POSITIONS_SQL = (
    "SELECT "
    + ", ".join(f'"{c.name}"' for c in base_columns("positions"))
    + f" FROM {_t('positions')}"
)

SUM_COLUMNS = f"""
    count(*) AS requests,
    count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_requests,
    CAST(coalesce(sum(input_tokens), 0) AS BIGINT) AS input_tokens,
    CAST(coalesce(sum(output_tokens), 0) AS BIGINT) AS output_tokens,
    CAST(coalesce(sum(cache_creation_tokens), 0) AS BIGINT) AS cache_creation_tokens,
    CAST(coalesce(sum(cache_read_tokens), 0) AS BIGINT) AS cache_read_tokens,
    CAST(coalesce(sum(reasoning_tokens), 0) AS BIGINT) AS reasoning_tokens,
    CAST(coalesce(sum(total_tokens), 0) AS BIGINT) AS total_tokens,
    {COST_SUM} AS cost_usd"""
"""Aggregates over usage rows, shared by ``daily_usage`` and the reports."""


def usage_rows_sql(columns: Iterable[str] = ()) -> str:
    """SELECT of one row per API response (``timestamp``, ``machine_id``, ``session_id``,
    ``framework``, ``model``, the accounting columns, then ``columns``); its ``{range}``
    is filled by :func:`render_sql`."""
    extra = "".join(f', "{c}"' for c in columns)
    return (
        f'SELECT "timestamp", machine_id, session_id, framework, model,{TOKEN_COLUMNS}{extra} '
        f"FROM {_api_rows()}"
    )


_DAILY_SQL = f"""
SELECT CAST("timestamp" AS DATE) AS day, framework, model,{SUM_COLUMNS}
FROM ({usage_rows_sql()})
GROUP BY ALL
"""

_API_COLUMNS = (
    "machine_id",
    "session_id",
    "uuid",
    "framework",
    "source",
    "model",
    "tokens_input",
    "tokens_output",
    "tokens_cache_read",
    "tokens_cache_write",
    "tokens_reasoning",
    "cost_usd",
    "metadata",
    "is_sidechain",
    "cwd",
    "git_branch",
)
_TOOL_COLUMNS = (
    "machine_id",
    "session_id",
    "tool_use_id",
    "tool_name",
    "framework",
    "source",
    "cwd",
    "git_branch",
    "is_sidechain",
    "subagent_type",
    "duration_ms",
    "payload",
)

VIEWS: dict[str, View] = {
    v.name: v
    for v in (
        View(
            name="events",
            base="events",
            sql=_EVENTS_SQL,
            doc="every stored event, one row each (the Event record)",
            columns=tuple((c.name, EVENT_DOCS[c.name]) for c in base_columns("events")),
        ),
        View(
            name="sessions",
            base="sessions",
            sql=_SESSIONS_SQL,
            doc=(
                "one row per (machine_id, session_id): the Session record as the store keeps "
                "it; with a time range, the sessions active in it"
            ),
            columns=(
                *((c.name, SESSION_DOCS.get(c.name, "")) for c in base_columns("sessions")),
                ("started_at", "first SessionStart, else first event"),
                ("total_tokens", "sum of the four token counts (NULL: no usage known)"),
                ("duration", "last_activity - started_at (INTERVAL)"),
            ),
        ),
        View(
            name="api_requests",
            base="events",
            sql=_API_SQL,
            doc=(
                "one row per API response: ApiRequest events (deduplicated at ingest: a "
                "streamed response, its subagent copy and its progress copy are one event), "
                "and a Claude response replayed into a resumed session (same message and "
                "request id under another session id) counted once, in the session that "
                "started first (the copies are `ApiRequestRepeated` events)"
            ),
            columns=(
                ("id", "event row id"),
                ("machine_id", ""),
                ("session_id", ""),
                ("timestamp", "when the response was written (the accounting instant)"),
                ("framework", "the source (claude, codex, gemini, ...)"),
                ("source", "transcript, hook, ..."),
                ("model", "model name"),
                *TOKENS_DOC,
                ("cost_usd", "USD; NULL when the model has no known price (never 0)"),
                (
                    "cache_creation_5m_tokens",
                    "part of cache creation written to the 5-minute cache",
                ),
                ("cache_creation_1h_tokens", "part written to the 1-hour cache"),
                ("reasoning_output_tokens", "Codex: reasoning part of output_tokens"),
                ("speed", "Claude `usage.speed` (fast, ...)"),
                ("service_tier", "Claude `usage.service_tier`"),
                ("stop_reason", "Claude `message.stop_reason`"),
                ("message_id", "Claude message id"),
                ("request_id", "Claude request id"),
                ("agent_id", "subagent id for subagent responses"),
                ("is_sidechain", "subagent (sidechain) response"),
                ("cwd", "working directory (the project)"),
                ("git_branch", ""),
            ),
            event_types=frozenset({API}),
            event_columns=_API_COLUMNS,
        ),
        View(
            name="tool_calls",
            base="events",
            sql=_TOOL_CALLS_SQL,
            doc=(
                "one row per tool call: its PreToolUse joined with its PostToolUse / "
                "PostToolUseFailure by (machine_id, session_id, tool_use_id); a call "
                "without a result has NULL ended_at / success"
            ),
            columns=(
                ("machine_id", ""),
                ("session_id", ""),
                ("tool_use_id", ""),
                ("tool_name", "Bash, Read, Edit, exec_command, apply_patch, ..."),
                ("framework", ""),
                ("source", "hook or transcript"),
                ("started_at", "PreToolUse time (NULL when only the result is stored)"),
                ("ended_at", "result time (NULL: no result stored)"),
                ("duration_ms", "ended_at - started_at in milliseconds (DOUBLE)"),
                ("reported_duration_ms", "duration the agent reported, if any"),
                ("success", "false when the result is a PostToolUseFailure; NULL: no result"),
                ("error", "error text of a failed call (at most 2000 characters)"),
                ("tool_input", "the tool input (JSON)"),
                ("subagent_type", "Task / Agent calls: the subagent type"),
                ("is_sidechain", "made by a subagent"),
                ("cwd", ""),
                ("git_branch", ""),
                ("pre_event_id", "events.id of the PreToolUse"),
                ("post_event_id", "events.id of the result"),
            ),
            event_types=frozenset({PRE_TOOL, *POST_TOOLS}),
            event_columns=_TOOL_COLUMNS,
        ),
        View(
            name="file_changes",
            base="events",
            sql=_FILE_CHANGES_SQL,
            doc=(
                "one row per file a tool call wrote: Claude Write / Edit / MultiEdit "
                "(file_path) and NotebookEdit (notebook_path); Codex apply_patch "
                "(each `*** Add/Update/Delete File:` and `*** Move to:` line, also inside "
                "shell commands). Paths are as the agent gave them (apply_patch paths may "
                "be relative to cwd)"
            ),
            columns=(
                ("machine_id", ""),
                ("session_id", ""),
                ("tool_use_id", ""),
                ("timestamp", "when the call started"),
                ("framework", ""),
                ("tool_name", "Write, Edit, MultiEdit, NotebookEdit, apply_patch, shell, ..."),
                ("file_path", "the file written"),
                ("change", "write, edit, notebook_edit, add, update, delete or move (target)"),
                ("success", "the call's success (NULL: no result stored)"),
                ("cwd", "working directory of the call"),
            ),
            event_types=frozenset({PRE_TOOL, *POST_TOOLS}),
            event_columns=_TOOL_COLUMNS,
            depends=("tool_calls",),
        ),
        View(
            name="prompts",
            base="events",
            sql=_PROMPTS_SQL,
            doc=(
                "one row per user prompt (UserPromptSubmit); a prompt seen both by a hook "
                "and in the transcript appears once per source"
            ),
            columns=(
                ("id", "event row id"),
                ("machine_id", ""),
                ("session_id", ""),
                ("timestamp", ""),
                ("framework", ""),
                ("source", "hook or transcript"),
                ("prompt", "the prompt text"),
                ("prompt_chars", "its length in characters"),
                ("cwd", ""),
                ("git_branch", ""),
                ("is_sidechain", "a subagent's prompt"),
            ),
            event_types=frozenset({PROMPT}),
            event_columns=(
                "machine_id",
                "session_id",
                "framework",
                "source",
                "payload",
                "cwd",
                "git_branch",
                "is_sidechain",
            ),
        ),
        View(
            name="daily_usage",
            base="events",
            sql=_DAILY_SQL,
            doc=(
                "tokens and cost per day, framework and model. `day` is the calendar day in "
                "the connection's time zone (the system zone unless `timezone=` / "
                "`--timezone` says otherwise; `SET TimeZone = 'UTC'` gives UTC days)"
            ),
            columns=(
                ("day", "DATE in the connection's time zone"),
                ("framework", ""),
                ("model", ""),
                ("requests", "API responses"),
                ("unpriced_requests", "responses without a known price"),
                *TOKENS_DOC[:4],
                ("total_tokens", "sum of the four"),
                ("cost_usd", "exact sum of the priced responses; NULL when none is priced"),
            ),
            event_types=frozenset({API}),
            event_columns=USAGE_BASE_COLUMNS,
        ),
        View(
            name="positions",
            base="positions",
            sql=_POSITIONS_SQL,
            doc="one row per ingested source file: how far it was read (FilePosition)",
            columns=(
                ("machine_id", ""),
                ("path", "source file"),
                ("offset", "bytes consumed"),
                ("line_number", "lines consumed"),
                ("last_uuid", "last event uuid read"),
                ("size", "file size when read"),
                ("mtime_ns", "file mtime when read"),
                ("inode", "file inode when read"),
                ("state", "parser state (JSON)"),
                ("updated_at", "when the position was saved"),
            ),
        ),
    )
}


def column_docs(name: str) -> list[tuple[str, str]]:
    """(column, meaning) of view ``name``, in order."""
    return [(c, column_doc(name, c, text)) for c, text in VIEWS[name].columns]


def needed_views(names: Iterable[str]) -> list[str]:
    """``names`` plus the views they depend on, dependencies first."""
    out: list[str] = []

    def visit(name: str) -> None:
        view = VIEWS.get(name)
        if view is None:
            raise ValueError(f"unknown view {name!r}; known: {', '.join(VIEWS)}")
        for dep in view.depends:
            visit(dep)
        if name not in out:
            out.append(name)

    for name in names:
        visit(name)
    return out


def _ts(value: datetime) -> str:
    return f"TIMESTAMPTZ '{value.isoformat()}'"


def _range(expr: str, since: datetime | None, until: datetime | None) -> str:
    parts = []
    if since is not None:
        parts.append(f"{expr} >= {_ts(since)}")
    if until is not None:
        parts.append(f"{expr} < {_ts(until)}")
    return "(" + " AND ".join(parts) + ")" if parts else "true"


def render_view(view: View, since: datetime | None, until: datetime | None) -> str:
    """``CREATE VIEW`` for ``view`` limited to ``since <= t < until``."""
    return f'CREATE OR REPLACE VIEW main."{view.name}" AS {render_sql(view.sql, since, until)}'


def render_sql(sql: str, since: datetime | None, until: datetime | None) -> str:
    """``sql`` with its range placeholders filled for ``since <= t < until``."""
    sql = sql.replace("{range}", _range('"timestamp"', since, until))
    marker = "{range_of:"
    while marker in sql:
        start = sql.index(marker)
        end = sql.index("}", start)
        sql = sql[:start] + _range(sql[start + len(marker) : end], since, until) + sql[end + 1 :]
    sessions = []
    if since is not None:
        sessions.append(f"last_activity >= {_ts(since)}")
    if until is not None:
        sessions.append(f"first_activity < {_ts(until)}")
    return sql.replace(_SESSION_TIMES, " AND ".join(sessions) if sessions else "true")
