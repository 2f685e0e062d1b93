"""``netsky config``: the resolved settings and where each came from."""

from __future__ import annotations

import argparse
from typing import Any

from ..._config import all_settings, resolve_machine_id
from ..._errors import NetskyError
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
        description=(
            "Show the resolved configuration and where each setting came from, after\n"
            "checking it: the config file's keys and values, the price overrides, the\n"
            "backend serving the storage URL and the options of every [storage.<scheme>]\n"
            "table (nothing is opened). A problem is one error line and exit code 1."
        ),
        examples=[
            "netsky config",
            "netsky config --json",
            "netsky config --check",
            "netsky --db sqlite:///x.db config",
        ],
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--check", action="store_true", help="only check: print one line, exit 0 when valid"
    )
    p.set_defaults(handler=run)


def run(ctx: Context) -> int:
    from ..._config_check import check_config

    config = ctx.config
    problem: NetskyError | None = None
    try:
        notes = check_config(config)
    except NetskyError as exc:
        if ctx.args.check:
            raise
        notes, problem = [], exc  # shown after the settings, which help to find it
    if ctx.args.check:
        where = str(config.path) if config.path else "no config file"
        print(f"configuration OK ({where})" + "".join(f"; {n}" for n in notes))
        return 0
    settings = (
        all_settings(config)
        if problem is None
        else [config.storage_url, config.retention, resolve_machine_id(config)]
    )
    rows = []
    for s in settings:
        value = mask_url(s.value) if s.name == "storage.url" else s.value
        rows.append({"name": s.name, "value": value, "origin": s.origin, "source": s.source})
    info = {
        "config_file": str(config.path) if config.path else None,
        "config_file_default": str(config.default_path),
        "settings": rows,
        "notes": notes,
    }
    if ctx.json:
        print_json(info)
    else:
        fields(
            [
                (
                    "config file",
                    str(config.path) if config.path else f"none (would be {config.default_path})",
                ),
                *[
                    (r["name"], f"{_text(r['value'])}   [{r['origin']}: {r['source']}]")
                    for r in rows
                ],
                *[("note", note) for note in notes],
            ]
        )
    if problem is not None:
        raise problem
    return 0


def _text(value: Any) -> str:
    """A setting's value as the config file would spell it; ``none`` when unset."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)
