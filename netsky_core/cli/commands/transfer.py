"""``netsky export`` and ``netsky import``: the store as a JSON Lines file and back.

The file format is described in ``netsky_core.sync`` and in the README.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .._context import Context
from .._errors import UsageError
from .._main import add_command
from .._output import fields, print_json, progress
from .events import positive_value, time_value

_FORMAT_DOC = (
    "The file (format netsky-export, version 1) starts with a header line\n"
    '{"kind": "header", "format": "netsky-export", "version": 1, "exported_at": ..., "source": ...}\n'
    'then one JSON object per line: {"kind": "event" | "session" | "position", "data": {...}}.\n'
    "A FILE ending in .gz is gzip-compressed."
)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    e = add_command(
        sub,
        common,
        "export",
        help="write the store (or its recent part) to a JSON Lines file",
        description=(
            "Write every event (in the order stored), session and file position to FILE,\n"
            "or to standard output. With --since: the events at or after TIME, the sessions\n"
            "active since TIME, and no file positions. The file appears only once complete.\n\n"
            + _FORMAT_DOC
        ),
        examples=[
            "netsky export -o netsky-backup.jsonl.gz",
            "netsky export --since 1w -o last-week.jsonl",
            "netsky export --since 2026-01-01 | gzip > since-january.jsonl.gz",
        ],
    )
    e.add_argument(
        "--format",
        default="jsonl",
        metavar="FORMAT",
        help="jsonl (the whole store, for import), or parquet / csv (a view or a query, for analysis)",
    )
    e.add_argument(
        "--view", metavar="VIEW", help="parquet/csv: the view to export (default events)"
    )
    e.add_argument(
        "--query", metavar="SQL", help="parquet/csv: export the result of this read-only query"
    )
    e.add_argument(
        "--since",
        type=time_value,
        metavar="TIME",
        help="only data from TIME on (2026-01-31, 2h, 3d, 1w)",
    )
    e.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    e.add_argument(
        "--batch",
        type=positive_value,
        default=5000,
        metavar="N",
        help="events read per query (default 5000)",
    )
    e.add_argument("--json", action="store_true", help="print the summary as JSON")
    e.set_defaults(handler=run_export)

    i = add_command(
        sub,
        common,
        "import",
        help="read a netsky export file into the store",
        description=(
            "Read a file written by `netsky export` into the store (--db). The whole file is\n"
            "checked first: a malformed line, an unknown format or a newer version stores\n"
            "nothing. Events the store already has are skipped, so importing a file twice\n"
            "changes nothing. Sessions and file positions are written as the file has them,\n"
            "except where the store's are further along (kept and counted). FILE - reads\n"
            "standard input.\n\n" + _FORMAT_DOC
        ),
        examples=[
            "netsky import netsky-backup.jsonl.gz",
            "netsky --db postgresql://me@db.example/netsky import last-week.jsonl --json",
            "ssh laptop netsky export | netsky import -",
        ],
    )
    i.add_argument("file", metavar="FILE", help="the export file (- for standard input)")
    i.add_argument(
        "--batch",
        type=positive_value,
        default=5000,
        metavar="N",
        help="events per transaction (default 5000)",
    )
    i.add_argument("--json", action="store_true", help="print the summary as JSON")
    i.set_defaults(handler=run_import)


def _summary(
    ctx: Context, data: dict[str, Any], text: list[tuple[str, Any]], *, stderr: bool
) -> None:
    if stderr:
        saved, sys.stdout = sys.stdout, sys.stderr
    try:
        if ctx.json:
            print_json(data)
        else:
            fields(text)
    finally:
        if stderr:
            sys.stdout = saved


def _export_table(ctx: Context) -> int:
    """``--format parquet|csv``: a view or a query, through the analytics layer."""
    from ..._urls import mask_url
    from ...analytics.export import export

    args = ctx.args
    if args.format == "parquet" and args.output in (None, "-") and sys.stdout.isatty():
        raise UsageError(
            "parquet is binary: not written to a terminal",
            hint="name a file with -o FILE, or redirect standard output",
        )
    result = export(
        ctx.url,
        args.output or "-",
        format=args.format,
        view=args.view,
        query=args.query,
        since=args.since,
        config=ctx.config,
    )
    data = {
        "format": args.format,
        "output": args.output,
        "source": mask_url(ctx.url),
        "what": args.query or args.view or "events",
        "rows": result.rows,
    }
    to_stdout = args.output in (None, "-")
    text = [
        ("exported", f"{result.rows:,} rows of {data['what']}"),
        ("to", args.output or "standard output"),
    ]
    _summary(ctx, data, text, stderr=to_stdout)
    return 0


def run_export(ctx: Context) -> int:
    from ..._urls import mask_url
    from ...sync import EXPORT_FORMATS, write_export_file

    args = ctx.args
    if args.format in ("parquet", "csv"):
        return _export_table(ctx)
    if args.view or args.query:
        raise UsageError("--view and --query go with --format parquet or csv")
    writer = EXPORT_FORMATS.get(args.format)
    if writer is None:
        known = ", ".join([*sorted(EXPORT_FORMATS), "parquet", "csv"])
        raise UsageError(f"unknown export format {args.format!r}", hint=f"formats: {known}")
    to_stdout = args.output in (None, "-")
    options = {"since": args.since, "source": ctx.url, "batch_size": args.batch}
    with ctx.storage(read=True) as store, progress("exporting events", unit="events") as bar:
        if sys.stderr.isatty():  # the bar shows only on a terminal; count only for it
            bar.update(total=store.count())
        options["progress"] = bar.advance
        if to_stdout:
            result = writer(store, sys.stdout.buffer, **options)
            sys.stdout.buffer.flush()
        else:
            result = write_export_file(store, args.output, format=args.format, **options)
    where = "standard output" if to_stdout else args.output
    data = {
        "format": args.format,
        "output": None if to_stdout else args.output,
        "source": mask_url(ctx.url),
        "since": args.since,
        "events": result.events,
        "sessions": result.sessions,
        "positions": result.positions,
    }
    text = [
        (
            "exported",
            f"{result.events:,} events, {result.sessions:,} sessions, {result.positions:,} file positions",
        ),
        ("from", data["source"]),
        ("to", where),
    ]
    _summary(ctx, data, text, stderr=to_stdout)
    return 0


@contextmanager
def _input_path(name: str) -> Iterator[str]:
    """``name``, or standard input spooled to a temporary file for ``-``."""
    if name != "-":
        yield name
        return
    import shutil
    import tempfile

    with tempfile.NamedTemporaryFile(prefix="netsky-import-", suffix=".jsonl") as tmp:
        shutil.copyfileobj(sys.stdin.buffer, tmp)
        tmp.flush()
        yield tmp.name


def run_import(ctx: Context) -> int:
    from ..._urls import mask_url
    from ...sync import import_jsonl

    args = ctx.args
    with (
        _input_path(args.file) as path,
        ctx.storage() as store,
        progress("importing events", unit="events") as bar,
    ):
        result = import_jsonl(
            store,
            path,
            batch_size=args.batch,
            progress=bar.advance,
            on_start=lambda total: bar.update(total=total),
        )
    e = result.events
    data = {
        "file": None if args.file == "-" else args.file,
        "destination": mask_url(ctx.url),
        "header": result.header,
        "events": e,
        "sessions_restored": result.sessions_restored,
        "sessions_kept": result.sessions_kept,
        "positions_restored": result.positions_restored,
        "positions_kept": result.positions_kept,
    }
    text = [
        (
            "from",
            f"{args.file} (exported {result.header.get('exported_at')} from {result.header.get('source')})",
        ),
        ("into", data["destination"]),
        (
            "events",
            f"{e.read:,} read, {e.inserted:,} new, {e.duplicates:,} already there, {e.superseded:,} replaced a lesser version",
        ),
        (
            "sessions",
            f"{result.sessions_restored:,} written, {result.sessions_kept:,} kept (further along in this store)",
        ),
        (
            "file positions",
            f"{result.positions_restored:,} written, {result.positions_kept:,} kept",
        ),
    ]
    _summary(ctx, data, text, stderr=False)
    return 0
