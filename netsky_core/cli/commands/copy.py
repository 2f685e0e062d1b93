"""``netsky copy SRC DST``: copy a whole store into another (e.g. SQLite to PostgreSQL)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._context import Context
from .._errors import UsageError
from .._main import add_command
from .._output import fields, print_json, progress
from .events import positive_value


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "copy",
        help="copy every event, session and file position from one store into another",
        description=(
            "Copy everything from the store at SRC_URL into the store at DST_URL (any two\n"
            "backends), then verify the copy. Events go in batches in the order they were\n"
            "stored; the destination skips what it already has, so running copy again only\n"
            "adds what is new. Sessions and file positions are then written as the source has\n"
            "them, except where the destination's are further along (kept and counted).\n"
            "The source is opened read-only. Exits 1 when the verification fails.\n\n"
            "This is how a SQLite store moves to a shared PostgreSQL."
        ),
        examples=[
            "netsky copy sqlite:////home/me/.local/share/netsky/netsky.db postgresql://me@db.example/netsky",
            "netsky copy sqlite:///old.db sqlite:///new.db --batch 20000",
            "netsky copy postgresql://me@db.example/netsky sqlite:///backup.db --json",
        ],
    )
    p.add_argument("src", metavar="SRC_URL", help="the store to copy from (opened read-only)")
    p.add_argument("dst", metavar="DST_URL", help="the store to copy into (created if needed)")
    p.add_argument(
        "--batch",
        type=positive_value,
        default=5000,
        metavar="N",
        help="events per transaction (default 5000)",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=run)


def run(ctx: Context) -> int:
    from ..._urls import mask_url
    from ...sync import SameStoreError, copy_store

    args = ctx.args
    with (
        ctx.storage(args.src, read=True) as src,
        ctx.storage(args.dst) as dst,
        progress("copying events", unit="events") as bar,
    ):
        try:
            result = copy_store(
                src,
                dst,
                batch_size=args.batch,
                progress=bar.advance,
                on_start=lambda total: bar.update(total=total),
                source_url=args.src,
                destination_url=args.dst,
            )
        except SameStoreError as exc:
            raise UsageError(str(exc), hint=exc.hint) from None
    if ctx.json:
        print_json(
            {
                "source": result.source,
                "destination": result.destination,
                "events": result.events,
                "sessions_restored": result.sessions_restored,
                "sessions_kept": result.sessions_kept,
                "positions_restored": result.positions_restored,
                "positions_kept": result.positions_kept,
                "source_events": result.source_events,
                "destination_events": result.destination_events,
                "verified": result.verified,
                "problems": list(result.problems),
            }
        )
    else:
        e = result.events
        fields(
            [
                ("from", result.source),
                ("to", result.destination),
                (
                    "events",
                    f"{e.read:,} read, {e.inserted:,} new, {e.duplicates:,} already there, {e.superseded:,} replaced a lesser version",
                ),
                (
                    "sessions",
                    f"{result.sessions_restored:,} written, {result.sessions_kept:,} kept (further along in the destination)",
                ),
                (
                    "file positions",
                    f"{result.positions_restored:,} written, {result.positions_kept:,} kept",
                ),
                (
                    "event totals",
                    f"source {result.source_events:,}, destination {result.destination_events:,}",
                ),
                ("verification", "ok" if result.verified else "FAILED"),
            ]
        )
    if not result.verified:
        for problem in result.problems:
            sys.stderr.write(f"netsky: copy verification: {problem}\n")
        sys.stderr.write(f"netsky: error: the copy into {mask_url(args.dst)} did not verify\n")
        return 1
    return 0
