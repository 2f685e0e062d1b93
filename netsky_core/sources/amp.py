"""Amp threads -> events (``kind="document"``).

Layout: ``~/.local/share/amp/threads/T-<uuid>.json``, rewritten in place; ``AMP_DATA_DIR``
(comma-separated) replaces ``~/.local/share/amp`` and ``threads/*.json`` is read. A
thread is ``{v, id, created (ms), title, messages[], usageLedger{events[]}, env, ...}``;
assistant messages carry ``usage{model, inputTokens, outputTokens,
cacheCreationInputTokens, cacheReadInputTokens, credits}``; ledger events are ``{id,
timestamp, model, credits, tokens{input, output}, operationType, fromMessageId,
toMessageId}``.

As ccusage 20.0.24: with a ledger, one ApiRequest per ledger event (no dedup), input and
output from the event's ``tokens``, cache writes and reads from the assistant message
``toMessageId`` names; without one, one per assistant ``usage`` that has a timestamp.
Cost is the event's ``credits`` x $0.01, Amp's own charge, else the LiteLLM price.
(ccusage 20.0.24 shows the credits but prices the tokens with LiteLLM: doubling the
credits leaves its cost unchanged. Amp bills credits at list price, so on the samples
both agree to the last digit.) uuid:
``api:amp:<thread id>:<ledger event id>`` (or ``...:message:<messageId>``), so a thread
rewritten with more messages keeps its uuids. Amp reports no reasoning count.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from .._records import Event, EventType
from ._common import DocumentResult, EventFactory, SourceSpec, collect
from ._files import glob_files
from ._readers import object_reader
from ._values import Tokens, count, mapping, number, parse_time, text

__all__ = ["SPEC", "discover", "read_document"]


def _find(root: Path) -> list[Path]:
    """``<root>/threads/*.json``."""
    return glob_files(root, "threads/*.json")


SPEC = SourceSpec(
    name="amp",
    title="Amp",
    env_var="AMP_DATA_DIR",
    default_roots=("~/.local/share/amp",),
    kind="document",
    finder=_find,
)
DOLLARS_PER_CREDIT = 0.01
discover = SPEC.discover


def _message_id(message: dict[str, Any]) -> str | None:
    mid = message.get("messageId")
    if isinstance(mid, int) and not isinstance(mid, bool):
        return str(mid)
    return text(mid)


def _usage_event(
    f: EventFactory,
    thread: str,
    ts: Any,
    model: str,
    tok: Tokens,
    credits: float | None,
    raw: Any,
    uuid: str,
    meta: dict[str, Any],
) -> list[Event]:
    """The ApiRequest of ``tok``: Amp's own charge (``credits``) when it has one."""
    if not tok:
        return []
    own = credits * DOLLARS_PER_CREDIT if credits is not None else None
    return [
        f.api_request(
            session_id=thread,
            timestamp=ts,
            model=model,
            tokens=tok,
            reasoning=tok.extra or None,
            cost_usd=f.cost(model, tok, own),
            uuid=uuid,
            metadata=meta,
            payload=f.raw_payload(raw),
        )
    ]


def _ledger_events(
    f: EventFactory, thread: str, event: dict[str, Any], cache: dict[str, tuple[int, int]]
) -> list[Event]:
    ts = parse_time(event.get("timestamp")) if isinstance(event.get("timestamp"), str) else None
    model = text(event.get("model"))
    tokens = event.get("tokens")
    if ts is None or model is None or not isinstance(tokens, dict):
        return []
    to = event.get("toMessageId")
    cache_write, cache_read = cache.get(str(to), (0, 0)) if isinstance(to, int) else (0, 0)
    tok = Tokens.read(
        input=tokens.get("input"),
        output=tokens.get("output"),
        cache_read=cache_read,
        cache_write=cache_write,
        total=tokens.get("total"),
    )
    key = (
        text(event.get("id"))
        or f"ledger:{event.get('fromMessageId')}:{to}:{event.get('timestamp')}"
    )
    credits = number(event.get("credits"))
    meta = {
        "credits": credits,
        "operation": event.get("operationType"),
        "from_message_id": event.get("fromMessageId"),
        "to_message_id": to,
    }
    uuid = f"api:amp:{thread}:{key}"
    return _usage_event(f, thread, ts, model, tok, credits, event, uuid, meta)


def _message_usage(f: EventFactory, thread: str, message: dict[str, Any]) -> list[Event]:
    usage = message.get("usage")
    if message.get("role") != "assistant" or not isinstance(usage, dict):
        return []
    stamp = (
        usage.get("timestamp")
        if isinstance(usage.get("timestamp"), str)
        else message.get("timestamp")
    )
    ts = parse_time(stamp) if isinstance(stamp, str) else None
    model = text(usage.get("model")) or text(message.get("model"))
    if ts is None or model is None:
        return []
    tok = Tokens.read(
        input=usage.get("inputTokens"),
        output=usage.get("outputTokens"),
        cache_read=usage.get("cacheReadInputTokens"),
        cache_write=usage.get("cacheCreationInputTokens"),
        total=usage.get("totalTokens"),
    )
    credits = number(usage.get("credits"))
    uuid = f"api:amp:{thread}:message:{_message_id(message)}"
    return _usage_event(f, thread, ts, model, tok, credits, usage, uuid, {"credits": credits})


def _conversation(
    f: EventFactory, thread: str, message: dict[str, Any], when: datetime, cwd: str | None
) -> list[Event]:
    """Prompts, tool calls and tool results of one message (dated ``when``)."""
    role = message.get("role")
    mid = _message_id(message) or "?"
    base: dict[str, Any] = {"session_id": thread, "timestamp": when, "cwd": cwd}
    out: list[Event] = []
    texts: list[str] = []
    for j, block in enumerate(message.get("content") or ()):
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif kind == "tool_use":
            call_id = text(block.get("id")) or f"{mid}#{j}"
            out.append(
                f.tool_use(
                    **base,
                    uuid=f"amp:tool_use:{thread}:{call_id}",
                    call_id=call_id,
                    name=block.get("name"),
                    tool_input=block.get("input"),
                )
            )
        elif kind == "tool_result":
            call_id = text(block.get("toolUseID")) or text(block.get("tool_use_id")) or f"{mid}#{j}"
            out.append(
                f.tool_result(**base, uuid=f"amp:tool_result:{thread}:{call_id}", call_id=call_id)
            )
    if role == "user" and texts:
        out.append(f.prompt("\n".join(texts), **base, uuid=f"amp:{thread}:message:{mid}"))
    elif not out and isinstance(role, str) and role:
        out.append(f.event(f"message/{role}", **base, uuid=f"amp:{thread}:message:{mid}"))
    return out


def _read(f: EventFactory, result: DocumentResult, doc: dict[str, Any], data: bytes) -> None:
    thread = text(doc.get("id"))
    if thread is None:
        result.malformed += 1
        return
    messages = [m for m in doc.get("messages") or () if isinstance(m, dict)]
    created = parse_time(doc.get("created"), unit="ms")
    cwd = _cwd(doc)
    if created is not None:
        collect(
            result,
            lambda: [
                f.event(
                    EventType.SESSION_START,
                    session_id=thread,
                    timestamp=created,
                    uuid=f"amp:thread:{thread}",
                    cwd=cwd,
                    payload=f.payload(
                        {"title": doc.get("title"), "agentMode": doc.get("agentMode")}
                    ),
                )
            ],
        )
    ledger = doc.get("usageLedger")
    events = ledger.get("events") if isinstance(ledger, dict) else None
    answered: dict[str, datetime] = {}
    if isinstance(events, list):
        cache: dict[str, tuple[int, int]] = {}
        for message in messages:
            mid = message.get("messageId")
            if message.get("role") == "assistant" and isinstance(mid, int):
                usage = mapping(message.get("usage"))
                cache[str(mid)] = (
                    count(usage.get("cacheCreationInputTokens")),
                    count(usage.get("cacheReadInputTokens")),
                )
        for event in events:
            if not isinstance(event, dict):
                result.malformed += 1
                continue
            ts = (
                parse_time(event.get("timestamp"))
                if isinstance(event.get("timestamp"), str)
                else None
            )
            if ts is not None and isinstance(event.get("toMessageId"), int):
                answered.setdefault(str(event["toMessageId"]), ts)
            collect(result, partial(_ledger_events, f, thread, event, cache))
    else:
        for message in messages:
            collect(result, partial(_message_usage, f, thread, message))
    when = created
    for message in messages:
        meta = mapping(message.get("meta"))
        when = (
            parse_time(meta.get("sentAt"), unit="ms")
            or answered.get(_message_id(message) or "")
            or when
        )
        if when is None:
            result.skipped += 1
            continue
        collect(result, partial(_conversation, f, thread, message, when, cwd))


read_document = object_reader(SPEC, _read, "Events of one whole thread file.")


def _cwd(doc: dict[str, Any]) -> str | None:
    env = mapping(doc.get("env"))
    initial = mapping(env.get("initial"))
    trees = initial.get("trees")
    for tree in trees if isinstance(trees, list) else ():
        uri = tree.get("uri") if isinstance(tree, dict) else None
        if isinstance(uri, str) and uri.startswith("file://"):
            return uri[len("file://") :]
    return None
