"""Results of store-wide operations: stats, gc, migration, info.

Kept apart from ``_records`` so that a hook process, which only inserts, does not
pay for defining them.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from ._units import PICO

__all__ = [
    "EventsVersion",
    "GcResult",
    "MigrationResult",
    "ProjectUsage",
    "StorageInfo",
    "StorageStats",
    "UsageBucket",
]


@attrs.frozen(kw_only=True)
class StorageStats:
    """Totals over the sessions a ``StorageStatsQuery`` selects."""

    session_count: int = 0
    active_session_count: int = 0
    tokens_input: int = 0
    tokens_output: int = 0
    tokens_cache_read: int = 0
    tokens_cache_write: int = 0
    tokens_reasoning: int = 0
    total_tokens: int = 0
    total_cost_usd: float | None = None
    total_api_requests: int = 0


@attrs.frozen(kw_only=True)
class EventsVersion:
    """Where a store's events stand, read on one snapshot (``Store.events_version``).

    ``rewritten`` is the log of the last transactions that rewrote or deleted stored
    events (see ``storage._write.EVENTS_REWRITTEN``; inserts leave it alone);
    ``rows`` and ``max_id`` count and bound the events;
    ``rows_upto`` counts those with ``id <= upto`` (when asked); ``first`` and
    ``last`` identify the rows with the smallest and largest ids."""

    rewritten: str | None = None
    rows: int = 0
    max_id: int | None = None
    upto: int | None = None
    rows_upto: int | None = None
    first: tuple[str, ...] | None = None
    last: tuple[str, ...] | None = None


@attrs.frozen(kw_only=True)
class GcResult:
    """Outcome of ``gc``: the cutoff used and what was (or, dry-run, would be) deleted."""

    cutoff: datetime
    expired_events: int = 0
    expired_sessions: int = 0
    deleted_events: int = 0
    deleted_sessions: int = 0
    dry_run: bool = False


@attrs.frozen(kw_only=True)
class MigrationResult:
    """Schema versions before and after ``migrate()``."""

    from_version: int
    to_version: int

    @property
    def changed(self) -> bool:
        return self.from_version != self.to_version


@attrs.frozen(kw_only=True)
class StorageInfo:
    """What ``netsky db status`` shows about a store."""

    backend: str
    url: str
    schema_version: int
    latest_schema_version: int
    tables: dict[str, int] = attrs.field(factory=dict)
    size_bytes: int | None = None
    oldest_event: datetime | None = None
    newest_event: datetime | None = None
    details: dict[str, str | bool] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class ProjectUsage:
    """API usage of one working directory and git branch in one 15-minute window
    (every machine, framework and model), what per-project and per-branch budgets
    read. ``project`` / ``branch`` are None for responses that named none; costs are
    exact integers in picodollars, ``cost_usd`` None when nothing was priced."""

    project: str | None
    branch: str | None
    start: datetime
    requests: int = 0
    priced_requests: int = 0
    tokens: int = 0
    cost_picousd: int = 0

    @property
    def key(self) -> tuple[str | None, str | None, datetime]:
        return (self.project, self.branch, self.start)

    @property
    def cost_usd(self) -> float | None:
        return None if self.priced_requests == 0 else self.cost_picousd / PICO


@attrs.frozen(kw_only=True)
class UsageBucket:
    """API usage of one machine, framework and model in one 15-minute window.

    Stores keep these up to date with their ``ApiRequest`` events (like sessions), so
    usage reports read a few rows per day instead of every request. ``framework`` and
    ``model`` are None for requests that did not name one. Costs are exact integers
    in picodollars; ``cost_usd`` is None when no request of the bucket was priced.
    """

    machine_id: str
    framework: str | None
    model: str | None
    start: datetime
    requests: int = 0
    unpriced_requests: int = 0
    priced_requests: int = 0
    tokens_input: int = 0
    tokens_output: int = 0
    tokens_cache_read: int = 0
    tokens_cache_write: int = 0
    tokens_reasoning: int = 0
    cost_picousd: int = 0

    @property
    def key(self) -> tuple[str, str | None, str | None, datetime]:
        return (self.machine_id, self.framework, self.model, self.start)

    @property
    def total_tokens(self) -> int:
        return (
            self.tokens_input
            + self.tokens_output
            + self.tokens_cache_read
            + self.tokens_cache_write
            + self.tokens_reasoning
        )

    @property
    def cost_usd(self) -> float | None:
        return None if self.priced_requests == 0 else self.cost_picousd / PICO
