"""The primitives of one SQLite transaction (see ``netsky_core.backend.Engine``).

Writers are serialized by SQLite itself (``BEGIN IMMEDIATE``), so locks are no-ops.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

import apsw

from netsky_core import (
    Event,
    EventQuery,
    FilePosition,
    Session,
    SessionQuery,
    StorageStatsQuery,
    UsageBucket,
    UsageQuery,
)
from netsky_core.backend import (
    SQLITE,
    USAGE_ORDER,
    EventKey,
    SessionKey,
    SessionSums,
    apply_usage,
    event_filter,
    event_order,
    limit,
    session_filter,
    session_order,
    session_sums_select,
    usage_filter,
)

from ._projects import ProjectUsageReads, ProjectUsageWrites
from ._rows import (
    EVENT_COLUMNS,
    EVENT_WRITE_COLUMNS,
    POSITION_COLUMNS,
    SESSION_COLUMNS,
    USAGE_COLUMNS,
    dt,
    event_row,
    one_row,
    position_row,
    row_event,
    row_position,
    row_session,
    row_usage,
    session_row,
    us,
    usage_key_row,
    usage_row,
)

_CHUNK = 400
_EVENTS = "SELECT " + ", ".join(EVENT_COLUMNS) + " FROM events"
_INSERT = (
    f"INSERT INTO events ({', '.join(EVENT_WRITE_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(EVENT_WRITE_COLUMNS))}) "
    "ON CONFLICT (machine_id, session_id, uuid) DO NOTHING"
)
_UPDATE = (
    "UPDATE events SET " + ", ".join(f"{c} = ?" for c in EVENT_WRITE_COLUMNS) + " WHERE id = ?"
)
_SESSIONS = "SELECT " + ", ".join(SESSION_COLUMNS) + " FROM sessions"
_PUT_SESSION = (
    f"INSERT INTO sessions ({', '.join(SESSION_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(SESSION_COLUMNS))}) "
    "ON CONFLICT (machine_id, session_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in SESSION_COLUMNS[2:])
)
_POSITION_COLS = ", ".join(f'"{c}"' for c in POSITION_COLUMNS)
_PUT_POSITION = (
    f"INSERT OR REPLACE INTO positions ({_POSITION_COLS}) "
    f"VALUES ({', '.join('?' * len(POSITION_COLUMNS))})"
)
_USAGE_COLS = ", ".join(USAGE_COLUMNS)
_USAGE = f"SELECT {_USAGE_COLS} FROM usage"
_PUT_USAGE = (
    f"INSERT INTO usage ({_USAGE_COLS}) VALUES ({', '.join('?' * len(USAGE_COLUMNS))}) "
    "ON CONFLICT (machine_id, framework, model, start) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in USAGE_COLUMNS[4:])
)
_USAGE_KEY = "machine_id = ? AND framework = ? AND model = ? AND start = ?"


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class SqliteReader(ProjectUsageReads):
    def __init__(self, conn: apsw.Connection) -> None:
        self.c = conn

    def events(self, query: EventQuery) -> list[Event]:
        where, params = event_filter(query, SQLITE)
        sql = _EVENTS + where + event_order(query, SQLITE) + limit(query, SQLITE, params)
        return [row_event(r) for r in self.c.execute(sql, params)]

    def count_events(self, query: EventQuery) -> int:
        where, params = event_filter(query, SQLITE)
        return int(one_row(self.c.execute("SELECT count(*) FROM events" + where, params))[0])

    def events_by_key(self, keys: Sequence[EventKey]) -> dict[EventKey, Event]:
        found: dict[EventKey, Event] = {}
        for chunk in _chunks(list(keys), 300):
            values = ", ".join(["(?, ?, ?)"] * len(chunk))
            sql = f"{_EVENTS} WHERE (machine_id, session_id, uuid) IN (VALUES {values})"
            for row in self.c.execute(sql, [v for key in chunk for v in key]):
                e = row_event(row)
                found[(e.machine_id, e.session_id, e.uuid)] = e  # type: ignore[index]
        return found

    def events_by_billing_key(self, keys: Sequence[str]) -> list[Event]:
        out: list[Event] = []
        for chunk in _chunks(list(keys)):
            sql = f"{_EVENTS} WHERE bill_key IN ({', '.join('?' * len(chunk))}) ORDER BY id"
            out.extend(row_event(r) for r in self.c.execute(sql, list(chunk)))
        return out

    def count_billing_keys(self, keys: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for chunk in _chunks(list(keys)):
            sql = (
                f"SELECT bill_key, count(*) FROM events WHERE bill_key IN "
                f"({', '.join('?' * len(chunk))}) GROUP BY bill_key"
            )
            out.update((k, int(n)) for k, n in self.c.execute(sql, list(chunk)))
        return out

    def billing_keys_held(self, keys: Sequence[str], at_least: int) -> list[str]:
        out: list[str] = []
        for chunk in _chunks(list(keys)):
            sql = (
                f"SELECT bill_key FROM events WHERE bill_key IN "
                f"({', '.join('?' * len(chunk))}) GROUP BY bill_key HAVING count(*) >= ?"
            )
            out.extend(k for (k,) in self.c.execute(sql, [*chunk, at_least]))
        return sorted(out)

    def sessions(self, query: SessionQuery) -> list[Session]:
        clauses, params = session_filter(query, SQLITE)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        sql = _SESSIONS + where + session_order(query) + limit(query, SQLITE, params)
        return [row_session(r) for r in self.c.execute(sql, params)]

    def count_sessions(self, query: SessionQuery) -> int:
        clauses, params = session_filter(query, SQLITE)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        return int(one_row(self.c.execute("SELECT count(*) FROM sessions" + where, params))[0])

    def sessions_by_key(self, keys: Sequence[SessionKey]) -> dict[SessionKey, Session]:
        found: dict[SessionKey, Session] = {}
        for chunk in _chunks(list(keys)):
            values = ", ".join(["(?, ?)"] * len(chunk))
            sql = f"{_SESSIONS} WHERE (machine_id, session_id) IN (VALUES {values})"
            for row in self.c.execute(sql, [v for key in chunk for v in key]):
                s = row_session(row)
                found[s.key] = s
        return found

    def session_sums(self, query: StorageStatsQuery) -> SessionSums:
        clauses, params = session_filter(query, SQLITE)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        row = one_row(self.c.execute(session_sums_select("sessions", where), params))
        n, active, ti, to, tr, tw, tx, cost, requests = row
        return SessionSums(
            sessions=n,
            active=active,
            tokens_input=ti,
            tokens_output=to,
            tokens_cache_read=tr,
            tokens_cache_write=tw,
            tokens_reasoning=tx,
            cost_picousd=cost,
            api_requests=requests,
        )

    def usage(self, query: UsageQuery) -> list[UsageBucket]:
        where, params = usage_filter(query, SQLITE)
        return [row_usage(r) for r in self.c.execute(_USAGE + where + USAGE_ORDER, params)]

    def positions(
        self, machine_id: str | None = None, path: str | None = None
    ) -> list[FilePosition]:
        clauses, params = [], []
        if machine_id is not None:
            clauses.append("machine_id = ?")
            params.append(machine_id)
        if path is not None:
            clauses.append("path = ?")
            params.append(path)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        sql = f"SELECT {_POSITION_COLS} FROM positions{where} ORDER BY machine_id, path"
        return [row_position(r) for r in self.c.execute(sql, params)]

    def meta(self, name: str) -> str | None:
        row = self.c.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def table_counts(self) -> dict[str, int]:
        return {
            name: int(one_row(self.c.execute(f"SELECT count(*) FROM {name}"))[0])
            for name in ("events", "sessions", "positions", "usage", "project_usage")
        }

    def event_time_range(self) -> tuple[datetime | None, datetime | None]:
        lo, hi = one_row(self.c.execute("SELECT min(timestamp), max(timestamp) FROM events"))
        return dt(lo), dt(hi)


class SqliteWriter(ProjectUsageWrites, SqliteReader):
    def lock_sessions(
        self, keys: Sequence[SessionKey], *, wait: bool = True
    ) -> dict[SessionKey, Session]:
        return self.sessions_by_key(keys)

    def lock_names(self, names: Sequence[str], *, shared: bool = False) -> None:
        return None

    def insert_events(self, events: Sequence[Event]) -> list[int | None]:
        if not events:
            return []
        c = self.c
        last = one_row(c.execute("SELECT coalesce(max(id), 0) FROM events"))[0]
        before = c.total_changes()
        c.executemany(_INSERT, map(event_row, events))  # each row freed once bound
        if c.total_changes() - before == len(events):
            first = c.last_insert_rowid() - len(events) + 1
            return list(range(first, first + len(events)))
        # some keys were stored already: find which rows are new
        fresh = cast(
            "list[tuple[int, str, str, str | None]]",
            c.execute(
                "SELECT id, machine_id, session_id, uuid FROM events WHERE id > ? ORDER BY id",
                (last,),
            ).fetchall(),
        )
        by_key = {(m, s, u): i for i, m, s, u in fresh if u is not None}
        keyless = iter([i for i, _m, _s, u in fresh if u is None])
        return [
            next(keyless) if e.uuid is None else by_key.get((e.machine_id, e.session_id, e.uuid))
            for e in events
        ]

    def update_events(self, events: Sequence[Event]) -> None:
        self.c.executemany(_UPDATE, [(*event_row(e), e.id) for e in events])

    def delete_events(self, ids: Sequence[int]) -> None:
        for chunk in _chunks(list(ids)):
            self.c.execute(f"DELETE FROM events WHERE id IN ({', '.join('?' * len(chunk))})", chunk)

    def put_sessions(self, sessions: Sequence[Session]) -> None:
        self.c.executemany(_PUT_SESSION, [session_row(s) for s in sessions])

    def delete_sessions(self, keys: Sequence[SessionKey]) -> None:
        self.c.executemany("DELETE FROM sessions WHERE machine_id = ? AND session_id = ?", keys)

    def add_usage(self, deltas: Mapping[tuple[Any, ...], Sequence[int]]) -> None:
        keys = list(deltas)
        stored: dict[tuple[Any, ...], UsageBucket] = {}
        for chunk in _chunks(keys, 200):
            values = ", ".join(["(?, ?, ?, ?)"] * len(chunk))
            sql = f"{_USAGE} WHERE (machine_id, framework, model, start) IN (VALUES {values})"
            for row in self.c.execute(sql, [v for k in chunk for v in usage_key_row(k)]):
                got = row_usage(row)
                stored[got.key] = got
        puts: list[list[Any]] = []
        deletes: list[tuple[Any, ...]] = []
        for key, delta in deltas.items():
            bucket = apply_usage(stored.get(key), key, list(delta))
            if bucket is None:
                deletes.append(usage_key_row(key))
            else:
                puts.append(usage_row(bucket))
        if deletes:
            self.c.executemany(f"DELETE FROM usage WHERE {_USAGE_KEY}", deletes)
        if puts:
            self.c.executemany(_PUT_USAGE, puts)

    def delete_usage(self, before: datetime) -> None:
        self.c.execute("DELETE FROM usage WHERE start < ?", (us(before),))

    def put_position(self, position: FilePosition) -> None:
        self.c.execute(_PUT_POSITION, position_row(position))

    def set_meta(self, name: str, value: str | None) -> None:
        if value is None:
            self.c.execute("DELETE FROM meta WHERE name = ?", (name,))
        else:
            self.c.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))
