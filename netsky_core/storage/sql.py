"""The query filters compiled to SQL, once, for every SQL backend.

``EventQuery``, ``SessionQuery``, ``StorageStatsQuery`` and ``UsageQuery`` state their
semantics in Python (``matches`` / ``sort_key``); this module writes the same
semantics as SQL for a :class:`Dialect` (how parameters, timestamps and lists are
written). Column names are the record field names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from .._queries import (
    ApiFilter,
    EventOrder,
    EventQuery,
    Order,
    SessionOrder,
    SessionQuery,
    StorageStatsQuery,
    UsageQuery,
)
from .._records import EventType

__all__ = [
    "ACTIVE",
    "POSTGRES",
    "SQLITE",
    "STARTED",
    "Dialect",
    "event_filter",
    "event_order",
    "session_filter",
    "session_order",
    "session_sums_select",
    "usage_filter",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
ACTIVE = "status IN ('Idle', 'Busy', 'Wait')"
"""The SQL of ``Session.is_active``."""
STARTED = "coalesce(first_started_at, first_activity)"
"""The SQL of ``Session.started_at``."""


def _microseconds(value: datetime) -> int:
    return (value - _EPOCH) // _US


@attrs.frozen
class Dialect:
    """How one SQL backend writes parameters, timestamps and lists."""

    placeholder: str
    """``?`` or ``%s``."""
    time: Callable[[datetime], Any]
    """A timestamp parameter's value (SQLite: integer microseconds)."""
    arrays: bool
    """True: a list is one array parameter (``col = ANY(%s)``); False: ``IN (?, ...)``."""
    skip_index: str = ""
    """Prefix that keeps the planner from using a column's index (SQLite: ``+``)."""
    timestamp_column: str = "timestamp"
    """How the ``timestamp`` column is written."""

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        if not values:
            return "1 = 0", []
        if len(values) == 1:
            return f"{column} = {self.placeholder}", [values[0]]
        if self.arrays:
            return f"{column} = ANY({self.placeholder})", [list(values)]
        return f"{column} IN ({', '.join([self.placeholder] * len(values))})", list(values)


SQLITE = Dialect(placeholder="?", time=_microseconds, arrays=False, skip_index="+")
POSTGRES = Dialect(placeholder="%s", time=lambda t: t, arrays=True, timestamp_column='"timestamp"')


class _Where:
    def __init__(self, d: Dialect) -> None:
        self.d = d
        self.clauses: list[str] = []
        self.params: list[Any] = []

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause.replace("?", self.d.placeholder))
        self.params.extend(params)

    def any_of(self, column: str, values: Sequence[Any]) -> None:
        clause, params = self.d.any_of(column, values)
        self.clauses.append(clause)
        self.params.extend(params)

    def sql(self) -> str:
        return (" WHERE " + " AND ".join(self.clauses)) if self.clauses else ""


def event_filter(q: EventQuery, d: Dialect) -> tuple[str, list[Any]]:
    """`` WHERE ...`` for ``q``'s filters (empty without any), and its parameters."""
    w = _Where(d)
    ts = d.timestamp_column
    # A uuid list is the most selective filter (billing looks responses up by uuid):
    # keep the planner from preferring the machine / session indexes.
    hint = d.skip_index if q.uuids else ""
    if q.session_ids is not None:
        w.any_of(hint + "session_id", q.session_ids)
    if q.machine_id is not None:
        w.add(f"{hint}machine_id = ?", q.machine_id)
    if q.framework is not None:
        w.add("framework = ?", q.framework)
    if q.event_types is not None:
        w.any_of(hint + "event_type", q.event_types)
    if q.tool_name is not None:
        w.add("tool_name = ?", q.tool_name)
    if q.uuids is not None:
        w.any_of("uuid", q.uuids)
    if q.since is not None:
        w.add(f"{ts} >= ?", d.time(q.since))
    if q.until is not None:
        w.add(f"{ts} < ?", d.time(q.until))
    if q.after_id is not None:
        w.add("id > ?", q.after_id)
    if q.api is ApiFilter.ONLY:
        w.add("event_type = ?", EventType.API_REQUEST)
    elif q.api is ApiFilter.EXCLUDE:
        w.add("event_type <> ?", EventType.API_REQUEST)
    return w.sql(), w.params


def event_order(q: EventQuery, d: Dialect) -> str:
    """`` ORDER BY ...`` of ``q`` (ties by id, in the same direction)."""
    direction = "DESC" if q.effective_direction is Order.DESC else "ASC"
    if q.order is EventOrder.ID:
        return f" ORDER BY id {direction}"
    return f" ORDER BY {d.timestamp_column} {direction}, id {direction}"


def limit(q: EventQuery | SessionQuery, d: Dialect, params: list[Any]) -> str:
    if q.limit is None:
        return ""
    params.append(q.limit)
    return f" LIMIT {d.placeholder}"


def session_filter(q: SessionQuery | StorageStatsQuery, d: Dialect) -> tuple[list[str], list[Any]]:
    """The WHERE clauses (to be AND-ed) of a session or stats query, and parameters."""
    w = _Where(d)
    if q.machine_id is not None:
        w.add("machine_id = ?", q.machine_id)
    if q.framework is not None:
        w.add("framework = ?", q.framework)
    if q.only_active:
        w.add(ACTIVE)
    if isinstance(q, StorageStatsQuery):
        if q.since is not None:
            w.add("last_activity >= ?", d.time(q.since))
        return w.clauses, w.params
    if q.session_id is not None:
        w.add("session_id = ?", q.session_id)
    if q.pid is not None:
        w.add("pid = ?", q.pid)
    if q.active_since is not None:
        w.add("last_activity >= ?", d.time(q.active_since))
    if q.active_before is not None:
        w.add("last_activity < ?", d.time(q.active_before))
    if q.started_after is not None:
        w.add(f"{STARTED} >= ?", d.time(q.started_after))
    if q.started_before is not None:
        w.add(f"{STARTED} < ?", d.time(q.started_before))
    for column, value in (
        ("github_repo", q.github_repo),
        ("github_issue", q.github_issue),
        ("github_pr", q.github_pr),
    ):
        if value is not None:
            w.add(f"{column} = ?", value)
    return w.clauses, w.params


def session_order_column(q: SessionQuery) -> str:
    return {
        SessionOrder.STARTED_AT: STARTED,
        SessionOrder.LAST_ACTIVITY: "last_activity",
        SessionOrder.COST: "cost_picousd",
    }[q.order]


def session_order(q: SessionQuery) -> str:
    """`` ORDER BY ...`` of a session query: missing values last in either direction,
    ties by ``(machine_id, session_id)`` in the same direction.

    Written for a database that sorts NULL lowest (SQLite): a descending order then
    already puts them last, so the ``(key, machine_id, session_id)`` indexes serve it.
    """
    key = session_order_column(q)
    if q.direction is Order.DESC:
        return f" ORDER BY {key} DESC, machine_id DESC, session_id DESC"
    return f" ORDER BY {key} IS NULL, {key} ASC, machine_id ASC, session_id ASC"


def session_sums_select(table: str, where: str) -> str:
    """The SELECT computing ``SessionSums`` over ``table`` (columns in its order)."""
    return (
        "SELECT count(*), "
        f"coalesce(sum(CASE WHEN {ACTIVE} THEN 1 ELSE 0 END), 0), "
        "coalesce(sum(tokens_input), 0), coalesce(sum(tokens_output), 0), "
        "coalesce(sum(tokens_cache_read), 0), coalesce(sum(tokens_cache_write), 0), "
        "coalesce(sum(tokens_reasoning), 0), sum(cost_picousd), "
        f"coalesce(sum(api_request_count), 0) FROM {table}{where}"
    )


def usage_filter(q: UsageQuery, d: Dialect) -> tuple[str, list[Any]]:
    w = _Where(d)
    if q.since is not None:
        w.add("start >= ?", d.time(q.since))
    if q.until is not None:
        w.add("start < ?", d.time(q.until))
    if q.framework is not None:
        w.add("framework = ?", q.framework)
    if q.machine_id is not None:
        w.add("machine_id = ?", q.machine_id)
    return w.sql(), w.params


USAGE_ORDER = " ORDER BY start, machine_id, framework, model"
"""The order of ``UsageQuery.sort_key`` (None stored as '', which sorts first)."""
