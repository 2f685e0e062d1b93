"""Record <-> row mapping for the SQLite schema (timestamps as integer microseconds)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, overload

import apsw

from netsky_core import Event, FilePosition, Session, SessionStatus, UsageBucket
from netsky_core.backend import (
    BILLABLE_TYPES,
    EVENT_FIELDS,
    POSITION_FIELDS,
    SESSION_FIELDS,
    USAGE_FIELDS,
    billing_key,
    event_from_row,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)

EVENT_COLUMNS = ("id", *EVENT_FIELDS)
"""Columns read back as an Event (``bill_key`` is written, never read)."""
EVENT_WRITE_COLUMNS = (*EVENT_FIELDS, "bill_key")
SESSION_COLUMNS = SESSION_FIELDS
POSITION_COLUMNS = POSITION_FIELDS
USAGE_COLUMNS = USAGE_FIELDS

_TS = EVENT_FIELDS.index("timestamp")
_SIDECHAIN = EVENT_FIELDS.index("is_sidechain")
_SESSION_TIMES = frozenset(name for name in SESSION_FIELDS if name.endswith(("_at", "_activity")))
_STATUS = SESSION_FIELDS.index("status")
_SESSION_TIME_INDEXES = tuple(i for i, n in enumerate(SESSION_FIELDS) if n in _SESSION_TIMES)


def us(value: datetime | None) -> int | None:
    return None if value is None else (value - _EPOCH) // _US


def one_row(cursor: apsw.Cursor) -> Any:
    """The row of a query that always gives one (an aggregate, a PRAGMA)."""
    row = cursor.fetchone()
    if row is None:
        raise AssertionError("the query gave no row")
    return row


@overload
def dt(value: int) -> datetime: ...
@overload
def dt(value: int | None) -> datetime | None: ...
def dt(value: int | None) -> datetime | None:
    return None if value is None else _EPOCH + timedelta(microseconds=value)


def event_row(e: Event) -> tuple[Any, ...]:
    """Values for ``EVENT_WRITE_COLUMNS``, in that order."""
    return (
        e.machine_id,
        e.session_id,
        e.event_type,
        (e.timestamp - _EPOCH) // _US,
        e.uuid,
        e.framework,
        e.source,
        e.tool_use_id,
        e.tool_name,
        e.spawned_agent_id,
        e.subagent_type,
        e.permission_mode,
        e.transcript_path,
        e.pid,
        e.process_start_time,
        e.cwd,
        e.git_branch,
        e.model,
        e.tokens_input,
        e.tokens_output,
        e.tokens_cache_read,
        e.tokens_cache_write,
        e.tokens_reasoning,
        e.cost_usd,
        e.duration_ms,
        1 if e.is_sidechain else 0,
        e.payload,
        e.metadata,
        billing_key(e) if e.event_type in BILLABLE_TYPES else None,
    )


assert EVENT_WRITE_COLUMNS == (
    "machine_id",
    "session_id",
    "event_type",
    "timestamp",
    "uuid",
    "framework",
    "source",
    "tool_use_id",
    "tool_name",
    "spawned_agent_id",
    "subagent_type",
    "permission_mode",
    "transcript_path",
    "pid",
    "process_start_time",
    "cwd",
    "git_branch",
    "model",
    "tokens_input",
    "tokens_output",
    "tokens_cache_read",
    "tokens_cache_write",
    "tokens_reasoning",
    "cost_usd",
    "duration_ms",
    "is_sidechain",
    "payload",
    "metadata",
    "bill_key",
), "event_row() must follow EVENT_WRITE_COLUMNS"


def row_event(r: tuple[Any, ...]) -> Event:
    """An Event from a row of ``SELECT EVENT_COLUMNS``."""
    values = list(r)
    values[_TS + 1] = _EPOCH + timedelta(microseconds=values[_TS + 1])
    values[_SIDECHAIN + 1] = bool(values[_SIDECHAIN + 1])
    return event_from_row(values)


def session_row(s: Session) -> list[Any]:
    out = [getattr(s, name) for name in SESSION_COLUMNS]
    for i in _SESSION_TIME_INDEXES:
        value = out[i]
        if value is not None:
            out[i] = (value - _EPOCH) // _US
    if out[_STATUS] is not None:
        out[_STATUS] = out[_STATUS].value
    return out


def row_session(r: tuple[Any, ...]) -> Session:
    values = list(r)
    for i in _SESSION_TIME_INDEXES:
        if values[i] is not None:
            values[i] = _EPOCH + timedelta(microseconds=values[i])
    if values[_STATUS] is not None:
        values[_STATUS] = SessionStatus(values[_STATUS])
    return Session(**dict(zip(SESSION_COLUMNS, values)))


def position_row(p: FilePosition) -> list[Any]:
    out = [getattr(p, name) for name in POSITION_COLUMNS]
    out[-1] = us(p.updated_at)
    return out


def row_position(r: tuple[Any, ...]) -> FilePosition:
    values = dict(zip(POSITION_COLUMNS, r))
    values["updated_at"] = dt(values["updated_at"])
    return FilePosition(**values)


def usage_key_row(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """A usage bucket key as stored (None framework / model as '')."""
    return (key[0], key[1] or "", key[2] or "", us(key[3]))


def usage_row(b: UsageBucket) -> list[Any]:
    """A usage bucket as a row (None framework / model stored as '')."""
    return [*usage_key_row(b.key), *(getattr(b, f) for f in USAGE_FIELDS[4:])]


def row_usage(r: tuple[Any, ...]) -> UsageBucket:
    return UsageBucket(
        machine_id=r[0],
        framework=r[1] or None,
        model=r[2] or None,
        start=_EPOCH + timedelta(microseconds=r[3]),
        **dict(zip(USAGE_FIELDS[4:], r[4:])),
    )
