"""GitHub Copilot CLI session events -> events (``kind="lines"``).

Layout: ``~/.copilot/session-state/<sessionId>/events.jsonl``; ``COPILOT_HOME`` (the
folder holding ``session-state/``, comma-separated) replaces ``~/.copilot``. Lines are
``{type, data, id, timestamp, parentId}``: ``session.start`` (``data.sessionId``,
``context{cwd, branch}``), ``user.message``, ``assistant.message``,
``tool.execution_start``/``_complete``, ``session.error``, ... and ``session.shutdown``,
the only one with usage: ``data.modelMetrics.<model>.usage{inputTokens, outputTokens,
cacheReadTokens, cacheWriteTokens, reasoningTokens}``, ``requests{count, cost}`` and
(from mid-2026) ``totalNanoAiu``. ``inputTokens`` includes both cache counts.

One ApiRequest per shutdown and model, uuid
``api:copilot:<session>:<shutdown event id>:<model>``; input = ``inputTokens -
cacheReadTokens - cacheWriteTokens``; ``requests.count`` is kept as ``message_count``.
Where netsky and ccusage 20.0.24 differ (measured with its binary; none of it shows on
the samples, whose files have one token-bearing shutdown each):

- several shutdowns in one file (a resumed session) are **added up**: Copilot resets
  ``modelMetrics`` for each process it starts. ccusage takes them as cumulative
  snapshots and counts only the growth of the running maximum, so a resumed session's
  second process is undercounted (100 then 300 input tokens: ccusage 300, netsky 400);
- cost is Copilot's own ``totalNanoAiu / 1e9 * $0.01`` when the shutdown has it, else
  premium requests x $0.04, else the LiteLLM price. ccusage 20.0.24 always uses the
  LiteLLM price (doubling ``totalNanoAiu`` leaves its cost unchanged); on the samples
  the two are equal to the last digit (the AIU price is the list price);
- reasoning is reported apart from output only for ``gemini-*`` models (Claude and GPT
  count it in output; it is kept in metadata as ``reasoning_in_output``); ccusage
  20.0.24 ignores ``reasoningTokens`` for every model.

``state`` holds the session id, cwd and branch.
"""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import Any

from .._records import Event, EventType
from ._common import LineParser, SourceSpec
from ._files import glob_files
from ._values import Tokens, count, mapping, number, parse_time, text

__all__ = ["SPEC", "Parser", "discover"]


def _find(root: Path) -> list[Path]:
    """``<root>/session-state/<session>/events.jsonl``."""
    return glob_files(root, "session-state/*/events.jsonl")


SPEC = SourceSpec(
    name="copilot",
    title="GitHub Copilot CLI",
    env_var="COPILOT_HOME",
    default_roots=("~/.copilot",),
    kind="lines",
    finder=_find,
)
DOLLARS_PER_AIU = 0.01
DOLLARS_PER_PREMIUM_REQUEST = 0.04
discover = SPEC.discover


class Parser(LineParser):
    """Lines of one ``events.jsonl``."""

    framework = "copilot"

    def start(self) -> None:
        self.state.setdefault("session_id", PurePath(self.path).parent.name or "unknown")

    def events(self, record: dict[str, Any], raw: bytes) -> list[Event]:
        kind = record.get("type")
        data = mapping(record.get("data"))
        ts = (
            parse_time(record.get("timestamp"))
            if isinstance(record.get("timestamp"), str)
            else None
        )
        eid = text(record.get("id"))
        if ts is None or not isinstance(kind, str) or not kind or eid is None:
            return []
        state, f = self.state, self.f
        if kind == "session.start":
            if text(data.get("sessionId")):
                state["session_id"] = data["sessionId"]
            context = mapping(data.get("context"))
            if text(context.get("cwd")):
                state["cwd"] = context["cwd"]
            if text(context.get("branch")):
                state["git_branch"] = context["branch"]
        session = state["session_id"]
        base = {
            "session_id": session,
            "timestamp": ts,
            "cwd": state.get("cwd"),
            "git_branch": state.get("git_branch"),
        }
        uuid = f"copilot:{eid}"
        if kind == "session.start":
            return [
                f.event(
                    EventType.SESSION_START,
                    **base,
                    uuid=uuid,
                    model=text(data.get("selectedModel")),
                    payload=f.raw_payload(raw),
                )
            ]
        if kind == "session.shutdown":
            return [
                f.event(
                    EventType.SESSION_END,
                    **base,
                    uuid=uuid,
                    payload=f.payload({"reason": data.get("shutdownType")}),
                ),
                *self._usage(data, base, eid),
            ]
        if kind == "user.message":
            content = data.get("content")
            if isinstance(content, str) and content:
                return [f.prompt(content, **base, uuid=uuid)]
        if kind == "tool.execution_start":
            call_id = text(data.get("toolCallId")) or eid
            return [
                f.tool_use(
                    **base,
                    uuid=f"copilot:tool_use:{call_id}",
                    call_id=call_id,
                    model=text(data.get("model")),
                    name=data.get("toolName"),
                    tool_input=data.get("arguments"),
                )
            ]
        if kind == "tool.execution_complete":
            call_id = text(data.get("toolCallId")) or eid
            return [
                f.tool_result(
                    **base,
                    uuid=f"copilot:tool_result:{call_id}",
                    call_id=call_id,
                    failed=data.get("success") is False,
                    model=text(data.get("model")),
                )
            ]
        model = text(data.get("model")) or text(data.get("newModel"))
        return [f.event(kind, **base, uuid=uuid, model=model, payload=f.raw_payload(raw))]

    def _usage(self, data: dict[str, Any], base: dict[str, Any], eid: str) -> list[Event]:
        metrics = data.get("modelMetrics")
        if not isinstance(metrics, dict):
            return []
        out: list[Event] = []
        single = len(metrics) == 1
        for model, metric in metrics.items():
            if not isinstance(metric, dict) or not isinstance(model, str) or not model:
                continue
            usage = mapping(metric.get("usage"))
            cache_read = count(usage.get("cacheReadTokens"))
            cache_write = count(usage.get("cacheWriteTokens"))
            input_tokens = max(count(usage.get("inputTokens")) - cache_read - cache_write, 0)
            output = count(usage.get("outputTokens"))
            reported = count(usage.get("reasoningTokens"))
            apart = model.lower().startswith("gemini-")
            tok = Tokens(
                input=input_tokens,
                output=output,
                cache_read=cache_read,
                cache_write=cache_write,
                extra=reported if apart else 0,
            )
            if not tok:
                continue
            requests = mapping(metric.get("requests"))
            nano = number(metric.get("totalNanoAiu"))
            if nano is None and single:
                nano = number(data.get("totalNanoAiu"))
            premium = number(requests.get("cost"))
            if premium is None and single:
                premium = number(data.get("totalPremiumRequests"))
            if nano is not None:
                cost: float | None = nano / 1e9 * DOLLARS_PER_AIU
                basis = "aiu"
            elif premium is not None and premium > 0:
                cost = premium * DOLLARS_PER_PREMIUM_REQUEST
                basis = "premium_requests"
            else:
                cost = self.f.cost(model, tok)
                basis = "litellm"
            meta: dict[str, Any] = {
                "message_count": count(requests.get("count")),
                "premium_requests": premium,
                "nano_aiu": nano,
                "cost_basis": basis,
            }
            if not apart and reported:
                meta["reasoning_in_output"] = reported
            out.append(
                self.f.api_request(
                    **base,
                    uuid=f"api:copilot:{base['session_id']}:{eid}:{model}",
                    model=model,
                    tokens=tok,
                    reasoning=tok.extra if apart else None,
                    cost_usd=cost,
                    metadata=meta,
                    payload=self.f.raw_payload({"model": model, "metrics": metric}),
                )
            )
        return out
