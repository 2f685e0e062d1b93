"""Qwen Code chat logs -> events (``kind="lines"``).

Layout: ``~/.qwen/projects/<cwd with separators as '-'>/chats/<sessionId>.jsonl``;
``QWEN_DATA_DIR`` (comma-separated) replaces ``~/.qwen`` and exactly
``projects/*/chats/*.jsonl`` is read. Records are ``{uuid, parentUuid, sessionId,
timestamp, type, cwd, version, gitBranch?, ...}``, ``type`` one of ``user``,
``assistant`` (``model``, ``usageMetadata{promptTokenCount, candidatesTokenCount,
thoughtsTokenCount, totalTokenCount, cachedContentTokenCount}``), ``tool_result`` and
``system`` (``subtype``).

Tokens: ``promptTokenCount`` **includes** ``cachedContentTokenCount`` and
``totalTokenCount = prompt + candidates (+ thoughts)``. netsky reports input =
``prompt - cached``, cache read = ``cached``, output = ``candidates``, reasoning =
``thoughts`` (priced as output). **ccusage 20.0.24 does not subtract the cached tokens
from the prompt**, so it counts them twice (as input and as cache read): its input and
totalTokens exceed netsky's by exactly the cached count; output, cache read and
reasoning agree. The model ``coder-model`` (Qwen OAuth) has no price.

ccusage dedups by (session, timestamp, model, tokens), so the uuid is
``api:qwen:<session>:<hash of those>``. Lines without a timestamp are skipped (ccusage
dates them by the file's modification time, which is not a property of the line).
``state`` holds the session id (the file's, until a record names one).
"""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import Any

import attrs

from .._records import Event
from ._common import LineParser, SourceSpec
from ._files import glob_files
from ._values import Tokens, content_id, count, parse_time, text

__all__ = ["SPEC", "Parser", "discover"]


def _find(root: Path) -> list[Path]:
    """``<root>/projects/*/chats/*.jsonl``."""
    return glob_files(root, "projects/*/chats/*.jsonl")


SPEC = SourceSpec(
    name="qwen",
    title="Qwen Code",
    env_var="QWEN_DATA_DIR",
    default_roots=("~/.qwen",),
    kind="lines",
    finder=_find,
)
DEFAULT_MODEL = "qwen3-coder"
discover = SPEC.discover


def _parts(record: dict[str, Any]) -> list[dict[str, Any]]:
    message = record.get("message")
    parts = message.get("parts") if isinstance(message, dict) else None
    return [p for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []


class Parser(LineParser):
    """Lines of one Qwen chat file."""

    framework = "qwen"

    def start(self) -> None:
        if "session_id" not in self.state:
            p = PurePath(self.path)
            project = p.parent.parent.name if p.parent.name == "chats" else "unknown"
            self.state["session_id"] = f"{project}-{p.stem}"

    def events(self, record: dict[str, Any], raw: bytes) -> list[Event]:
        kind = record.get("type")
        session = text(record.get("sessionId"))
        if session:
            self.state["session_id"] = session
        session = self.state["session_id"]
        ts = (
            parse_time(record.get("timestamp"))
            if isinstance(record.get("timestamp"), str)
            else None
        )
        if ts is None or not isinstance(kind, str) or not kind:
            return []
        f = self.f
        base = {
            "session_id": session,
            "timestamp": ts,
            "cwd": text(record.get("cwd")),
            "git_branch": text(record.get("gitBranch")),
        }
        rid = text(record.get("uuid")) or content_id(raw.decode("utf-8", "replace"))
        uuid = f"qwen:{session}:{rid}"
        out: list[Event] = []
        if kind == "assistant":
            model = text(record.get("model")) or DEFAULT_MODEL
            usage = record.get("usageMetadata")
            if isinstance(usage, dict):
                out += self._usage(usage, model, base, raw)
            for j, part in enumerate(_parts(record)):
                call = part.get("functionCall")
                if isinstance(call, dict):
                    call_id = text(call.get("id")) or f"{rid}#{j}"
                    out.append(
                        f.tool_use(
                            **base,
                            uuid=f"qwen:tool_use:{session}:{call_id}",
                            call_id=call_id,
                            model=model,
                            name=call.get("name"),
                            tool_input=call.get("args"),
                        )
                    )
            if not out:
                out.append(f.event("message/assistant", **base, uuid=uuid, model=model))
            return out
        if kind == "user":
            texts = [p["text"] for p in _parts(record) if isinstance(p.get("text"), str)]
            if texts:
                return [f.prompt("\n".join(texts), **base, uuid=uuid)]
            return [f.event("message/user", **base, uuid=uuid, payload=f.raw_payload(raw))]
        if kind == "tool_result":
            for part in _parts(record):
                response = part.get("functionResponse")
                if isinstance(response, dict):
                    call_id = text(response.get("id")) or rid
                    out.append(
                        f.tool_result(
                            **base,
                            uuid=f"qwen:tool_result:{session}:{call_id}",
                            call_id=call_id,
                            tool_name=text(response.get("name")),
                        )
                    )
            if out:
                return out
        subtype = text(record.get("subtype"))
        name = f"{kind}/{subtype}" if subtype else kind
        return [f.event(name, **base, uuid=uuid, payload=f.raw_payload(raw))]

    def _usage(
        self, usage: dict[str, Any], model: str, base: dict[str, Any], raw: bytes
    ) -> list[Event]:
        prompt = count(usage.get("promptTokenCount"))
        output = count(usage.get("candidatesTokenCount"))
        cached = count(usage.get("cachedContentTokenCount"))
        tok = Tokens.read(
            input=prompt - min(prompt, cached),
            output=output,
            cache_read=cached,
            extra=usage.get("thoughtsTokenCount"),
            total=usage.get("totalTokenCount"),
        )
        if not tok:
            return []
        tok = attrs.evolve(tok, cache_write=None)  # Qwen reports no cache writes
        key = content_id(
            base["timestamp"].isoformat(), model, prompt, tok.output, cached, tok.extra
        )
        return [
            self.f.api_request(
                **base,
                uuid=f"api:qwen:{base['session_id']}:{key}",
                model=model,
                tokens=tok,
                cost_usd=self.f.cost(model, tok),
                metadata={
                    "prompt_tokens": prompt,
                    "total_tokens": count(usage.get("totalTokenCount")),
                },
                payload=self.f.raw_payload(raw),
            )
        ]
