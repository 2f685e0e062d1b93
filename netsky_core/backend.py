"""Everything a backend author needs, in one module.

A backend is an :class:`Engine`: a few primitives over a store, run inside
transactions (see ``netsky_core/storage/engine.py`` for the contract). The rules
(dedup, billing once, session folds, usage buckets, git context, retention) are not
here: ``netsky_core.storage.Store`` applies them over any engine, and
``open_storage`` returns ``Store(engine)``.

A plugin registers a factory ``(url, **options) -> Engine``::

    from netsky_core.plugins.hookspecs import hookimpl

    @hookimpl
    def netsky_register_backends(register):
        register(name="mystore", schemes=["mystore"], factory=open_mystore)

What is here:

* the contract: :class:`Engine`, :class:`Reader`, :class:`Writer`, :class:`LockBusy`,
  :class:`EngineInfo`, :class:`SessionSums`, the key types;
* the fields to persist: :data:`EVENT_FIELDS` (plus :func:`billing_key` of each
  event, in an indexed column), :data:`SESSION_FIELDS`, :data:`USAGE_FIELDS`,
  :data:`POSITION_FIELDS`;
* for SQL stores: the query filters compiled for a :class:`Dialect`
  (:data:`SQLITE`, :data:`POSTGRES`, or your own);
* for stores that keep records in memory or a key-value store: the query semantics
  in Python (:func:`select_events`, :func:`select_sessions`, :func:`select_usage`,
  :func:`session_sums`, :func:`select_project_usage`) and :func:`apply_usage`,
  :func:`apply_project_usage`; :func:`usage_deltas` / :func:`project_backfill` for a
  migration that fills usage buckets / project usage rows from stored requests
  (:data:`PROJECT_USAGE_FIELDS`; declare ``Capability.PROJECT_USAGE``);
* time helpers: :func:`to_us`, :func:`from_us`; :func:`event_from_row` builds an
  Event from a stored row without validating it again.

``examples/netsky-duckdb`` is a complete third-party backend over DuckDB, shipped as
its own distribution; ``backends/memory`` is another, over Python dicts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from ._records import EPOCH, Event, FilePosition, Session, event_from_row
from .storage.billing import BILLABLE_TYPES, billing_key
from .storage.engine import (
    Engine,
    EngineInfo,
    EventKey,
    LockBusy,
    Reader,
    Restart,
    SessionKey,
    SessionSums,
    Writer,
)
from .storage.inmemory import (
    select_events,
    select_project_usage,
    select_sessions,
    select_usage,
    session_sums,
)
from .storage.projects import (
    PROJECT_BACKFILL_COLUMNS,
    PROJECT_USAGE_FIELDS,
    PROJECT_USAGE_SUMS,
    apply_project_usage,
    project_backfill,
    project_deltas,
)
from .storage.protocol import iter_events
from .storage.sql import (
    ACTIVE,
    POSTGRES,
    SQLITE,
    STARTED,
    USAGE_ORDER,
    Dialect,
    event_filter,
    event_order,
    limit,
    session_filter,
    session_order,
    session_order_column,
    session_sums_select,
    usage_filter,
)
from .storage.usage import USAGE_FIELDS, USAGE_SUMS, USAGE_WINDOW_US, apply_usage, usage_deltas

__all__ = [
    "ACTIVE",
    "BILLABLE_TYPES",
    "EPOCH",
    "EVENT_FIELDS",
    "POSITION_FIELDS",
    "POSTGRES",
    "PROJECT_BACKFILL_COLUMNS",
    "PROJECT_USAGE_FIELDS",
    "PROJECT_USAGE_SUMS",
    "SESSION_FIELDS",
    "SQLITE",
    "STARTED",
    "USAGE_FIELDS",
    "USAGE_ORDER",
    "USAGE_SUMS",
    "USAGE_WINDOW_US",
    "Dialect",
    "Engine",
    "EngineInfo",
    "EventKey",
    "LockBusy",
    "Reader",
    "Restart",
    "SessionKey",
    "SessionSums",
    "Writer",
    "apply_project_usage",
    "apply_usage",
    "billing_key",
    "event_filter",
    "event_from_row",
    "event_order",
    "from_us",
    "iter_events",
    "limit",
    "project_backfill",
    "project_deltas",
    "select_events",
    "select_project_usage",
    "select_sessions",
    "select_usage",
    "session_filter",
    "session_order",
    "session_order_column",
    "session_sums",
    "session_sums_select",
    "to_us",
    "usage_deltas",
    "usage_filter",
]

_US = timedelta(microseconds=1)

EVENT_FIELDS: tuple[str, ...] = tuple(f.name for f in attrs.fields(Event) if f.name != "id")
"""Event fields a backend persists (``id`` is the backend's own)."""

SESSION_FIELDS: tuple[str, ...] = tuple(f.name for f in attrs.fields(Session))
"""Session fields a backend persists, all of them."""

POSITION_FIELDS: tuple[str, ...] = tuple(f.name for f in attrs.fields(FilePosition))
"""File position fields a backend persists, all of them."""


def to_us(value: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime (exact)."""
    return (value - EPOCH) // _US


def from_us(value: int) -> datetime:
    """The aware UTC datetime of microseconds since the epoch (exact)."""
    return EPOCH + timedelta(microseconds=value)
