"""The query semantics evaluated in Python, for engines that keep records in memory.

The memory backend and any engine over a key-value store select, order and sum with
these, which are the executable statement of what every backend must return.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from .._queries import EventQuery, Order, SessionQuery, StorageStatsQuery, UsageQuery
from .._records import Event, Session
from .._results import ProjectUsage, UsageBucket
from .engine import SessionSums

__all__ = [
    "select_events",
    "select_project_usage",
    "select_sessions",
    "select_usage",
    "session_sums",
]


def select_events(events: Iterable[Event], query: EventQuery) -> list[Event]:
    """The events ``query`` selects, in its order, limited."""
    matches = query.matches
    found = [e for e in events if matches(e)]
    found.sort(key=query.sort_key, reverse=query.effective_direction is Order.DESC)
    return found if query.limit is None else found[: query.limit]


def select_sessions(sessions: Iterable[Session], query: SessionQuery) -> list[Session]:
    return query.sort(s for s in sessions if query.matches(s))


def select_usage(buckets: Iterable[UsageBucket], query: UsageQuery) -> list[UsageBucket]:
    return sorted((b for b in buckets if query.matches(b)), key=query.sort_key)


def select_project_usage(
    rows: Iterable[ProjectUsage], since: datetime | None
) -> list[ProjectUsage]:
    """The project usage rows starting at or after ``since``, by (start, project,
    branch), None first (as SQL stores order None, stored as '')."""
    return sorted(
        (r for r in rows if since is None or r.start >= since),
        key=lambda r: (r.start, r.project or "", r.branch or ""),
    )


def session_sums(sessions: Iterable[Session], query: StorageStatsQuery) -> SessionSums:
    """``SessionSums`` over the sessions ``query`` selects."""
    n = active = requests = 0
    tokens = [0, 0, 0, 0, 0]
    cost: int | None = None
    for s in sessions:
        if not query.matches(s):
            continue
        n += 1
        active += s.is_active
        for i, v in enumerate(
            (
                s.tokens_input,
                s.tokens_output,
                s.tokens_cache_read,
                s.tokens_cache_write,
                s.tokens_reasoning,
            )
        ):
            tokens[i] += v or 0
        requests += s.api_request_count
        if s.cost_picousd is not None:
            cost = (cost or 0) + s.cost_picousd
    return SessionSums(
        sessions=n,
        active=active,
        tokens_input=tokens[0],
        tokens_output=tokens[1],
        tokens_cache_read=tokens[2],
        tokens_cache_write=tokens[3],
        tokens_reasoning=tokens[4],
        cost_picousd=cost,
        api_requests=requests,
    )
