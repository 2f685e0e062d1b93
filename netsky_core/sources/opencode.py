"""OpenCode messages -> events. Two formats, one ``SPEC`` each (``FORMATS``):

- ``SPEC`` (``kind="document"``): the legacy JSON storage,
  ``<root>/storage/message/<sessionID>/<messageID>.json``, read by ``read_document``;
- ``DB_SPEC`` (``kind="database"``): ``<root>/opencode.db`` (else the first
  ``opencode-<channel>.db``), table ``message(id, session_id, time_created, data)`` with
  the same JSON in ``data``, plus ``part`` (prompts, tool calls) and ``session``; read by
  ``read_database``.

``discover`` gives both, the database first (as ccusage reads it): a ``.db`` path is for
``read_database``, a ``.json`` one for ``read_document``. ``OPENCODE_DATA_DIR``
(comma-separated) replaces ``~/.local/share/opencode``.

A message carries ``modelID``, ``providerID``, ``time.created`` (epoch ms), ``cost`` and
``tokens{input, output, reasoning, cache{read, write}, total?}``; ``input`` excludes the
cache. As ccusage 20.0.24: cache read = ``cache.read``, cache write = ``cache.write``,
reasoning apart from output (priced as output); ``total`` only fills in what the parts
miss (to output when it is 0, else to reasoning); messages without tokens or without
model/provider carry no usage; cost is ``cost`` when > 0, else the LiteLLM price.
ccusage dedups by message id across the database, the JSON files and all roots, so an
ApiRequest's uuid is ``api:opencode:<message id>`` everywhere (a rewritten message keeps
it; the store keeps the version with most tokens). The module's mapping is shared with
Kilo (``netsky_core.sources.kilo``), which writes the same schema.
"""

from __future__ import annotations

import functools
import sqlite3
from functools import partial
from pathlib import Path
from typing import Any

import attrs

from .._records import Event, EventType
from ._common import DocumentResult, EventFactory, SourceSpec, collect
from ._files import walk_files
from ._readers import database_reader, json_object, object_reader
from ._sqlite import table_columns
from ._values import Tokens, count, mapping, number, parse_time, text

__all__ = ["DB_SPEC", "FORMATS", "SPEC", "discover", "read_database", "read_document"]


def _find(root: Path) -> list[Path]:
    """The database (if any), then ``storage/message/**/*.json``."""
    db = database_path(root)
    messages = walk_files(root / "storage" / "message", lambda p: p.suffix == ".json")
    return ([] if db is None else [db]) + messages


SPEC = SourceSpec(
    name="opencode",
    title="OpenCode",
    env_var="OPENCODE_DATA_DIR",
    default_roots=("~/.local/share/opencode",),
    kind="document",
    finder=_find,
)
DB_SPEC = attrs.evolve(SPEC, title="OpenCode (SQLite)", kind="database")
FORMATS = (SPEC, DB_SPEC)
discover = SPEC.discover

# Names OpenCode logs that price tables know under another id (as ccusage maps them).
_PRICE_ALIASES = {"gemini-3-pro-high": "gemini-3-pro-preview", "k2p6": "kimi-k2.6"}


def _channel_db(name: str) -> bool:
    if not (name.startswith("opencode-") and name.endswith(".db")):
        return False
    channel = name[len("opencode-") : -len(".db")]
    return bool(channel) and all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in channel)


def database_path(root: Path) -> Path | None:
    """``opencode.db``, else the first ``opencode-<channel>.db`` of ``root``."""
    default = root / "opencode.db"
    if default.is_file():
        return default
    try:
        channels = sorted(p for p in root.iterdir() if p.is_file() and _channel_db(p.name))
    except OSError:
        return None
    return channels[0] if channels else None


# -- the message mapping, shared with kilo ---------------------------------------------


def usage_event(
    f: EventFactory,
    data: dict[str, Any],
    *,
    message_id: str,
    session_id: str,
    fallback_ms: Any = None,
    require_provider: bool = True,
    assistant_only: bool = False,
    raw: Any = None,
) -> list[Event]:
    """The ApiRequest of one OpenCode-schema message, or nothing."""
    if assistant_only and data.get("role") != "assistant":
        return []
    tokens = data.get("tokens")
    if not isinstance(tokens, dict):
        return []
    cache = mapping(tokens.get("cache"))
    tok = Tokens.read(
        input=tokens.get("input"),
        output=tokens.get("output"),
        cache_read=cache.get("read"),
        cache_write=cache.get("write"),
        extra=tokens.get("reasoning"),
        total=tokens.get("total"),
    )
    if not tok:
        return []
    model = text(data.get("modelID"))
    provider = text(data.get("providerID"))
    if model is None or (require_provider and provider is None):
        return []
    time = mapping(data.get("time"))
    timestamp = parse_time(time.get("created"), unit="ms") or parse_time(fallback_ms, unit="ms")
    if timestamp is None:
        return []
    own = number(data.get("cost"))
    cost = f.cost(model, tok, own if own and own > 0 else None, priced_as=_PRICE_ALIASES.get(model))
    path = mapping(data.get("path"))
    meta = {
        "message_id": message_id,
        "provider": provider,
        "mode": data.get("mode"),
        "agent": data.get("agent"),
        "finish": data.get("finish"),
        "parent_id": data.get("parentID"),
        "total_tokens": count(tokens.get("total")) or None,
    }
    return [
        f.api_request(
            session_id=session_id,
            timestamp=timestamp,
            uuid=f"api:{f.framework}:{message_id}",
            model=model,
            tokens=tok,
            cost_usd=cost,
            metadata={k: v for k, v in meta.items() if v is not None},
            cwd=text(path.get("cwd")),
            payload=f.raw_payload(raw),
        )
    ]


def message_events(
    f: EventFactory,
    data: dict[str, Any],
    *,
    message_id: str,
    session_id: str,
    fallback_ms: Any = None,
    require_provider: bool = True,
    assistant_only: bool = False,
    raw: Any = None,
) -> list[Event]:
    """Usage of one message, else a ``message/<role>`` event so the message counts."""
    out = usage_event(
        f,
        data,
        message_id=message_id,
        session_id=session_id,
        fallback_ms=fallback_ms,
        require_provider=require_provider,
        assistant_only=assistant_only,
        raw=raw,
    )
    if out:
        return out
    time = mapping(data.get("time"))
    timestamp = parse_time(time.get("created"), unit="ms") or parse_time(fallback_ms, unit="ms")
    role = text(data.get("role"))
    if timestamp is None or role is None:
        return []
    model = text(data.get("modelID"))
    if model is None and isinstance(data.get("model"), dict):
        model = text(data["model"].get("modelID"))
    return [
        f.event(
            f"message/{role}",
            session_id=session_id,
            timestamp=timestamp,
            uuid=f"{f.framework}:message:{message_id}",
            model=model,
            payload=f.raw_payload(raw),
        )
    ]


def part_events(
    f: EventFactory,
    data: dict[str, Any],
    *,
    part_id: str,
    session_id: str,
    role: str | None,
    created_ms: Any,
) -> list[Event]:
    """A user's text part as a prompt, a tool part as a tool call; other parts nothing."""
    kind = data.get("type")
    time = mapping(data.get("time"))
    timestamp = parse_time(time.get("start"), unit="ms") or parse_time(created_ms, unit="ms")
    if timestamp is None:
        return []
    base: dict[str, Any] = {"session_id": session_id, "timestamp": timestamp}
    if kind == "text" and role == "user" and not data.get("synthetic"):
        prompt = data.get("text")
        if isinstance(prompt, str) and prompt:
            return [f.prompt(prompt, **base, uuid=f"{f.framework}:part:{part_id}")]
        return []
    if kind == "tool":
        call_id = text(data.get("callID")) or part_id
        state = mapping(data.get("state"))
        name = text(data.get("tool"))
        uuid = f"{f.framework}:tool:{call_id}"
        return [
            f.tool_use(**base, uuid=uuid, call_id=call_id, name=name, tool_input=state.get("input"))
        ]
    return []


def read_tables(
    conn: sqlite3.Connection,
    f: EventFactory,
    result: DocumentResult,
    *,
    require_provider: bool,
    assistant_only: bool,
) -> None:
    """Sessions, messages and parts of an OpenCode-schema database."""
    if "id" in table_columns(conn, "session"):
        cols = table_columns(conn, "session")
        directory = "directory" if "directory" in cols else "NULL"
        title = "title" if "title" in cols else "NULL"
        created = "time_created" if "time_created" in cols else "NULL"
        rows = conn.execute(f"SELECT id, {directory}, {title}, {created} FROM session").fetchall()
        for sid, cwd, name, created_ms in rows:
            collect(result, partial(_session_start, f, sid, cwd, name, created_ms))
    cols = table_columns(conn, "message")
    if not {"id", "session_id", "data"} <= set(cols):
        result.skipped += 1
        return
    created = "time_created" if "time_created" in cols else "NULL"
    roles: dict[str, str | None] = {}
    for mid, sid, data, created_ms in conn.execute(
        f"SELECT id, session_id, data, {created} FROM message"
    ).fetchall():
        value = json_object(data, result)
        if value is None:
            continue
        message_id = text(value.get("id")) or str(mid)
        session = text(value.get("sessionID")) or text(value.get("session_id")) or str(sid)
        roles[str(mid)] = text(value.get("role"))
        collect(
            result,
            partial(
                message_events,
                f,
                value,
                message_id=message_id,
                session_id=session,
                fallback_ms=created_ms,
                require_provider=require_provider,
                assistant_only=assistant_only,
                raw=data,
            ),
        )
    pcols = table_columns(conn, "part")
    if not {"id", "message_id", "session_id", "data"} <= set(pcols):
        return
    created = "time_created" if "time_created" in pcols else "NULL"
    for pid, mid, sid, data, created_ms in conn.execute(
        f"SELECT id, message_id, session_id, data, {created} FROM part"
    ).fetchall():
        value = json_object(data, result)
        if value is None:
            continue
        if value.get("type") not in ("text", "tool"):
            continue  # step markers, patches, snapshots: not events of their own
        collect(
            result,
            partial(
                part_events,
                f,
                value,
                part_id=str(pid),
                session_id=str(sid),
                role=roles.get(str(mid)),
                created_ms=created_ms,
            ),
        )


def _session_start(f: EventFactory, sid: Any, cwd: Any, title: Any, created: Any) -> list[Event]:
    ts = parse_time(created, unit="ms")
    if ts is None or not isinstance(sid, str) or not sid:
        return []
    return [
        f.event(
            EventType.SESSION_START,
            session_id=sid,
            timestamp=ts,
            uuid=f"{f.framework}:session:{sid}",
            cwd=cwd if isinstance(cwd, str) and cwd else None,
            payload=f.payload({"title": title, "directory": cwd}),
        )
    ]


# -- readers ---------------------------------------------------------------------------


def _read(f: EventFactory, result: DocumentResult, value: dict[str, Any], data: bytes) -> None:
    p = Path(f.path)
    message_id = text(value.get("id")) or p.stem
    session = text(value.get("sessionID")) or p.parent.name
    collect(
        result,
        lambda: message_events(
            f, value, message_id=message_id, session_id=session, raw=data, require_provider=True
        ),
    )


read_document = object_reader(
    SPEC, _read, "Events of one ``storage/message/<session>/<message>.json`` file."
)
read_database = database_reader(
    SPEC,
    functools.partial(read_tables, require_provider=True, assistant_only=False),
    "Events of ``opencode.db`` / ``opencode-<channel>.db`` (read-only, never locking).",
)
