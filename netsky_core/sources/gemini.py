"""Gemini CLI chat files -> events (``kind="document"``).

Layout: ``~/.gemini/tmp/<project>/chats/session-<time>-<id8>.json`` (subagents in
``chats/<parentSessionId>/<agentId>.json``); ``GEMINI_DATA_DIR`` (comma-separated)
replaces ``~/.gemini/tmp`` and every ``*.json``/``*.jsonl`` below a root is read.

A document is ``{sessionId, startTime, messages[]}``, rewritten in place. ``gemini``
messages carry ``model`` and ``tokens{input, output, cached, thoughts, tool, total}``:
``input`` includes ``cached``, ``thoughts`` is apart from ``output``. As ccusage 20.0.24
counts them: input = ``input - cached + tool`` (the subtraction only when ``total ==
input+output+thoughts+tool``), cache read = ``cached``, output = ``output``, reasoning =
what ``total`` holds beyond those (``thoughts`` when the file's counts add up); thoughts
are priced as output even where ``total`` leaves them out. Messages whose counts are all 0 carry no usage. There is no dedup across
files or by message id in ``.json`` files, so an ApiRequest's uuid is
``api:gemini:<sessionId>:<file stem>:<message id>``: a rewritten (or copied) file keeps
its uuids, two files of one session do not collide. In ``.jsonl`` files the last line
of an id wins (the store keeps the version with most tokens). Headless
``--output-format json`` results (``stats.models.<model>.tokens``) are read too.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path, PurePath
from typing import Any

from .._records import EventType
from ..ingest.pricing import Usage
from ._common import DocumentResult, EventFactory, SourceSpec, collect
from ._files import walk_files
from ._readers import document_reader, json_object
from ._values import Tokens, count, parse_iso, text, total_fallback

__all__ = ["SPEC", "discover", "read_document"]


def _find(root: Path) -> list[Path]:
    """Every ``*.json`` and ``*.jsonl`` below a root, at any depth."""
    return walk_files(root, lambda p: p.suffix in (".json", ".jsonl"))


SPEC = SourceSpec(
    name="gemini",
    title="Gemini CLI",
    env_var="GEMINI_DATA_DIR",
    default_roots=("~/.gemini/tmp",),
    kind="document",
    finder=_find,
)
discover = SPEC.discover


def _tokens(value: Any) -> dict[str, int] | None:
    if not isinstance(value, dict):
        return None

    def first(*keys: str) -> int:
        for key in keys:
            found = value.get(key)
            if isinstance(found, int | float) and not isinstance(found, bool):
                return count(found)
        return 0

    total = value.get("total", value.get("total_tokens"))
    return {
        "input": first("input", "prompt", "input_tokens", "prompt_tokens"),
        "output": first("output", "candidates", "output_tokens", "candidates_tokens"),
        "cached": first("cached", "cached_tokens"),
        "thoughts": first("thoughts", "reasoning", "thoughts_tokens", "reasoning_tokens"),
        "tool": first("tool", "tool_tokens"),
        "total": count(total)
        if isinstance(total, int | float) and not isinstance(total, bool)
        else -1,
    }


def _split(tok: dict[str, int], *, session_file: bool) -> tuple[int, int, int, int, int, int]:
    """(input, output, cache read, reasoning, priced reasoning, total) as ccusage counts
    them: the reasoning it reports is what ``total`` holds beyond the other counts (the
    file's ``total`` is its totalTokens); the reasoning it prices is ``thoughts`` plus
    whatever ``total`` holds beyond all parts."""
    inclusive = tok["input"] + tok["output"] + tok["thoughts"] + tok["tool"]
    total = tok["total"]
    if session_file:
        overlap = tok["cached"] > 0 and total == inclusive and total != inclusive + tok["cached"]
    else:
        overlap = True  # headless stats: the prompt always includes the cached part
    prompt = tok["input"] - min(tok["input"], tok["cached"]) if overlap else tok["input"]
    cache_read = tok["cached"]
    input_tokens = prompt + tok["tool"]
    output = tok["output"]
    if total < 0:
        total = input_tokens + output + cache_read + tok["thoughts"]
    output, priced = total_fallback(
        input_tokens + output + cache_read, output, tok["thoughts"], total
    )
    reported = max(total - input_tokens - output - cache_read, 0)
    return input_tokens, output, cache_read, reported, priced, total


class _Reader:
    def __init__(self, factory: EventFactory, path: str, result: DocumentResult) -> None:
        self.f = factory
        self.stem = PurePath(path).stem
        self.result = result

    def usage_event(
        self,
        *,
        session: str,
        model: str | None,
        timestamp: datetime,
        tok: dict[str, int],
        key: str,
        session_file: bool,
        raw: Any,
    ) -> list[Any]:
        if not model or not model.strip():
            return []
        split = _split(tok, session_file=session_file)
        input_tokens, output, cache_read, reasoning, priced, total = split
        if input_tokens == 0 and output == 0 and cache_read == 0 and priced == 0:
            return []
        usage = Usage(input=input_tokens, output=output + priced, cache_read=cache_read)
        tokens = Tokens(input=input_tokens, output=output, cache_read=cache_read, cache_write=None)
        return [
            self.f.api_request(
                session_id=session,
                timestamp=timestamp,
                uuid=f"api:gemini:{session}:{self.stem}:{key}",
                model=model,
                tokens=tokens,
                reasoning=reasoning,
                cost_usd=self.f.price(model, usage),
                metadata={
                    "total_tokens": total,
                    "thoughts": tok["thoughts"],
                    "tool_tokens": tok["tool"],
                },
                payload=self.f.raw_payload(raw),
            )
        ]

    def message(
        self,
        msg: dict[str, Any],
        index: int,
        session: str,
        default_ts: datetime | None,
        hint: str | None,
    ) -> list[Any]:
        kind = msg.get("type")
        key = text(msg.get("id")) or f"#{index}"
        ts = parse_iso(msg.get("timestamp")) or parse_iso(msg.get("created_at")) or default_ts
        if ts is None:
            return []
        out: list[Any] = []
        base: dict[str, Any] = {"session_id": session, "timestamp": ts}
        if kind == "gemini":
            tok = _tokens(msg.get("tokens"))
            model = text(msg.get("model")) or hint
            if tok is not None:
                out += self.usage_event(
                    session=session,
                    model=model,
                    timestamp=ts,
                    tok=tok,
                    key=key,
                    session_file=True,
                    raw=msg,
                )
            for j, call in enumerate(msg.get("toolCalls") or ()):
                if not isinstance(call, dict):
                    continue
                call_id = text(call.get("id")) or f"{key}#{j}"
                out.append(
                    self.f.tool_use(
                        **base,
                        uuid=f"gemini:tool:{session}:{self.stem}:{call_id}",
                        call_id=call_id,
                        model=model,
                        name=call.get("name"),
                        tool_input=call.get("args"),
                    )
                )
            return out
        uuid = f"gemini:{session}:{self.stem}:{key}"
        if kind == "user":
            prompt = _content_text(msg.get("content"))
            if prompt is not None:
                return [self.f.prompt(prompt, **base, uuid=uuid)]
            return []
        if isinstance(kind, str) and kind:
            return [
                self.f.event(f"gemini/{kind}", **base, uuid=uuid, payload=self.f.raw_payload(msg))
            ]
        return []


def _content_text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict)]
        joined = "\n".join(p for p in parts if isinstance(p, str))
        return joined or None
    return None


def _read(f: EventFactory, result: DocumentResult, data: bytes) -> None:
    reader = _Reader(f, f.path, result)
    if f.path.endswith(".jsonl"):
        _read_jsonl(data, reader, result)
        return
    doc = json_object(data, result)
    if doc is not None:
        _read_json(doc, reader, result)


read_document = document_reader(
    SPEC, _read, "Events of one whole chat file (``.json``) or JSONL log (``.jsonl``)."
)


def _session_of(doc: dict[str, Any], fallback: str) -> str:
    return text(doc.get("sessionId")) or text(doc.get("session_id")) or fallback


def _read_json(doc: dict[str, Any], reader: _Reader, result: DocumentResult) -> None:
    session = _session_of(doc, reader.stem)
    start = parse_iso(doc.get("startTime")) or parse_iso(doc.get("lastUpdated"))
    messages = doc.get("messages")
    f = reader.f
    if isinstance(messages, list):
        if start is not None:
            collect(
                result,
                lambda: [
                    f.event(
                        EventType.SESSION_START,
                        session_id=session,
                        timestamp=start,
                        uuid=f"gemini:session:{session}:{reader.stem}",
                        payload=f.payload(
                            {
                                "kind": doc.get("kind"),
                                "projectHash": doc.get("projectHash"),
                                "startTime": doc.get("startTime"),
                            }
                        ),
                    )
                ],
            )
        for index, msg in enumerate(messages):
            if not isinstance(msg, dict):
                result.malformed += 1
                continue
            collect(result, partial(reader.message, msg, index, session, start, None))
        return
    if doc.get("type") == "gemini":
        collect(result, lambda: reader.message(doc, 0, session, None, None))
        return
    stats = doc.get("stats")
    if stats is None and isinstance(doc.get("result"), dict):
        stats = doc["result"].get("stats")
    ts = parse_iso(doc.get("timestamp"))
    if not isinstance(stats, dict) or ts is None:
        result.skipped += 1
        return
    collect(result, lambda: _stats_events(stats, text(doc.get("model")), session, ts, reader, 0))


def _stats_events(
    stats: dict[str, Any], hint: str | None, session: str, ts: datetime, reader: _Reader, line: int
) -> list[Any]:
    out: list[Any] = []
    models = stats.get("models")
    if isinstance(models, dict):
        for model, data in models.items():
            tok = _tokens(data.get("tokens")) if isinstance(data, dict) else None
            if tok is not None:
                out += reader.usage_event(
                    session=session,
                    model=model,
                    timestamp=ts,
                    tok=tok,
                    key=f"stats:{line}:{model}",
                    session_file=False,
                    raw=data,
                )
        if out:
            return out
    tok = _tokens(stats)
    if tok is None:
        return []
    return reader.usage_event(
        session=session,
        model=hint or "unknown",
        timestamp=ts,
        tok=tok,
        key=f"stats:{line}",
        session_file=False,
        raw=stats,
    )


def _read_jsonl(data: bytes, reader: _Reader, result: DocumentResult) -> None:
    session = reader.stem
    model: str | None = None
    for number, raw in enumerate(data.splitlines()):
        if not raw.strip():
            continue
        record = json_object(raw, result)
        if record is None:
            continue
        session = _session_of(record, session)
        model = text(record.get("model")) or model
        if record.get("type") is not None:
            collect(
                result,
                partial(reader.message, record, number, session, None, model),
            )
            continue
        stats = record.get("stats")
        if stats is None and isinstance(record.get("result"), dict):
            stats = record["result"].get("stats")
        ts = parse_iso(record.get("timestamp"))
        if isinstance(stats, dict) and ts is not None:
            collect(
                result,
                partial(_stats_events, stats, model, session, ts, reader, number),
            )
        else:
            result.skipped += 1
