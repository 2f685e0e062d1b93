"""Analytics: DuckDB over any Storage: views, reports, SQL.

    >>> from netsky_core.analytics import open_analytics, run_query
    >>> con = open_analytics("sqlite:////path/netsky.db", sql="SELECT * FROM daily_usage")
    >>> run_query(con, "SELECT day, sum(cost_usd) FROM daily_usage GROUP BY 1").records()

Reports live in :mod:`netsky_core.analytics.reports`, Parquet / CSV export in
:mod:`netsky_core.analytics.export`. Names are imported lazily (DuckDB and pyarrow
are imported only when used).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "open_analytics": "._connect",
    "open_read_only": "._connect",
    "views_in_sql": "._connect",
    "lock_down": "._lockdown",
    "default_timezone": "._connect",
    "set_timezone": "._connect",
    "LOAD_LOG": "._connect",
    "run_query": "._query",
    "check_read_only": "._query",
    "refuse_writes": "._query",
    "stream_query": "._query",
    "batch_records": "._query",
    "batch_rows": "._query",
    "batch_text_rows": "._query",
    "QueryStream": "._stream",
    "QueryResult": "._query",
    "READ_STATEMENTS": "._query",
    "VIEWS": "._views",
    "View": "._views",
    "BASE_TABLES": "._tables",
    "RAW_SCHEMA": "._tables",
    "Column": "._tables",
    "TableRequest": "._tables",
    "arrow_schema": "._tables",
    "base_columns": "._tables",
    "create_table": "._tables",
    "request_schema": "._tables",
    "LoadInfo": "._load",
    "load_tables": "._load",
    "render_html": "._html",
    "parse_day": "._timezones",
    "day_range": "._timezones",
    "zone": "._timezones",
    "DateError": "._timezones",
    "AnalyticsError": "._errors",
    "QueryError": "._errors",
    "ReadOnlyQueryError": "._errors",
    "TimezoneError": "._errors",
    "Mirror": "._mirror",
    "MirrorRefresh": "._mirror",
    "MirrorStatus": "._mirror",
    "MirrorUnavailable": "._mirror",
    "mirror_location": "._mirror",
    "mirror_status": "._mirror",
    "rebuild_mirror": "._mirror",
}

__all__ = [
    "BASE_TABLES",
    "LOAD_LOG",
    "RAW_SCHEMA",
    "READ_STATEMENTS",
    "VIEWS",
    "AnalyticsError",
    "Column",
    "DateError",
    "LoadInfo",
    "Mirror",
    "MirrorRefresh",
    "MirrorStatus",
    "MirrorUnavailable",
    "QueryError",
    "QueryResult",
    "QueryStream",
    "ReadOnlyQueryError",
    "TableRequest",
    "TimezoneError",
    "View",
    "arrow_schema",
    "base_columns",
    "batch_records",
    "batch_rows",
    "batch_text_rows",
    "check_read_only",
    "create_table",
    "day_range",
    "default_timezone",
    "load_tables",
    "lock_down",
    "mirror_location",
    "mirror_status",
    "open_analytics",
    "open_read_only",
    "parse_day",
    "rebuild_mirror",
    "refuse_writes",
    "render_html",
    "request_schema",
    "run_query",
    "set_timezone",
    "stream_query",
    "views_in_sql",
    "zone",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'netsky_core.analytics' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover
    from ._connect import (
        LOAD_LOG,
        default_timezone,
        open_analytics,
        open_read_only,
        set_timezone,
        views_in_sql,
    )
    from ._errors import AnalyticsError, QueryError, ReadOnlyQueryError, TimezoneError
    from ._html import render_html
    from ._load import LoadInfo, load_tables
    from ._lockdown import lock_down
    from ._mirror import (
        Mirror,
        MirrorRefresh,
        MirrorStatus,
        MirrorUnavailable,
        mirror_location,
        mirror_status,
        rebuild_mirror,
    )
    from ._query import (
        READ_STATEMENTS,
        QueryResult,
        batch_records,
        batch_rows,
        batch_text_rows,
        check_read_only,
        refuse_writes,
        run_query,
        stream_query,
    )
    from ._stream import QueryStream
    from ._tables import (
        BASE_TABLES,
        RAW_SCHEMA,
        Column,
        TableRequest,
        arrow_schema,
        base_columns,
        create_table,
        request_schema,
    )
    from ._timezones import DateError, day_range, parse_day, zone
    from ._views import VIEWS, View
