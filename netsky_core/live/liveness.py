"""Whether a session is really still going.

A session's stored status is the latest lifecycle signal its agent sent; an agent
that was killed or crashed sends none, so the status alone would say Busy forever.
A session counts as ended when, besides a ``SessionEnd``:

* it ran on this machine and its agent process is gone: no process with its pid, or
  one that started at another time (the pid was reused), or a zombie;
* or no event arrived for ``idle_timeout`` (``[sessions] idle_timeout``, default 12
  hours), on any machine.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime, timedelta
    from typing import Any

    from .._queries import StorageStatsQuery
    from .._records import Session
    from .._results import StorageStats

__all__ = ["DEFAULT_IDLE_TIMEOUT", "end_reason", "idle_timeout", "truthful", "truthful_stats"]

DEFAULT_IDLE_TIMEOUT = "12h"


def idle_timeout(settings: object) -> timedelta:
    """``[sessions] idle_timeout`` of a config (``Config`` or light settings)."""
    from .._durations import parse_duration

    section = settings.section("sessions")  # type: ignore[attr-defined]
    return parse_duration(section.get("idle_timeout") or DEFAULT_IDLE_TIMEOUT)


def end_reason(
    session: Session, *, machine_id: str | None, now: datetime, idle: timedelta
) -> str | None:
    """Why a session whose status says it is going has ended (``process gone``,
    ``idle``), or None while it may still be going (or its status says it ended)."""
    if not session.is_active:
        return None
    if session.machine_id == machine_id and session.pid is not None:
        from .._process import process_state

        if process_state(session.pid, session.process_start_time) == "gone":
            return "process gone"
    if session.last_activity is not None and now - session.last_activity >= idle:
        return "idle"
    return None


def truthful(
    sessions: Iterable[Session],
    *,
    machine_id: str | None,
    idle: timedelta,
    now: datetime | None = None,
    active_only: bool = False,
) -> list[Session]:
    """The sessions with the status they really have: Done where :func:`end_reason`
    finds they ended (``active_only``: those left out)."""
    import attrs

    from .._records import SessionStatus

    if now is None:
        from datetime import UTC, datetime

        now = datetime.now(UTC)
    out = []
    for s in sessions:
        if end_reason(s, machine_id=machine_id, now=now, idle=idle) is not None:
            if active_only:
                continue
            s = attrs.evolve(s, status=SessionStatus.DONE)
        out.append(s)
    return out


def truthful_stats(
    store: Any,
    query: StorageStatsQuery,
    *,
    machine_id: str | None,
    idle: timedelta,
    now: datetime | None = None,
) -> StorageStats:
    """``store.storage_stats(query)`` with the sessions :func:`end_reason` finds ended
    counted as ended: not active, and left out when ``query`` keeps active ones only.
    Reads the sessions whose stored status says they are going (a few) besides the
    store's totals."""
    from .._queries import SessionQuery

    stats = store.storage_stats(query)
    if stats.active_session_count == 0:
        return stats
    going = (
        SessionQuery()
        .active_only()
        .with_framework(query.framework)
        .with_machine(query.machine_id)
        .with_active_since(query.since)
    )
    listed = store.list_sessions(going)
    alive = truthful(listed, machine_id=machine_id, idle=idle, now=now, active_only=True)
    ended = len(listed) - len(alive)
    if ended == 0:
        return stats
    import attrs

    if not query.only_active:
        return attrs.evolve(stats, active_session_count=stats.active_session_count - ended)
    from ..storage.inmemory import session_sums
    from ..storage.store import stats_from_sums

    return stats_from_sums(session_sums(alive, query))
