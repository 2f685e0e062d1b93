"""Usage buckets: API usage per machine, framework, model and 15 minutes.

Stores keep them with the events, in the same transaction as every insert,
supersession, billing change and gc, so usage reports read a few rows per day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import compress, groupby, repeat
from operator import attrgetter, floordiv, is_not, itemgetter, sub
from typing import Any

import attrs

from .._records import Event, EventType
from .._results import UsageBucket
from .fold import PICO

__all__ = [
    "USAGE_FIELDS",
    "USAGE_SUMS",
    "USAGE_WINDOW_US",
    "VALUE_FIELDS",
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
_WINDOW = timedelta(microseconds=USAGE_WINDOW_US)
_TS = attrgetter("timestamp")
_TYPE = attrgetter("event_type")
_KEY = attrgetter("machine_id", "framework", "model")
VALUE_FIELDS = (
    "cost_usd",
    "tokens_input",
    "tokens_output",
    "tokens_cache_read",
    "tokens_cache_write",
    "tokens_reasoning",
)
"""The ``Event`` fields :func:`window_sums` sums, in the order it reads them."""
_VALUES = attrgetter(*VALUE_FIELDS)
_PICO_F = float(PICO)  # exact: round(cost * PICO) == round(_PICO_F * cost)


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
    return merged(
        ((m, framework or None, model or None, start), d)
        for (m, framework, model, start), d in window_sums(changes, _KEY).items()
    )


def merged(pairs: Iterable[tuple[Any, list[int]]]) -> dict[Any, list[int]]:
    """``(key, sums)`` pairs added up per key (two keys may name one bucket: an empty
    name is None), keys whose sums are all zero left out."""
    out: dict[Any, list[int]] = {}
    for key, d in pairs:
        had = out.get(key)
        out[key] = d if had is None else [a + b for a, b in zip(had, d)]
    return {k: v for k, v in out.items() if any(v)}


def window_sums(
    changes: Iterable[tuple[int, Iterable[Event]]], key: Callable[[Event], tuple[Any, ...]]
) -> dict[tuple[Any, ...], list[int]]:
    """The :data:`USAGE_SUMS` the ``ApiRequest`` events of signed ``changes`` add, per
    ``(*key(event), window start)``; keys whose sums are all zero left out (the one
    rule behind usage buckets and project usage).

    The events are read by column and summed per run of one key (a batch is mostly
    in time order), so the cost per event is a few C-level steps.
    """
    sums: dict[tuple[Any, ...], list[int]] = {}
    for sign, events in changes:
        if not isinstance(events, list):
            events = list(events)
        api = list(compress(events, map(_API.__eq__, map(_TYPE, events))))
        if not api:
            continue
        since_epoch = map(sub, map(_TS, api), repeat(_EPOCH))
        windows = map(floordiv, since_epoch, repeat(_WINDOW))
        keyed = zip(zip(map(key, api), windows), map(_VALUES, api))
        for (names, window), run in groupby(keyed, key=itemgetter(0)):
            rows = [values for _key, values in run]
            d = sums.get((*names, window))
            if d is None:
                d = sums[(*names, window)] = [0] * _N
            columns = list(zip(*rows))
            costs = list(compress(columns[0], map(is_not, columns[0], repeat(None))))
            d[0] += sign * len(rows)
            d[1] += sign * (len(rows) - len(costs))
            d[2] += sign * len(costs)
            for i in range(5):
                d[3 + i] += sign * sum(filter(None, columns[1 + i]))
            d[8] += sign * sum(map(round, map(_PICO_F.__mul__, costs)))
    return {(*k[:-1], _EPOCH + k[-1] * _WINDOW): d for k, d in sums.items() if any(d)}


def summed(row: Any, fields: tuple[str, ...], delta: Sequence[int]) -> list[int] | None:
    """The sums ``fields`` of ``row`` (None: absent) plus ``delta``; None when they no
    longer hold a request (the first field counts requests)."""
    base = [0] * len(fields) if row is None else [getattr(row, f) for f in fields]
    values = [a + b for a, b in zip(base, delta)]
    return None if values[0] <= 0 else values


def apply_usage(bucket: UsageBucket | None, key: UsageKey, delta: list[int]) -> UsageBucket | None:
    """``bucket`` (None: absent) plus ``delta``; None when it no longer holds a request."""
    values = summed(bucket, USAGE_SUMS, delta)
    if values is None:
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
    return merged((key, list(delta)) for part in parts for key, delta in part.items())
