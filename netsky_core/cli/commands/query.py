"""``netsky query "SQL"``: read-only DuckDB SQL over the store's views."""

from __future__ import annotations

import argparse
import re
import sys
from typing import TYPE_CHECKING, Any

from .._context import Context
from .._errors import UsageError
from .._main import add_command
from .._output import print_json, table
from .events import time_value

if TYPE_CHECKING:
    pass

_VIEWS = "events, sessions, api_requests, tool_calls, file_changes, prompts, daily_usage, positions"
_NUMERIC = re.compile(r"U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|FLOAT|DOUBLE|REAL|DECIMAL.*")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "query",
        help="run read-only SQL (DuckDB) over the store's views",
        description=(
            f"Run DuckDB SQL over the views {_VIEWS}.\n"
            "Only the data the referenced views need is read; the store is opened read-only\n"
            "and statements that would write (INSERT, CREATE, COPY, ATTACH, ...) are refused.\n"
            "Timestamps are TIMESTAMPTZ, shown and cut into days in --timezone (default: the\n"
            "system zone). The README lists every view's columns."
        ),
        examples=[
            'netsky query "SELECT day, sum(cost_usd) FROM daily_usage GROUP BY 1 ORDER BY 1"',
            'netsky query "SELECT tool_name, count(*), avg(duration_ms) FROM tool_calls GROUP BY 1" --format json',
            'netsky query "SELECT file_path, count(*) FROM file_changes GROUP BY 1 ORDER BY 2 DESC" --since 1w',
            "echo 'DESCRIBE api_requests' | netsky query -",
        ],
    )
    p.add_argument("sql", metavar="SQL", help="the SQL to run (- reads it from standard input)")
    p.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default=None,
        help="output format (default: table on a terminal, csv otherwise)",
    )
    p.add_argument(
        "--since",
        type=time_value,
        metavar="TIME",
        help="load only events at or after TIME (2026-01-31, 2h, 3d)",
    )
    p.add_argument("--until", type=time_value, metavar="TIME", help="load only events before TIME")
    p.add_argument(
        "--timezone", metavar="ZONE", help="IANA time zone for days and timestamps (default: local)"
    )
    p.set_defaults(handler=run)


def run(ctx: Context) -> int:
    from ...analytics import TimezoneError, open_analytics, refuse_writes, run_query

    args = ctx.args
    sql = sys.stdin.read() if args.sql == "-" else args.sql
    if not sql.strip():
        raise UsageError("no SQL given")
    since, until = args.since, args.until
    if since is not None and until is not None and until <= since:
        raise UsageError("--until must be after --since")
    refuse_writes(sql)  # before anything is read
    try:
        connection = open_analytics(
            ctx.url,
            sql=sql,
            since=since,
            until=until,
            timezone=args.timezone,
            config=ctx.config,
            prune=True,
        )
    except TimezoneError as exc:
        raise UsageError(str(exc), hint=exc.hint) from None
    try:
        result = run_query(connection, sql)
    finally:
        connection.close()
    fmt = args.format or ("table" if ctx.interactive else "csv")
    if fmt == "json":
        print_json(result.records())
    elif fmt == "csv":
        _csv(result)
    else:
        right = [i for i, t in enumerate(result.types) if _NUMERIC.fullmatch(t.upper())]
        table(result.columns, result.text_rows(), right=right)
        n = result.row_count
        sys.stdout.write(f"({n} row{'s' if n != 1 else ''})\n")
    return 0


def _csv(result: Any) -> None:
    import csv

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(result.columns)
    writer.writerows(result.text_rows(null=""))
