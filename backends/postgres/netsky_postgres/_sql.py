"""Row <-> record mapping and the SQL text of one store (schema-qualified).

Column names are the record field names (``netsky_core.backend.EVENT_FIELDS`` /
``SESSION_FIELDS``), so the mapping is positional and mechanical. Timestamps come
back from the driver as aware datetimes; the records normalize them to
``datetime.UTC`` whatever the connection's TimeZone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC
from operator import attrgetter
from typing import Any

from netsky_core import Event, FilePosition, Session, UsageBucket
from netsky_core.backend import (
    BILLABLE_TYPES,
    EVENT_FIELDS,
    POSITION_FIELDS,
    SESSION_FIELDS,
    USAGE_FIELDS,
    billing_key,
)
from netsky_core.backend import event_from_row as trusted_event

from ._target import Target, quote_ident

__all__ = [
    "EVENT_COPY_TYPES",
    "Statements",
    "event_from_row",
    "event_params",
    "lock_id",
    "position_from_row",
    "session_from_row",
    "session_params",
    "usage_from_row",
]

_EVENT_TYPES: dict[str, str] = {
    "timestamp": "timestamptz",
    "pid": "int8",
    "process_start_time": "int8",
    "tokens_input": "int8",
    "tokens_output": "int8",
    "tokens_cache_read": "int8",
    "tokens_cache_write": "int8",
    "tokens_reasoning": "int8",
    "cost_usd": "float8",
    "duration_ms": "int8",
    "is_sidechain": "bool",
}
EVENT_WRITE_FIELDS: tuple[str, ...] = (*EVENT_FIELDS, "bill_key")
EVENT_COPY_TYPES: list[str] = ["int8"] + [_EVENT_TYPES.get(f, "text") for f in EVENT_WRITE_FIELDS]
"""Binary COPY types of ``(id, *EVENT_WRITE_FIELDS)``."""


def _cols(names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(prefix + quote_ident(n) for n in names)


def _dollars(first: int, count: int) -> str:
    return ", ".join(f"${i}" for i in range(first, first + count))


_session_values = attrgetter(*SESSION_FIELDS)
_position_values = attrgetter(*POSITION_FIELDS)
_STATUS = SESSION_FIELDS.index("status")


def event_params(e: Event) -> tuple[Any, ...]:
    """The values of ``EVENT_WRITE_FIELDS`` of ``e`` (spelled out: the fastest way
    to read an attrs record, per event on the insert path)."""
    return (
        e.machine_id,
        e.session_id,
        e.event_type,
        e.timestamp,
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
        e.is_sidechain,
        e.payload,
        e.metadata,
        billing_key(e) if e.event_type in BILLABLE_TYPES else None,
    )


def event_from_row(row: Sequence[Any]) -> Event:
    """An Event from ``(id, *EVENT_FIELDS)``."""
    return trusted_event(row)


def session_params(session: Session) -> list[Any]:
    """The values of ``SESSION_FIELDS`` of ``session`` (status as its text)."""
    values = list(_session_values(session))
    status = values[_STATUS]
    if status is not None:
        values[_STATUS] = status.value
    return values


def session_from_row(row: Sequence[Any]) -> Session:
    return Session(**dict(zip(SESSION_FIELDS, row)))


def position_params(position: FilePosition) -> tuple[Any, ...]:
    return _position_values(position)


def position_from_row(row: Sequence[Any]) -> FilePosition:
    return FilePosition(**dict(zip(POSITION_FIELDS, row)))


def usage_from_row(row: Sequence[Any]) -> UsageBucket:
    """A UsageBucket from ``SELECT USAGE_FIELDS`` ('' framework / model are None)."""
    start = row[3]
    return UsageBucket(
        machine_id=row[0],
        framework=row[1] or None,
        model=row[2] or None,
        start=start if start.tzinfo is UTC else start.astimezone(UTC),
        **{name: int(v) for name, v in zip(USAGE_FIELDS[4:], row[4:])},
    )


def usage_delta_rows(deltas: dict[Any, Sequence[int]]) -> list[tuple[Any, ...]]:
    """Rows for ``increment_usage``, in key order (None framework / model as '')."""
    rows = [(k[0], k[1] or "", k[2] or "", k[3], *d) for k, d in deltas.items()]
    rows.sort(key=lambda r: (r[0], r[1], r[2], r[3]))
    return rows


def lock_id(schema: str, name: str) -> int:
    """The advisory lock key of a named lock of one schema (64-bit, signed)."""
    digest = hashlib.blake2b(f"netsky:{schema}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_statement(
    st: Statements, keys: Sequence[tuple[str, str]], *, wait: bool
) -> tuple[str, Any]:
    """The statement locking these sessions (one key: a plain index probe), and its
    parameters."""
    if len(keys) == 1:
        return (st.lock_session if wait else st.lock_session_nowait), keys[0]
    columns = ([k[0] for k in keys], [k[1] for k in keys])
    return (st.lock_sessions if wait else st.lock_sessions_nowait), columns


#: The tables of the current schema (what ``info()`` counts and VACUUM analyzes).
TABLES = ("events", "sessions", "positions", "usage", "project_usage")


class Statements:
    """Every fixed statement of one store, with its schema-qualified table names."""

    def __init__(self, target: Target) -> None:
        self.events = ev = target.table("events")
        self.sessions = se = target.table("sessions")
        self.positions = po = target.table("positions")
        self.usage = us = target.table("usage")
        self.meta = target.table("netsky_meta")
        usage_data = USAGE_FIELDS[4:]
        self.usage_select = _cols(USAGE_FIELDS)
        # Buckets are shared by sessions, so writers add their deltas atomically
        # (rows in key order: concurrent writers lock buckets in the same order).
        self.increment_usage = (
            f"INSERT INTO {us} ({self.usage_select}) VALUES ({', '.join(['%s'] * len(USAGE_FIELDS))}) "
            "ON CONFLICT (machine_id, framework, model, start) DO UPDATE SET "
            + ", ".join(f"{c} = {us}.{c} + excluded.{c}" for c in usage_data)
        )
        self.delete_empty_usage = (
            f"DELETE FROM {us} WHERE (machine_id, framework, model, start) IN "
            "(SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::timestamptz[])) "
            "AND requests <= 0"
        )
        self.delete_old_usage = f"DELETE FROM {us} WHERE start < %s"
        self.event_columns = _cols(EVENT_FIELDS)
        self.event_write_columns = _cols(EVENT_WRITE_FIELDS)
        self.event_select = "id, " + self.event_columns
        self.session_select = _cols(SESSION_FIELDS)
        # Every column the statements use, read from every table without a row: one
        # round trip that fails on a table or a column dropped by hand.
        self.probe_tables = "SELECT 1 FROM " + " CROSS JOIN ".join(
            f"(SELECT {cols} FROM {table} LIMIT 0) AS t{i}"
            for i, (table, cols) in enumerate(
                (
                    (ev, "id, " + self.event_write_columns),
                    (se, self.session_select),
                    (po, _cols(POSITION_FIELDS)),
                    (us, self.usage_select),
                    (self.meta, "key, value"),
                )
            )
        )
        placeholders = ", ".join(["%s"] * len(EVENT_WRITE_FIELDS))
        self.insert_event = (
            f"INSERT INTO {ev} ({self.event_write_columns}) VALUES ({placeholders}) "
            "ON CONFLICT (machine_id, session_id, uuid) DO NOTHING RETURNING id"
        )
        # One index probe per key, whatever the table statistics say (LIMIT 1 keeps
        # the planner from flattening the lateral into a merge join over the table).
        self.select_events_by_keys = (
            "SELECT e.* FROM unnest(%b::text[], %b::text[], %b::text[]) AS k(m, s, u) "
            f"CROSS JOIN LATERAL (SELECT {self.event_select} FROM {ev} x "
            "WHERE x.machine_id = k.m AND x.session_id = k.s AND x.uuid = k.u LIMIT 1) e"
        )
        self.select_events_by_bill = (
            f"SELECT {self.event_select} FROM {ev} WHERE bill_key = ANY(%s::text[]) ORDER BY id"
        )
        self.count_bill_keys = (
            f"SELECT bill_key, count(*) FROM {ev} WHERE bill_key = ANY(%s::text[]) GROUP BY 1"
        )
        self.insert_event_with_id = (
            f"INSERT INTO {ev} (id, {self.event_write_columns}) VALUES (%s, {placeholders})"
        )
        # n ids from the identity sequence, as (first, last) when they are contiguous
        # (usual) and as a sorted array when a concurrent writer interleaved.
        self.next_ids = (
            "SELECT min(v), max(v), CASE WHEN max(v) - min(v) + 1 = count(*) THEN NULL "
            "ELSE array_agg(v ORDER BY v) END "
            "FROM (SELECT nextval(%s::regclass) AS v FROM generate_series(1, %s)) AS ids"
        )
        self.event_sequence = "SELECT pg_get_serial_sequence(%s, 'id')"
        self.copy_events = f"COPY {ev} (id, {self.event_write_columns}) FROM STDIN (FORMAT BINARY)"
        self.update_event = (
            f"UPDATE {ev} SET ({self.event_write_columns}) = ({placeholders}) WHERE id = %s"
        )
        self.delete_events = f"DELETE FROM {ev} WHERE id = ANY(%s::bigint[])"
        self.session_placeholders = (
            f"INSERT INTO {se} (machine_id, session_id) "
            "SELECT * FROM unnest(%b::text[], %b::text[]) ON CONFLICT DO NOTHING "
            "RETURNING machine_id, session_id"
        )
        lock = (
            f"SELECT {self.session_select} FROM {se} "
            "WHERE (machine_id, session_id) IN (SELECT * FROM unnest(%b::text[], %b::text[])) "
            "ORDER BY machine_id, session_id FOR UPDATE"
        )
        self.lock_sessions = lock
        self.lock_sessions_nowait = lock + " NOWAIT"
        one = f"SELECT {self.session_select} FROM {se} WHERE machine_id = %s AND session_id = %s FOR UPDATE"
        self.lock_session = one
        self.lock_session_nowait = one + " NOWAIT"
        self.select_sessions_by_keys = (
            f"SELECT {self.session_select} FROM {se} "
            "WHERE (machine_id, session_id) IN (SELECT * FROM unnest(%b::text[], %b::text[]))"
        )
        self.delete_sessions = (
            f"DELETE FROM {se} WHERE (machine_id, session_id) IN "
            "(SELECT * FROM unnest(%s::text[], %s::text[]))"
        )
        # Statements with more than 50 parameters use native $n placeholders and a
        # RawCursor: psycopg does not cache the parsing of "%s" queries that wide.
        data_fields = SESSION_FIELDS[2:]
        raw_se = se.replace("%%", "%")
        n_data = len(data_fields)
        self.update_session = (
            f"UPDATE {raw_se} SET ({_cols(data_fields)}) = ({_dollars(1, n_data)}) "
            f"WHERE machine_id = ${n_data + 1} AND session_id = ${n_data + 2}"
        )
        self.upsert_session = (
            f"INSERT INTO {raw_se} ({self.session_select}) "
            f"VALUES ({_dollars(1, len(SESSION_FIELDS))}) "
            f"ON CONFLICT (machine_id, session_id) DO UPDATE SET ({_cols(data_fields)}) = "
            f"({_cols(data_fields, 'excluded.')})"
        )
        pos_cols = _cols(POSITION_FIELDS)
        pos_data = POSITION_FIELDS[2:]
        self.position_select = pos_cols
        self.upsert_position = (
            f"INSERT INTO {po} ({pos_cols}) VALUES ({', '.join(['%s'] * len(POSITION_FIELDS))}) "
            f"ON CONFLICT (machine_id, path) DO UPDATE SET ({_cols(pos_data)}) = "
            f"({_cols(pos_data, 'excluded.')})"
        )
        self.select_meta = f"SELECT value FROM {self.meta} WHERE key = %s"
        self.upsert_meta = (
            f"INSERT INTO {self.meta} (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )
        self.delete_meta = f"DELETE FROM {self.meta} WHERE key = %s"
        self.lock_names = "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k"
        self.lock_names_shared = (
            "SELECT pg_advisory_xact_lock_shared(k) FROM unnest(%s::bigint[]) AS k"
        )
