"""Codex CLI rollout lines -> events.

A rollout (``sessions/YYYY/MM/DD/rollout-<ts>-<uuid>.jsonl``) starts with
``session_meta``; later lines are ``turn_context``, ``response_item``, ``event_msg``
and ``compacted``. Usage comes from ``event_msg``/``token_count``: each one is
written twice and carries the *cumulative* ``total_token_usage``, so an
``ApiRequest`` is the increase of that cumulative total (never the sum of
``last_token_usage``, which double counts). ``input_tokens`` includes cached tokens
(reported as ``input - cached`` input plus ``cached`` cache reads); output includes
reasoning.

The parser is stateful (session id, model, cumulative totals); ``state`` is saved in
the file's position so an appended file is read from its offset with the right
baseline. Rollout lines have no ids: events are keyed by a hash of the line, or by
the call id of tool calls, or by the cumulative total for usage, so a rollout present
in both ``sessions/`` and ``archived_sessions/`` is stored once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from pathlib import PurePath
from typing import Any

import msgspec
import orjson

from .._records import Event, EventSource, EventType
from .pricing import PriceTable, Usage

__all__ = ["CodexParser"]

FRAMEWORK = "codex"
TOOL_RESPONSE_LIMIT = 64 * 1024
_SKIPPED_EVENTS = frozenset(
    {"agent_reasoning", "agent_message", "agent_reasoning_raw_content", "token_count"}
)
_SKIPPED_ITEMS = frozenset({"reasoning", "message"})
_CALLS = frozenset({"function_call", "custom_tool_call", "local_shell_call"})
_OUTPUTS = frozenset({"function_call_output", "custom_tool_call_output", "local_shell_call_output"})


class TokenUsage(msgspec.Struct):
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0
    total_tokens: int = 0


class TokenInfo(msgspec.Struct):
    total_token_usage: TokenUsage | None = None
    model_context_window: int | None = None


class Git(msgspec.Struct):
    branch: str | None = None
    commit_hash: str | None = None
    repository_url: str | None = None


class Payload(msgspec.Struct):
    type: str | None = None
    id: str | None = None
    cwd: str | None = None
    model: str | None = None
    cli_version: str | None = None
    originator: str | None = None
    git: Git | None = None
    info: TokenInfo | None = None
    message: str | None = None
    name: str | None = None
    call_id: str | None = None
    arguments: str | None = None
    input: msgspec.Raw = msgspec.Raw()
    output: msgspec.Raw = msgspec.Raw()
    action: msgspec.Raw = msgspec.Raw()
    role: str | None = None
    rate_limits: msgspec.Raw = msgspec.Raw()


class Line(msgspec.Struct):
    timestamp: datetime | None = None
    type: str | None = None
    payload: Payload | None = None


_decode = msgspec.json.Decoder(Line).decode


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _storable(value: str | None, name: str) -> str | None:
    """``value`` if every store can keep it; ValueError (a malformed line) otherwise,
    raised before the parser's state changes."""
    if value is not None and ("\x00" in value or not value.isascii()):
        if "\x00" in value:
            raise ValueError(f"{name} holds a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{name} is not valid unicode") from None
    return value


def _line_id(raw: bytes) -> str:
    return "codex:" + hashlib.blake2b(raw, digest_size=12).hexdigest()


def _session_from_name(path: str) -> str:
    stem = PurePath(path).stem  # rollout-2026-01-25T10-32-00-<uuid>
    parts = stem.split("-")
    return "-".join(parts[-5:]) if len(parts) >= 6 else stem


class CodexParser:
    """Turns the lines of one rollout into events; ``state`` carries over runs."""

    def __init__(
        self,
        *,
        machine_id: str,
        path: str,
        prices: PriceTable,
        state: dict[str, Any] | None = None,
        store_payloads: bool = True,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self.machine_id = machine_id
        self.path = path
        self.prices = prices
        self.store_payloads = store_payloads
        self.redact = redact
        self.state: dict[str, Any] = dict(state or {})
        self.state.setdefault("session_id", _session_from_name(path))
        self.malformed = 0
        self.skipped = 0
        self.synthetic = 0
        self.unknown_models: set[str] = set()

    def parse(self, raw: bytes) -> list[Event]:
        if not raw.isascii():
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                self.malformed += 1
                return []
        try:
            line = _decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            self.malformed += 1  # RecursionError: nested deeper than the decoder goes
            return []
        try:
            out = self._events(line, raw)
        except (ValueError, TypeError, msgspec.DecodeError, RecursionError):
            self.malformed += 1  # includes RecordError: a value no store can keep
            return []
        if not out:
            self.skipped += 1
        return out

    def _payload(self, value: Any) -> str | None:
        if value is None:
            return None
        text = value if isinstance(value, str) else _json(value)
        return self.redact(text) if self.redact is not None else text

    def _base(self, line: Line) -> dict[str, Any]:
        state = self.state
        return {
            "machine_id": self.machine_id,
            "session_id": state["session_id"],
            "timestamp": line.timestamp,
            "framework": FRAMEWORK,
            "source": EventSource.TRANSCRIPT,
            "cwd": state.get("cwd"),
            "git_branch": state.get("git_branch"),
            "model": state.get("model"),
            "transcript_path": self.path,
        }

    def _events(self, line: Line, raw: bytes) -> list[Event]:
        p = line.payload
        if line.timestamp is None or p is None or not line.type:
            return []
        kind = line.type
        state = self.state
        if kind == "session_meta":
            session_id = _storable(p.id, "session id")
            cwd = _storable(p.cwd, "cwd")
            branch = _storable(p.git.branch if p.git is not None else None, "git branch")
            if session_id:
                state["session_id"] = session_id
            if cwd:
                state["cwd"] = cwd
            if branch:
                state["git_branch"] = branch
            body: dict[str, Any] = {
                "source": "startup",
                "cwd": p.cwd,
                "cli_version": p.cli_version,
                "originator": p.originator,
            }
            if p.git is not None:
                body["git"] = {"branch": p.git.branch, "commit_hash": p.git.commit_hash}
            return [
                Event(
                    **self._base(line),
                    event_type=EventType.SESSION_START,
                    uuid=f"session_meta:{state['session_id']}",
                    payload=self._payload(body),
                )
            ]
        if kind == "turn_context":
            model = _storable(p.model, "model")
            cwd = _storable(p.cwd, "cwd")
            if model:
                state["model"] = model
            if cwd:
                state["cwd"] = cwd
            return []
        if kind == "event_msg":
            return self._event_msg(line, p, raw)
        if kind == "response_item":
            return self._response_item(line, p)
        if kind == "compacted":
            return [
                Event(
                    **self._base(line),
                    event_type=EventType.PRE_COMPACT,
                    uuid=_line_id(raw),
                    payload=self._payload({"trigger": "auto"}),
                )
            ]
        return [
            Event(
                **self._base(line),
                event_type=f"{kind}/{p.type}" if p.type else kind,
                uuid=_line_id(raw),
                payload=self._payload(raw.decode("utf-8", "replace"))
                if self.store_payloads
                else None,
            )
        ]

    def _event_msg(self, line: Line, p: Payload, raw: bytes) -> list[Event]:
        kind = p.type
        if kind == "token_count":
            return self._usage(line, p) + self._plan_limits(line, p, raw)
        if kind == "user_message":
            if not p.message:
                return []
            return [
                Event(
                    **self._base(line),
                    event_type=EventType.USER_PROMPT_SUBMIT,
                    uuid=_line_id(raw),
                    payload=self._payload({"prompt": p.message}),
                )
            ]
        if kind == "task_complete":
            return [Event(**self._base(line), event_type=EventType.STOP, uuid=_line_id(raw))]
        if kind in _SKIPPED_EVENTS:
            return []
        return [
            Event(
                **self._base(line),
                event_type=f"event_msg/{kind}" if kind else "event_msg",
                uuid=_line_id(raw),
                payload=self._payload(raw.decode("utf-8", "replace"))
                if self.store_payloads
                else None,
            )
        ]

    def _plan_limits(self, line: Line, p: Payload, raw: bytes) -> list[Event]:
        """A ``PlanLimits`` event when the plan's usage windows changed."""
        if not p.rate_limits:
            return []
        from ..live.limits import PLAN_LIMITS, codex_windows

        windows = codex_windows(orjson.loads(bytes(p.rate_limits)))
        if not windows or windows == self.state.get("limits"):
            return []
        self.state["limits"] = windows
        return [
            Event(
                **self._base(line),
                event_type=PLAN_LIMITS,
                uuid="limits:" + _line_id(raw),
                metadata=_json({"windows": windows}),
            )
        ]

    def _usage(self, line: Line, p: Payload) -> list[Event]:
        info = p.info
        total = info.total_token_usage if info is not None else None
        if total is None:
            return []
        state = self.state
        previous = state.get("total") or [0, 0, 0, 0, 0]
        current = [
            total.input_tokens,
            total.cached_input_tokens,
            total.output_tokens,
            total.reasoning_output_tokens,
            total.total_tokens,
        ]
        if min(current) < 0:
            raise ValueError("negative cumulative token count")  # malformed; baseline kept
        if current[4] <= previous[4]:
            if current[4] < previous[4]:
                state["total"] = current  # the counter restarted: new baseline
            return []
        state["total"] = current
        d_input, d_cached, d_output, d_reasoning = (current[i] - previous[i] for i in range(4))
        model = state.get("model")
        usage = Usage(input=d_input - d_cached, output=d_output, cache_read=d_cached)
        cost = self.prices.cost(model, usage)
        if cost is None and model:
            self.unknown_models.add(model)
        meta = {"reasoning_output_tokens": d_reasoning}
        if info is not None and info.model_context_window:
            meta["model_context_window"] = info.model_context_window
        return [
            Event(
                **self._base(line),
                event_type=EventType.API_REQUEST,
                uuid=f"usage:{current[4]}",
                tokens_input=d_input - d_cached,
                tokens_output=d_output,
                tokens_cache_read=d_cached,
                tokens_cache_write=None,
                cost_usd=cost,
                metadata=_json(meta),
            )
        ]

    def _response_item(self, line: Line, p: Payload) -> list[Event]:
        kind = p.type
        if kind in _CALLS and p.call_id:
            tool_input: Any
            if p.arguments is not None:
                try:
                    tool_input = orjson.loads(p.arguments)
                except orjson.JSONDecodeError:
                    tool_input = p.arguments
            elif p.input:
                tool_input = orjson.Fragment(bytes(p.input))
            elif p.action:
                tool_input = orjson.Fragment(bytes(p.action))
            else:
                tool_input = None
            name = p.name or ("shell" if kind == "local_shell_call" else None)
            return [
                Event(
                    **self._base(line),
                    event_type=EventType.PRE_TOOL_USE,
                    uuid=f"tool_use:{p.call_id}",
                    tool_use_id=p.call_id,
                    tool_name=name,
                    payload=self._payload(
                        {"tool_name": name, "tool_input": tool_input, "tool_use_id": p.call_id}
                    )
                    if self.store_payloads
                    else None,
                )
            ]
        if kind in _OUTPUTS and p.call_id:
            body: dict[str, Any] = {"tool_use_id": p.call_id}
            if self.store_payloads and p.output:
                if len(p.output) <= TOOL_RESPONSE_LIMIT:
                    body["tool_response"] = orjson.Fragment(bytes(p.output))
                else:
                    body["tool_response_bytes"] = len(p.output)
            return [
                Event(
                    **self._base(line),
                    event_type=EventType.POST_TOOL_USE,
                    uuid=f"tool_result:{p.call_id}",
                    tool_use_id=p.call_id,
                    payload=self._payload(body),
                )
            ]
        return []
