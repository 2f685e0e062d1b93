"""Usage reports: tokens and cost per day, week, month, session, model, project and
5-hour billing block.

Every report is computed by DuckDB from the same rows: one per stored API response
(``ApiRequest`` events, deduplicated at ingest), with the accounting columns shared by
the ``api_requests`` view. Token sums are exact integers and costs are summed exactly
in picodollars, so the totals of any two reports over the same data are equal.

* Days, weeks and months are calendar periods in the report's time zone (``timezone``,
  default the system zone); ``since`` / ``until`` are inclusive days in that zone.
* Weeks start on Monday (``start_of_week="sunday"`` to change), keyed by their first day.
* Unknown cost: a row's ``cost_usd`` sums its priced responses and is ``None`` only when
  none of them is priced; ``Report.unpriced_requests`` / ``unpriced_models`` (and the
  ``totals`` in JSON) say how many responses had no price. It is never shown as $0.
* Blocks follow ccusage: a block starts at the first response's time floored to the
  UTC hour and covers 5 hours; the first response after that starts the next block
  (so a gap of more than 5 hours always does). A block is active while ``now`` is
  before its end and less than 5 hours after its last response.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

import attrs

from .._config import Config
from ..backend import from_us, to_us
from ..storage.protocol import Storage
from ._connect import connect, new_connection, timezone_of
from ._errors import AnalyticsError
from ._load import _drop
from ._query import _arrow
from ._tables import RAW_SCHEMA, TableRequest
from ._timezones import day_range, zone
from ._views import API, SUM_COLUMNS, USAGE_BASE_COLUMNS, render_sql, usage_rows_sql
from .results import KINDS, TOKEN_FIELDS, Report, ReportRow, _jsonable, _kind

__all__ = [
    "BLOCK_HOURS",
    "KINDS",
    "TOKEN_FIELDS",
    "Report",
    "ReportRow",
    "UsageData",
    "build_report",
    "dashboard",
    "load_usage",
]

BLOCK_HOURS = 5
_HOUR_US = 3_600_000_000
_BLOCK_US = BLOCK_HOURS * _HOUR_US
_USAGE = f"{RAW_SCHEMA}.usage"
_NEEDS_SESSION = frozenset({"session", "project"})
_SESSION_COLUMNS = ("cwd",)


@attrs.define
class UsageData:
    """A DuckDB connection holding the usage rows a report reads (``netsky_raw.usage``).

    Close it (or use it as a context manager) when done.
    """

    connection: Any
    timezone: str
    since: date | None = None
    until: date | None = None
    framework: str | None = None
    has_sessions: bool = False

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> UsageData:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_usage(
    store: Storage | str | None = None,
    *,
    since: date | None = None,
    until: date | None = None,
    timezone: str | None = None,
    framework: str | None = None,
    kinds: Iterable[str] = tuple(KINDS),
    html: bool = False,
    config: Config | None = None,
    native: bool = True,
) -> UsageData:
    """Load the usage rows of ``store`` for ``since..until`` (inclusive days in
    ``timezone``), optionally of one ``framework`` (a source name: ``claude``, ``gemini``, ...).

    Only the columns the ``kinds`` of report (and the HTML page) need are read.
    """
    kinds = tuple(kinds)
    for kind in kinds:
        _kind(kind)
    connection = new_connection(timezone)
    try:
        tz_name = timezone or timezone_of(connection)
        start, end = day_range(since, until, zone(tz_name))
    except BaseException:
        connection.close()
        raise
    sessions = html or bool(_NEEDS_SESSION.intersection(kinds))
    extra = _SESSION_COLUMNS if sessions else ()
    request = TableRequest(
        {"events"},
        since=start,
        until=end,
        event_types={API},
        event_columns=(*USAGE_BASE_COLUMNS, *extra),
    )
    connect(store, request, config=config, native=native, connection=connection)
    try:
        sql = render_sql(usage_rows_sql(extra), start, end)
        if framework is not None:
            sql = f"SELECT * FROM ({sql}) WHERE framework = {_literal(framework)}"
        # computed once (deduplicated) for the several queries a report runs
        connection.execute(f"CREATE TABLE {_USAGE} AS {sql}")
        _drop(connection, "events")
    except BaseException:
        connection.close()
        raise
    return UsageData(
        connection=connection,
        timezone=tz_name,
        since=since,
        until=until,
        framework=framework,
        has_sessions=sessions,
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _fetch(connection: Any, sql: str) -> list[dict[str, Any]]:
    return _arrow(connection.sql(sql)).to_pylist()


def _sums(row: dict[str, Any]) -> dict[str, Any]:
    out = {name: int(row[name]) for name in TOKEN_FIELDS}
    out["cost_usd"] = row["cost_usd"]
    return out


# -- building -----------------------------------------------------------------------------


def _period_keys(kind: str, start_of_week: str) -> tuple[list[str], list[str], str]:
    """(select expressions, group-by expressions, order) of a period / key report."""
    day = 'CAST("timestamp" AS DATE)'
    if kind == "daily":
        return [f"strftime({day}, '%Y-%m-%d') AS date"], ["1"], "1"
    if kind == "weekly":
        if start_of_week == "monday":
            first = f"{day} - CAST(isodow({day}) - 1 AS INTEGER)"
        elif start_of_week == "sunday":
            first = f"{day} - CAST(isodow({day}) % 7 AS INTEGER)"
        else:
            raise AnalyticsError(f"start_of_week must be monday or sunday, not {start_of_week!r}")
        return [f"strftime({first}, '%Y-%m-%d') AS week"], ["1"], "1"
    if kind == "monthly":
        return [f"strftime({day}, '%Y-%m') AS month"], ["1"], "1"
    if kind == "model":
        return ["model"], ["model"], "cost_usd DESC NULLS LAST, total_tokens DESC, model"
    if kind == "project":
        return ["cwd AS project"], ["cwd"], "cost_usd DESC NULLS LAST, total_tokens DESC, project"
    if kind == "session":
        return (
            [
                "session_id",
                "machine_id",
                "min(framework) AS framework",
                'arg_max(cwd, "timestamp") FILTER (WHERE cwd IS NOT NULL) AS project',
                'min("timestamp") AS first_activity',
                'max("timestamp") AS last_activity',
            ],
            ["session_id", "machine_id"],
            "last_activity, machine_id, session_id",
        )
    raise AnalyticsError(f"unknown report {kind!r}")


def build_report(
    data: UsageData,
    kind: str,
    *,
    breakdown: bool = False,
    start_of_week: str = "monday",
    now: datetime | None = None,
) -> Report:
    """Compute report ``kind`` (see ``KINDS``) over ``data``."""
    list_key, key_fields = _kind(kind)
    if kind in _NEEDS_SESSION and not data.has_sessions:
        raise AnalyticsError(f"the {kind} report needs usage loaded with kinds=[{kind!r}]")
    con = data.connection
    totals_row = _fetch(con, f"SELECT {SUM_COLUMNS} FROM {_USAGE}")[0]
    unpriced_models = tuple(
        r["model"]
        for r in _fetch(
            con,
            f"SELECT DISTINCT coalesce(model, '(no model)') AS model FROM {_USAGE} "
            "WHERE cost_usd IS NULL ORDER BY 1",
        )
    )
    gaps: tuple[tuple[datetime, datetime], ...] = ()
    if kind == "blocks":
        rows, gaps = _blocks(con, breakdown=breakdown, now=now)
    else:
        rows = _rows(con, kind, breakdown=breakdown, start_of_week=start_of_week)
    return Report(
        kind=kind,
        list_key=list_key,
        key_fields=key_fields,
        rows=tuple(rows),
        totals=_sums(totals_row),
        requests=int(totals_row["requests"]),
        unpriced_requests=int(totals_row["unpriced_requests"]),
        unpriced_models=unpriced_models,
        timezone=data.timezone,
        since=data.since,
        until=data.until,
        framework=data.framework,
        breakdown=breakdown,
        gaps=gaps,
    )


def _rows(con: Any, kind: str, *, breakdown: bool, start_of_week: str) -> list[ReportRow]:
    select, group, order = _period_keys(kind, start_of_week)
    key_names = [s.rsplit(" AS ", 1)[-1].strip() for s in select]
    # the grouping keys: the selected columns that are not aggregates
    plain = [s for s in select if not s.startswith(("min(", "max(", "arg_max("))]
    keys = [s.rsplit(" AS ", 1)[-1].strip() for s in plain]
    raw = _fetch(
        con,
        f"SELECT {', '.join(select)}, {SUM_COLUMNS}, "
        f"list_sort(list_distinct(list(model))) AS models "
        f"FROM {_USAGE} GROUP BY {', '.join(group)} ORDER BY {order}",
    )
    per_key: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    if breakdown and kind != "model":
        for r in _fetch(
            con,
            f"SELECT {', '.join(plain)}, model, {SUM_COLUMNS} FROM {_USAGE} "
            f"GROUP BY {', '.join(group)}, model "
            f"ORDER BY cost_usd DESC NULLS LAST, total_tokens DESC, model",
        ):
            item = {"model": r["model"], **_sums(r)}
            per_key.setdefault(tuple(r[k] for k in keys), []).append(item)
    rows = []
    for r in raw:
        values = {name: r[name] for name in key_names}
        values.update(_sums(r))
        values["models"] = list(r["models"] or [])
        rows.append(
            ReportRow(
                values=values,
                requests=int(r["requests"]),
                unpriced_requests=int(r["unpriced_requests"]),
                breakdown=tuple(per_key.get(tuple(r[k] for k in keys), ())),
            )
        )
    return rows


def _block_starts(timestamps: list[int]) -> list[int]:
    starts = []
    i, n = 0, len(timestamps)
    while i < n:
        start = timestamps[i] - timestamps[i] % _HOUR_US
        starts.append(start)
        i = bisect_right(timestamps, start + _BLOCK_US, i)
    return starts


def _blocks(
    con: Any, *, breakdown: bool, now: datetime | None
) -> tuple[list[ReportRow], tuple[tuple[datetime, datetime], ...]]:
    import pyarrow as pa

    stamps = _arrow(con.sql(f'SELECT epoch_us("timestamp") AS t FROM {_USAGE} ORDER BY 1'))
    starts = _block_starts(stamps.column(0).to_pylist())
    table = f"{RAW_SCHEMA}.block_starts"
    con.register("netsky_block_starts", pa.table({"start_us": pa.array(starts, pa.int64())}))
    try:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM netsky_block_starts")
    finally:
        con.unregister("netsky_block_starts")
    joined = f'FROM {_USAGE} u ASOF JOIN {table} b ON epoch_us(u."timestamp") >= b.start_us'
    raw = _fetch(
        con,
        f"SELECT b.start_us, {SUM_COLUMNS}, list_sort(list_distinct(list(model))) AS models, "
        f'epoch_us(min(u."timestamp")) AS first_us, epoch_us(max(u."timestamp")) AS last_us '
        f"{joined} GROUP BY b.start_us ORDER BY b.start_us",
    )
    per_block: dict[int, list[dict[str, Any]]] = {}
    if breakdown:
        for r in _fetch(
            con,
            f"SELECT b.start_us, model, {SUM_COLUMNS} {joined} GROUP BY b.start_us, model "
            "ORDER BY cost_usd DESC NULLS LAST, total_tokens DESC, model",
        ):
            per_block.setdefault(r["start_us"], []).append({"model": r["model"], **_sums(r)})
    now_us = to_us(now or datetime.now(UTC))
    rows = []
    gaps = []
    previous_last: int | None = None
    for r in raw:
        start, first, last = r["start_us"], r["first_us"], r["last_us"]
        end = start + _BLOCK_US
        if previous_last is not None and first - previous_last > _BLOCK_US:
            gaps.append((from_us(previous_last), from_us(first)))
        previous_last = last
        active = first <= now_us < end and now_us - last < _BLOCK_US
        sums = _sums(r)
        values: dict[str, Any] = {
            "start": from_us(start),
            "end": from_us(end),
            "first_activity": from_us(first),
            "last_activity": from_us(last),
            "is_active": active,
            **sums,
            "models": list(r["models"] or []),
            "burn_rate": None,
            "projection": None,
        }
        if active:
            values["burn_rate"], values["projection"] = _burn(sums, first, last, end, now_us)
        rows.append(
            ReportRow(
                values=values,
                requests=int(r["requests"]),
                unpriced_requests=int(r["unpriced_requests"]),
                breakdown=tuple(per_block.get(start, ())),
            )
        )
    return rows, tuple(gaps)


def _burn(
    sums: dict[str, Any], first: int, last: int, end: int, now_us: int
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    minutes = (last - first) / 60e6
    if minutes <= 0:
        return None, None
    per_minute = sums["total_tokens"] / minutes
    cost = sums["cost_usd"]
    cost_per_minute = None if cost is None else cost / minutes
    remaining = max(0.0, (end - now_us) / 60e6)
    burn = {
        "tokens_per_minute": per_minute,
        "cost_usd_per_hour": None if cost_per_minute is None else cost_per_minute * 60,
    }
    projection = {
        "total_tokens": round(sums["total_tokens"] + per_minute * remaining),
        "cost_usd": None if cost_per_minute is None else cost + cost_per_minute * remaining,
        "remaining_minutes": round(remaining),
    }
    return burn, projection


# -- the HTML page's data ----------------------------------------------------------------


def dashboard(data: UsageData, *, top_sessions: int = 15) -> dict[str, Any]:
    """Cost and tokens per day and model, per model, per agent (framework), and the top
    sessions by cost."""
    con = data.connection
    day = "strftime(CAST(\"timestamp\" AS DATE), '%Y-%m-%d')"
    per_day_model = _fetch(
        con,
        f"SELECT {day} AS date, coalesce(model, '(no model)') AS model, {SUM_COLUMNS} "
        f"FROM {_USAGE} GROUP BY ALL ORDER BY 1, 2",
    )
    models = _fetch(
        con,
        f"SELECT coalesce(model, '(no model)') AS model, {SUM_COLUMNS} FROM {_USAGE} "
        "GROUP BY ALL ORDER BY cost_usd DESC NULLS LAST, total_tokens DESC, model",
    )
    agents = _fetch(
        con,
        f"SELECT coalesce(framework, '(unknown)') AS framework, {SUM_COLUMNS} FROM {_USAGE} "
        "GROUP BY ALL ORDER BY cost_usd DESC NULLS LAST, total_tokens DESC, framework",
    )
    sessions: list[dict[str, Any]] = []
    if data.has_sessions:
        sessions = _fetch(
            con,
            f"SELECT session_id, machine_id, min(framework) AS framework, "
            f'arg_max(cwd, "timestamp") FILTER (WHERE cwd IS NOT NULL) AS project, '
            f'min("timestamp") AS first_activity, max("timestamp") AS last_activity, '
            f"list_sort(list_distinct(list(model))) AS models, {SUM_COLUMNS} "
            f"FROM {_USAGE} GROUP BY session_id, machine_id "
            f"ORDER BY cost_usd DESC NULLS LAST, total_tokens DESC, session_id "
            f"LIMIT {int(top_sessions)}",
        )
    return _jsonable(
        {
            "days": [
                {"date": r["date"], "model": r["model"], **_sums(r), "requests": r["requests"]}
                for r in per_day_model
            ],
            "models": [
                {
                    "model": r["model"],
                    **_sums(r),
                    "requests": r["requests"],
                    "unpriced_requests": r["unpriced_requests"],
                }
                for r in models
            ],
            "agents": [
                {
                    "framework": r["framework"],
                    **_sums(r),
                    "requests": r["requests"],
                    "unpriced_requests": r["unpriced_requests"],
                }
                for r in agents
            ],
            "sessions": [
                {
                    "session_id": r["session_id"],
                    "machine_id": r["machine_id"],
                    "framework": r["framework"],
                    "project": r["project"],
                    "first_activity": r["first_activity"],
                    "last_activity": r["last_activity"],
                    "models": list(r["models"] or []),
                    **_sums(r),
                }
                for r in sessions
            ],
        }
    )
