"""``netsky query "SQL"``: read-only DuckDB SQL over the store's views."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from .._context import Context
from .._errors import UsageError
from .._main import add_command
from .._output import table
from .events import time_value

if TYPE_CHECKING:
    from ...analytics import QueryStream

_VIEWS = "events, sessions, api_requests, tool_calls, file_changes, prompts, daily_usage, positions"
_NO_FILES = "disabled by configuration"  # DuckDB's words for a file access refused
TABLE_ROWS = 10_000
"""Rows the table format shows at most (it must hold them all to align the columns)."""
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
    shape = p.add_mutually_exclusive_group()
    shape.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default=None,
        help="output format (default: table on a terminal, csv otherwise); every format "
        f"streams, except that table shows the first {TABLE_ROWS:,} rows",
    )
    shape.add_argument(
        "--json", action="store_true", help="the same as --format json: one JSON array of objects"
    )
    p.add_argument(
        "--allow-files",
        action="store_true",
        help="let the SQL read local files (read_csv, read_parquet, glob, ...); "
        "by default only the store is readable",
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
    from ...analytics import QueryError

    try:
        return _run(ctx)
    except QueryError as exc:
        if _NO_FILES in str(exc) and exc.hint is None:
            exc.hint = "netsky query reads only the store; --allow-files lets it read files"
        raise


def _run(ctx: Context) -> int:
    from ...analytics import TimezoneError, lock_down, open_analytics, refuse_writes, stream_query

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
            allow_files=args.allow_files,
        )
    except TimezoneError as exc:
        raise UsageError(str(exc), hint=exc.hint) from None
    try:
        lock_down(connection, allow_files=args.allow_files)
        stream = stream_query(connection, sql)
        if stream is None:
            return 0
        try:
            fmt = "json" if args.json else args.format or ("table" if ctx.interactive else "csv")
            _WRITERS[fmt](stream)
        finally:
            stream.batches.close()
    finally:
        connection.close()
    return 0


def _csv(stream: QueryStream) -> None:
    import csv

    from ...analytics import batch_text_rows

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(stream.columns)
    for batch in stream.batches:
        writer.writerows(batch_text_rows(batch, null=""))


def _json(stream: QueryStream) -> None:
    """The array ``print_json`` prints, written one record at a time."""
    from ...analytics import batch_records

    out = sys.stdout.buffer
    first = True
    for batch in stream.batches:
        for record in batch_records(batch, stream.columns):
            text = orjson.dumps(record, option=orjson.OPT_INDENT_2).replace(b"\n", b"\n  ")
            out.write((b"[\n  " if first else b",\n  ") + text)
            first = False
    out.write(b"[]\n" if first else b"\n]\n")
    out.flush()


def _table(stream: QueryStream) -> None:
    """An aligned table of the first ``TABLE_ROWS`` rows (widths need them all)."""
    from ...analytics import batch_text_rows

    rows: list[list[str]] = []
    cut = False
    for batch in stream.batches:
        room = TABLE_ROWS - len(rows)
        rows.extend(batch_text_rows(batch.slice(0, room)))
        if batch.num_rows > room:
            cut = True
            break
    right = [i for i, t in enumerate(stream.types) if _NUMERIC.fullmatch(t.upper())]
    table(stream.columns, rows, right=right)
    n = len(rows)
    if cut:
        sys.stdout.write(
            f"(first {n:,} rows shown: there are more; use --format csv or --json for all, "
            "or LIMIT)\n"
        )
    else:
        sys.stdout.write(f"({n} row{'s' if n != 1 else ''})\n")


_WRITERS: dict[str, Callable[[QueryStream], None]] = {"csv": _csv, "json": _json, "table": _table}
