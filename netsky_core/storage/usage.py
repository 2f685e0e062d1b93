"""Usage buckets: API usage per machine, framework, model and 15 minutes.

Stores keep them with the events, in the same transaction as every insert,
supersession, billing change and gc, so usage reports read a few rows per day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import attrs

from .._records import Event, EventType
from .._results import UsageBucket
from .fold import PICO

__all__ = [
    "USAGE_FIELDS",
    "USAGE_SUMS",
    "USAGE_WINDOW_US",
    "UsageKey",
    "apply_usage",
    "merge_deltas",
    "usage_deltas",
    "usage_window",
]

USAGE_WINDOW_US = 15 * 60 * 1_000_000
"""Usage buckets cover 15 minutes: every UTC offset in use is a multiple of 15 minutes,
so buckets add up to local days in any time zone."""

USAGE_FIELDS: tuple[str, ...] = tuple(f.name for f in attrs.fields(UsageBucket))
"""Usage bucket fields a backend persists: the key (machine, framework, model, start)
then the sums."""

USAGE_SUMS: tuple[str, ...] = USAGE_FIELDS[4:]
"""The summed fields, in the order of a delta list."""

UsageKey = tuple[str, "str | None", "str | None", datetime]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = datetime.resolution
_API = EventType.API_REQUEST
_N = len(USAGE_SUMS)


def usage_window(ts: datetime) -> datetime:
    """The start of the usage bucket holding ``ts`` (floored to 15 minutes, UTC)."""
    us = (ts - _EPOCH) // _US
    return _EPOCH + (us - us % USAGE_WINDOW_US) * _US


def usage_deltas(changes: Iterable[tuple[int, Iterable[Event]]]) -> dict[UsageKey, list[int]]:
    """What signed sets of events do to the usage buckets.

    ``changes`` is ``(sign, events)`` pairs (1: added to the kept set, -1: removed).
    Per bucket key ``(machine_id, framework, model, window start)`` a list of
    :data:`USAGE_SUMS` to add. Only ``ApiRequest`` events count; an empty framework
    or model counts as None.
    """
    out: dict[UsageKey, list[int]] = {}
    for sign, events in changes:
        for e in events:
            if e.event_type != _API:
                continue
            key = (e.machine_id, e.framework or None, e.model or None, usage_window(e.timestamp))
            d = out.get(key)
            if d is None:
                d = out[key] = [0] * _N
            d[0] += sign
            if e.cost_usd is None:
                d[1] += sign
            else:
                d[2] += sign
                d[8] += sign * round(e.cost_usd * PICO)
            d[3] += sign * (e.tokens_input or 0)
            d[4] += sign * (e.tokens_output or 0)
            d[5] += sign * (e.tokens_cache_read or 0)
            d[6] += sign * (e.tokens_cache_write or 0)
            d[7] += sign * (e.tokens_reasoning or 0)
    return {k: v for k, v in out.items() if any(v)}


def apply_usage(bucket: UsageBucket | None, key: UsageKey, delta: list[int]) -> UsageBucket | None:
    """``bucket`` (None: absent) plus ``delta``; None when it no longer holds a request."""
    base = [0] * _N if bucket is None else [getattr(bucket, f) for f in USAGE_SUMS]
    values = [a + b for a, b in zip(base, delta)]
    if values[0] <= 0:
        return None
    machine_id, framework, model, start = key
    return UsageBucket(
        machine_id=machine_id,
        framework=framework,
        model=model,
        start=start,
        **dict(zip(USAGE_SUMS, values)),
    )


def merge_deltas(*parts: Mapping[UsageKey, list[int]]) -> dict[UsageKey, list[int]]:
    """The sum of several delta maps (keys whose sum is all zero dropped)."""
    out: dict[UsageKey, list[int]] = {}
    for part in parts:
        for key, delta in part.items():
            d = out.get(key)
            out[key] = list(delta) if d is None else [a + b for a, b in zip(d, delta)]
    return {k: v for k, v in out.items() if any(v)}
