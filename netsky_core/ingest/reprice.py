"""Costs of stored API responses under the current price table.

A response read from a Claude transcript or a Codex rollout keeps the token counts
its price depends on (the event's counts, and in its metadata the 5-minute / 1-hour
cache-write split and ``speed``), so its cost under a new table (an updated shipped
table, a ``[pricing]`` override) is exactly what a fresh ingest would compute. Costs
netsky did not compute are kept: a transcript line's own ``costUSD``, and responses
from hooks, OpenTelemetry or other agents' sources.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .._records import Event, EventSource
from .pricing import PriceTable, Usage

__all__ = ["repriced_cost", "repricer"]

_FRAMEWORKS = ("claude", "codex")


def _meta(event: Event) -> dict[str, Any]:
    if not event.metadata:
        return {}
    try:
        value = json.loads(event.metadata)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _own_cost(event: Event) -> bool:
    """Whether the transcript line carried its own ``costUSD``."""
    if not event.payload or '"costUSD"' not in event.payload:
        return False
    try:
        line = json.loads(event.payload)
    except ValueError:
        return False
    return isinstance(line, dict) and line.get("costUSD") is not None


def repriced_cost(event: Event, prices: PriceTable) -> float | None:
    """The cost of ``event`` under ``prices`` (its stored cost when netsky did not
    compute it)."""
    if event.source != EventSource.TRANSCRIPT or event.framework not in _FRAMEWORKS:
        return event.cost_usd
    if event.framework == "claude" and _own_cost(event):
        return event.cost_usd
    meta = _meta(event)
    speed = meta.get("speed")
    usage = Usage(
        input=event.tokens_input or 0,
        output=event.tokens_output or 0,
        cache_read=event.tokens_cache_read or 0,
        cache_write=event.tokens_cache_write or 0,
        cache_write_5m=meta.get("cache_write_5m"),
        cache_write_1h=meta.get("cache_write_1h"),
        speed=speed if isinstance(speed, str) else None,
    )
    return prices.cost(event.model, usage)


def repricer(prices: PriceTable) -> Callable[[Event], float | None]:
    return lambda event: repriced_cost(event, prices)
