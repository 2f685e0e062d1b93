"""Claude Code transcript lines -> events.

Only the fields netsky needs are decoded (msgspec typed structs); unknown fields are
ignored and unknown line types are kept as events of their own type, never fatal.

Event identity is derived so that the same real event reported twice is stored once:

* API responses: ``api:<message.id>:<requestId>`` (``api:<message.id>`` without a
  request id). Every line of a streamed response, the subagent file's copy and the
  parent's ``agent_progress`` copy are versions of one event; the store keeps the
  one with the most tokens (see ``netsky_core.version_rank``), which is exactly the
  dedup rule that reproduces ccusage.
* Tool calls: ``tool_use:<id>`` and results ``tool_result:<id>`` (the same ids
  ``netsky hook`` derives from hook payloads).
* Subagents: ``subagent:<agentId>``.
* Anything else: the line's own ``uuid``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import PurePath
from typing import Any

import msgspec
import orjson

from .._records import Event, EventSource, EventType
from .pricing import PriceTable, Usage

__all__ = ["ClaudeParser", "LineError", "default_session_id"]

FRAMEWORK = "claude"
SYNTHETIC = "<synthetic>"
TOOL_RESPONSE_LIMIT = 64 * 1024
_NOT_PROMPTS = ("<local-command-", "[Request interrupted by user", "<bash-stdout>", "<bash-stderr>")
_SKIPPED_PROGRESS = frozenset({"hook_progress"})


class LineError(ValueError):
    """A line is not valid JSON of a shape we can read."""


class CacheCreation(msgspec.Struct):
    ephemeral_5m_input_tokens: int | None = None
    ephemeral_1h_input_tokens: int | None = None


class UsageRecord(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation: CacheCreation | None = None
    service_tier: str | None = None
    speed: str | None = None


class Block(msgspec.Struct):
    type: str | None = None
    id: str | None = None
    name: str | None = None
    input: msgspec.Raw = msgspec.Raw()
    tool_use_id: str | None = None
    is_error: bool | None = None
    content: msgspec.Raw = msgspec.Raw()
    text: str | None = None


class Message(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    role: str | None = None
    content: str | list[Block] | None = None
    usage: UsageRecord | None = None
    stop_reason: str | None = None


class CompactMetadata(msgspec.Struct):
    trigger: str | None = None
    preTokens: int | None = None


class Progress(msgspec.Struct):
    type: str | None = None
    message: Line | None = None
    agentId: str | None = None


class Line(msgspec.Struct):
    type: str | None = None
    subtype: str | None = None
    uuid: str | None = None
    sessionId: str | None = None
    timestamp: datetime | None = None
    isSidechain: bool | None = None
    cwd: str | None = None
    gitBranch: str | None = None
    version: str | None = None
    requestId: str | None = None
    message: Message | None = None
    isMeta: bool | None = None
    isCompactSummary: bool | None = None
    isApiErrorMessage: bool | None = None
    agentId: str | None = None
    promptId: str | None = None
    data: Progress | None = None
    compactMetadata: CompactMetadata | None = None
    costUSD: float | None = None
    durationMs: float | None = None


_decode = msgspec.json.Decoder(Line).decode


def default_session_id(path: str) -> str:
    """The session a transcript file belongs to when its lines do not say.

    ``<project>/<session>.jsonl`` -> ``<session>``;
    ``<project>/<session>/subagents/agent-<id>.jsonl`` -> ``<session>``.
    """
    p = PurePath(path)
    if p.parent.name == "subagents":
        return p.parent.parent.name
    return p.stem


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _raw_json(raw: msgspec.Raw) -> Any:
    """A raw JSON fragment as an orjson Fragment (embedded without re-encoding)."""
    if not raw:
        return None
    return orjson.Fragment(bytes(raw))


class ClaudeParser:
    """Turns the lines of one transcript file into events.

    Counters (``malformed``, ``skipped``, ``synthetic``) and ``unknown_models`` grow
    as lines are parsed; one parser is used per file and run.
    """

    def __init__(
        self,
        *,
        machine_id: str,
        path: str,
        prices: PriceTable,
        store_payloads: bool = True,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self.machine_id = machine_id
        self.path = path
        self.prices = prices
        self.store_payloads = store_payloads
        self.redact = redact
        self.default_session = default_session_id(path)
        self.is_subagent_file = PurePath(path).parent.name == "subagents"
        self.malformed = 0
        self.skipped = 0
        self.synthetic = 0
        self.unknown_models: set[str] = set()
        self._agents_started: set[tuple[str, str]] = set()

    # -- entry point ----------------------------------------------------------------

    def parse(self, raw: bytes) -> list[Event]:
        """Events of one line (without its newline). Malformed lines are counted."""
        if not raw.isascii():
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                self.malformed += 1  # not JSON text at all, whatever fields it has
                return []
        try:
            line = _decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            self.malformed += 1  # RecursionError: nested deeper than the decoder goes
            return []
        try:
            return self._events(line, raw)
        except (ValueError, TypeError, msgspec.DecodeError, RecursionError):
            self.malformed += 1  # includes RecordError: a value no store can keep
            return []

    # -- mapping ----------------------------------------------------------------------

    def _base(self, line: Line, *, timestamp: datetime | None = None) -> dict[str, Any]:
        return {
            "machine_id": self.machine_id,
            "session_id": line.sessionId or self.default_session,
            "timestamp": timestamp or line.timestamp,
            "framework": FRAMEWORK,
            "source": EventSource.TRANSCRIPT,
            "cwd": line.cwd or None,
            "git_branch": line.gitBranch or None,
            "transcript_path": self.path,
            "is_sidechain": bool(line.isSidechain),
        }

    def _payload(self, value: Any) -> str | None:
        if value is None:
            return None
        text = value if isinstance(value, str) else _json(value)
        return self.redact(text) if self.redact is not None else text

    def _events(self, line: Line, raw: bytes) -> list[Event]:
        kind = line.type
        if line.timestamp is None or not kind:
            self.skipped += 1
            return []
        out: list[Event] = []
        if self.is_subagent_file and line.agentId:
            self._subagent_start(line, line.agentId, out, subagent_type=None)
        if kind == "assistant":
            self._assistant(line, out, sidechain=bool(line.isSidechain))
        elif kind == "user":
            self._user(line, out)
        elif kind == "system":
            self._system(line, raw, out)
        elif kind == "progress":
            self._progress(line, raw, out)
        else:
            self._other(line, raw, kind, out)
        if not out:
            self.skipped += 1
        return out

    def _subagent_start(
        self, line: Line, agent_id: str, out: list[Event], *, subagent_type: str | None
    ) -> None:
        session = line.sessionId or self.default_session
        if (session, agent_id) in self._agents_started:
            return
        self._agents_started.add((session, agent_id))
        base = self._base(line)
        base["is_sidechain"] = False
        out.append(
            Event(
                **base,
                event_type=EventType.SUBAGENT_START,
                uuid=f"subagent:{agent_id}",
                spawned_agent_id=agent_id,
                subagent_type=subagent_type,
                payload=self._payload({"agent_id": agent_id}),
            )
        )

    def _assistant(
        self,
        line: Line,
        out: list[Event],
        *,
        sidechain: bool,
        timestamp: datetime | None = None,
        request_id: str | None = None,
        agent_id: str | None = None,
    ) -> None:
        msg = line.message
        if msg is None:
            return
        base = self._base(line, timestamp=timestamp)
        base["is_sidechain"] = sidechain
        model = msg.model
        request_id = request_id or line.requestId
        if model == SYNTHETIC:
            self.synthetic += 1
            if line.isApiErrorMessage and line.uuid:
                out.append(
                    Event(**base, event_type=EventType.API_ERROR, uuid=line.uuid, model=None)
                )
            return
        base["model"] = model or None
        if line.isApiErrorMessage and line.uuid:
            out.append(Event(**base, event_type=EventType.API_ERROR, uuid=line.uuid))
        usage = msg.usage
        if usage is not None:
            out.append(self._api_request(line, msg, usage, base, request_id, agent_id))
        content = msg.content
        if isinstance(content, list):
            for block in content:
                if block.type == "tool_use" and block.id:
                    out.append(self._tool_use(block, base))

    def _api_request(
        self,
        line: Line,
        msg: Message,
        usage: UsageRecord,
        base: dict[str, Any],
        request_id: str | None,
        agent_id: str | None,
    ) -> Event:
        split = usage.cache_creation
        u = Usage(
            input=usage.input_tokens or 0,
            output=usage.output_tokens or 0,
            cache_read=usage.cache_read_input_tokens or 0,
            cache_write=usage.cache_creation_input_tokens or 0,
            cache_write_5m=None if split is None else (split.ephemeral_5m_input_tokens or 0),
            cache_write_1h=None if split is None else (split.ephemeral_1h_input_tokens or 0),
            speed=usage.speed,
        )
        # With the 5m/1h split present, the split is what was written (and priced).
        cache_write = (
            usage.cache_creation_input_tokens
            if split is None
            else (split.ephemeral_5m_input_tokens or 0) + (split.ephemeral_1h_input_tokens or 0)
        )
        model = msg.model
        if line.costUSD is not None:
            cost: float | None = float(line.costUSD)
        else:
            cost = self.prices.cost(model, u)
            if cost is None and model:
                self.unknown_models.add(model)
        if msg.id:
            uuid = f"api:{msg.id}:{request_id}" if request_id else f"api:{msg.id}"
        else:
            uuid = f"line:{line.uuid}"
        meta: dict[str, Any] = {"message_id": msg.id, "request_id": request_id}
        if split is not None:
            meta["cache_write_5m"] = u.cache_write_5m
            meta["cache_write_1h"] = u.cache_write_1h
        if usage.service_tier:
            meta["service_tier"] = usage.service_tier
        if usage.speed:
            meta["speed"] = usage.speed
        if msg.stop_reason:
            meta["stop_reason"] = msg.stop_reason
        if agent_id:
            meta["agent_id"] = agent_id
        if line.version:
            meta["version"] = line.version
        return Event(
            **base,
            event_type=EventType.API_REQUEST,
            uuid=uuid,
            tokens_input=usage.input_tokens,
            tokens_output=usage.output_tokens,
            tokens_cache_read=usage.cache_read_input_tokens,
            tokens_cache_write=cache_write,
            cost_usd=cost,
            metadata=_json(meta),
        )

    def _tool_use(self, block: Block, base: dict[str, Any]) -> Event:
        subagent_type = None
        if block.name in ("Task", "Agent") and block.input:
            try:
                decoded = msgspec.json.decode(block.input)
            except msgspec.DecodeError:
                decoded = None
            if isinstance(decoded, dict) and isinstance(decoded.get("subagent_type"), str):
                subagent_type = decoded["subagent_type"]
        payload = None
        if self.store_payloads:
            payload = self._payload(
                {
                    "tool_name": block.name,
                    "tool_input": _raw_json(block.input),
                    "tool_use_id": block.id,
                }
            )
        return Event(
            **base,
            event_type=EventType.PRE_TOOL_USE,
            uuid=f"tool_use:{block.id}",
            tool_use_id=block.id,
            tool_name=block.name,
            subagent_type=subagent_type,
            payload=payload,
        )

    def _user(self, line: Line, out: list[Event], *, sidechain: bool | None = None) -> None:
        msg = line.message
        if msg is None or line.isCompactSummary or line.isMeta:
            return
        base = self._base(line)
        if sidechain is not None:
            base["is_sidechain"] = sidechain
        content = msg.content
        texts: list[str] = []
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            for block in content:
                if block.type == "tool_result" and block.tool_use_id:
                    out.append(self._tool_result(block, base))
                elif block.type == "text" and block.text:
                    texts.append(block.text)
                elif block.type == "image":
                    texts.append("[image]")
        if not texts:
            return
        text = "\n".join(texts)
        if text.lstrip().startswith(_NOT_PROMPTS):
            return
        uuid = f"prompt:{line.promptId}" if line.promptId else line.uuid
        if not uuid:
            return
        out.append(
            Event(
                **base,
                event_type=EventType.USER_PROMPT_SUBMIT,
                uuid=uuid,
                payload=self._payload({"prompt": text}),
            )
        )

    def _tool_result(self, block: Block, base: dict[str, Any]) -> Event:
        failed = bool(block.is_error)
        payload = None
        if self.store_payloads:
            body: dict[str, Any] = {"tool_use_id": block.tool_use_id, "is_error": failed}
            content = block.content
            if content:
                if len(content) <= TOOL_RESPONSE_LIMIT:
                    body["tool_response"] = _raw_json(content)
                else:
                    body["tool_response_bytes"] = len(content)
            payload = self._payload(body)
        return Event(
            **base,
            event_type=EventType.POST_TOOL_USE_FAILURE if failed else EventType.POST_TOOL_USE,
            uuid=f"tool_result:{block.tool_use_id}",
            tool_use_id=block.tool_use_id,
            payload=payload,
        )

    def _system(self, line: Line, raw: bytes, out: list[Event]) -> None:
        if not line.uuid:
            return
        base = self._base(line)
        subtype = line.subtype or ""
        if subtype == "compact_boundary":
            meta = line.compactMetadata
            out.append(
                Event(
                    **base,
                    event_type=EventType.PRE_COMPACT,
                    uuid=line.uuid,
                    payload=self._payload(
                        {
                            "trigger": meta.trigger if meta else None,
                            "pre_tokens": meta.preTokens if meta else None,
                        }
                    ),
                )
            )
        elif subtype == "api_error":
            out.append(
                Event(
                    **base,
                    event_type=EventType.API_ERROR,
                    uuid=line.uuid,
                    payload=self._raw_line(raw),
                )
            )
        else:
            duration = line.durationMs
            out.append(
                Event(
                    **base,
                    event_type=f"system/{subtype}" if subtype else "system",
                    uuid=line.uuid,
                    duration_ms=int(duration) if duration is not None and duration >= 0 else None,
                    payload=self._raw_line(raw),
                )
            )

    def _progress(self, line: Line, raw: bytes, out: list[Event]) -> None:
        data = line.data
        kind = data.type if data is not None else None
        if kind in _SKIPPED_PROGRESS:
            return
        if data is not None and kind == "agent_progress":
            agent = data.agentId
            if agent:
                self._subagent_start(line, agent, out, subagent_type=None)
            inner = data.message
            if inner is not None and inner.message is not None:
                # The subagent's own message, embedded in the parent transcript.
                inner.sessionId = inner.sessionId or line.sessionId
                inner.cwd = inner.cwd or line.cwd
                inner.gitBranch = inner.gitBranch or line.gitBranch
                inner.version = inner.version or line.version
                inner.timestamp = inner.timestamp or line.timestamp
                if inner.type == "assistant":
                    self._assistant(
                        inner,
                        out,
                        sidechain=True,
                        request_id=inner.requestId,
                        agent_id=agent,
                    )
                elif inner.type == "user":
                    self._user(inner, out, sidechain=True)
            return
        if line.uuid:
            out.append(
                Event(
                    **self._base(line),
                    event_type=f"progress/{kind}" if kind else "progress",
                    uuid=line.uuid,
                    payload=self._raw_line(raw),
                )
            )

    def _other(self, line: Line, raw: bytes, kind: str, out: list[Event]) -> None:
        uuid = line.uuid
        if not uuid or not (line.sessionId or self.default_session):
            return
        out.append(
            Event(**self._base(line), event_type=kind, uuid=uuid, payload=self._raw_line(raw))
        )

    def _raw_line(self, raw: bytes) -> str | None:
        if not self.store_payloads:
            return None
        return self._payload(raw.decode("utf-8", errors="replace"))
