"""``netsky config``: the resolved settings and where each came from."""

from __future__ import annotations

import argparse
from typing import Any

from ..._config import resolve_machine_id
from ..._urls import mask_url
from .._context import Context
from .._main import add_command
from .._output import fields, print_json


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "config",
        help="show the resolved configuration and where each setting came from",
        examples=["netsky config", "netsky config --json", "netsky --db sqlite:///x.db config"],
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run)


def run(ctx: Context) -> int:
    config = ctx.config
    machine = resolve_machine_id(config)
    settings = [config.storage_url, config.retention, machine]
    rows = []
    for s in settings:
        value = mask_url(s.value) if s.name == "storage.url" else s.value
        rows.append({"name": s.name, "value": value, "origin": s.origin, "source": s.source})
    info = {
        "config_file": str(config.path) if config.path else None,
        "config_file_default": str(config.default_path),
        "settings": rows,
    }
    if ctx.json:
        print_json(info)
        return 0
    fields(
        [
            (
                "config file",
                str(config.path) if config.path else f"none (would be {config.default_path})",
            ),
            *[(r["name"], f"{r['value']}   [{r['origin']}: {r['source']}]") for r in rows],
        ]
    )
    return 0
