"""What is being spent right now: this session, today, the current 5-hour block and
the budget, in one read of the precomputed usage."""

from __future__ import annotations

import time

from .blocks import LOOKBACK_US, Block, current_block
from .budget import (
    LimitState,
    Usage,
    applies,
    budget_limits,
    evaluate,
    measure,
    scoped_usage,
    usage_in,
)
from .periods import period_starts, zone_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .reader import SessionUsage

__all__ = ["Snapshot", "take_snapshot"]


class Snapshot:
    __slots__ = ("block", "branch", "budget", "cwd", "mode", "now_us", "session", "today")

    def __init__(
        self,
        now_us: int,
        session: SessionUsage | None,
        today: Usage,
        block: Block | None,
        budget: list[LimitState],
        mode: str,
        cwd: str | None = None,
        branch: str | None = None,
    ) -> None:
        self.cwd = cwd
        self.branch = branch
        self.now_us = now_us
        self.session = session
        self.today = today
        self.block = block
        self.budget = budget
        self.mode = mode

    def as_dict(self) -> dict[str, Any]:
        return {
            "session": None if self.session is None else self.session.as_dict(),
            "today": {
                "cost_usd": self.today.cost_usd,
                "tokens": self.today.tokens,
                "requests": self.today.requests,
            },
            "block": None if self.block is None else self.block.as_dict(self.now_us),
            "budget": {
                "mode": self.mode,
                "cwd": self.cwd,
                "branch": self.branch,
                "limits": [s.as_dict() for s in self.budget],
            },
        }


def take_snapshot(
    reader: Any,
    settings: Any,
    *,
    machine_id: str | None,
    session_id: str | None,
    now_us: int | None = None,
    block_framework: str | None = "claude",
    with_block: bool = True,
    cwd: str | None = None,
    branch: str | None = None,
    every_limit: bool = False,
) -> Snapshot:
    """Read the usage that answers every question of the statusline and the budget:
    the session row, 15-minute windows since the earliest period start, and when a
    project or branch table sets day / week / month limits, the project usage rows
    since the earliest of those. The block counts the responses of
    ``block_framework`` (None: every framework).

    The limits are those that apply to work in ``cwd`` on ``branch`` (None: the
    session row's), or with ``every_limit`` all of them."""
    now = time.time_ns() // 1000 if now_us is None else now_us
    budget = settings.section("budget")
    limits = budget_limits(budget)
    starts = period_starts(now, zone_of(settings.section("report").get("timezone")))
    session = None
    if session_id and machine_id:
        session = reader.session(machine_id, session_id)
    if session is not None:
        cwd = cwd or session.cwd
        branch = branch or session.git_branch
    if not every_limit:
        limits = [x for x in limits if applies(x, cwd, branch)]
    periods = {
        p
        for p in ("day", "week", "month")
        if any(x.period == p and x.scope is None for x in limits)
    }
    periods.add("day")
    wanted = {p: starts[p] for p in periods}
    lookback = [now - LOOKBACK_US] if with_block and block_framework is None else []
    windows = reader.windows(min([*wanted.values(), *lookback]))
    usage = measure(windows, wanted, session)
    scoped = {x.period for x in limits if x.scope is not None and x.period in starts}
    scoped_starts = {p: starts[p] for p in scoped}
    totals = reader.project_totals(list(scoped_starts.values())) if scoped_starts else []
    by_scope = scoped_usage(totals, limits, scoped_starts)
    block = None
    if with_block:
        if block_framework is None:
            block_windows = [w for w in windows if w.start_us >= now - LOOKBACK_US]
        else:
            block_windows = reader.windows(now - LOOKBACK_US, block_framework)
        block = current_block(block_windows, now)
    return Snapshot(
        now_us=now,
        session=session,
        today=usage_in(windows, starts["day"]),
        block=block,
        budget=evaluate(limits, usage, by_scope, (cwd, branch)),
        mode=budget.get("mode", "warn"),
        cwd=cwd,
        branch=branch,
    )
