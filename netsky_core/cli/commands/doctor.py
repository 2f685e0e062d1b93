"""``netsky doctor``: retention guard and capture health (exit 1 on a problem)."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._main import add_command
from .._output import print_json

_MARK = {"ok": "ok     ", "warn": "warn   ", "problem": "PROBLEM"}


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "doctor",
        help="is history safe from the agents' cleanup, and is capture working?",
        description=(
            "Check what could lose history: Claude Code deletes transcripts older than\n"
            "cleanupPeriodDays (settings.json; default 30) when it starts, so a transcript\n"
            "due for deletion within 7 days that netsky has not read to its end is a problem\n"
            "(`netsky ingest` reads it). Codex keeps its rollouts. Then netsky's hook in\n"
            "Claude Code's user settings, the hook spools, the store and the age of the\n"
            "price table. Exit 1 when any check finds a problem."
        ),
        examples=["netsky doctor", "netsky doctor --json"],
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run)


def run(ctx: Context) -> int:
    from ..._open import open_for_reading
    from ...hooks.doctor import run_checks

    config = ctx.config
    checks = run_checks(
        config,
        ctx.machine_id,
        lambda: open_for_reading(ctx.url, config=config),
    )
    problems = sum(c.level == "problem" for c in checks)
    if ctx.json:
        print_json({"problems": problems, "checks": [c.as_dict() for c in checks]})
    else:
        for c in checks:
            print(f"{_MARK[c.level]}  {c.name:16s} {c.summary}")
            for t in c.details.get("at_risk", []) if c.level == "problem" else []:
                if t["state"] != "read":
                    print(
                        f"         {t['state']:11s} {t['path']} (deleted in {t['deleted_in_days']} days)"
                    )
        print(f"{problems} problem(s)" if problems else "no problems")
    return 1 if problems else 0
