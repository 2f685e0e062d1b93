"""Record <-> row mapping for the SQLite schema (timestamps as integer microseconds)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from netsky_core import Event, FilePosition, Session, SessionStatus
from netsky_core.backend import EVENT_FIELDS, SESSION_FIELDS, USAGE_FIELDS

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)

EVENT_COLUMNS = ("id", *EVENT_FIELDS)
SESSION_COLUMNS = SESSION_FIELDS
POSITION_COLUMNS = (
    "machine_id",
    "path",
    "offset",
    "line_number",
    "last_uuid",
    "size",
    "mtime_ns",
    "inode",
    "state",
    "updated_at",
)
_SESSION_TIMES = frozenset(name for name in SESSION_FIELDS if name.endswith(("_at", "_activity")))

assert EVENT_FIELDS == (
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
    "cost_usd",
    "duration_ms",
    "is_sidechain",
    "payload",
    "metadata",
), "event_row() must follow EVENT_FIELDS"


def us(value: datetime | None) -> int | None:
    return None if value is None else (value - _EPOCH) // _US


def dt(value: int | None) -> datetime | None:
    return None if value is None else _EPOCH + timedelta(microseconds=value)


def event_row(e: Event) -> tuple[Any, ...]:
    """Values for ``INSERT INTO events (EVENT_FIELDS)``, in that order."""
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
        e.cost_usd,
        e.duration_ms,
        1 if e.is_sidechain else 0,
        e.payload,
        e.metadata,
    )


def row_event(r: tuple[Any, ...]) -> Event:
    """An Event from a row of ``SELECT EVENT_COLUMNS``."""
    return Event(
        id=r[0],
        machine_id=r[1],
        session_id=r[2],
        event_type=r[3],
        timestamp=_EPOCH + timedelta(microseconds=r[4]),
        uuid=r[5],
        framework=r[6],
        source=r[7],
        tool_use_id=r[8],
        tool_name=r[9],
        spawned_agent_id=r[10],
        subagent_type=r[11],
        permission_mode=r[12],
        transcript_path=r[13],
        pid=r[14],
        process_start_time=r[15],
        cwd=r[16],
        git_branch=r[17],
        model=r[18],
        tokens_input=r[19],
        tokens_output=r[20],
        tokens_cache_read=r[21],
        tokens_cache_write=r[22],
        cost_usd=r[23],
        duration_ms=r[24],
        is_sidechain=bool(r[25]),
        payload=r[26],
        metadata=r[27],
    )


def session_row(s: Session) -> tuple[Any, ...]:
    out = []
    for name in SESSION_COLUMNS:
        value = getattr(s, name)
        if name in _SESSION_TIMES:
            value = us(value)
        elif name == "status" and value is not None:
            value = value.value
        out.append(value)
    return tuple(out)


def row_session(r: tuple[Any, ...]) -> Session:
    values: dict[str, Any] = {}
    for name, value in zip(SESSION_COLUMNS, r):
        if value is not None:
            if name in _SESSION_TIMES:
                value = _EPOCH + timedelta(microseconds=value)
            elif name == "status":
                value = SessionStatus(value)
        values[name] = value
    return Session(**values)


def position_row(p: FilePosition) -> tuple[Any, ...]:
    return (
        p.machine_id,
        p.path,
        p.offset,
        p.line_number,
        p.last_uuid,
        p.size,
        p.mtime_ns,
        p.inode,
        p.state,
        us(p.updated_at),
    )


def row_position(r: tuple[Any, ...]) -> FilePosition:
    return FilePosition(
        machine_id=r[0],
        path=r[1],
        offset=r[2],
        line_number=r[3],
        last_uuid=r[4],
        size=r[5],
        mtime_ns=r[6],
        inode=r[7],
        state=r[8],
        updated_at=dt(r[9]),
    )


USAGE_COLUMNS = USAGE_FIELDS


def usage_row(b: Any) -> tuple[Any, ...]:
    """A usage bucket as a row (None framework / model stored as '')."""
    return (
        b.machine_id,
        b.framework or "",
        b.model or "",
        us(b.start),
        b.requests,
        b.unpriced_requests,
        b.priced_requests,
        b.tokens_input,
        b.tokens_output,
        b.tokens_cache_read,
        b.tokens_cache_write,
        b.cost_picousd,
    )


def row_usage(r: tuple[Any, ...]) -> Any:
    from netsky_core import UsageBucket

    return UsageBucket(
        machine_id=r[0],
        framework=r[1] or None,
        model=r[2] or None,
        start=_EPOCH + timedelta(microseconds=r[3]),
        requests=r[4],
        unpriced_requests=r[5],
        priced_requests=r[6],
        tokens_input=r[7],
        tokens_output=r[8],
        tokens_cache_read=r[9],
        tokens_cache_write=r[10],
        cost_picousd=r[11],
    )
