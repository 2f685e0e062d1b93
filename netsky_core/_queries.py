"""Queries: immutable builder values shared by every backend.

Each ``with_*`` / ``order_by_*`` method returns a new query; the original is never
changed. ``matches`` and ``sort_key`` state the exact semantics every backend must
reproduce (the memory backend uses them directly):

* time windows are half-open: ``since <= t < until``;
* ``EventQuery`` orders by timestamp, newest first, by default (ties by id in the
  same direction); ``order_by_id()`` orders by id, ascending, for watching with
  ``after_id`` (on a server store with several concurrent writers an id can become
  visible after a larger one, so a watcher re-reads a short window behind:
  ``EventFollower`` does);
* ``SessionQuery`` orders by last activity, newest first, by default; missing values
  (None) sort last in either direction; ties by ``(machine_id, session_id)`` in the
  same direction.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from ._errors import RecordError
from ._records import Event, EventType, Session, _utc

__all__ = [
    "ApiFilter",
    "EventOrder",
    "EventQuery",
    "Order",
    "SessionOrder",
    "SessionQuery",
    "StorageStatsQuery",
    "UsageQuery",
]


class Order(enum.StrEnum):
    ASC = "asc"
    DESC = "desc"


class EventOrder(enum.StrEnum):
    TIMESTAMP = "timestamp"
    ID = "id"


class SessionOrder(enum.StrEnum):
    STARTED_AT = "started_at"
    LAST_ACTIVITY = "last_activity"
    COST = "cost"


class ApiFilter(enum.StrEnum):
    ALL = "all"
    ONLY = "only"
    EXCLUDE = "exclude"


def _limit(value: int | None) -> int | None:
    if value is not None and (type(value) is not int or value < 0):
        raise RecordError(f"limit must be a non-negative int or None, got {value!r}")
    return value


def _time(value: datetime | None, name: str) -> datetime | None:
    return None if value is None else _utc(value, name)


def _strings(values: Iterable[str], name: str) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    out = tuple(values)
    for v in out:
        if type(v) is not str:
            raise RecordError(f"{name} must hold strings, got {type(v).__name__}")
    return out


@attrs.frozen(kw_only=True)
class EventQuery:
    """Which events ``Storage.query`` returns, in which order, how many."""

    session_ids: tuple[str, ...] | None = None
    machine_id: str | None = None
    framework: str | None = None
    event_types: tuple[str, ...] | None = None
    tool_name: str | None = None
    uuids: tuple[str, ...] | None = None
    since: datetime | None = None
    until: datetime | None = None
    after_id: int | None = None
    api: ApiFilter = ApiFilter.ALL
    order: EventOrder = EventOrder.TIMESTAMP
    direction: Order | None = None
    limit: int | None = None

    def with_session(self, session_id: str) -> EventQuery:
        return attrs.evolve(self, session_ids=_strings((session_id,), "session_id"))

    def with_sessions(self, session_ids: Iterable[str]) -> EventQuery:
        return attrs.evolve(self, session_ids=_strings(session_ids, "session_ids"))

    def with_machine(self, machine_id: str | None) -> EventQuery:
        return attrs.evolve(self, machine_id=machine_id)

    def with_framework(self, framework: str | None) -> EventQuery:
        return attrs.evolve(self, framework=framework)

    def with_event_type(self, event_type: str) -> EventQuery:
        return attrs.evolve(self, event_types=_strings((event_type,), "event_type"))

    def with_event_types(self, event_types: Iterable[str]) -> EventQuery:
        return attrs.evolve(self, event_types=_strings(event_types, "event_types"))

    def with_tool_name(self, tool_name: str | None) -> EventQuery:
        return attrs.evolve(self, tool_name=tool_name)

    def with_uuids(self, uuids: Iterable[str]) -> EventQuery:
        """Only events whose ``uuid`` is one of these (in any session)."""
        return attrs.evolve(self, uuids=_strings(uuids, "uuids"))

    def with_since(self, since: datetime | None) -> EventQuery:
        return attrs.evolve(self, since=_time(since, "since"))

    def with_until(self, until: datetime | None) -> EventQuery:
        return attrs.evolve(self, until=_time(until, "until"))

    def with_time_range(self, since: datetime | None, until: datetime | None) -> EventQuery:
        return attrs.evolve(self, since=_time(since, "since"), until=_time(until, "until"))

    def with_after_id(self, after_id: int | None) -> EventQuery:
        if after_id is not None and type(after_id) is not int:
            raise RecordError(f"after_id must be an int, got {after_id!r}")
        return attrs.evolve(self, after_id=after_id)

    def api_requests_only(self) -> EventQuery:
        return attrs.evolve(self, api=ApiFilter.ONLY)

    def exclude_api_requests(self) -> EventQuery:
        return attrs.evolve(self, api=ApiFilter.EXCLUDE)

    def order_by_id(self) -> EventQuery:
        return attrs.evolve(self, order=EventOrder.ID, direction=None)

    def with_direction(self, direction: Order | str) -> EventQuery:
        return attrs.evolve(self, direction=Order(direction))

    def with_limit(self, limit: int | None) -> EventQuery:
        return attrs.evolve(self, limit=_limit(limit))

    @property
    def effective_direction(self) -> Order:
        if self.direction is not None:
            return self.direction
        return Order.DESC if self.order is EventOrder.TIMESTAMP else Order.ASC

    def matches(self, event: Event) -> bool:
        """The filter semantics, stated once (order and limit excluded)."""
        if self.session_ids is not None and event.session_id not in self.session_ids:
            return False
        if self.machine_id is not None and event.machine_id != self.machine_id:
            return False
        if self.framework is not None and event.framework != self.framework:
            return False
        if self.event_types is not None and event.event_type not in self.event_types:
            return False
        if self.tool_name is not None and event.tool_name != self.tool_name:
            return False
        if self.uuids is not None and event.uuid not in self.uuids:
            return False
        if self.since is not None and event.timestamp < self.since:
            return False
        if self.until is not None and event.timestamp >= self.until:
            return False
        if self.after_id is not None and (event.id is None or event.id <= self.after_id):
            return False
        if self.api is ApiFilter.ONLY and event.event_type != EventType.API_REQUEST:
            return False
        return not (self.api is ApiFilter.EXCLUDE and event.event_type == EventType.API_REQUEST)

    def sort_key(self, event: Event) -> tuple[Any, ...]:
        """Ascending sort key; reverse it for ``effective_direction`` DESC."""
        if self.order is EventOrder.ID:
            return (event.id,)
        return (event.timestamp, event.id)


@attrs.frozen(kw_only=True)
class SessionQuery:
    """Which sessions ``Storage.list_sessions`` returns, in which order, how many."""

    machine_id: str | None = None
    session_id: str | None = None
    pid: int | None = None
    framework: str | None = None
    only_active: bool = False
    active_since: datetime | None = None
    active_before: datetime | None = None
    started_after: datetime | None = None
    started_before: datetime | None = None
    github_repo: str | None = None
    github_issue: int | None = None
    github_pr: int | None = None
    order: SessionOrder = SessionOrder.LAST_ACTIVITY
    direction: Order = Order.DESC
    limit: int | None = None

    def with_machine(self, machine_id: str | None) -> SessionQuery:
        return attrs.evolve(self, machine_id=machine_id)

    def with_session_id(self, session_id: str | None) -> SessionQuery:
        """Only sessions with this id (one per machine that has it)."""
        return attrs.evolve(self, session_id=session_id)

    def with_pid(self, pid: int | None) -> SessionQuery:
        """Only sessions whose agent process had this pid."""
        if pid is not None and type(pid) is not int:
            raise RecordError(f"pid must be an int, got {pid!r}")
        return attrs.evolve(self, pid=pid)

    def with_framework(self, framework: str | None) -> SessionQuery:
        return attrs.evolve(self, framework=framework)

    def active_only(self) -> SessionQuery:
        return attrs.evolve(self, only_active=True)

    def with_active_since(self, since: datetime | None) -> SessionQuery:
        return attrs.evolve(self, active_since=_time(since, "active_since"))

    def with_active_before(self, before: datetime | None) -> SessionQuery:
        """Only sessions whose last activity is before ``before`` (what gc expires)."""
        return attrs.evolve(self, active_before=_time(before, "active_before"))

    def with_started_after(self, when: datetime | None) -> SessionQuery:
        return attrs.evolve(self, started_after=_time(when, "started_after"))

    def with_started_before(self, when: datetime | None) -> SessionQuery:
        return attrs.evolve(self, started_before=_time(when, "started_before"))

    def with_github_repo(self, repo: str | None) -> SessionQuery:
        return attrs.evolve(self, github_repo=repo)

    def with_github_issue(self, issue: int | None) -> SessionQuery:
        return attrs.evolve(self, github_issue=issue)

    def with_github_pr(self, pr: int | None) -> SessionQuery:
        return attrs.evolve(self, github_pr=pr)

    def order_by(self, order: SessionOrder | str) -> SessionQuery:
        return attrs.evolve(self, order=SessionOrder(order))

    def order_by_started_at(self) -> SessionQuery:
        return self.order_by(SessionOrder.STARTED_AT)

    def order_by_last_activity(self) -> SessionQuery:
        return self.order_by(SessionOrder.LAST_ACTIVITY)

    def order_by_cost(self) -> SessionQuery:
        return self.order_by(SessionOrder.COST)

    def with_direction(self, direction: Order | str) -> SessionQuery:
        return attrs.evolve(self, direction=Order(direction))

    def with_limit(self, limit: int | None) -> SessionQuery:
        return attrs.evolve(self, limit=_limit(limit))

    def matches(self, session: Session) -> bool:
        if self.machine_id is not None and session.machine_id != self.machine_id:
            return False
        if self.session_id is not None and session.session_id != self.session_id:
            return False
        if self.pid is not None and session.pid != self.pid:
            return False
        if self.framework is not None and session.framework != self.framework:
            return False
        if self.only_active and not session.is_active:
            return False
        if self.active_since is not None and (
            session.last_activity is None or session.last_activity < self.active_since
        ):
            return False
        if self.active_before is not None and (
            session.last_activity is None or session.last_activity >= self.active_before
        ):
            return False
        started = session.started_at
        if self.started_after is not None and (started is None or started < self.started_after):
            return False
        if self.started_before is not None and (started is None or started >= self.started_before):
            return False
        if self.github_repo is not None and session.github_repo != self.github_repo:
            return False
        if self.github_issue is not None and session.github_issue != self.github_issue:
            return False
        return not (self.github_pr is not None and session.github_pr != self.github_pr)

    def order_value(self, session: Session) -> Any:
        if self.order is SessionOrder.STARTED_AT:
            return session.started_at
        if self.order is SessionOrder.COST:
            return session.cost_picousd
        return session.last_activity

    def sort(self, sessions: Iterable[Session]) -> list[Session]:
        """Sort with the documented rules (None last in either direction)."""
        present: list[Session] = []
        missing: list[Session] = []
        for s in sessions:
            (missing if self.order_value(s) is None else present).append(s)
        reverse = self.direction is Order.DESC
        present.sort(
            key=lambda s: (self.order_value(s), s.machine_id, s.session_id), reverse=reverse
        )
        missing.sort(key=lambda s: (s.machine_id, s.session_id), reverse=reverse)
        out = present + missing
        return out if self.limit is None else out[: self.limit]


@attrs.frozen(kw_only=True)
class StorageStatsQuery:
    """Which sessions ``Storage.storage_stats`` totals (``since``: last activity >= since)."""

    only_active: bool = False
    framework: str | None = None
    machine_id: str | None = None
    since: datetime | None = None

    def active_only(self) -> StorageStatsQuery:
        return attrs.evolve(self, only_active=True)

    def with_framework(self, framework: str | None) -> StorageStatsQuery:
        return attrs.evolve(self, framework=framework)

    def with_machine(self, machine_id: str | None) -> StorageStatsQuery:
        return attrs.evolve(self, machine_id=machine_id)

    def with_since(self, since: datetime | None) -> StorageStatsQuery:
        return attrs.evolve(self, since=_time(since, "since"))

    def matches(self, session: Session) -> bool:
        if self.only_active and not session.is_active:
            return False
        if self.framework is not None and session.framework != self.framework:
            return False
        if self.machine_id is not None and session.machine_id != self.machine_id:
            return False
        return not (
            self.since is not None
            and (session.last_activity is None or session.last_activity < self.since)
        )


@attrs.frozen(kw_only=True)
class UsageQuery:
    """Which usage buckets ``Storage.usage`` returns: windows starting in
    ``since <= start < until``, of one framework / machine; ordered by
    ``(start, machine_id, framework, model)`` (None before any name)."""

    since: datetime | None = None
    until: datetime | None = None
    framework: str | None = None
    machine_id: str | None = None

    def with_time_range(self, since: datetime | None, until: datetime | None) -> UsageQuery:
        return attrs.evolve(self, since=_time(since, "since"), until=_time(until, "until"))

    def with_framework(self, framework: str | None) -> UsageQuery:
        return attrs.evolve(self, framework=framework)

    def with_machine(self, machine_id: str | None) -> UsageQuery:
        return attrs.evolve(self, machine_id=machine_id)

    def matches(self, bucket: Any) -> bool:
        if self.since is not None and bucket.start < self.since:
            return False
        if self.until is not None and bucket.start >= self.until:
            return False
        if self.framework is not None and bucket.framework != self.framework:
            return False
        return not (self.machine_id is not None and bucket.machine_id != self.machine_id)

    @staticmethod
    def sort_key(bucket: Any) -> tuple[Any, ...]:
        return (
            bucket.start,
            bucket.machine_id,
            (0, "") if bucket.framework is None else (1, bucket.framework),
            (0, "") if bucket.model is None else (1, bucket.model),
        )
