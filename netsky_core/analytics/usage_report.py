"""``usage_report``: one report, from the usage buckets where they can answer it
(daily, weekly, monthly, model: ``rollup``) or from the API requests (``reports``)."""

from __future__ import annotations

from datetime import date, datetime

from .rollup import ROLLUP_KINDS, rollup_report

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .._config import Config
    from ..storage.protocol import Storage
    from .results import Report

__all__ = ["usage_report"]


def usage_report(
    kind: str,
    store: Storage | str | None = None,
    *,
    since: date | None = None,
    until: date | None = None,
    timezone: str | None = None,
    framework: str | None = None,
    breakdown: bool = False,
    start_of_week: str = "monday",
    now: datetime | None = None,
    config: Config | None = None,
    native: bool = True,
    use_buckets: bool = False,
) -> Report:
    """Load and build one report (see the module docstring for the rules).

    ``use_buckets``: compute daily / weekly / monthly / model reports from the store's
    usage buckets (``analytics.rollup``; same result, independent of history size).
    """
    if use_buckets and kind in ROLLUP_KINDS:
        return rollup_report(
            kind,
            store,
            since=since,
            until=until,
            timezone=timezone,
            framework=framework,
            breakdown=breakdown,
            start_of_week=start_of_week,
            config=config,
        )
    from .reports import build_report, load_usage  # DuckDB's path: imported only here

    with load_usage(
        store,
        since=since,
        until=until,
        timezone=timezone,
        framework=framework,
        kinds=(kind,),
        config=config,
        native=native,
    ) as data:
        return build_report(data, kind, breakdown=breakdown, start_of_week=start_of_week, now=now)
