"""``netsky sources``: every installed agent source, where it looks, what it found."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._context import Context
from .._main import add_command
from .._output import print_json, table


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "sources",
        help="list installed agent sources: where each looks, what it found, what is new",
        description=(
            "Every installed agent source (built in, or a source plugin): the folders it\n"
            "looks in (its environment variable when set, else its defaults), the files or\n"
            "databases found there and how many are new or changed since `netsky ingest`\n"
            "last read them, and how its cost is known. A plugin that fails to load is\n"
            "listed with its error."
        ),
        examples=["netsky sources", "netsky sources --json"],
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run)


def run(ctx: Context) -> int:
    from ..._errors import NetskyError, NoStoreError
    from ...ingest.options import ingest_options
    from ...sources.select import sources_status

    note = None
    positions: dict[str, Any] | None
    try:
        machine = ctx.machine_id
        with ctx.storage(read=True) as store:
            positions = {p.path: p for p in store.query_transcript_positions(machine)}
    except NoStoreError:
        positions, note = None, "no store yet: every file found is new"
    except NetskyError as exc:
        positions, note = None, f"the store could not be read ({exc}): every file counts as new"
    options = ingest_options(ctx.config)
    extra = {"claude": options["claude_dirs"], "codex": options["codex_dirs"]}
    rows = sources_status(positions=positions, extra=extra, disabled=ctx.config.disabled_plugins())
    if ctx.json:
        print_json(rows)
        return 0
    if not rows:
        print("no agent source is installed")
        return 0
    table(
        ["SOURCE", "LOOKS IN", "VARIABLE", "FOUND", "PENDING", "STATUS"],
        [
            (
                r["name"],
                _where(r["roots"]),
                (r["env_var"] or "-") + (" (set)" if r["env_set"] else ""),
                _found(r),
                r["pending"] if r["files"] else "-",
                f"error: {r['error']}" if r["error"] else (r["title"] or ""),
            )
            for r in rows
        ],
    )
    if not any(r["files"] for r in rows):
        print(
            "no agent history found on this machine: set a source's variable, or run the "
            "agent once, then `netsky ingest`"
        )
    if note:
        sys.stderr.write(f"netsky: note: {note}\n")
    return 0


def _found(row: dict[str, Any]) -> str:
    if not row["files"]:
        return "nothing"
    names = {"lines": "files", "document": "files", "database": "databases"}
    parts: dict[str, int] = {}
    for fmt, n in row["formats"].items():
        parts[names.get(fmt, "files")] = parts.get(names.get(fmt, "files"), 0) + n
    return ", ".join(f"{n} {kind}" if n != 1 else f"1 {kind[:-1]}" for kind, n in parts.items())


def _where(roots: list[dict[str, Any]]) -> str:
    """The roots that exist, else the first one (absent) and how many more."""
    present = [r["path"] for r in roots if r["exists"]]
    if present:
        return ", ".join(present)
    if not roots:
        return "-"
    more = f" +{len(roots) - 1} more" if len(roots) > 1 else ""
    return f"{roots[0]['path']} (absent){more}"
