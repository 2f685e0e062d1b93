"""The memory engine: dicts behind one lock, the shortest complete backend.

Every rule comes from the Store; this module only keeps records. A write runs under
the lock with an undo log, so a transaction that fails leaves nothing behind.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import attrs

from netsky_core import (
    Capability,
    Event,
    EventQuery,
    FilePosition,
    MigrationResult,
    ProjectUsage,
    ReadOnlyStorageError,
    Session,
    SessionQuery,
    StorageError,
    StorageStatsQuery,
    UsageBucket,
    UsageQuery,
)
from netsky_core.backend import (
    EngineInfo,
    EventKey,
    SessionKey,
    SessionSums,
    apply_project_usage,
    apply_usage,
    billing_key,
    select_events,
    select_project_usage,
    select_sessions,
    select_usage,
    session_sums,
)

T = TypeVar("T")
SCHEMA_VERSION = 1
_MISSING = object()


class _Data:
    def __init__(self) -> None:
        self.events: dict[int, Event] = {}
        self.keys: dict[EventKey, int] = {}
        self.by_bill: dict[str, set[int]] = {}
        self.sessions: dict[SessionKey, Session] = {}
        self.positions: dict[tuple[str, str], FilePosition] = {}
        self.usage: dict[tuple[Any, ...], UsageBucket] = {}
        self.projects: dict[tuple[Any, ...], ProjectUsage] = {}
        self.meta: dict[str, str] = {}
        self.next_id = 1


class _Reader:
    def __init__(self, data: _Data) -> None:
        self.d = data

    def events(self, query: EventQuery) -> list[Event]:
        return select_events(self.d.events.values(), query)

    def count_events(self, query: EventQuery) -> int:
        matches = query.matches
        return sum(1 for e in self.d.events.values() if matches(e))

    def events_by_key(self, keys: Sequence[EventKey]) -> dict[EventKey, Event]:
        found = {k: self.d.keys.get(k) for k in keys}
        return {k: self.d.events[i] for k, i in found.items() if i is not None}

    def events_by_billing_key(self, keys: Sequence[str]) -> list[Event]:
        ids = sorted({i for k in keys for i in self.d.by_bill.get(k, ())})
        return [self.d.events[i] for i in ids]

    def count_billing_keys(self, keys: Sequence[str]) -> dict[str, int]:
        return {k: len(ids) for k in keys if (ids := self.d.by_bill.get(k))}

    def sessions(self, query: SessionQuery) -> list[Session]:
        return select_sessions(self.d.sessions.values(), query)

    def count_sessions(self, query: SessionQuery) -> int:
        return sum(1 for s in self.d.sessions.values() if query.matches(s))

    def sessions_by_key(self, keys: Sequence[SessionKey]) -> dict[SessionKey, Session]:
        return {k: s for k in keys if (s := self.d.sessions.get(k)) is not None}

    def session_sums(self, query: StorageStatsQuery) -> SessionSums:
        return session_sums(self.d.sessions.values(), query)

    def usage(self, query: UsageQuery) -> list[UsageBucket]:
        return select_usage(self.d.usage.values(), query)

    def project_usage(self, since: datetime | None) -> list[ProjectUsage]:
        return select_project_usage(self.d.projects.values(), since)

    def positions(
        self, machine_id: str | None = None, path: str | None = None
    ) -> list[FilePosition]:
        found = [
            p
            for (m, f), p in self.d.positions.items()
            if (machine_id is None or m == machine_id) and (path is None or f == path)
        ]
        return sorted(found, key=lambda p: (p.machine_id, p.path))

    def meta(self, name: str) -> str | None:
        return self.d.meta.get(name)

    def table_counts(self) -> dict[str, int]:
        d = self.d
        return {
            "events": len(d.events),
            "sessions": len(d.sessions),
            "positions": len(d.positions),
            "usage": len(d.usage),
            "project_usage": len(d.projects),
        }

    def event_time_range(self) -> tuple[datetime | None, datetime | None]:
        stamps = [e.timestamp for e in self.d.events.values()]
        return min(stamps, default=None), max(stamps, default=None)


class _Writer(_Reader):
    """Writes go straight to the dicts; ``undo`` records how to take them back."""

    def __init__(self, data: _Data) -> None:
        super().__init__(data)
        self.undo: list[Callable[[], None]] = []

    def _set(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        old = table.get(key, _MISSING)
        self.undo.append(
            lambda: table.pop(key, None) if old is _MISSING else table.__setitem__(key, old)
        )
        if value is _MISSING:
            table.pop(key, None)
        else:
            table[key] = value

    def _index(self, event: Event, add: bool) -> None:
        key = billing_key(event)
        if key is None:
            return
        ids = self.d.by_bill.setdefault(key, set())
        assert event.id is not None
        if add:
            ids.add(event.id)
            self.undo.append(lambda: ids.discard(event.id))
        else:
            ids.discard(event.id)
            self.undo.append(lambda: ids.add(event.id))  # type: ignore[arg-type]

    def lock_sessions(
        self, keys: Sequence[SessionKey], *, wait: bool = True
    ) -> dict[SessionKey, Session]:
        return self.sessions_by_key(keys)

    def lock_names(self, names: Sequence[str], *, shared: bool = False) -> None:
        return None

    def insert_events(self, events: Sequence[Event]) -> list[int | None]:
        d = self.d
        out: list[int | None] = []
        start = d.next_id
        self.undo.append(lambda: setattr(d, "next_id", start))
        for e in events:
            key = e.key
            if key is not None and key in d.keys:
                out.append(None)
                continue
            row = attrs.evolve(e, id=d.next_id)
            d.next_id += 1
            self._set(d.events, row.id, row)
            if key is not None:
                self._set(d.keys, key, row.id)
            self._index(row, True)
            out.append(row.id)
        return out

    def update_events(self, events: Sequence[Event]) -> None:
        for e in events:
            old = self.d.events[e.id]  # type: ignore[index]
            self._index(old, False)
            self._set(self.d.events, e.id, e)
            self._index(e, True)

    def delete_events(self, ids: Sequence[int]) -> None:
        for i in ids:
            old = self.d.events.get(i)
            if old is None:
                continue
            self._index(old, False)
            self._set(self.d.events, i, _MISSING)
            if old.key is not None:
                self._set(self.d.keys, old.key, _MISSING)

    def put_sessions(self, sessions: Sequence[Session]) -> None:
        for s in sessions:
            self._set(self.d.sessions, s.key, s)

    def delete_sessions(self, keys: Sequence[SessionKey]) -> None:
        for k in keys:
            self._set(self.d.sessions, k, _MISSING)

    def add_usage(self, deltas: Mapping[tuple[Any, ...], Sequence[int]]) -> None:
        for key, delta in deltas.items():
            bucket = apply_usage(self.d.usage.get(key), key, list(delta))
            self._set(self.d.usage, key, _MISSING if bucket is None else bucket)

    def delete_usage(self, before: datetime) -> None:
        for key in [k for k, b in self.d.usage.items() if b.start < before]:
            self._set(self.d.usage, key, _MISSING)

    def add_project_usage(self, deltas: Mapping[tuple[Any, ...], Sequence[int]]) -> None:
        for key, delta in deltas.items():
            row = apply_project_usage(self.d.projects.get(key), key, list(delta))
            self._set(self.d.projects, key, _MISSING if row is None else row)

    def delete_project_usage(self, before: datetime) -> None:
        for key in [k for k, r in self.d.projects.items() if r.start < before]:
            self._set(self.d.projects, key, _MISSING)

    def put_position(self, position: FilePosition) -> None:
        self._set(self.d.positions, (position.machine_id, position.path), position)

    def set_meta(self, name: str, value: str | None) -> None:
        self._set(self.d.meta, name, _MISSING if value is None else value)


class MemoryEngine:
    """A complete, thread-safe, non-persistent engine."""

    name = "memory"
    capabilities: frozenset[Capability] = frozenset({Capability.PROJECT_USAGE})
    latest_schema_version = SCHEMA_VERSION
    schema_version = SCHEMA_VERSION

    def __init__(self, url: str = "memory://", *, read_only: bool = False) -> None:
        self.url = url
        self.read_only = read_only
        self._lock = threading.RLock()
        self._data: _Data | None = _Data()

    def __repr__(self) -> str:
        return f"MemoryEngine({self.url!r})"

    def _live(self) -> _Data:
        if self._data is None:
            raise StorageError("this memory store is closed")
        return self._data

    def read(self, work: Callable[[Any], T]) -> T:
        with self._lock:
            return work(_Reader(self._live()))

    def write(self, work: Callable[[Any], T]) -> T:
        with self._lock:
            if self.read_only:
                raise ReadOnlyStorageError("this memory store was opened read-only")
            writer = _Writer(self._live())
            try:
                return work(writer)
            except BaseException:
                for undo in reversed(writer.undo):
                    undo()
                raise

    def migrate(self) -> MigrationResult:
        return MigrationResult(from_version=SCHEMA_VERSION, to_version=SCHEMA_VERSION)

    def vacuum(self) -> None:
        return None

    def describe(self) -> EngineInfo:
        return EngineInfo()

    def close(self) -> None:
        with self._lock:
            self._data = None


def open_memory(
    url: str = "memory://",
    *,
    read_only: bool = False,
    migrate: bool = True,
    timeout: float | None = None,
) -> MemoryEngine:
    """Open a fresh private memory store (``migrate`` and ``timeout`` are accepted and
    have nothing to do here)."""
    return MemoryEngine(url, read_only=read_only)
