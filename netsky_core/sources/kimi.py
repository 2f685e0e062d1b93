"""Kimi CLI wire logs -> events (``kind="lines"``).

Layout: ``~/.kimi/sessions/<md5 of work dir>/<sessionId>/wire.jsonl``; ``KIMI_DATA_DIR``
(comma-separated) replaces ``~/.kimi`` and exactly ``sessions/<group>/<session>/
wire.jsonl`` is read. The first line is ``{"type":"metadata","protocol_version":...}``;
later lines are ``{timestamp: <epoch s>, message:{type, payload}}`` (``TurnBegin``,
``StepBegin``, ``ContentPart``, ``ToolCall``, ``ToolResult``, ``StatusUpdate``, ...).
Usage is ``StatusUpdate.payload.token_usage{input_other, output, input_cache_read,
input_cache_creation}`` (``input_other`` excludes the cache) with the response's
``message_id``; Kimi reports no reasoning count apart from output.

As ccusage 20.0.24: the model is ``model`` of ``<root>/config.json``, else
``kimi-for-coding`` (real Kimi keeps ``config.toml``, so in practice always the
fallback), priced as Moonshot's ``kimi-k2.5`` before 2026-04-20 15:28:10.072 UTC and as
``kimi-k2.6`` from then on (ccusage's cut-over); a ``total`` beyond the parts fills in
output (or an extra count, reported but not priced). ccusage dedups by (session, message id, timestamp, model, tokens),
so the uuid is ``api:kimi:<session>:<hash of those>``. ``state`` holds the model and a
line count.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any

from .._records import Event
from ._common import LineParser, SourceSpec
from ._files import glob_files
from ._values import Tokens, content_id, decode_json, mapping, number, parse_time, text

__all__ = ["SPEC", "Parser", "discover", "pricing_model"]


def _find(root: Path) -> list[Path]:
    """``<root>/sessions/<group>/<session>/wire.jsonl``."""
    return glob_files(root, "sessions/*/*/wire.jsonl")


SPEC = SourceSpec(
    name="kimi",
    title="Kimi CLI",
    env_var="KIMI_DATA_DIR",
    default_roots=("~/.kimi",),
    kind="lines",
    finder=_find,
)
DEFAULT_MODEL = "kimi-for-coding"
discover = SPEC.discover
K2_6_FROM = datetime.fromtimestamp(1_776_698_890_072 / 1000, UTC)


def pricing_model(model: str, when: datetime) -> str:
    """The table entry a Kimi model is priced as (``kimi-for-coding`` by date)."""
    if model == DEFAULT_MODEL:
        return "kimi-k2.5" if when < K2_6_FROM else "kimi-k2.6"
    return model


def _config_model(path: str) -> str:
    root = PurePath(path).parents[3] if len(PurePath(path).parents) > 3 else None
    if root is None:
        return DEFAULT_MODEL
    try:
        config = decode_json(Path(root, "config.json").read_bytes())
    except (OSError, ValueError):
        return DEFAULT_MODEL
    model = config.get("model") if isinstance(config, dict) else None
    return model if isinstance(model, str) and model.strip() else DEFAULT_MODEL


class Parser(LineParser):
    """Lines of one ``wire.jsonl``."""

    framework = "kimi"

    def start(self) -> None:
        self.state.setdefault("session_id", PurePath(self.path).parent.name or "unknown")
        self.state.setdefault("model", _config_model(self.path))
        self.state.setdefault("line", 0)

    def events(self, record: dict[str, Any], raw: bytes) -> list[Event]:
        state = self.state
        state["line"] = int(state.get("line", 0)) + 1
        if record.get("type") == "metadata":
            return []
        message = record.get("message")
        if not isinstance(message, dict):
            return []
        kind = message.get("type")
        payload = mapping(message.get("payload"))
        seconds = number(record.get("timestamp"))
        ts = parse_time(seconds, unit="s") if seconds is not None else None
        if ts is None or not isinstance(kind, str) or not kind:
            return []
        session, model, f = state["session_id"], state["model"], self.f
        base = {"session_id": session, "timestamp": ts}
        line_uuid = f"kimi:{session}:{state['line']}:{content_id(raw.decode('utf-8', 'replace'))}"
        if kind == "StatusUpdate":
            usage = payload.get("token_usage")
            if isinstance(usage, dict):
                return self._usage(usage, payload, seconds, ts, raw)
            return []
        if kind == "TurnBegin":
            parts = payload.get("user_input")
            if isinstance(parts, str):
                texts = [parts]
            else:
                texts = [
                    p["text"]
                    for p in (parts if isinstance(parts, list) else ())
                    if isinstance(p, dict) and isinstance(p.get("text"), str)
                ]
            if texts:
                return [f.prompt("\n".join(texts), **base, uuid=line_uuid)]
        if kind == "ToolCall":
            call_id = text(payload.get("id")) or line_uuid
            fn = mapping(payload.get("function"))
            return [
                f.tool_use(
                    **base,
                    uuid=f"kimi:tool_use:{session}:{call_id}",
                    call_id=call_id,
                    model=model,
                    name=fn.get("name"),
                    tool_input=fn.get("arguments"),
                )
            ]
        if kind == "ToolResult":
            call_id = text(payload.get("tool_call_id")) or line_uuid
            value = mapping(payload.get("return_value"))
            failed = value.get("is_error") is True
            uuid = f"kimi:tool_result:{session}:{call_id}"
            return [f.tool_result(**base, uuid=uuid, call_id=call_id, failed=failed)]
        return [f.event(kind, **base, uuid=line_uuid, payload=f.raw_payload(raw))]

    def _usage(
        self,
        usage: dict[str, Any],
        payload: dict[str, Any],
        seconds: float | None,
        ts: datetime,
        raw: bytes,
    ) -> list[Event]:
        tok = Tokens.read(
            input=usage.get("input_other"),
            output=usage.get("output"),
            cache_read=usage.get("input_cache_read"),
            cache_write=usage.get("input_cache_creation"),
            total=usage.get("total"),
        )
        if not tok:
            return []
        session, model = self.state["session_id"], self.state["model"]
        message_id = text(payload.get("message_id"))
        millis = int(seconds * 1000) if seconds is not None else None
        key = content_id(
            message_id,
            millis,
            model,
            tok.input,
            tok.output,
            tok.cache_write,
            tok.cache_read,
            tok.extra,
        )
        # ccusage does not price what total adds
        cost = self.f.cost(model, tok, price_extra=False, priced_as=pricing_model(model, ts))
        return [
            self.f.api_request(
                session_id=session,
                timestamp=ts,
                uuid=f"api:kimi:{session}:{key}",
                model=model,
                tokens=tok,
                reasoning=tok.extra or None,
                cost_usd=cost,
                metadata={
                    "message_id": message_id,
                    "priced_as": pricing_model(model, ts),
                    "context_usage": payload.get("context_usage"),
                },
                payload=self.f.raw_payload(raw),
            )
        ]
