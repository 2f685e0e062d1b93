"""Goose sessions database -> events (``kind="database"``).

Layout: ``~/.local/share/goose/sessions/sessions.db`` (macOS: ``~/Library/Application
Support/goose/sessions/sessions.db``); with ``GOOSE_PATH_ROOT=<root>`` ccusage reads
``<root>/data/sessions/sessions.db``. Table ``sessions(id, working_dir, created_at,
model_config_json?, provider_name?, total_tokens, input_tokens, output_tokens,
accumulated_*)`` has one row per session, ``messages(session_id, role, content_json,
created_timestamp)`` the conversation.

As ccusage 20.0.24: one ApiRequest per session whose ``model_config_json`` names a
``model_name`` and that has tokens, preferring the ``accumulated_*`` columns; what
``total`` holds beyond input + output is reasoning (priced as output); Goose reports no
cache counts (None). Older schemas without ``model_config_json`` (the sample, schema 5)
give no usage in ccusage; their sessions and messages are still events here. uuid:
``api:goose:<session id>`` (ccusage keys by database path and session id; a session id
is unique to one Goose install).
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
    """``<root>/data/sessions/sessions.db`` (a ``GOOSE_PATH_ROOT``) or
    ``<root>/sessions/sessions.db`` (a default data folder)."""
    return file_at(root, "data", "sessions", "sessions.db") or file_at(
        root, "sessions", "sessions.db"
    )


SPEC = SourceSpec(
    name="goose",
    title="Goose",
    env_var="GOOSE_PATH_ROOT",
    default_roots=("~/.local/share/goose", "~/Library/Application Support/goose"),
    kind="database",
    finder=_find,
)
discover = SPEC.discover

_SESSION_COLUMNS = (
    "id",
    "name",
    "working_dir",
    "created_at",
    "model_config_json",
    "provider_name",
    "total_tokens",
    "input_tokens",
    "output_tokens",
    "accumulated_total_tokens",
    "accumulated_input_tokens",
    "accumulated_output_tokens",
)
_MESSAGE_COLUMNS = ("id", "session_id", "role", "content_json", "created_timestamp", "timestamp")
_KEYS = ("id", "session_id")  # a table with neither is not read


def _tokens(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def _time(value: Any) -> Any:
    """created_at: epoch seconds/ms as digits, ISO text or ``YYYY-MM-DD HH:MM:SS`` (UTC)."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        return parse_time(value, unit="ms" if value > 1_000_000_000_000 else "s")
    return parse_time(value)


def _session_events(f: EventFactory, row: dict[str, Any]) -> list[Event]:
    session = row.get("id")
    ts = _time(row.get("created_at"))
    if not isinstance(session, str) or not session or ts is None:
        return []
    cwd = text(row.get("working_dir"))
    model = None
    config = row.get("model_config_json")
    if isinstance(config, str) and config.strip():
        try:
            parsed = decode_json(config)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("model_name"), str):
            model = parsed["model_name"].strip() or None
    out = [
        f.event(
            EventType.SESSION_START,
            session_id=session,
            timestamp=ts,
            uuid=f"goose:session:{session}",
            cwd=cwd,
            model=model,
            payload=f.payload({"name": row.get("name"), "working_dir": row.get("working_dir")}),
        )
    ]
    if model is None:
        return out
    input_tokens = (
        _tokens(row.get("accumulated_input_tokens")) or _tokens(row.get("input_tokens")) or 0
    )
    output = _tokens(row.get("accumulated_output_tokens")) or _tokens(row.get("output_tokens")) or 0
    total = (
        _tokens(row.get("accumulated_total_tokens"))
        or _tokens(row.get("total_tokens"))
        or input_tokens + output
    )
    if not (input_tokens or output or total):
        return out
    reasoning = max(total - input_tokens - output, 0)
    tok = Tokens(
        input=input_tokens, output=output, cache_read=None, cache_write=None, extra=reasoning
    )
    out.append(
        f.api_request(
            session_id=session,
            timestamp=ts,
            uuid=f"api:goose:{session}",
            model=model,
            tokens=tok,
            cost_usd=f.cost(model, tok),
            cwd=cwd,
            metadata={"provider": row.get("provider_name"), "total_tokens": total},
            payload=f.raw_payload(row),
        )
    )
    return out


def _content(value: Any) -> list[Any]:
    if not isinstance(value, str):
        return []
    try:
        parsed = decode_json(value)
    except ValueError:
        return []
    return parsed if isinstance(parsed, list) else []


def _message_events(f: EventFactory, row: dict[str, Any]) -> list[Event]:
    session, mid, role = row.get("session_id"), row.get("id"), row.get("role")
    ts = _time(row.get("created_timestamp")) or _time(row.get("timestamp"))
    if not isinstance(session, str) or not session or ts is None or not isinstance(role, str):
        return []
    base = {"session_id": session, "timestamp": ts}
    parts = _content(row.get("content_json"))
    out: list[Event] = []
    texts: list[str] = []
    for j, part in enumerate(parts):
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "toolRequest":
            call_id = text(part.get("id")) or f"{mid}#{j}"
            call = mapping(part.get("toolCall"))
            value = mapping(call.get("value"))
            name = text(value.get("name"))
            out.append(
                f.tool_use(
                    **base,
                    uuid=f"goose:tool_use:{session}:{call_id}",
                    call_id=call_id,
                    name=name,
                    tool_input=value.get("arguments"),
                    with_id=False,
                )
            )
        elif kind == "toolResponse":
            call_id = text(part.get("id")) or f"{mid}#{j}"
            uuid = f"goose:tool_result:{session}:{call_id}"
            out.append(f.tool_result(**base, uuid=uuid, call_id=call_id))
    uuid = f"goose:message:{session}:{mid}"
    if role == "user" and texts:
        out.append(f.prompt("\n".join(texts), **base, uuid=uuid))
    elif not out:
        out.append(
            f.event(
                f"message/{role}", **base, uuid=uuid, payload=f.raw_payload(row.get("content_json"))
            )
        )
    return out


def _read(conn: sqlite3.Connection, f: EventFactory, result: DocumentResult) -> None:
    sessions = select_rows(conn, "sessions", _SESSION_COLUMNS, keys=_KEYS)
    if not sessions and not table_columns(conn, "sessions"):
        result.skipped += 1
    for row in sessions:
        collect(result, partial(_session_events, f, row))
    for row in select_rows(conn, "messages", _MESSAGE_COLUMNS, keys=_KEYS):
        collect(result, partial(_message_events, f, row))


read_database = database_reader(
    SPEC, _read, "Events of one ``sessions.db`` (read-only, never locking)."
)
