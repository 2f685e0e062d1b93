"""``netsky backends``: every discovered storage plugin."""

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
        "backends",
        help="list installed storage backends (plugins)",
        examples=["netsky backends", "netsky backends --json"],
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run)


def run(ctx: Context) -> int:
    from ...plugins._list import list_plugins

    plugins = list_plugins(ctx.config)
    if ctx.json:
        print_json(
            [
                {
                    "name": p.name,
                    "schemes": list(p.schemes),
                    "distribution": p.distribution,
                    "version": p.version,
                    "module": p.module,
                    "description": p.description,
                    "disabled": p.disabled,
                    "error": p.error,
                }
                for p in plugins
            ]
        )
        return 0
    if not plugins:
        print("no netsky storage plugins are installed")
        return 1
    table(
        ["NAME", "SCHEMES", "DISTRIBUTION", "VERSION", "STATUS"],
        [
            (
                p.name,
                ", ".join(p.schemes) or "-",
                p.distribution or "-",
                p.version or "-",
                "disabled" if p.disabled else (f"error: {p.error}" if p.error else p.description),
            )
            for p in plugins
        ],
    )
    return 0
