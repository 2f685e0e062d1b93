"""The Engine: what a backend provides, and nothing more.

A backend is a few primitives over its store, run inside a transaction. Every rule
(dedup, supersession, billing once, session folds, usage buckets, git context,
retention) is applied by :class:`netsky_core.storage.store.Store`, once, for every
backend. A backend may implement a primitive as cleverly as it likes (PostgreSQL
streams new rows with COPY), never a rule.

``Engine.write(work)`` runs ``work(writer)`` in one transaction and commits it; a
backend retries ``work`` from the start on its own transient failures (a busy file,
a connection lost before the commit), so ``work`` has no effect outside the
transaction. ``Engine.read(work)`` runs ``work(reader)`` on one consistent snapshot.

Writers lock what they change: ``lock_sessions`` before writing a session's events
or summary, ``lock_names`` for other shared things (the gc horizon, a response's
billing identity). Locks are taken in one order (sessions in key order, then names
in order); a lock needed out of that order is asked for with ``wait=False``, and
:class:`LockBusy` makes the Store start the transaction again with it taken first.
A backend whose writers are serialized anyway (one file lock, one process lock)
implements locks as no-ops.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Protocol, TypeVar, runtime_checkable

import attrs

from .._errors import NetskyError
from .._queries import EventQuery, SessionQuery, StorageStatsQuery, UsageQuery
from .._records import Capability, Event, FilePosition, Session
from .._results import MigrationResult, UsageBucket

__all__ = [
    "Engine",
    "EngineInfo",
    "EventKey",
    "LockBusy",
    "Reader",
    "Restart",
    "SessionKey",
    "SessionSums",
    "Writer",
]

T = TypeVar("T")
EventKey = tuple[str, str, str]
"""``(machine_id, session_id, uuid)``: the dedup key of an event."""
SessionKey = tuple[str, str]
"""``(machine_id, session_id)``: the key of a session."""


class LockBusy(NetskyError):
    """A lock asked for with ``wait=False`` is held by another writer.

    ``sessions`` names the session keys to lock up front when the Store starts the
    transaction again.
    """

    def __init__(self, sessions: Sequence[SessionKey]) -> None:
        super().__init__(f"{len(sessions)} session(s) locked by another writer")
        self.sessions = tuple(sessions)


class Restart(NetskyError):
    """The Store starts the transaction again without the optional fast primitives
    (an optimistic ``open_and_insert`` met a new session or the gc horizon)."""

    def __init__(self, message: str = "start the transaction again, carefully") -> None:
        super().__init__(message)


@attrs.frozen(kw_only=True)
class SessionSums:
    """Sums over the sessions a ``StorageStatsQuery`` selects (``cost_picousd`` None:
    no selected session has a known cost)."""

    sessions: int = 0
    active: int = 0
    tokens_input: int = 0
    tokens_output: int = 0
    tokens_cache_read: int = 0
    tokens_cache_write: int = 0
    tokens_reasoning: int = 0
    cost_picousd: int | None = None
    api_requests: int = 0


@attrs.frozen(kw_only=True)
class EngineInfo:
    """What a backend tells about itself for ``Storage.info()``."""

    size_bytes: int | None = None
    details: dict[str, str | bool] = attrs.field(factory=dict)


class Reader(Protocol):
    """Reads, on one snapshot (inside a write, they see the writer's own changes)."""

    def events(self, query: EventQuery) -> list[Event]:
        """Events matching ``query``, ordered and limited as it says (see ``EventQuery``)."""
        ...

    def count_events(self, query: EventQuery) -> int:
        """How many events match ``query``'s filters."""
        ...

    def events_by_key(self, keys: Sequence[EventKey]) -> dict[EventKey, Event]:
        """The stored events with these keys (keys not stored are left out)."""
        ...

    def events_by_billing_key(self, keys: Sequence[str]) -> list[Event]:
        """Every stored event whose ``billing_key(event)`` is one of ``keys``, in any
        session or machine (backends keep that value in an indexed column)."""
        ...

    def count_billing_keys(self, keys: Sequence[str]) -> dict[str, int]:
        """How many stored events hold each of ``keys`` (keys held by none left out)."""
        ...

    def sessions(self, query: SessionQuery) -> list[Session]:
        """Sessions matching ``query``, ordered and limited as it says."""
        ...

    def count_sessions(self, query: SessionQuery) -> int:
        """How many sessions match ``query``'s filters."""
        ...

    def sessions_by_key(self, keys: Sequence[SessionKey]) -> dict[SessionKey, Session]:
        """The stored sessions with these keys."""
        ...

    def session_sums(self, query: StorageStatsQuery) -> SessionSums:
        """Totals over the sessions ``query`` selects, computed by the store."""
        ...

    def usage(self, query: UsageQuery) -> list[UsageBucket]:
        """Usage buckets ``query`` selects, in ``UsageQuery.sort_key`` order."""
        ...

    # Optional (``Capability.PROJECT_USAGE``):
    #
    # def project_usage(self, since: datetime | None) -> list[ProjectUsage]:
    #     """Project usage rows starting at or after ``since``, by (start, project,
    #     branch), None sorting first."""

    def positions(
        self, machine_id: str | None = None, path: str | None = None
    ) -> list[FilePosition]:
        """File positions (of one machine, or one file), by ``(machine_id, path)``."""
        ...

    def meta(self, name: str) -> str | None:
        """A value the Store keeps about the whole store (the gc horizon, ...)."""
        ...

    def table_counts(self) -> dict[str, int]:
        """Rows per table: ``events``, ``sessions``, ``positions``, ``usage`` at least."""
        ...

    def event_time_range(self) -> tuple[datetime | None, datetime | None]:
        """The oldest and newest event timestamps (None, None when empty)."""
        ...


class Writer(Reader, Protocol):
    """Changes, inside one transaction."""

    def lock_sessions(
        self, keys: Sequence[SessionKey], *, wait: bool = True
    ) -> dict[SessionKey, Session]:
        """Lock these sessions (stored or not yet) for the rest of the transaction and
        return the stored ones. ``keys`` come sorted. With ``wait=False``, raise
        :class:`LockBusy` instead of waiting for another writer."""
        ...

    def lock_names(self, names: Sequence[str], *, shared: bool = False) -> None:
        """Lock named things until the transaction ends (``names`` sorted)."""
        ...

    def insert_events(self, events: Sequence[Event]) -> list[int | None]:
        """Store new rows, returning their ids in order; None (and nothing written)
        for an event whose key is already stored. The rows' ``id`` fields are ignored."""
        ...

    def update_events(self, events: Sequence[Event]) -> None:
        """Rewrite the rows with these events' ids (every field but ``id``)."""
        ...

    def delete_events(self, ids: Sequence[int]) -> None: ...

    def put_sessions(self, sessions: Sequence[Session]) -> None:
        """Write these session summaries (insert or replace), every field."""
        ...

    def delete_sessions(self, keys: Sequence[SessionKey]) -> None: ...

    def add_usage(self, deltas: Mapping[tuple, Sequence[int]]) -> None:
        """Add ``deltas`` (``usage.USAGE_SUMS`` per bucket key) to the buckets; delete
        a bucket left without requests."""
        ...

    def delete_usage(self, before: datetime) -> None:
        """Delete the buckets that start before ``before``."""
        ...

    def put_position(self, position: FilePosition) -> None: ...

    def set_meta(self, name: str, value: str | None) -> None: ...

    # Optional, for speed (the Store uses them when present):
    #
    # def billing_keys_held(self, keys, at_least) -> list[str]:
    #     """The keys (sorted, of ``keys``) that ``count_billing_keys`` counts at least
    #     ``at_least`` times, without sending the others' counts back."""
    #
    # def open_batch(self, keys, lock_name, meta_name) -> tuple[dict[SessionKey, Session], str | None]:
    #     """lock_names([lock_name], shared=True); lock_sessions(keys); meta(meta_name),
    #     in one round trip."""
    #
    # def open_and_insert(self, keys, events, names, bill_keys, lock_name, meta_name)
    #         -> tuple[dict[SessionKey, Session], str | None, list[int | None], dict[str, int]]:
    #     """open_batch, insert_events(events), lock_names(names) and
    #     count_billing_keys(bill_keys) in one round trip, for a few events into
    #     sessions that exist; raise Restart (nothing kept) when a session is missing.
    #     The Store raises Restart itself when an event turns out older than the horizon."""
    #
    # Project usage (with ``Reader.project_usage(since)``; declare
    # ``Capability.PROJECT_USAGE``): the Store keeps it when these are present.
    #
    # def add_project_usage(self, deltas) -> None:
    #     """Add ``deltas`` (``projects.PROJECT_USAGE_SUMS`` per ``(project, branch,
    #     start)`` key) to the project usage rows; delete a row left without requests."""
    #
    # def delete_project_usage(self, before: datetime) -> None:
    #     """Delete the project usage rows that start before ``before``."""
    #
    # def insert_and_count(self, events, names, bill_keys) -> tuple[list[int | None], dict[str, int]]:
    #     """insert_events(events); lock_names(names); count_billing_keys(bill_keys),
    #     with the locks and counts riding in the insert's round trip."""


@runtime_checkable
class Engine(Protocol):
    """A backend: a store reached through a few primitives."""

    @property
    def name(self) -> str:
        """The backend's name (``sqlite``, ``postgres``, ``memory``, ...)."""
        ...

    @property
    def url(self) -> str:
        """The store's URL, password masked."""
        ...

    @property
    def capabilities(self) -> frozenset[Capability]: ...

    @property
    def read_only(self) -> bool: ...

    @property
    def schema_version(self) -> int: ...

    @property
    def latest_schema_version(self) -> int: ...

    def read(self, work: Callable[[Reader], T]) -> T: ...

    def write(self, work: Callable[[Writer], T]) -> T: ...

    def migrate(self) -> MigrationResult: ...

    def vacuum(self) -> None: ...

    def describe(self) -> EngineInfo: ...

    def close(self) -> None: ...
