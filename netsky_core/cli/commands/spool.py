"""``netsky spool``: hook events waiting for an unreachable store."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._main import add_command
from .._output import fields, print_json


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "spool",
        help="show or replay hook events that could not be stored",
        description=(
            "When `netsky hook` cannot reach the store it appends the event to a local spool "
            "(fsync'd) and exits 0. The next successful hook drains it; `netsky spool replay` "
            "does it now. Replaying twice stores each event once."
        ),
        examples=[
            "netsky spool status",
            "netsky spool replay",
            "netsky --db postgresql://h/db spool replay --json",
        ],
    )
    p.add_argument("action", choices=["status", "replay"], help="what to do")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run)


def run(ctx: Context) -> int:
    from ..._config import resolve_machine_id
    from ...hooks.run import store_records
    from ...hooks.spool import default_spool
    from ...ingest.options import redactor

    spool = default_spool()
    rejected = spool.folder / "rejected.jsonl"
    rejected_lines = 0
    if rejected.exists():
        rejected_lines = sum(1 for line in rejected.read_bytes().splitlines() if line.strip())
    if ctx.args.action == "status":
        info = {"folder": str(spool.folder), "pending": spool.count(), "rejected": rejected_lines}
        if ctx.json:
            print_json(info)
        else:
            fields(
                [
                    ("spool folder", info["folder"]),
                    ("pending events", info["pending"]),
                    ("rejected lines", f"{rejected_lines} (in {rejected})"),
                ]
            )
        return 0
    machine = resolve_machine_id(ctx.config).value
    with ctx.storage() as store:
        redact = redactor(ctx.config)
        stored, bad = spool.replay(lambda records: store_records(store, records, machine, redact))
    result = {"replayed": stored, "rejected": bad, "pending": spool.count()}
    if ctx.json:
        print_json(result)
    else:
        print(
            f"replayed {stored} spooled events"
            + (f"; {bad} unreadable lines set aside in {rejected}" if bad else "")
        )
    return 0
