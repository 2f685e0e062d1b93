"""Hermes agent database -> events (``kind="database"``).

Layout: ``~/.hermes/state.db`` (SQLite, WAL mode); ``HERMES_HOME`` is a comma-separated
list of homes, each holding ``state.db``. Table ``sessions`` has one row per session with
its totals (``model, billing_provider, started_at`` (epoch s), ``ended_at``,
``message_count, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
reasoning_tokens, estimated_cost_usd, actual_cost_usd``, ``cwd``, ``git_branch``);
table ``messages`` holds the conversation (``role`` user/assistant/tool/...,
``tool_calls`` JSON, ``tool_call_id``, ``timestamp``).

As ccusage 20.0.24: one ApiRequest per session row with a non-empty ``model`` (the
literal ``null`` included) and any usage, dated ``started_at``; reasoning is apart from
output and priced as output; cost is ``actual_cost_usd``, else ``estimated_cost_usd``,
when > 0, else the LiteLLM price. (ccusage 20.0.24 means the same but reads a NULL
``actual_cost_usd`` as 0, so it never uses the estimate: measured, not on the samples,
whose estimates are 0.) ccusage dedups by session id across homes, so the
uuid is ``api:hermes:<session id>``; a session row whose totals grew gives the same uuid
with more tokens (the store keeps that version).
"""

from __future__ import annotations

import sqlite3
from functools import partial
from pathlib import Path
from typing import Any

from .._records import Event, EventType
from ._common import DocumentResult, EventFactory, SourceSpec, collect
from ._files import file_at
from ._readers import database_reader
from ._sqlite import select_rows, table_columns
from ._values import Tokens, decode_json, mapping, parse_time, text

__all__ = ["SPEC", "discover", "read_database"]


def _find(root: Path) -> list[Path]:
    """``state.db`` of a home."""
    return file_at(root, "state.db")


SPEC = SourceSpec(
    name="hermes",
    title="Hermes",
    env_var="HERMES_HOME",
    default_roots=("~/.hermes",),
    kind="database",
    finder=_find,
)
discover = SPEC.discover

_SESSION_COLUMNS = (
    "id",
    "model",
    "billing_provider",
    "started_at",
    "ended_at",
    "end_reason",
    "message_count",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "estimated_cost_usd",
    "actual_cost_usd",
    "cwd",
    "git_branch",
    "source",
    "title",
)


def _int(value: Any) -> int:
    """A count column as ccusage reads it: integers, else positive finite reals truncated."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float) and value == value and value not in (float("inf"),):
        return int(value) if value > 0 else 0
    return 0


def _money(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
        if value in (float("inf"), float("-inf")):
            return None
        return max(float(value), 0.0)
    return None


def _session_events(f: EventFactory, row: dict[str, Any]) -> list[Event]:
    session = row.get("id")
    if not isinstance(session, str) or not session:
        return []
    started = parse_time(row.get("started_at"), unit="auto")
    if started is None:
        return []
    cwd = text(row.get("cwd"))
    branch = text(row.get("git_branch"))
    model_raw = row.get("model")
    model = model_raw.strip() if isinstance(model_raw, str) else ""
    base: dict[str, Any] = {"session_id": session, "cwd": cwd, "git_branch": branch}
    out = [
        f.event(
            EventType.SESSION_START,
            **base,
            timestamp=started,
            uuid=f"hermes:session:{session}",
            model=model or None,
            payload=f.payload(
                {"source": row.get("source"), "title": row.get("title"), "cwd": row.get("cwd")}
            ),
        )
    ]
    ended = parse_time(row.get("ended_at"), unit="auto")
    if ended is not None:
        out.append(
            f.event(
                EventType.SESSION_END,
                **base,
                timestamp=ended,
                uuid=f"hermes:session_end:{session}",
                payload=f.payload({"reason": row.get("end_reason")}),
            )
        )
    tok = Tokens(
        input=_int(row.get("input_tokens")),
        output=_int(row.get("output_tokens")),
        cache_read=_int(row.get("cache_read_tokens")),
        cache_write=_int(row.get("cache_write_tokens")),
        extra=_int(row.get("reasoning_tokens")),
    )
    actual, estimated = _money(row.get("actual_cost_usd")), _money(row.get("estimated_cost_usd"))
    own = actual if actual is not None else estimated
    if not model or (not tok and not own):
        return out
    out.append(
        f.api_request(
            **base,
            timestamp=started,
            uuid=f"api:hermes:{session}",
            model=model,
            tokens=tok,
            cost_usd=f.cost(model, tok, own if own is not None and own > 0 else None),
            metadata={
                "billing_provider": row.get("billing_provider"),
                "message_count": _int(row.get("message_count")),
                "estimated_cost_usd": estimated,
                "actual_cost_usd": actual,
            },
            payload=f.raw_payload({k: v for k, v in row.items() if k != "title"}),
        )
    )
    return out


def _message_events(
    f: EventFactory, row: dict[str, Any], session_cwd: dict[str, str | None]
) -> list[Event]:
    session, mid, role = row.get("session_id"), row.get("id"), row.get("role")
    ts = parse_time(row.get("timestamp"), unit="auto")
    if not isinstance(session, str) or not session or ts is None or not isinstance(role, str):
        return []
    base: dict[str, Any] = {"session_id": session, "timestamp": ts, "cwd": session_cwd.get(session)}
    uuid = f"hermes:message:{session}:{mid}"
    content = row.get("content")
    if role == "user":
        if isinstance(content, str) and content:
            return [f.prompt(content, **base, uuid=uuid)]
        return []
    if role == "tool":
        call_id = text(row.get("tool_call_id"))
        if call_id is None:
            return []
        return [
            f.tool_result(
                **base,
                uuid=f"hermes:tool_result:{session}:{call_id}",
                call_id=call_id,
                tool_name=text(row.get("tool_name")),
                payload=f.payload({"tool_use_id": call_id, "tool_response": content})
                if f.store_payloads
                else None,
            )
        ]
    out: list[Event] = []
    calls = row.get("tool_calls")
    if role == "assistant" and isinstance(calls, str) and calls:
        parsed = decode_json(calls)
        for j, call in enumerate(parsed if isinstance(parsed, list) else ()):
            if not isinstance(call, dict):
                continue
            call_id = text(call.get("id")) or f"{mid}#{j}"
            fn = mapping(call.get("function"))
            name = text(fn.get("name")) or text(call.get("name"))
            out.append(
                f.tool_use(
                    **base,
                    uuid=f"hermes:tool_use:{session}:{call_id}",
                    call_id=call_id,
                    name=name,
                    tool_input=fn.get("arguments"),
                )
            )
    if out:
        return out
    return [
        f.event(
            f"message/{role}",
            **base,
            uuid=uuid,
            payload=f.payload({"role": role, "content": content}) if f.store_payloads else None,
        )
    ]


def _read(conn: sqlite3.Connection, f: EventFactory, result: DocumentResult) -> None:
    sessions = select_rows(conn, "sessions", _SESSION_COLUMNS)
    if not sessions and "id" not in table_columns(conn, "sessions"):
        result.skipped += 1
        return
    cwd: dict[str, str | None] = {}
    for row in sessions:
        if isinstance(row.get("id"), str):
            cwd[row["id"]] = text(row.get("cwd"))
        collect(result, partial(_session_events, f, row))
    for row in select_rows(
        conn,
        "messages",
        (
            "id",
            "session_id",
            "role",
            "content",
            "tool_call_id",
            "tool_calls",
            "tool_name",
            "timestamp",
        ),
    ):
        collect(result, partial(_message_events, f, row, cwd))


read_database = database_reader(
    SPEC, _read, "Events of one ``state.db`` (read-only, never locking)."
)
