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
from ..ingest.pricing import PriceTable, Usage
from ._common import (
    DocumentResult,
    EventFactory,
    Redact,
    SourceSpec,
    collect,
    decode_json,
    discover_all,
    mapping,
    open_database,
    parse_time,
    table_columns,
    text,
)

__all__ = ["SPEC", "discover", "read_database"]

SPEC = SourceSpec(
    name="goose",
    title="Goose",
    env_var="GOOSE_PATH_ROOT",
    default_roots=("~/.local/share/goose", "~/Library/Application Support/goose"),
    kind="database",
)


def discover(roots: list[Path]) -> list[Path]:
    """``<root>/data/sessions/sessions.db`` (a ``GOOSE_PATH_ROOT``) or
    ``<root>/sessions/sessions.db`` (a default data folder)."""

    def find(root: Path) -> list[Path]:
        for candidate in (
            root / "data" / "sessions" / "sessions.db",
            root / "sessions" / "sessions.db",
        ):
            if candidate.is_file():
                return [candidate]
        return []

    return discover_all(roots, find)


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
    cost = f.price(model, Usage(input=input_tokens, output=output + reasoning))
    out.append(
        f.api_request(
            session_id=session,
            timestamp=ts,
            uuid=f"api:goose:{session}",
            model=model,
            input=input_tokens,
            output=output,
            cache_read=None,
            cache_write=None,
            reasoning=reasoning,
            cost_usd=cost,
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
                f.event(
                    EventType.PRE_TOOL_USE,
                    **base,
                    uuid=f"goose:tool_use:{session}:{call_id}",
                    tool_name=name,
                    tool_use_id=call_id,
                    payload=f.payload({"tool_name": name, "tool_input": value.get("arguments")})
                    if f.store_payloads
                    else None,
                )
            )
        elif kind == "toolResponse":
            call_id = text(part.get("id")) or f"{mid}#{j}"
            out.append(
                f.event(
                    EventType.POST_TOOL_USE,
                    **base,
                    uuid=f"goose:tool_result:{session}:{call_id}",
                    tool_use_id=call_id,
                )
            )
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


def _select(conn: sqlite3.Connection, table: str, wanted: tuple[str, ...]) -> list[dict[str, Any]]:
    have = set(table_columns(conn, table))
    cols = [c for c in wanted if c in have]
    if not cols or ("id" not in have and "session_id" not in have):
        return []
    cursor = conn.execute(f"SELECT {', '.join(cols)} FROM {table}")
    return [dict(zip(cols, row, strict=True)) for row in cursor.fetchall()]


def read_database(
    path: str,
    *,
    machine_id: str,
    prices: PriceTable,
    store_payloads: bool = True,
    redact: Redact = None,
) -> DocumentResult:
    """Events of one ``sessions.db`` (read-only, never locking)."""
    result = DocumentResult()
    f = EventFactory(
        framework=SPEC.name,
        machine_id=machine_id,
        path=path,
        prices=prices,
        store_payloads=store_payloads,
        redact=redact,
    )
    try:
        with open_database(path) as conn:
            sessions = _select(
                conn,
                "sessions",
                (
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
                ),
            )
            if not sessions and not table_columns(conn, "sessions"):
                result.skipped += 1
            for row in sessions:
                collect(result, partial(_session_events, f, row))
            for row in _select(
                conn,
                "messages",
                ("id", "session_id", "role", "content_json", "created_timestamp", "timestamp"),
            ):
                collect(result, partial(_message_events, f, row))
    except (sqlite3.Error, OSError):
        result.malformed += 1  # not a database (empty, corrupt) or unreadable
    result.unknown_models |= f.unknown_models
    return result
