"""Daily, weekly, monthly and model reports from the store's usage buckets.

Every store keeps 15-minute usage buckets per machine, framework and model
(``Storage.usage``) in the same transaction as its events, so these reports read a
few rows per active quarter-hour instead of every API request: their cost does not
grow with the size of the history. The results are the same ``Report`` values the
DuckDB path (``reports.build_report``) computes from the requests themselves —
integer token sums, costs summed in picodollars — and the tests hold the two equal.

A 15-minute bucket never straddles a local midnight (every UTC offset in use is a
multiple of 15 minutes), so buckets add up to local days exactly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .._units import PICO
from ._errors import AnalyticsError
from ._timezones import day_range, zone
from .results import KINDS, Report, ReportRow

TYPE_CHECKING = False
if TYPE_CHECKING:  # (not imported: a report from a backend's reader opens no Store)
    from .._config import Config
    from ..storage.protocol import Storage

__all__ = ["ROLLUP_KINDS", "local_timezone", "rollup_report"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ROLLUP_KINDS = frozenset({"daily", "weekly", "monthly", "model"})


def local_timezone() -> str:
    """The system's IANA time zone (``TZ``, else ``/etc/localtime``), else UTC: the
    zone DuckDB uses by default, so both report paths cut days alike."""
    from .._errors import NetskyError

    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            zone(name)
            return name
        except NetskyError:
            pass
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:
        return "UTC"
    marker = "zoneinfo" + os.sep
    if marker in target:
        candidate = target.split(marker, 1)[1]
        try:
            zone(candidate)
            return candidate
        except NetskyError:
            pass
    return "UTC"


def _period(kind: str, day: date, start_of_week: str) -> str:
    if kind == "daily":
        return day.isoformat()
    if kind == "monthly":
        return day.strftime("%Y-%m")
    if start_of_week == "monday":
        first = day - timedelta(days=day.weekday())
    elif start_of_week == "sunday":
        first = day - timedelta(days=(day.weekday() + 1) % 7)
    else:
        raise AnalyticsError(f"start_of_week must be monday or sunday, not {start_of_week!r}")
    return first.isoformat()


class _Sums:
    __slots__ = (
        "cache_read",
        "cache_write",
        "cost",
        "input",
        "models",
        "output",
        "priced",
        "reasoning",
        "requests",
        "unpriced",
    )

    def __init__(self) -> None:
        self.requests = self.unpriced = self.priced = 0
        self.input = self.output = self.cache_write = self.cache_read = self.cost = 0
        self.reasoning = 0
        self.models: set[str] = set()

    def add(self, b: Any) -> None:
        self.requests += b.requests
        self.unpriced += b.unpriced_requests
        self.priced += b.priced_requests
        self.input += b.tokens_input
        self.output += b.tokens_output
        self.cache_write += b.tokens_cache_write
        self.cache_read += b.tokens_cache_read
        self.reasoning += b.tokens_reasoning
        self.cost += b.cost_picousd
        if b.model is not None:
            self.models.add(b.model)

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_write + self.cache_read + self.reasoning

    def values(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input,
            "output_tokens": self.output,
            "cache_creation_tokens": self.cache_write,
            "cache_read_tokens": self.cache_read,
            "total_tokens": self.total,
            "cost_usd": self.cost / PICO if self.priced else None,
        }


def _order(item: tuple[Any, _Sums]) -> tuple[Any, ...]:
    """cost DESC NULLS LAST, total_tokens DESC, then the key."""
    key, s = item
    return (
        0 if s.priced else 1,
        -s.cost if s.priced else 0,
        -s.total,
        (0, "") if key is None else (1, key),
    )


def rollup_report(
    kind: str,
    store: Storage | str | None = None,
    *,
    since: date | None = None,
    until: date | None = None,
    timezone: str | None = None,
    framework: str | None = None,
    breakdown: bool = False,
    start_of_week: str = "monday",
    config: Config | None = None,
) -> Report:
    """Report ``kind`` (one of ``ROLLUP_KINDS``) from the usage buckets of ``store``."""
    if kind not in ROLLUP_KINDS:
        raise AnalyticsError(f"the {kind} report needs the requests themselves, not the buckets")
    tz_name = timezone or local_timezone()
    tz = zone(tz_name)
    start, end = day_range(since, until, tz)
    buckets = _buckets(store, start, end, framework, config)
    list_key, key_fields = KINDS[kind]
    totals = _Sums()
    groups: dict[Any, _Sums] = {}
    per_model: dict[Any, dict[str | None, _Sums]] = {}
    unpriced_models: set[str] = set()
    for b in buckets:
        totals.add(b)
        if b.unpriced_requests:
            unpriced_models.add(b.model or "(no model)")
        if kind == "model":
            key: Any = b.model
        else:
            key = _period(kind, b.start.astimezone(tz).date(), start_of_week)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Sums()
        group.add(b)
        if breakdown and kind != "model":
            models = per_model.setdefault(key, {})
            m = models.get(b.model)
            if m is None:
                m = models[b.model] = _Sums()
            m.add(b)
    items = sorted(groups.items(), key=_order) if kind == "model" else sorted(groups.items())
    field = key_fields[0]
    rows = []
    for key, s in items:
        values = {field: key, **s.values(), "models": sorted(s.models)}
        parts: tuple[dict[str, Any], ...] = ()
        if breakdown and kind != "model":
            parts = tuple(
                {"model": model, **m.values()}
                for model, m in sorted(per_model[key].items(), key=_order)
            )
        rows.append(
            ReportRow(
                values=values, requests=s.requests, unpriced_requests=s.unpriced, breakdown=parts
            )
        )
    return Report(
        kind=kind,
        list_key=list_key,
        key_fields=key_fields,
        rows=tuple(rows),
        totals={name: value for name, value in totals.values().items()},
        requests=totals.requests,
        unpriced_requests=totals.unpriced,
        unpriced_models=tuple(sorted(unpriced_models)),
        timezone=tz_name,
        since=since,
        until=until,
        framework=framework,
        breakdown=breakdown,
    )


def _buckets(
    store: Storage | str | None,
    start: datetime | None,
    end: datetime | None,
    framework: str | None,
    config: Config | None,
) -> Iterable[Any]:
    if isinstance(store, str):  # the backend's own reader, if it has one: no Store
        from ..live.reader import backend_reader

        reader = backend_reader(store)
        if reader is not None:
            try:
                found = reader.buckets(_us(start), _us(end), framework)
            finally:
                reader.close()
            if found is not None:
                return found
    from .._open import open_for_reading  # (not DuckDB's ``_connect``: no DuckDB here)
    from .._queries import UsageQuery

    query = UsageQuery().with_time_range(start, end).with_framework(framework)
    if store is not None and not isinstance(store, str):
        return store.usage(query)
    opened = open_for_reading(store, config=config)
    try:
        return opened.usage(query)
    finally:
        opened.close()


def _us(value: datetime | None) -> int | None:
    """Microseconds since the Unix epoch (exact), as the stores keep bucket starts."""
    return None if value is None else (value - _EPOCH) // timedelta(microseconds=1)
