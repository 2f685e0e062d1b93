"""Row <-> record mapping and the SQL text of one store (schema-qualified).

Column names are the record field names (``netsky_core.backend.EVENT_FIELDS`` /
``SESSION_FIELDS``), so the mapping is positional and mechanical. Timestamps come
back from the driver as aware datetimes; the records normalize them to
``datetime.UTC`` whatever the connection's TimeZone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from operator import attrgetter
from typing import Any

import attrs

from netsky_core import (
    ApiFilter,
    Event,
    EventOrder,
    EventQuery,
    EventType,
    FilePosition,
    Order,
    Session,
    SessionOrder,
    SessionQuery,
    StorageStatsQuery,
)
from netsky_core.backend import EVENT_FIELDS, SESSION_FIELDS, USAGE_FIELDS

from ._target import Target, quote_ident

__all__ = [
    "EVENT_COPY_TYPES",
    "POSITION_FIELDS",
    "Statements",
    "event_from_row",
    "event_params",
    "position_from_row",
    "position_params",
    "session_from_row",
    "session_params",
]

POSITION_FIELDS: tuple[str, ...] = tuple(f.name for f in attrs.fields(FilePosition))

_EVENT_TYPES: dict[str, str] = {
    "timestamp": "timestamptz",
    "pid": "int8",
    "process_start_time": "int8",
    "tokens_input": "int8",
    "tokens_output": "int8",
    "tokens_cache_read": "int8",
    "tokens_cache_write": "int8",
    "cost_usd": "float8",
    "duration_ms": "int8",
    "is_sidechain": "bool",
}
EVENT_COPY_TYPES: list[str] = ["int8"] + [_EVENT_TYPES.get(f, "text") for f in EVENT_FIELDS]
"""Binary COPY types of ``(id, *EVENT_FIELDS)``."""


def _cols(names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(prefix + quote_ident(n) for n in names)


def _dollars(first: int, count: int) -> str:
    return ", ".join(f"${i}" for i in range(first, first + count))


_event_values = attrgetter(*EVENT_FIELDS)
_session_values = attrgetter(*SESSION_FIELDS)
_position_values = attrgetter(*POSITION_FIELDS)
_STATUS = SESSION_FIELDS.index("status")


def event_params(event: Event) -> tuple[Any, ...]:
    """The values of ``EVENT_FIELDS`` of ``event``."""
    return _event_values(event)  # type: ignore[no-any-return]


def event_from_row(row: Sequence[Any]) -> Event:
    """An Event from ``(id, *EVENT_FIELDS)``."""
    return Event(id=row[0], **dict(zip(EVENT_FIELDS, row[1:])))


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
    return _position_values(position)  # type: ignore[no-any-return]


def usage_from_row(row: Sequence[Any]) -> Any:
    """A UsageBucket from ``SELECT USAGE_FIELDS`` ('' framework / model are None)."""
    from netsky_core import UsageBucket

    start = row[3]
    return UsageBucket(
        machine_id=row[0],
        framework=row[1] or None,
        model=row[2] or None,
        start=start if start.tzinfo is UTC else start.astimezone(UTC),
        requests=int(row[4]),
        unpriced_requests=int(row[5]),
        priced_requests=int(row[6]),
        tokens_input=int(row[7]),
        tokens_output=int(row[8]),
        tokens_cache_read=int(row[9]),
        tokens_cache_write=int(row[10]),
        cost_picousd=int(row[11]),
    )


def position_from_row(row: Sequence[Any]) -> FilePosition:
    return FilePosition(**dict(zip(POSITION_FIELDS, row)))


class Statements:
    """Every fixed statement of one store, with its schema-qualified table names."""

    def __init__(self, target: Target) -> None:
        self.events = ev = target.table("events")
        self.sessions = se = target.table("sessions")
        self.positions = po = target.table("positions")
        self.usage = us = target.table("usage")
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
            "AND requests = 0"
        )
        self.event_columns = _cols(EVENT_FIELDS)
        self.event_select = "id, " + self.event_columns
        self.session_select = _cols(SESSION_FIELDS)
        placeholders = ", ".join(["%s"] * len(EVENT_FIELDS))
        key = "machine_id = %s AND session_id = %s"

        self.insert_event = (
            f"INSERT INTO {ev} ({self.event_columns}) VALUES ({placeholders}) "
            "ON CONFLICT (machine_id, session_id, uuid) DO NOTHING RETURNING id"
        )
        self.select_event_by_key = f"SELECT {self.event_select} FROM {ev} WHERE {key} AND uuid = %s"
        # One index probe per key, whatever the table statistics say (LIMIT 1 keeps
        # the planner from flattening the lateral into a merge join over the table).
        self.select_events_by_keys = (
            "SELECT e.* FROM unnest(%b::text[], %b::text[], %b::text[]) AS k(m, s, u) "
            f"CROSS JOIN LATERAL (SELECT {self.event_select} FROM {ev} x "
            "WHERE x.machine_id = k.m AND x.session_id = k.s AND x.uuid = k.u LIMIT 1) e"
        )
        self.insert_event_with_id = (
            f"INSERT INTO {ev} (id, {self.event_columns}) VALUES (%s, {placeholders})"
        )
        # n ids from the identity sequence, as (first, last) when they are contiguous
        # (usual) and as a sorted array when a concurrent writer interleaved.
        self.next_ids = (
            "SELECT min(v), max(v), CASE WHEN max(v) - min(v) + 1 = count(*) THEN NULL "
            "ELSE array_agg(v ORDER BY v) END "
            "FROM (SELECT nextval(%s::regclass) AS v FROM generate_series(1, %s)) AS ids"
        )
        self.event_sequence = "SELECT pg_get_serial_sequence(%s, 'id')"
        self.copy_events = f"COPY {ev} (id, {self.event_columns}) FROM STDIN (FORMAT BINARY)"
        self.update_event = (
            f"UPDATE {ev} SET ({self.event_columns}) = ({placeholders}) WHERE id = %s"
        )
        self.session_placeholder = (
            f"INSERT INTO {se} (machine_id, session_id) VALUES (%s, %s) "
            "ON CONFLICT DO NOTHING RETURNING 1"
        )
        self.session_placeholders = (
            f"INSERT INTO {se} (machine_id, session_id) "
            "SELECT * FROM unnest(%b::text[], %b::text[]) ON CONFLICT DO NOTHING"
        )
        self.lock_session = f"SELECT {self.session_select} FROM {se} WHERE {key} FOR UPDATE"
        self.lock_sessions = (
            f"SELECT {self.session_select} FROM {se} "
            "WHERE (machine_id, session_id) IN (SELECT * FROM unnest(%b::text[], %b::text[])) "
            "ORDER BY machine_id, session_id FOR UPDATE"
        )
        # Statements with more than 50 parameters use native $n placeholders and a
        # RawCursor: psycopg does not cache the parsing of "%s" queries that wide.
        data_fields = SESSION_FIELDS[2:]
        n_data = len(data_fields)
        raw_se = se.replace("%%", "%")
        self.update_session = (
            f"UPDATE {raw_se} SET ({_cols(data_fields)}) = "
            f"({_dollars(1, n_data)}) WHERE machine_id = ${n_data + 1} "
            f"AND session_id = ${n_data + 2}"
        )
        self.upsert_session = (
            f"INSERT INTO {raw_se} ({self.session_select}) "
            f"VALUES ({_dollars(1, len(SESSION_FIELDS))}) "
            f"ON CONFLICT (machine_id, session_id) DO UPDATE SET ({_cols(data_fields)}) = "
            f"({_cols(data_fields, 'excluded.')})"
        )
        self.select_session = f"SELECT {self.session_select} FROM {se} WHERE {key}"
        self.most_recent_session = (
            f"SELECT {self.session_select} FROM {se} WHERE {{}} = %s "
            "ORDER BY last_activity DESC NULLS LAST, machine_id, session_id LIMIT 1"
        )
        self.event_exists = f"SELECT EXISTS (SELECT 1 FROM {ev} WHERE {key} AND uuid = %s)"
        pos_cols = _cols(POSITION_FIELDS)
        pos_data = POSITION_FIELDS[2:]
        self.upsert_position = (
            f"INSERT INTO {po} ({pos_cols}) VALUES ({', '.join(['%s'] * len(POSITION_FIELDS))}) "
            f"ON CONFLICT (machine_id, path) DO UPDATE SET ({_cols(pos_data)}) = "
            f"({_cols(pos_data, 'excluded.')})"
        )
        self.select_position = f"SELECT {pos_cols} FROM {po} WHERE machine_id = %s AND path = %s"
        self.select_positions = f"SELECT {pos_cols} FROM {po} {{}} ORDER BY machine_id, path"
        # gc deletes events in time slices of about GC_EVENTS rows: the slice's end
        # is found on the time index (strictly after its start, so each slice makes
        # progress), then the slice is one index range delete. Parameters: start,
        # cutoff, slice size, start; result: rows deleted, the slice's end.
        self.delete_old_events = (
            "WITH bound AS (SELECT coalesce(("
            f'SELECT "timestamp" FROM {ev} WHERE "timestamp" > %(lo)s '
            'AND "timestamp" < %(cut)s ORDER BY "timestamp" OFFSET %(n)s LIMIT 1'
            "), %(cut)s) AS hi), "
            f'gone AS (DELETE FROM {ev} WHERE "timestamp" >= %(lo)s '
            'AND "timestamp" < (SELECT hi FROM bound) RETURNING 1) '
            "SELECT (SELECT count(*) FROM gone), (SELECT hi FROM bound)"
        )
        # Sessions (far fewer) go in keyset batches by ctid along their activity index.
        self.delete_old_sessions = (
            "WITH batch AS MATERIALIZED (SELECT ctid AS c, last_activity AS t, "
            f"machine_id AS m, session_id AS s FROM {se} "
            "WHERE (last_activity, machine_id, session_id) > (%s, %s, %s) "
            "AND last_activity < %s ORDER BY last_activity, machine_id, session_id LIMIT %s), "
            f"gone AS (DELETE FROM {se} WHERE ctid = ANY(ARRAY(SELECT c FROM batch)) "
            "AND last_activity < %s RETURNING 1), "
            "last AS (SELECT t, m, s FROM batch ORDER BY t DESC, m DESC, s DESC LIMIT 1) "
            "SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM batch), "
            "(SELECT t FROM last), (SELECT m FROM last), (SELECT s FROM last)"
        )
        # Walk the index in order even when the statistics are stale (after a bulk
        # load they often are): a sort of every expired row per batch is quadratic.
        self.gc_planner = (
            "SET LOCAL enable_sort = off",
            "SET LOCAL enable_bitmapscan = off",
            "SET LOCAL enable_seqscan = off",
        )
        self.delete_old_usage = f"DELETE FROM {us} WHERE start <= %s"
        self.count_old_events = f'SELECT count(*) FROM {ev} WHERE "timestamp" < %s'
        self.count_old_sessions = f"SELECT count(*) FROM {se} WHERE last_activity < %s"

    @staticmethod
    def usage_delta_rows(deltas: dict[Any, list[int]]) -> list[tuple[Any, ...]]:
        """Rows for ``increment_usage``, in key order (None framework / model as '')."""
        rows = [(k[0], k[1] or "", k[2] or "", k[3], *d) for k, d in deltas.items()]
        rows.sort(key=lambda r: (r[0], r[1], r[2], r[3]))
        return rows

    # -- events ---------------------------------------------------------------------

    def event_filter(self, query: EventQuery) -> tuple[str, list[Any]]:
        """``WHERE ...`` for the filters of ``query`` (order and limit excluded)."""
        where: list[str] = []
        params: list[Any] = []
        if query.session_ids is not None:
            if len(query.session_ids) == 1:
                where.append("session_id = %s")
                params.append(query.session_ids[0])
            else:
                where.append("session_id = ANY(%s::text[])")
                params.append(list(query.session_ids))
        for column, value in (
            ("machine_id", query.machine_id),
            ("framework", query.framework),
            ("tool_name", query.tool_name),
        ):
            if value is not None:
                where.append(f"{column} = %s")
                params.append(value)
        if query.event_types is not None:
            if len(query.event_types) == 1:
                where.append("event_type = %s")
                params.append(query.event_types[0])
            else:
                where.append("event_type = ANY(%s::text[])")
                params.append(list(query.event_types))
        if query.uuids is not None:
            where.append("uuid = ANY(%s::text[])")
            params.append(list(query.uuids))
        if query.since is not None:
            where.append('"timestamp" >= %s')
            params.append(query.since)
        if query.until is not None:
            where.append('"timestamp" < %s')
            params.append(query.until)
        if query.after_id is not None:
            where.append("id > %s")
            params.append(query.after_id)
        if query.api is ApiFilter.ONLY:
            where.append("event_type = %s")
            params.append(EventType.API_REQUEST)
        elif query.api is ApiFilter.EXCLUDE:
            where.append("event_type <> %s")
            params.append(EventType.API_REQUEST)
        return (" WHERE " + " AND ".join(where) if where else ""), params

    def select_events(self, query: EventQuery) -> tuple[str, list[Any]]:
        where, params = self.event_filter(query)
        direction = "DESC" if query.effective_direction is Order.DESC else "ASC"
        if query.order is EventOrder.ID:
            order = f"id {direction}"
        else:
            order = f'"timestamp" {direction}, id {direction}'
        sql = f"SELECT {self.event_select} FROM {self.events}{where} ORDER BY {order}"
        if query.limit is not None:
            sql += " LIMIT %s"
            params.append(query.limit)
        return sql, params

    def count_events(self, query: EventQuery | None) -> tuple[str, list[Any]]:
        where, params = self.event_filter(query) if query is not None else ("", [])
        return f"SELECT count(*) FROM {self.events}{where}", params

    # -- sessions -------------------------------------------------------------------

    @staticmethod
    def _session_filter(
        query: SessionQuery | StorageStatsQuery,
    ) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if query.machine_id is not None:
            where.append("machine_id = %s")
            params.append(query.machine_id)
        if query.framework is not None:
            where.append("framework = %s")
            params.append(query.framework)
        if query.only_active:
            where.append("status IS NOT NULL AND status <> 'Done'")
        if isinstance(query, StorageStatsQuery):
            if query.since is not None:
                where.append("last_activity >= %s")
                params.append(query.since)
            return where, params
        if query.active_since is not None:
            where.append("last_activity >= %s")
            params.append(query.active_since)
        started = "coalesce(first_started_at, first_activity)"
        if query.started_after is not None:
            where.append(f"{started} >= %s")
            params.append(query.started_after)
        if query.started_before is not None:
            where.append(f"{started} < %s")
            params.append(query.started_before)
        for column, value in (
            ("github_repo", query.github_repo),
            ("github_issue", query.github_issue),
            ("github_pr", query.github_pr),
        ):
            if value is not None:
                where.append(f"{column} = %s")
                params.append(value)
        return where, params

    def list_sessions(
        self, query: SessionQuery
    ) -> tuple[tuple[str, list[Any]], tuple[str, list[Any]]]:
        """Two statements: the sessions with a value to order by, in order, then (when
        the limit is not reached yet) those without one; ties by key in the same
        direction. Each walks an index in either direction.

        The second statement takes the remaining limit as its last parameter.
        """
        where, params = self._session_filter(query)
        if query.order is SessionOrder.STARTED_AT:
            value = "coalesce(first_started_at, first_activity)"
        elif query.order is SessionOrder.COST:
            value = "cost_picousd"
        else:
            value = "last_activity"
        d = "DESC" if query.direction is Order.DESC else "ASC"
        limit = "" if query.limit is None else " LIMIT %s"
        cond = "".join(f" AND {w}" for w in where)
        base = f"SELECT {self.session_select} FROM {self.sessions} WHERE "
        present = (
            f"{base}{value} IS NOT NULL{cond} "
            f"ORDER BY {value} {d}, machine_id {d}, session_id {d}{limit}"
        )
        missing = f"{base}{value} IS NULL{cond} ORDER BY machine_id {d}, session_id {d}{limit}"
        tail = [] if query.limit is None else [query.limit]
        return (present, [*params, *tail]), (missing, [*params, *tail])

    def stats(self, query: StorageStatsQuery) -> tuple[str, list[Any]]:
        where, params = self._session_filter(query)
        cond = (" WHERE " + " AND ".join(where)) if where else ""
        sql = (
            "SELECT count(*), count(*) FILTER (WHERE status IS NOT NULL AND status <> 'Done'), "
            "coalesce(sum(tokens_input), 0), coalesce(sum(tokens_output), 0), "
            "coalesce(sum(tokens_cache_read), 0), coalesce(sum(tokens_cache_write), 0), "
            f"sum(cost_picousd), coalesce(sum(api_request_count), 0) FROM {self.sessions}{cond}"
        )
        return sql, params
