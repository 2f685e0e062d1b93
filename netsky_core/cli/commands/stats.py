"""``netsky stats``: session, token, request and cost totals, computed by the store."""

from __future__ import annotations

import argparse
from typing import Any

from ..._display import request_cost
from .._context import Context
from .._main import add_command
from .._output import fields, print_json
from .events import time_value


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "stats",
        help="totals: sessions, API requests, tokens, cost",
        description=(
            "Totals over the selected sessions, computed by the store.\n\n"
            "--since takes a date (2026-01-31), a date and time (2026-01-31T14:30) or a\n"
            "duration ago (2h, 3d, 1w) and keeps sessions active since then. A cost shown as\n"
            "unknown means no request of those sessions could be priced; it is never shown as $0;\n"
            "- means there was no API request to price."
        ),
        examples=[
            "netsky stats",
            "netsky stats --since 1w --framework claude",
            "netsky stats --active --machine laptop-3f2a --json",
        ],
    )
    p.add_argument(
        "--active",
        action="store_true",
        help="only sessions still going (not ended, agent process alive, not idle)",
    )
    p.add_argument(
        "--framework",
        metavar="NAME",
        help="only this agent framework (a source name: claude, codex, gemini, ...)",
    )
    p.add_argument("--machine", metavar="ID", help="only this machine id")
    p.add_argument(
        "--since", type=time_value, metavar="TIME", help="only sessions active since TIME"
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run)


def _n(value: int) -> str:
    return f"{value:,}"


def run(ctx: Context) -> int:
    from ..._queries import StorageStatsQuery

    args = ctx.args
    query = StorageStatsQuery()
    if args.active:
        query = query.active_only()
    if args.framework:
        query = query.with_framework(args.framework)
    if args.machine:
        query = query.with_machine(args.machine)
    if args.since:
        query = query.with_since(args.since)
    from ...live.liveness import idle_timeout, truthful_stats

    idle = idle_timeout(ctx.config)
    with ctx.storage(read=True) as store:
        stats = truthful_stats(store, query, machine_id=ctx.machine_id, idle=idle)
    if ctx.json:
        print_json(stats)
        return 0
    fields(
        [
            ("sessions", f"{_n(stats.session_count)} ({_n(stats.active_session_count)} active)"),
            ("API requests", _n(stats.total_api_requests)),
            ("input tokens", _n(stats.tokens_input)),
            ("output tokens", _n(stats.tokens_output)),
            ("cache read tokens", _n(stats.tokens_cache_read)),
            ("cache write tokens", _n(stats.tokens_cache_write)),
            ("total tokens", _n(stats.total_tokens)),
            ("total cost", request_cost(stats.total_cost_usd, stats.total_api_requests)),
        ]
    )
    return 0
