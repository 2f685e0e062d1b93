"""``netsky budget``: usage against every limit ``[budget]`` sets."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._main import add_command
from .._output import print_json, table


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "budget",
        help="usage against the limits of [budget] (per session, day, week, month, project, branch)",
        description=(
            "Usage against every limit [budget] sets in the config file, from the usage the\n"
            "store keeps precomputed. Days, weeks (from Monday) and months are those of the\n"
            "report time zone ([report] timezone, else the system's) and count every agent's\n"
            "responses; a session limit counts the session given with --session. The limits\n"
            '[budget.project."NAME or PATH"] and [budget.branch."NAME or GLOB"] set count the\n'
            "responses made in that project (the directory, or every directory of that name,\n"
            "and what is inside) or on that branch; their session limits count a session\n"
            "working there. A limit is reached at or above it: then `netsky hook` warns on\n"
            'UserPromptSubmit and PreToolUse, or with mode = "block" refuses them.'
        ),
        examples=[
            "netsky budget",
            "netsky budget --session 3f2a9c1e-7d0b-4c52-9b8e-0c1d2e3f4a5b --json",
            "netsky budget --json   # every limit, project and branch tables too",
        ],
    )
    p.add_argument("--session", metavar="ID", help="the session a session limit applies to")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run)


def _amount(unit: str, value: float | None) -> str:
    if value is None:
        return "-"
    return f"${value:,.2f}" if unit == "usd" else f"{int(value):,}"


def _state(s: Any, session: str | None) -> str:
    if s.used is not None:
        return "REACHED" if s.reached else "ok"
    if session is None:
        return "no session (--session)"
    return f"not this session's {s.limit.scope}" if s.limit.scope else "session not found"


def run(ctx: Context) -> int:
    from ...live.reader import StoreReader
    from ...live.snapshot import take_snapshot

    config = ctx.config
    machine_id = ctx.machine_id
    with ctx.storage(read=True) as store:
        snap = take_snapshot(
            StoreReader(store=store),
            config,
            machine_id=machine_id,
            session_id=ctx.args.session,
            with_block=False,
            every_limit=True,
        )
    if ctx.json:
        print_json(
            {
                "mode": snap.mode,
                "session": ctx.args.session,
                "cwd": snap.cwd,
                "branch": snap.branch,
                "limits": [s.as_dict() for s in snap.budget],
            }
        )
        return 0
    if not snap.budget:
        print("no budget set (add limits such as day_usd = 20.0 under [budget] in the config file)")
        return 0
    rows = []
    for s in snap.budget:
        pct = s.fraction
        rows.append(
            [
                f"{s.limit.label} ({'USD' if s.limit.unit == 'usd' else 'tokens'})",
                _amount(s.limit.unit, s.used),
                _amount(s.limit.unit, s.limit.amount),
                "-" if pct is None else f"{pct * 100:.0f}%",
                _state(s, ctx.args.session),
            ]
        )
    table(["LIMIT", "USED", "OF", "%", "STATE"], rows, right=(1, 2, 3))
    print(f"mode: {snap.mode}")
    return 0
