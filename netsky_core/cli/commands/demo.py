"""``netsky demo``: the main job in one command.

Ingest this machine's agent history into the configured store (the default SQLite
file unless configured otherwise), then show the recent sessions, the usage of the latest week with data and of its month, the biggest sessions and the store.
On a machine with no Claude Code or Codex history, a small generated demo history is
ingested into a separate demo store instead, and the output says so.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from typing import Any

from ..._urls import mask_url
from .._context import Context
from .._main import add_command
from .events import count_value


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "demo",
        help="ingest your agent history (or a generated demo) and show sessions and recent usage",
        examples=[
            "netsky demo",
            "netsky demo --sessions 20",
            "netsky --db sqlite:///tmp/x.db demo",
        ],
    )
    p.add_argument(
        "--sessions",
        type=count_value,
        default=10,
        metavar="N",
        help="how many recent sessions to show",
    )
    p.add_argument(
        "--generated",
        action="store_true",
        help="use the generated demo history even if real history exists",
    )
    p.set_defaults(handler=run)


def _command(ctx: Context, parser: Any, argv: list[str]) -> int:
    """Run another netsky command in this process (same options, same output)."""
    base = []
    if ctx.args.config:
        base += ["--config", ctx.args.config]
    args = parser.parse_args([*base, *argv])
    return int(args.handler(Context(args)) or 0)


def run(ctx: Context) -> int:
    from ..._paths import data_dir
    from ...ingest.options import ingest_options
    from ...ingest.scan import discover
    from ...sources.select import plan_ingest
    from .._main import build_parser
    from .ingest import _print, ingest_with_progress

    options = ingest_options(ctx.config)
    extra = {"claude": options.pop("claude_dirs"), "codex": options.pop("codex_dirs")}
    sources = (
        []
        if ctx.args.generated
        else plan_ingest([], [], extra=extra, disabled=ctx.config.disabled_plugins()).files
    )
    url = ctx.url
    if not sources:
        from ...demo.history import write_demo_history

        root = data_dir() / "demo-history"
        marker = root / "written"
        if not marker.exists():
            write_demo_history(root)
            marker.write_text(date.today().isoformat() + "\n")
        if ctx.config.storage_url.origin != "flag":
            url = "sqlite:///" + str(data_dir() / "demo.db")
        print(
            "No agent history was found on this machine, so this demo uses a "
            f"generated history ({root}) and a separate demo store ({mask_url(url)})."
        )
        sources = discover(
            environ={"CLAUDE_CONFIG_DIR": str(root / "claude"), "CODEX_HOME": str(root / "codex")}
        )
    else:
        print(f"Ingesting {len(sources)} history files into {mask_url(url)}")
    summary = ingest_with_progress(ctx, sources, url=url, **options)
    _print(summary, True)
    parser = build_parser()
    sys.stdout.write("\nRecent sessions\n")
    sys.stdout.flush()
    _command(ctx, parser, ["--db", url, "sessions", "--limit", str(ctx.args.sessions)])
    from ..._open import open_storage

    with open_storage(url, read_only=True, config=ctx.config) as store:
        newest = store.info().newest_event
    if newest is None:
        sys.stdout.write(f"\nThe store ({mask_url(url)}) holds no events yet.\n")
        return 0
    # The week ending on the latest day with data (today when there is usage today):
    # someone who did not code today still sees their recent usage.
    last = min(newest.astimezone().date(), date.today())
    first = last - timedelta(days=6)
    recent = (
        "last 7 days" if last == date.today() else f"the 7 days up to {last}, the latest with data"
    )
    sys.stdout.write(f"\nUsage, {recent}\n")
    sys.stdout.flush()
    code = _command(
        ctx,
        parser,
        [
            "--db",
            url,
            "report",
            "daily",
            "--since",
            first.isoformat(),
            "--until",
            last.isoformat(),
            "--breakdown",
        ],
    )
    month = last.replace(day=1)
    sys.stdout.write(f"\nUsage, {month:%B %Y}\n")
    sys.stdout.flush()
    code = code or _command(
        ctx,
        parser,
        [
            "--db",
            url,
            "report",
            "monthly",
            "--since",
            month.isoformat(),
            "--until",
            last.isoformat(),
        ],
    )
    sys.stdout.write(f"\nBiggest sessions, {recent}\n")
    sys.stdout.flush()
    code = code or _command(
        ctx,
        parser,
        ["--db", url, "sessions", "--order", "cost", "--limit", "5", "--since", first.isoformat()],
    )
    sys.stdout.write(f"\nStore: {mask_url(url)}\n")
    return code
