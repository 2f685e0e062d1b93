"""The toolkit for backend authors: rules and helpers every backend shares.

A backend persists what these pure functions compute; it never re-implements a rule.
The memory backend (``netsky_memory``) is the shortest complete example.

Usage buckets (``Storage.usage``) follow the same changes: ``usage_deltas(changes)``
gives what to add per bucket and ``apply_usage`` the new bucket (None: delete it).

Typical ``insert_many``::

    plan = plan_batch(events)                       # in-batch dedup
    # in one transaction: for each plan.candidates[c] find the stored version (by key);
    # insert it if none, replace it if outranks(candidate, stored), else duplicate
    result, changes = plan.finish(ids, inserted=..., replaced=...)
    for (machine_id, session_id), change in changes.items():
        session = fold_session(stored_session_or_None, machine_id, session_id,
                               added=change.added, removed=change.removed,
                               seen=change.seen)
        # write session
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import attrs

from ._aggregate import (
    PICO,
    USAGE_WINDOW_US,
    BatchPlan,
    SessionChange,
    _later,
    aggregate_events,
    apply_usage,
    fold_session,
    outranks,
    plan_batch,
    repeated_version,
    status_for_event,
    usage_deltas,
    usage_window,
    version_rank,
)
from ._errors import StorageError
from ._records import (
    Event,
    GitBranchInfo,
    GitContext,
    Session,
)
from ._results import UsageBucket

__all__ = [
    "EVENT_FIELDS",
    "PICO",
    "SESSION_FIELDS",
    "USAGE_FIELDS",
    "USAGE_WINDOW_US",
    "BatchPlan",
    "SessionChange",
    "StorageBase",
    "aggregate_events",
    "apply_git_context",
    "apply_git_info",
    "apply_github_repo",
    "apply_transcript_path",
    "apply_usage",
    "compute_stats",
    "cutoff_for",
    "fold_session",
    "from_us",
    "iter_events",
    "outranks",
    "plan_batch",
    "repeated_version",
    "stats_from_sums",
    "status_for_event",
    "to_us",
    "usage_deltas",
    "usage_window",
    "utcnow",
    "version_rank",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)

EVENT_FIELDS: tuple[str, ...] = tuple(f.name for f in attrs.fields(Event) if f.name != "id")
"""Event fields a backend persists (``id`` is the backend's own)."""

SESSION_FIELDS: tuple[str, ...] = tuple(f.name for f in attrs.fields(Session))
"""Session fields a backend persists, all of them."""

USAGE_FIELDS: tuple[str, ...] = tuple(f.name for f in attrs.fields(UsageBucket))
"""Usage bucket fields a backend persists: the key (machine, framework, model, start)
then the sums."""


def stats_from_sums(*sums: Any) -> Any:
    """``StorageStats`` from ``(sessions, active, tokens_input, tokens_output,
    tokens_cache_read, tokens_cache_write, cost_picousd or None, api_requests)``."""
    from ._storage import stats_from_sums as build

    return build(*sums)


def compute_stats(sessions: Iterable[Session]) -> Any:
    """Reference ``StorageStats`` over already-selected sessions (see ``_storage``)."""
    from ._storage import compute_stats as compute

    return compute(sessions)


def iter_events(storage: Any, query: Any = None, *, batch_size: int = 10_000) -> Any:
    """Every event matching ``query``, in id order, in bounded batches."""
    from ._storage import iter_events as iterate

    return iterate(storage, query, batch_size=batch_size)


def to_us(value: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime (exact)."""
    return (value - EPOCH) // _US


def from_us(value: int) -> datetime:
    """The aware UTC datetime of microseconds since the epoch (exact)."""
    return EPOCH + timedelta(microseconds=value)


def utcnow() -> datetime:
    return datetime.now(UTC)


def cutoff_for(retention: timedelta, now: datetime | None = None) -> datetime:
    """The gc cutoff: events strictly older than it expire."""
    if not isinstance(retention, timedelta):
        raise TypeError("retention must be a datetime.timedelta")
    if retention <= timedelta(0):
        from ._errors import DurationError

        raise DurationError(f"retention must be positive, got {retention}")
    return (now or utcnow()) - retention


def apply_git_info(session: Session, info: GitBranchInfo, at: datetime) -> Session:
    """``update_session_git_info``: an observation of branch and PR / issue at ``at``."""
    if info.branch is not None and not _later(
        at, info.branch, session.git_branch_at, session.git_branch
    ):
        return session
    changes: dict[str, Any] = {"github_pr": info.pr_number, "github_issue": info.issue_number}
    if info.branch is not None:
        changes.update(git_branch=info.branch, git_branch_at=at)
    return attrs.evolve(session, **changes)


def apply_github_repo(session: Session, repo: str) -> Session | None:
    """``update_session_github_repo``: fills an empty repo; None when nothing changes."""
    if session.github_repo:
        return None
    return attrs.evolve(session, github_repo=repo)


def apply_git_context(
    session: Session | None,
    machine_id: str,
    session_id: str,
    context: GitContext,
    at: datetime,
) -> Session:
    """``upsert_session_git_context``: merge git facts, creating the session if missing.

    A new session's first and last activity are ``at``. A repository different from
    the stored one clears the PR / issue numbers unless the context names new ones.
    """
    if session is None:
        session = Session(
            machine_id=machine_id, session_id=session_id, first_activity=at, last_activity=at
        )
    changes: dict[str, Any] = {}
    if context.github_repo is not None and context.github_repo != session.github_repo:
        if session.github_repo:
            changes.update(github_pr=None, github_issue=None)
        changes["github_repo"] = context.github_repo
    if context.local_git_dir is not None:
        changes["local_git_dir"] = context.local_git_dir
    if context.git_worktree_path is not None:
        changes["git_worktree_path"] = context.git_worktree_path
    if context.git_branch is not None and _later(
        at, context.git_branch, session.git_branch_at, session.git_branch
    ):
        changes.update(git_branch=context.git_branch, git_branch_at=at)
    if context.github_pr is not None:
        changes["github_pr"] = context.github_pr
    if context.github_issue is not None:
        changes["github_issue"] = context.github_issue
    return attrs.evolve(session, **changes) if changes else session


def apply_transcript_path(session: Session, path: str, at: datetime) -> Session:
    """``update_session_transcript_path``: an observation of the path at ``at``."""
    if not _later(at, path, session.transcript_path_at, session.transcript_path):
        return session
    return attrs.evolve(session, transcript_path=path, transcript_path_at=at)


class StorageBase:
    """Optional base class: context manager, ``insert`` via ``insert_many``,
    ``count_expired`` via ``gc(dry_run=True)``, and a closed-state guard."""

    _closed: bool = False

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"{type(self).__name__} is closed")

    def insert(self, event: Event) -> int:
        return self.insert_many([event]).ids[0]  # type: ignore[attr-defined]

    def count_expired(self, retention: timedelta, *, now: datetime | None = None) -> int:
        result = self.gc(retention, dry_run=True, now=now)  # type: ignore[attr-defined]
        return result.expired_events

    def vacuum(self) -> None:
        self._check_open()

    def __enter__(self) -> Any:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()  # type: ignore[attr-defined]

    def _restore_check(self, sessions: Iterable[Session]) -> list[Session]:
        out = list(sessions)
        for s in out:
            if type(s) is not Session:
                from ._errors import RecordError

                raise RecordError(f"expected a Session, got {type(s).__name__}")
        return out
