"""Budgets: limits on spend per session, day, week and month, in USD or tokens
(``[budget]`` in the config file), measured from precomputed usage only; optionally
per project (``[budget.project."<name or path>"]``) or per git branch
(``[budget.branch."<name or glob>"]``), each such table taking the same limit keys.

* A day, week or month counts every response stored in it (usage buckets: every
  agent, model and machine in the store); a session counts its session row.
* A project table counts the responses made in that project: a path (``/work/app``,
  ``~/work/app``) names that directory and everything inside it, a bare name
  (``app``) every directory of that name and everything inside one. A branch table
  counts the responses made on that branch (a glob such as ``release/*`` names
  several). Each response counts under the working directory and branch its own
  event carries (project usage rows). Its session limits apply to a session working
  in that project or on that branch.
* A limit is *reached* when the usage is at or above it; below it nothing is said.
* ``mode = "warn"`` (the default) makes ``netsky hook`` show a message when a limit is
  reached; ``mode = "block"`` makes it refuse the prompt (UserPromptSubmit) or the
  tool call (PreToolUse) with the reason, in Claude Code's hook output.
"""

from __future__ import annotations

from .._units import PICO

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .reader import SessionUsage, Window

__all__ = [
    "PERIODS",
    "SCOPES",
    "UNITS",
    "Limit",
    "LimitState",
    "Usage",
    "applies",
    "branch_matches",
    "budget_limits",
    "evaluate",
    "hook_answer",
    "measure",
    "project_matches",
    "scoped_usage",
    "usage_in",
]

PERIODS = ("session", "day", "week", "month")
UNITS = ("usd", "tokens")
SCOPES = ("project", "branch")
MODES = ("warn", "block")
BLOCKING_EVENTS = ("UserPromptSubmit", "PreToolUse")


class Limit:
    """One limit: a period, a unit, an amount; ``scope`` ``"project"`` or
    ``"branch"`` with the table's ``name`` for a limit of ``[budget.<scope>."<name>"]``
    (None: the whole store)."""

    __slots__ = ("amount", "name", "period", "scope", "unit")

    def __init__(
        self,
        period: str,
        unit: str,
        amount: float,
        scope: str | None = None,
        name: str | None = None,
    ) -> None:
        self.period = period
        self.unit = unit
        self.amount = amount
        self.scope = scope
        self.name = name

    @property
    def key(self) -> str:
        return f"{self.period}_{self.unit}"

    @property
    def label(self) -> str:
        """``day``, ``project app day``, ``branch main session``."""
        return self.period if self.scope is None else f"{self.scope} {self.name} {self.period}"


def _limits_of(table: dict[str, Any], scope: str | None, name: str | None) -> list[Limit]:
    return [
        Limit(period, unit, table[f"{period}_{unit}"], scope, name)
        for period in PERIODS
        for unit in UNITS
        if table.get(f"{period}_{unit}") is not None
    ]


def budget_limits(section: dict[str, Any]) -> list[Limit]:
    """The limits ``[budget]`` sets (validated by the config schema): the store's in
    :data:`PERIODS` then :data:`UNITS` order, then each project table's, then each
    branch table's, in the file's order."""
    out = _limits_of(section, None, None)
    for scope in SCOPES:
        tables = section.get(scope)
        if isinstance(tables, dict):
            for name, table in tables.items():
                if isinstance(table, dict):
                    out += _limits_of(table, scope, str(name))
    return out


def project_matches(name: str, cwd: str | None) -> bool:
    """Whether work in ``cwd`` belongs to the project ``name``: a path (with a ``/``,
    or starting with ``~``) is that directory and what is inside it; a bare name is
    every directory of that name and what is inside one."""
    if not cwd:
        return False
    parts = [p for p in cwd.replace("\\", "/").split("/") if p]
    if "/" in name or "\\" in name or name.startswith("~"):
        import os.path

        root = [p for p in os.path.expanduser(name).replace("\\", "/").split("/") if p]
        return parts[: len(root)] == root
    return name in parts


def branch_matches(name: str, branch: str | None) -> bool:
    """Whether ``branch`` is the branch ``name`` (a glob: ``release/*``, ``fix/*``)."""
    if not branch:
        return False
    if not any(c in name for c in "*?["):
        return branch == name
    from fnmatch import fnmatchcase

    return fnmatchcase(branch, name)


def _matches(scope: str, name: str, project: str | None, branch: str | None) -> bool:
    if scope == "project":
        return project_matches(name, project)
    return branch_matches(name, branch)


def applies(limit: Limit, cwd: str | None, branch: str | None) -> bool:
    """Whether ``limit`` applies to work in ``cwd`` on ``branch``."""
    if limit.scope is None:
        return True
    return _matches(limit.scope, limit.name or "", cwd, branch)


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
    return Usage(None if priced == 0 else cost / PICO, tokens, requests)


def scoped_usage(
    totals: list[tuple[Any, ...]], limits: list[Limit], starts: dict[str, int]
) -> dict[tuple[str, str, str], Usage]:
    """Per ``(scope, name, period)`` of the day / week / month limits among
    ``limits`` with a scope, the usage of the projects and branches that match:
    ``totals`` are ``(project, branch, *sums)`` rows with ``(requests,
    priced_requests, tokens, cost_picousd)`` since each of ``starts`` in its order."""
    order = list(starts)
    wanted = {
        (x.scope, x.name or "", x.period)
        for x in limits
        if x.scope is not None and x.period in starts
    }
    sums = {key: [0, 0, 0, 0] for key in wanted}
    for row in totals:
        project, branch = row[0] or None, row[1] or None
        for key in wanted:
            scope, name, period = key
            if _matches(scope, name, project, branch):
                i = 2 + 4 * order.index(period)
                s = sums[key]
                for j in range(4):
                    s[j] += row[i + j]
    return {k: Usage(None if s[1] == 0 else s[3] / PICO, s[2], s[0]) for k, s in sums.items()}


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
        return f"{self.limit.label} limit {amount(self.limit.amount)}: {used} used"

    def as_dict(self) -> dict[str, Any]:
        return {
            "scope": self.limit.scope,
            "name": self.limit.name,
            "period": self.limit.period,
            "unit": self.limit.unit,
            "limit": self.limit.amount,
            "used": self.used,
            "fraction": self.fraction,
            "reached": self.reached,
        }


def evaluate(
    limits: list[Limit],
    usage: dict[str, Usage],
    scoped: dict[tuple[str, str, str], Usage] | None = None,
    where: tuple[str | None, str | None] = (None, None),
) -> list[LimitState]:
    """Each limit against its usage: the store's period usage, or for a scoped limit
    ``scoped[(scope, name, period)]``; a scoped session limit counts the session when
    it works there (``where``: its working directory and branch). None: a session
    limit outside a session (or a session of another project or branch)."""
    states = []
    for limit in limits:
        if limit.scope is None or limit.period == "session":
            u = usage.get(limit.period)
            if u is not None and limit.scope is not None and not applies(limit, *where):
                u = None
        else:
            u = (scoped or {}).get((limit.scope, limit.name or "", limit.period))
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
