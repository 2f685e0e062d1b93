"""The memory backend: the reference implementation of the Storage protocol.

Everything lives in dicts guarded by one lock; every rule comes from
``netsky_core.backend``. It is also the test double for code that embeds netsky.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import attrs

from netsky_core import (
    Capability,
    Event,
    EventQuery,
    FilePosition,
    GcResult,
    GitBranchInfo,
    GitContext,
    InsertResult,
    MigrationResult,
    Order,
    ReadOnlyStorageError,
    RecordError,
    Session,
    SessionQuery,
    StorageInfo,
    StorageStats,
    StorageStatsQuery,
    UsageQuery,
)
from netsky_core.backend import (
    USAGE_WINDOW_US,
    StorageBase,
    apply_git_context,
    apply_git_info,
    apply_github_repo,
    apply_transcript_path,
    apply_usage,
    compute_stats,
    cutoff_for,
    fold_session,
    outranks,
    plan_batch,
    usage_deltas,
    utcnow,
)

SCHEMA_VERSION = 1


class MemoryStorage(StorageBase):
    """A complete, thread-safe, non-persistent Storage."""

    def __init__(self, url: str = "memory://", *, read_only: bool = False) -> None:
        self._url = url
        self._read_only = read_only
        self._lock = threading.RLock()
        self._events: dict[int, Event] = {}
        self._keys: dict[tuple[str, str, str], int] = {}
        self._sessions: dict[tuple[str, str], Session] = {}
        self._positions: dict[tuple[str, str], FilePosition] = {}
        self._usage: dict[tuple, Any] = {}
        self._next_id = 1

    def __repr__(self) -> str:
        return f"MemoryStorage({self._url!r}, events={len(self._events)})"

    @property
    def schema_version(self) -> int:
        return SCHEMA_VERSION

    @property
    def capabilities(self) -> frozenset[Capability]:
        return frozenset()

    def _writable(self) -> None:
        self._check_open()
        if self._read_only:
            raise ReadOnlyStorageError("this memory store was opened read-only")

    # -- events -------------------------------------------------------------------

    def insert_many(self, events: Iterable[Event]) -> InsertResult:
        plan = plan_batch(events)
        with self._lock:
            self._writable()
            next_id = self._next_id
            ids: list[int] = []
            inserted: list[bool] = []
            replaced: list[Event | None] = []
            writes: dict[int, Event] = {}
            new_keys: dict[tuple[str, str, str], int] = {}
            for cand in plan.candidates:
                key = cand.key
                existing = self._keys.get(key) if key is not None else None
                if existing is None:
                    writes[next_id] = attrs.evolve(cand, id=next_id)
                    if key is not None:
                        new_keys[key] = next_id
                    ids.append(next_id)
                    inserted.append(True)
                    replaced.append(None)
                    next_id += 1
                    continue
                old = self._events[existing]
                ids.append(existing)
                inserted.append(False)
                if outranks(cand, old):
                    writes[existing] = attrs.evolve(cand, id=existing)
                    replaced.append(old)
                else:
                    replaced.append(None)
            result, changes = plan.finish(ids, inserted=inserted, replaced=replaced)
            sessions = {
                key: fold_session(
                    self._sessions.get(key),
                    key[0],
                    key[1],
                    added=change.added,
                    removed=change.removed,
                    seen=change.seen,
                )
                for key, change in changes.items()
            }
            usage = {
                key: apply_usage(self._usage.get(key), key, delta)
                for key, delta in usage_deltas(changes).items()
            }
            self._events.update(writes)
            self._keys.update(new_keys)
            self._sessions.update(sessions)
            for key, bucket in usage.items():
                if bucket is None:
                    self._usage.pop(key, None)
                else:
                    self._usage[key] = bucket
            self._next_id = next_id
            return result

    def _select(self, query: EventQuery) -> list[Event]:
        matches = query.matches
        return [e for e in self._events.values() if matches(e)]

    def query(self, query: EventQuery) -> list[Event]:
        with self._lock:
            self._check_open()
            found = self._select(query)
        found.sort(key=query.sort_key, reverse=query.effective_direction is Order.DESC)
        return found if query.limit is None else found[: query.limit]

    def count(self, query: EventQuery | None = None) -> int:
        with self._lock:
            self._check_open()
            if query is None:
                return len(self._events)
            return len(self._select(query))

    def event_exists_by_uuid(self, machine_id: str, session_id: str, uuid: str) -> bool:
        with self._lock:
            self._check_open()
            return (machine_id, session_id, uuid) in self._keys

    def gc(
        self, retention: timedelta, *, dry_run: bool = False, now: datetime | None = None
    ) -> GcResult:
        cutoff = cutoff_for(retention, now)
        with self._lock:
            if dry_run:
                self._check_open()
            else:
                self._writable()
            old_events = [i for i, e in self._events.items() if e.timestamp < cutoff]
            old_sessions = [
                k
                for k, s in self._sessions.items()
                if s.last_activity is not None and s.last_activity < cutoff
            ]
            if not dry_run:
                for i in old_events:
                    event = self._events.pop(i)
                    if event.key is not None:
                        self._keys.pop(event.key, None)
                for k in old_sessions:
                    del self._sessions[k]
                window = timedelta(microseconds=USAGE_WINDOW_US)
                for key in [k for k, b in self._usage.items() if b.start + window <= cutoff]:
                    del self._usage[key]
            return GcResult(
                cutoff=cutoff,
                expired_events=len(old_events),
                expired_sessions=len(old_sessions),
                deleted_events=0 if dry_run else len(old_events),
                deleted_sessions=0 if dry_run else len(old_sessions),
                dry_run=dry_run,
            )

    # -- sessions -----------------------------------------------------------------

    def list_sessions(self, query: SessionQuery) -> list[Session]:
        with self._lock:
            self._check_open()
            selected = [s for s in self._sessions.values() if query.matches(s)]
        return query.sort(selected)

    def get_session(self, session_id: str) -> Session | None:
        with self._lock:
            self._check_open()
            found = [s for s in self._sessions.values() if s.session_id == session_id]
        return _most_recent(found)

    def get_session_by_key(self, machine_id: str, session_id: str) -> Session | None:
        with self._lock:
            self._check_open()
            return self._sessions.get((machine_id, session_id))

    def get_session_by_pid(self, pid: int) -> Session | None:
        with self._lock:
            self._check_open()
            found = [s for s in self._sessions.values() if s.pid == pid]
        return _most_recent(found)

    def _update(self, machine_id: str, session_id: str, change: Any) -> bool:
        with self._lock:
            self._writable()
            current = self._sessions.get((machine_id, session_id))
            if current is None:
                return False
            updated = change(current)
            if updated is None:
                return False
            self._sessions[(machine_id, session_id)] = updated
            return True

    def update_session_git_info(
        self,
        machine_id: str,
        session_id: str,
        info: GitBranchInfo,
        *,
        at: datetime | None = None,
    ) -> bool:
        when = at or utcnow()
        return self._update(machine_id, session_id, lambda s: apply_git_info(s, info, when))

    def update_session_github_repo(self, machine_id: str, session_id: str, repo: str) -> bool:
        return self._update(machine_id, session_id, lambda s: apply_github_repo(s, repo))

    def upsert_session_git_context(
        self,
        machine_id: str,
        session_id: str,
        context: GitContext,
        *,
        at: datetime | None = None,
    ) -> Session:
        when = at or utcnow()
        with self._lock:
            self._writable()
            key = (machine_id, session_id)
            session = apply_git_context(
                self._sessions.get(key), machine_id, session_id, context, when
            )
            self._sessions[key] = session
            return session

    def update_session_transcript_path(
        self, machine_id: str, session_id: str, path: str, *, at: datetime | None = None
    ) -> bool:
        when = at or utcnow()
        return self._update(machine_id, session_id, lambda s: apply_transcript_path(s, path, when))

    def restore_sessions(self, sessions: Iterable[Session]) -> int:
        items = self._restore_check(sessions)
        with self._lock:
            self._writable()
            for s in items:
                self._sessions[s.key] = s
        return len(items)

    def storage_stats(self, query: StorageStatsQuery) -> StorageStats:
        with self._lock:
            self._check_open()
            selected = [s for s in self._sessions.values() if query.matches(s)]
        return compute_stats(selected)

    # -- usage --------------------------------------------------------------------

    def usage(self, query: UsageQuery) -> list[Any]:
        with self._lock:
            self._check_open()
            found = [b for b in self._usage.values() if query.matches(b)]
        return sorted(found, key=query.sort_key)

    # -- positions ----------------------------------------------------------------

    def get_transcript_position(self, machine_id: str, path: str) -> FilePosition | None:
        with self._lock:
            self._check_open()
            return self._positions.get((machine_id, path))

    def set_transcript_position(self, position: FilePosition) -> None:
        if type(position) is not FilePosition:
            raise RecordError(f"expected a FilePosition, got {type(position).__name__}")
        if position.updated_at is None:
            position = attrs.evolve(position, updated_at=utcnow())
        with self._lock:
            self._writable()
            self._positions[(position.machine_id, position.path)] = position

    def query_transcript_positions(self, machine_id: str | None = None) -> list[FilePosition]:
        with self._lock:
            self._check_open()
            found = [
                p
                for p in self._positions.values()
                if machine_id is None or p.machine_id == machine_id
            ]
        return sorted(found, key=lambda p: (p.machine_id, p.path))

    # -- lifecycle ----------------------------------------------------------------

    def info(self) -> StorageInfo:
        with self._lock:
            self._check_open()
            stamps = [e.timestamp for e in self._events.values()]
            return StorageInfo(
                backend="memory",
                url=self._url,
                schema_version=SCHEMA_VERSION,
                latest_schema_version=SCHEMA_VERSION,
                tables={
                    "events": len(self._events),
                    "sessions": len(self._sessions),
                    "positions": len(self._positions),
                    "usage": len(self._usage),
                },
                oldest_event=min(stamps, default=None),
                newest_event=max(stamps, default=None),
            )

    def migrate(self) -> MigrationResult:
        self._check_open()
        return MigrationResult(from_version=SCHEMA_VERSION, to_version=SCHEMA_VERSION)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._events.clear()
            self._keys.clear()
            self._sessions.clear()
            self._positions.clear()
            self._usage.clear()


def _most_recent(sessions: list[Session]) -> Session | None:
    """The most recently active session; ties (and no activity) by the smallest
    ``(machine_id, session_id)``."""
    best: Session | None = None
    for s in sorted(sessions, key=lambda s: (s.machine_id, s.session_id)):
        if best is None or (
            s.last_activity is not None
            and (best.last_activity is None or s.last_activity > best.last_activity)
        ):
            best = s
    return best


def open_memory(
    url: str = "memory://", *, read_only: bool = False, migrate: bool = True
) -> MemoryStorage:
    """Open a fresh private memory store (``migrate`` is accepted and ignored)."""
    return MemoryStorage(url, read_only=read_only)
