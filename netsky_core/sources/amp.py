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
from ..ingest.pricing import PriceTable, Usage
from ._common import (
    DocumentResult,
    EventFactory,
    Redact,
    SourceSpec,
    collect,
    count,
    decode_json,
    discover_all,
    mapping,
    number,
    parse_time,
    text,
    total_fallback,
)

__all__ = ["SPEC", "discover", "read_document"]

SPEC = SourceSpec(
    name="amp",
    title="Amp",
    env_var="AMP_DATA_DIR",
    default_roots=("~/.local/share/amp",),
    kind="document",
)
DOLLARS_PER_CREDIT = 0.01


def discover(roots: list[Path]) -> list[Path]:
    """``<root>/threads/*.json``."""
    return discover_all(
        roots, lambda root: sorted(p for p in (root / "threads").glob("*.json") if p.is_file())
    )


def _message_id(message: dict[str, Any]) -> str | None:
    mid = message.get("messageId")
    if isinstance(mid, int) and not isinstance(mid, bool):
        return str(mid)
    return text(mid)


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
    input_tokens, output = count(tokens.get("input")), count(tokens.get("output"))
    output, extra = total_fallback(
        input_tokens + output + cache_write + cache_read, output, 0, count(tokens.get("total"))
    )
    if not (input_tokens or output or cache_write or cache_read or extra):
        return []
    credits = number(event.get("credits"))
    if credits is not None:
        cost: float | None = credits * DOLLARS_PER_CREDIT
    else:
        cost = f.price(
            model,
            Usage(
                input=input_tokens,
                output=output + extra,
                cache_read=cache_read,
                cache_write=cache_write,
            ),
        )
    key = (
        text(event.get("id"))
        or f"ledger:{event.get('fromMessageId')}:{to}:{event.get('timestamp')}"
    )
    return [
        f.api_request(
            session_id=thread,
            timestamp=ts,
            uuid=f"api:amp:{thread}:{key}",
            model=model,
            input=input_tokens,
            output=output,
            cache_read=cache_read,
            cache_write=cache_write,
            reasoning=extra or None,
            cost_usd=cost,
            metadata={
                "credits": credits,
                "operation": event.get("operationType"),
                "from_message_id": event.get("fromMessageId"),
                "to_message_id": to,
            },
            payload=f.raw_payload(event),
        )
    ]


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
    input_tokens, output = count(usage.get("inputTokens")), count(usage.get("outputTokens"))
    cache_write = count(usage.get("cacheCreationInputTokens"))
    cache_read = count(usage.get("cacheReadInputTokens"))
    output, extra = total_fallback(
        input_tokens + output + cache_write + cache_read, output, 0, count(usage.get("totalTokens"))
    )
    if not (input_tokens or output or cache_write or cache_read or extra):
        return []
    credits = number(usage.get("credits"))
    if credits is not None:
        cost: float | None = credits * DOLLARS_PER_CREDIT
    else:
        cost = f.price(
            model,
            Usage(
                input=input_tokens,
                output=output + extra,
                cache_read=cache_read,
                cache_write=cache_write,
            ),
        )
    return [
        f.api_request(
            session_id=thread,
            timestamp=ts,
            uuid=f"api:amp:{thread}:message:{_message_id(message)}",
            model=model,
            input=input_tokens,
            output=output,
            cache_read=cache_read,
            cache_write=cache_write,
            reasoning=extra or None,
            cost_usd=cost,
            metadata={"credits": credits},
            payload=f.raw_payload(usage),
        )
    ]


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
                f.event(
                    EventType.PRE_TOOL_USE,
                    **base,
                    uuid=f"amp:tool_use:{thread}:{call_id}",
                    tool_name=text(block.get("name")),
                    tool_use_id=call_id,
                    payload=f.payload(
                        {
                            "tool_name": block.get("name"),
                            "tool_input": block.get("input"),
                            "tool_use_id": call_id,
                        }
                    )
                    if f.store_payloads
                    else None,
                )
            )
        elif kind == "tool_result":
            call_id = text(block.get("toolUseID")) or text(block.get("tool_use_id")) or f"{mid}#{j}"
            out.append(
                f.event(
                    EventType.POST_TOOL_USE,
                    **base,
                    uuid=f"amp:tool_result:{thread}:{call_id}",
                    tool_use_id=call_id,
                )
            )
    if role == "user" and texts:
        out.append(f.prompt("\n".join(texts), **base, uuid=f"amp:{thread}:message:{mid}"))
    elif not out and isinstance(role, str) and role:
        out.append(f.event(f"message/{role}", **base, uuid=f"amp:{thread}:message:{mid}"))
    return out


def read_document(
    data: bytes,
    *,
    path: str,
    machine_id: str,
    prices: PriceTable,
    store_payloads: bool = True,
    redact: Redact = None,
) -> DocumentResult:
    """Events of one whole thread file."""
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
        doc = decode_json(data)
    except ValueError:
        result.malformed += 1
        return result
    thread = text(doc.get("id")) if isinstance(doc, dict) else None
    if thread is None:
        result.malformed += 1
        return result
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
    result.unknown_models |= f.unknown_models
    return result


def _cwd(doc: dict[str, Any]) -> str | None:
    env = mapping(doc.get("env"))
    initial = mapping(env.get("initial"))
    trees = initial["trees"] if isinstance(initial.get("trees"), list) else []
    for tree in trees:
        uri = tree.get("uri") if isinstance(tree, dict) else None
        if isinstance(uri, str) and uri.startswith("file://"):
            return uri[len("file://") :]
    return None
