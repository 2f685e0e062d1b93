"""pi (pi-coding-agent) session files -> events (``kind="lines"``).

Layout: ``~/.pi/agent/sessions/--<cwd with '/' as '-'>--/<ISO time>_<sessionId>.jsonl``;
``PI_AGENT_DIR`` (comma-separated) points at the **sessions** folder. Lines (session
version 3) are ``{type, id, parentId, timestamp, ...}`` with ``type`` ``session`` (id,
cwd), ``model_change`` (provider, modelId), ``thinking_level_change``, ``custom`` and
``message``; ``message.message`` is ``{role: user|assistant|toolResult, content[],
provider, model, usage{input, output, cacheRead, cacheWrite, totalTokens,
cost{..., total}}}``; ``input`` excludes the cache.

As ccusage 20.0.24: every assistant message with usage counts (``totalTokens`` fills in
what the parts miss: to output when it is 0, else as an extra count that is reported but
not priced); the session is the file name after the ``_``; cost is pi's own
``usage.cost.total``, even when 0, else the LiteLLM price; the model is ``message.model``
(ccusage shows it as ``[pi] <model>``: display only, the event's model is the agent's
name). pi reports no reasoning count apart from output. ccusage dedups by (project,
session, timestamp, model, tokens, cost), so the uuid is
``api:pi:<session>:<hash of timestamp, model, tokens, cost>``: a line read again (here
or on another machine) collides, two different responses do not. ``state`` holds the
session id, cwd and current model.
"""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import Any

from .._records import Event, EventType
from ._common import LineParser, SourceSpec
from ._files import walk_files
from ._values import Tokens, content_id, mapping, number, parse_time, text

__all__ = ["SPEC", "Parser", "PiFormatParser", "discover"]


def _find(root: Path) -> list[Path]:
    """Every ``*.jsonl`` below the sessions folders."""
    return walk_files(root, lambda p: p.suffix == ".jsonl")


SPEC = SourceSpec(
    name="pi",
    title="pi (pi-coding-agent)",
    env_var="PI_AGENT_DIR",
    default_roots=("~/.pi/agent/sessions",),
    kind="lines",
    finder=_find,
)
discover = SPEC.discover


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    out = []
    for block in content if isinstance(content, list) else ():
        if (
            isinstance(block, dict)
            and block.get("type") == "text"
            and isinstance(block.get("text"), str)
        ):
            out.append(block["text"])
    return out


class PiFormatParser(LineParser):
    """The pi session format (also OpenClaw's). Subclasses set how a usage line is
    dated and which model it belongs to."""

    framework = "pi"
    model_fallback = False  # OpenClaw: the latest model_change / model-snapshot

    def session_from_path(self) -> str:
        stem = PurePath(self.path).stem
        return stem.split("_", 1)[1] if "_" in stem else stem

    def start(self) -> None:
        self.state.setdefault("session_id", self.session_from_path())
        self.state.setdefault("line", 0)

    def usage_time(self, record: dict[str, Any], message: dict[str, Any]) -> Any:
        return (
            parse_time(record.get("timestamp"))
            if isinstance(record.get("timestamp"), str)
            else None
        )

    def events(self, record: dict[str, Any], raw: bytes) -> list[Event]:
        state = self.state
        state["line"] = int(state.get("line", 0)) + 1
        kind = record.get("type")
        session = state["session_id"]
        line_id = text(record.get("id")) or f"#{state['line']}"
        ts = parse_time(record.get("timestamp"))
        f = self.f
        if kind == "model_change" or (
            kind == "custom" and record.get("customType") == "model-snapshot"
        ):
            data = record.get("data")
            source = data if isinstance(data, dict) else record
            model = text(source.get("modelId")) or text(source.get("model"))
            if model:
                state["model"] = model
            if text(source.get("provider")):
                state["provider"] = source["provider"]
        if kind == "session":
            if text(record.get("cwd")):
                state["cwd"] = record["cwd"]
            if ts is None:
                return []
            return [
                f.event(
                    EventType.SESSION_START,
                    session_id=session,
                    timestamp=ts,
                    uuid=f"{self.framework}:session:{session}",
                    cwd=state.get("cwd"),
                    payload=f.raw_payload(raw),
                )
            ]
        message = record.get("message") if isinstance(record.get("message"), dict) else None
        if kind == "message" and message is not None:
            return self.message(record, message, raw, line_id)
        if ts is None or not isinstance(kind, str) or not kind:
            return []
        name = kind
        if kind == "custom" and text(record.get("customType")):
            name = f"custom/{record['customType']}"
        return [
            f.event(
                name,
                session_id=session,
                timestamp=ts,
                uuid=f"{self.framework}:{session}:{line_id}",
                cwd=state.get("cwd"),
                model=state.get("model") if self.model_fallback else None,
                payload=f.raw_payload(raw),
            )
        ]

    def message(
        self, record: dict[str, Any], message: dict[str, Any], raw: bytes, line_id: str
    ) -> list[Event]:
        state, f = self.state, self.f
        session = state["session_id"]
        role = message.get("role")
        out: list[Event] = []
        if role == "assistant" and isinstance(message.get("usage"), dict):
            out += self.usage(record, message, raw)
        ts = parse_time(record.get("timestamp")) or parse_time(message.get("timestamp"), unit="ms")
        if ts is None:
            return out
        base = {"session_id": session, "timestamp": ts, "cwd": state.get("cwd")}
        uuid = f"{self.framework}:{session}:{line_id}"
        if role == "user":
            texts = _texts(message.get("content"))
            if texts:
                out.append(f.prompt("\n".join(texts), **base, uuid=uuid))
            return out
        if role == "toolResult":
            call_id = text(message.get("toolCallId")) or line_id
            out.append(
                f.tool_result(
                    **base,
                    uuid=f"{self.framework}:tool_result:{session}:{call_id}",
                    call_id=call_id,
                    failed=message.get("isError") is True,
                    tool_name=text(message.get("toolName")),
                )
            )
            return out
        if role == "assistant":
            model = self.model_of(message)
            for j, block in enumerate(message.get("content") or ()):
                if isinstance(block, dict) and block.get("type") == "toolCall":
                    call_id = text(block.get("id")) or f"{line_id}#{j}"
                    out.append(
                        f.tool_use(
                            **base,
                            uuid=f"{self.framework}:tool_use:{session}:{call_id}",
                            call_id=call_id,
                            model=model,
                            name=block.get("name"),
                            tool_input=block.get("arguments"),
                        )
                    )
            if not out:
                out.append(f.event("message/assistant", **base, uuid=uuid, model=model))
            return out
        if isinstance(role, str) and role:
            out.append(f.event(f"message/{role}", **base, uuid=uuid, payload=f.raw_payload(raw)))
        return out

    def model_of(self, message: dict[str, Any]) -> str | None:
        model = text(message.get("model"))
        if self.model_fallback:
            model = text(message.get("modelId")) or model or self.state.get("model") or "unknown"
        return model

    def usage(self, record: dict[str, Any], message: dict[str, Any], raw: bytes) -> list[Event]:
        usage = message["usage"]
        ts = self.usage_time(record, message)
        if ts is None:
            return []
        tok = Tokens.read(
            input=usage.get("input"),
            output=usage.get("output"),
            cache_read=usage.get("cacheRead"),
            cache_write=usage.get("cacheWrite"),
            total=usage.get("totalTokens"),
        )
        if not tok:
            return []
        model = self.model_of(message)
        cost_block = mapping(usage.get("cost"))
        own = number(cost_block.get("total"))
        cost = self.f.cost(model, tok, own, price_extra=False)  # ccusage: total's extra unpriced
        session = self.state["session_id"]
        parts = (tok.input, tok.output, tok.cache_write, tok.cache_read, tok.extra)
        key = content_id(ts.isoformat(), model, *parts, own)
        meta = {
            "provider": message.get("provider") or self.state.get("provider"),
            "response_id": message.get("responseId"),
            "stop_reason": message.get("stopReason"),
        }
        return [
            self.f.api_request(
                session_id=session,
                timestamp=ts,
                uuid=f"api:{self.framework}:{session}:{key}",
                model=model,
                tokens=tok,
                reasoning=tok.extra or None,
                cost_usd=cost,
                cwd=self.state.get("cwd"),
                metadata={k: v for k, v in meta.items() if v is not None},
                payload=self.f.raw_payload(raw),
            )
        ]


class Parser(PiFormatParser):
    """Lines of one pi session file."""

    framework = "pi"
