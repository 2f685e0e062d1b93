"""The Storage protocol every backend implements.

Method names follow mi6's Storage trait. Every method is synchronous and safe to call
from several threads on one storage object. Backends raise only ``NetskyError``
subclasses (driver errors are translated). The shipped conformance suite
(``netsky_conformance``) is the executable form of this contract.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol, runtime_checkable

from .._queries import EventQuery, SessionQuery, StorageStatsQuery, UsageQuery
from .._records import (
    Capability,
    Event,
    FilePosition,
    GitBranchInfo,
    GitContext,
    InsertResult,
    Session,
)
from .._results import (
    GcResult,
    MigrationResult,
    ProjectUsage,
    StorageInfo,
    StorageStats,
    UsageBucket,
)

__all__ = ["EventFollower", "Storage", "iter_events"]


@runtime_checkable
class Storage(Protocol):
    """A place that keeps events, session summaries and file positions."""

    @property
    def schema_version(self) -> int:
        """The schema version of the opened store."""
        ...

    @property
    def capabilities(self) -> frozenset[Capability]:
        """Optional abilities this backend has."""
        ...

    # -- events -------------------------------------------------------------------

    def insert(self, event: Event) -> int | None:
        """Store one event and update its session in the same transaction.

        Returns the id of the row holding the event; for a duplicate key, the id of
        the stored version (which the new one replaces if it outranks it); None for an
        event older than the gc horizon, which is not stored.
        """
        ...

    def insert_many(
        self,
        events: Iterable[Event],
        *,
        git: Iterable[tuple[str, str, GitContext, datetime]] = (),
        positions: Iterable[FilePosition] = (),
    ) -> InsertResult:
        """Store a batch in one transaction: duplicates skipped and counted. ``git``:
        ``(machine_id, session_id, GitContext, at)`` facts merged into those sessions
        in the same transaction (``upsert_session_git_context``'s rule); ``positions``
        saved in the same transaction (as ``set_transcript_position`` would)."""
        ...

    def query(self, query: EventQuery) -> list[Event]:
        """Events matching ``query``, ordered and limited as it says."""
        ...

    def count(self, query: EventQuery | None = None) -> int:
        """Number of stored events (matching ``query``'s filters, if given)."""
        ...

    def event_exists_by_uuid(self, machine_id: str, session_id: str, uuid: str) -> bool:
        """Whether an event with this key is stored."""
        ...

    def gc(
        self, retention: timedelta, *, dry_run: bool = False, now: datetime | None = None
    ) -> GcResult:
        """Delete events older than ``now - retention`` (taking them out of their
        sessions' totals and the usage buckets) and sessions whose last activity is
        older; move the gc horizon to the cutoff, so nothing older is stored again.
        File positions are kept. Events exactly at the cutoff stay.
        """
        ...

    def horizon(self) -> datetime | None:
        """The gc horizon (None: never gc'd): nothing older is stored."""
        ...

    def count_expired(self, retention: timedelta, *, now: datetime | None = None) -> int:
        """How many events ``gc(retention)`` would delete (same cutoff rule)."""
        ...

    # -- sessions -----------------------------------------------------------------

    def list_sessions(self, query: SessionQuery) -> list[Session]: ...

    def get_session(self, session_id: str) -> Session | None:
        """The session with this id; across machines, the most recently active."""
        ...

    def get_session_by_key(self, machine_id: str, session_id: str) -> Session | None: ...

    def get_session_by_pid(self, pid: int) -> Session | None:
        """The most recently active session whose agent process had this pid."""
        ...

    def update_session_git_info(
        self,
        machine_id: str,
        session_id: str,
        info: GitBranchInfo,
        *,
        at: datetime | None = None,
    ) -> bool:
        """Set branch and PR / issue numbers. False if the session does not exist."""
        ...

    def update_session_github_repo(self, machine_id: str, session_id: str, repo: str) -> bool:
        """Fill ``github_repo`` only when it is empty. True if it changed."""
        ...

    def upsert_session_git_context(
        self,
        machine_id: str,
        session_id: str,
        context: GitContext,
        *,
        at: datetime | None = None,
    ) -> Session:
        """Merge git facts into the session, creating it if missing.

        A repository different from the stored one clears the PR / issue numbers
        (unless the context names new ones).
        """
        ...

    def update_session_transcript_path(
        self, machine_id: str, session_id: str, path: str, *, at: datetime | None = None
    ) -> bool: ...

    def restore_sessions(self, sessions: Iterable[Session]) -> int:
        """Join session summaries from a copy or an import into the stored ones: the
        "when / latest" facts are joined, the git context given replaces the stored
        one, totals stay those of the stored events; a new session is written as given.
        """
        ...

    def storage_stats(self, query: StorageStatsQuery) -> StorageStats:
        """Totals over the selected sessions, computed by the store."""
        ...

    # -- usage ----------------------------------------------------------------------

    def usage(self, query: UsageQuery) -> list[UsageBucket]:
        """The usage buckets the query selects (15-minute windows of API usage per
        machine, framework and model, kept with the events in the same transaction;
        gc removes the buckets that end before its cutoff)."""
        ...

    def project_usage(self, since: datetime | None = None) -> list[ProjectUsage]:
        """API usage per working directory, git branch and 15-minute window: the rows
        starting at or after ``since`` (None: all), by (start, project, branch). Kept like the usage
        buckets (same transactions, same gc); what per-project and per-branch budgets
        read. Stores whose backend lacks ``Capability.PROJECT_USAGE`` raise
        ``StorageError``."""
        ...

    # -- transcript positions -----------------------------------------------------

    def get_transcript_position(self, machine_id: str, path: str) -> FilePosition | None: ...

    def set_transcript_position(self, position: FilePosition) -> None: ...

    def query_transcript_positions(self, machine_id: str | None = None) -> list[FilePosition]: ...

    # -- sync marks ---------------------------------------------------------------

    def sync_marks(self) -> dict[str, str]:
        """How far this store has been synced to each target: the mark text kept for
        each target key by ``set_sync_mark``."""
        ...

    def set_sync_mark(self, target: str, mark: str | None) -> None:
        """Keep ``mark`` for the sync target ``target`` (None removes it), durably, in
        this store."""
        ...

    # -- lifecycle ----------------------------------------------------------------

    def info(self) -> StorageInfo:
        """Backend, schema version, row counts, size, oldest and newest event."""
        ...

    def migrate(self) -> MigrationResult:
        """Bring the schema to the latest version this netsky knows."""
        ...

    def vacuum(self) -> None:
        """Reclaim space (``Capability.VACUUM``); a no-op elsewhere."""
        ...

    def close(self) -> None:
        """Release every resource; further calls raise ``StorageError``."""
        ...

    def __enter__(self) -> Storage: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def iter_events(
    storage: Storage, query: EventQuery | None = None, *, batch_size: int = 10_000
) -> Iterator[list[Event]]:
    """Every event matching ``query``'s filters in id order, in bounded batches.

    Pages by ``after_id`` so memory stays bounded whatever the store's size.
    """
    base = (query or EventQuery()).order_by_id().with_limit(batch_size)
    after = base.after_id
    while True:
        batch = storage.query(base.with_after_id(after))
        if not batch:
            return
        yield batch
        if len(batch) < batch_size:
            return
        after = batch[-1].id


class EventFollower:
    """Follows the events matching ``query`` stored after ``after_id``, like ``tail -f``.

    Each :meth:`poll` returns the batches of events stored since the last poll, each
    event once. A server store hands out ids when rows are inserted, not when they
    commit, so an event can become visible after one with a larger id; each poll
    therefore re-reads ``lookback`` ids behind the largest id seen (and never before
    ``after_id``) and skips what it already returned.
    """

    def __init__(
        self,
        storage: Storage,
        query: EventQuery | None = None,
        *,
        after_id: int | None = None,
        lookback: int = 500,
        batch_size: int = 1000,
    ) -> None:
        self._storage = storage
        self._query = query or EventQuery()
        self._floor = self._cursor = after_id or 0
        self._lookback = lookback
        self._batch_size = batch_size
        self._returned: set[int] = set()  # ids returned above the look-back window

    def poll(self) -> Iterator[list[Event]]:
        """The events stored since the last poll, in id order, in bounded batches."""
        start = max(self._floor, self._cursor - self._lookback)
        self._returned = {i for i in self._returned if i > start}
        query = self._query.with_after_id(start)
        for batch in iter_events(self._storage, query, batch_size=self._batch_size):
            self._cursor = max(self._cursor, _stored_id(batch[-1]))
            fresh = [e for e in batch if e.id not in self._returned]
            self._returned.update(_stored_id(e) for e in fresh)
            if fresh:
                yield fresh


def _stored_id(event: Event) -> int:
    """The id of an event read from a store, which always sets one."""
    if event.id is None:
        raise AssertionError(f"a stored event without an id: {event!r}")
    return event.id
