"""``netsky reprice``: stored costs recomputed under the current prices."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._main import add_command
from .._output import money, print_json, table
from .events import time_value


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "reprice",
        help="recompute stored costs after a price change (price table or [pricing] override)",
        description=(
            "Recompute the cost of every stored API response read from a Claude transcript\n"
            "or a Codex rollout with the current prices (the shipped table, [pricing] models\n"
            "overrides and [pricing] file), exactly as a fresh ingest would; sessions, usage\n"
            "buckets and every report follow. Runs in batches of short transactions and is\n"
            "idempotent: a second run changes nothing. Costs netsky did not compute (a\n"
            "transcript line's own costUSD, hooks, OpenTelemetry) are kept.\n\n"
            "--since takes a date, a date and time or a duration ago (2h, 3d, 1w)."
        ),
        examples=["netsky reprice", "netsky reprice --since 30d --json"],
    )
    p.add_argument("--since", type=time_value, metavar="TIME", help="only responses since TIME")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run)


def run(ctx: Context) -> int:
    from ...ingest.options import ingest_options
    from ...ingest.reprice import repricer

    prices = ingest_options(ctx.config)["prices"]
    with ctx.storage() as store:
        changed = store.recost(repricer(prices), since=ctx.args.since)  # type: ignore[attr-defined]
    per_model: dict[str | None, list[Any]] = {}
    for old, new in changed:
        row = per_model.setdefault(old.model, [0, 0.0, 0.0, 0])
        row[0] += 1
        row[1] += old.cost_usd or 0.0
        row[2] += new.cost_usd or 0.0
        row[3] += (old.cost_usd is None) != (new.cost_usd is None)
    summary = [
        {
            "model": model,
            "responses": n,
            "cost_before_usd": before,
            "cost_after_usd": after,
            "priced_changed": flips,
        }
        for model, (n, before, after, flips) in sorted(
            per_model.items(), key=lambda kv: (kv[0] is None, kv[0] or "")
        )
    ]
    if ctx.json:
        print_json({"changed": len(changed), "models": summary})
        return 0
    if not changed:
        print("every stored cost is what the current prices give: nothing changed")
        return 0
    table(
        ["MODEL", "RESPONSES", "BEFORE", "AFTER"],
        [
            [
                r["model"] or "(no model)",
                f"{r['responses']:,}",
                money(r["cost_before_usd"]),
                money(r["cost_after_usd"]),
            ]
            for r in summary
        ],
        right=(1, 2, 3),
    )
    print(f"{len(changed):,} responses repriced")
    return 0
