"""Budgets: limits on spend per session, day, week and month, in USD or tokens
(``[budget]`` in the config file), measured from precomputed usage only.

* A day, week or month counts every response stored in it (usage buckets: every
  agent, model and machine in the store); a session counts its session row.
* A limit is *reached* when the usage is at or above it; below it nothing is said.
* ``mode = "warn"`` (the default) makes ``netsky hook`` show a message when a limit is
  reached; ``mode = "block"`` makes it refuse the prompt (UserPromptSubmit) or the
  tool call (PreToolUse) with the reason, in Claude Code's hook output.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .reader import SessionUsage, Window

__all__ = [
    "PERIODS",
    "UNITS",
    "Limit",
    "LimitState",
    "Usage",
    "budget_limits",
    "evaluate",
    "hook_answer",
    "measure",
    "usage_in",
]

PERIODS = ("session", "day", "week", "month")
UNITS = ("usd", "tokens")
MODES = ("warn", "block")
BLOCKING_EVENTS = ("UserPromptSubmit", "PreToolUse")


class Limit:
    __slots__ = ("amount", "period", "unit")

    def __init__(self, period: str, unit: str, amount: float) -> None:
        self.period = period
        self.unit = unit
        self.amount = amount

    @property
    def key(self) -> str:
        return f"{self.period}_{self.unit}"


def budget_limits(section: dict[str, Any]) -> list[Limit]:
    """The limits ``[budget]`` sets (validated by the config schema), in
    :data:`PERIODS` then :data:`UNITS` order."""
    return [
        Limit(period, unit, section[f"{period}_{unit}"])
        for period in PERIODS
        for unit in UNITS
        if section.get(f"{period}_{unit}") is not None
    ]


class Usage:
    """Cost (USD, None: nothing priced) and tokens used in one period."""

    __slots__ = ("cost_usd", "requests", "tokens")

    def __init__(self, cost_usd: float | None, tokens: int, requests: int) -> None:
        self.cost_usd = cost_usd
        self.tokens = tokens
        self.requests = requests

    def value(self, unit: str) -> float:
        if unit == "usd":
            return self.cost_usd or 0.0
        return float(self.tokens)


def usage_in(windows: list[Window], since_us: int, until_us: int | None = None) -> Usage:
    """The usage of the windows starting in ``[since_us, until_us)``."""
    requests = priced = tokens = cost = 0
    for w in windows:
        if w.start_us >= since_us and (until_us is None or w.start_us < until_us):
            requests += w.requests
            priced += w.priced
            tokens += w.tokens
            cost += w.cost_picousd
    return Usage(None if priced == 0 else cost / 10**12, tokens, requests)


def measure(
    windows: list[Window], starts: dict[str, int], session: SessionUsage | None
) -> dict[str, Usage]:
    """Usage per period: ``windows`` from at least the earliest of ``starts``."""
    out = {period: usage_in(windows, since) for period, since in starts.items()}
    if session is not None:
        out["session"] = Usage(session.cost_usd, session.tokens or 0, session.usage_event_count)
    return out


class LimitState:
    """One limit against its usage: ``reached`` at or above it."""

    __slots__ = ("limit", "used")

    def __init__(self, limit: Limit, used: float | None) -> None:
        self.limit = limit
        self.used = used

    @property
    def fraction(self) -> float | None:
        return None if self.used is None else self.used / self.limit.amount

    @property
    def reached(self) -> bool:
        return self.used is not None and self.used >= self.limit.amount

    def describe(self) -> str:
        def amount(value: float) -> str:
            return f"${value:,.2f}" if self.limit.unit == "usd" else f"{int(value):,} tokens"

        used = "unknown" if self.used is None else amount(self.used)
        return f"{self.limit.period} limit {amount(self.limit.amount)}: {used} used"

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.limit.period,
            "unit": self.limit.unit,
            "limit": self.limit.amount,
            "used": self.used,
            "fraction": self.fraction,
            "reached": self.reached,
        }


def evaluate(limits: list[Limit], usage: dict[str, Usage]) -> list[LimitState]:
    """Each limit against its period's usage (None: a session limit outside a session)."""
    states = []
    for limit in limits:
        u = usage.get(limit.period)
        states.append(LimitState(limit, None if u is None else u.value(limit.unit)))
    return states


def hook_answer(states: list[LimitState], mode: str, event_type: str) -> dict[str, Any] | None:
    """Claude Code's hook output for an event when a limit is reached, else None.

    Warn: ``systemMessage`` (shown to the user). Block: for PreToolUse
    ``hookSpecificOutput.permissionDecision = "deny"`` with the reason (shown to the
    model), for UserPromptSubmit ``decision = "block"`` with the reason (shown to the
    user, the prompt is dropped); the user sees a ``systemMessage`` too."""
    reached = [s for s in states if s.reached]
    if not reached or event_type not in BLOCKING_EVENTS:
        return None
    what = "; ".join(s.describe() for s in reached)
    if mode != "block":
        return {"systemMessage": f"netsky budget reached: {what}"}
    reason = f"netsky budget reached ({what}); raise the limit in [budget] to continue"
    if event_type == "PreToolUse":
        return {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": reason,
            },
            "systemMessage": f"netsky: tool call blocked: {what}",
        }
    return {"decision": "block", "reason": reason}
