"""``netsky spool``: hook events waiting for an unreachable store."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._context import Context
from .._main import add_command
from .._output import fields, print_json, table


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "spool",
        help="show or replay hook events that could not be stored",
        description=(
            "When `netsky hook` cannot reach the store it appends the event to a local spool "
            "(fsync'd) and exits 0; every store the hook writes to (its --db URL and --config "
            "file, or NETSKY_DATABASE_URL and NETSKY_CONFIG) has a spool of its own. The next "
            "successful hook for that store drains it; `netsky spool replay` does it now, each "
            "spool into its own store (with --db/--config: only the spool of that store; with "
            "--target KEY and --db: that spool into the --db store). Replaying twice stores "
            "each event once."
        ),
        examples=[
            "netsky spool status",
            "netsky spool replay",
            "netsky --db postgresql://h/db spool replay --json",
            "netsky --db sqlite:///recovered.db spool replay --target t-0123456789abcdef",
        ],
    )
    p.add_argument("action", choices=["status", "replay"], help="what to do")
    p.add_argument("--target", metavar="KEY", help="only this spool (a key from `spool status`)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run)


def _selected(ctx: Context) -> tuple[list[Any], bool]:
    """The spools this invocation means, and whether their records go to the
    --db/--config store instead of their own."""
    from ..._errors import NetskyError
    from ...hooks.spool import all_spools, hook_spool
    from .._errors import UsageError

    explicit = bool(ctx.args.db or ctx.args.config)
    spools = all_spools()
    if ctx.args.target:
        chosen = [s for s in spools if s.key == ctx.args.target]
        if not chosen:
            keys = ", ".join(s.key for s in spools) or "none"
            raise UsageError(f"no spool {ctx.args.target!r} (spools: {keys})")
        return chosen, explicit
    if explicit:
        try:
            wanted = hook_spool(ctx.args.db, ctx.args.config).key
        except OSError as exc:  # pragma: no cover - getcwd gone
            raise NetskyError(f"cannot resolve the spool of that store: {exc}") from exc
        return [s for s in spools if s.key == wanted], False
    return spools, False


def describe_spool(spool: Any) -> dict[str, Any]:
    """One target's spool for `spool status` and `hooks status` (no password)."""
    from ..._urls import mask_url

    target = spool.target
    return {
        "key": spool.key,
        "db": mask_url(target["db"]) if target["db"] else None,
        "config": target["config"],
        "pending": spool.count(),
        "backing_off": spool.backing_off(),
        "drainer_running": spool.drainer_running(),
        "folder": str(spool.folder),
    }


def run(ctx: Context) -> int:
    from ..._errors import NetskyError
    from ...hooks.run import replay_spool
    from ...hooks.spool import REJECTED, spool_root

    spools, redirect = _selected(ctx)
    root = spool_root()
    rejected = f"{root}/{REJECTED}"
    if ctx.args.action == "status":
        rejected_lines = 0
        try:
            with open(rejected, "rb") as fh:
                rejected_lines = sum(1 for line in fh.read().splitlines() if line.strip())
        except FileNotFoundError:
            pass
        targets = [describe_spool(s) for s in spools]
        pending = sum(t["pending"] for t in targets)
        info = {"folder": root, "pending": pending, "rejected": rejected_lines, "targets": targets}
        if ctx.json:
            print_json(info)
            return 0
        fields(
            [
                ("spool folder", root),
                ("pending events", pending),
                ("rejected lines", f"{rejected_lines} (in {rejected})"),
            ]
        )
        if targets:
            print()
            rows = [
                [
                    t["key"],
                    str(t["pending"]),
                    t["db"] or "(default)",
                    t["config"] or "(default)",
                    "yes" if t["backing_off"] else "",
                    {True: "running", False: "", None: "?"}[t["drainer_running"]],
                ]
                for t in targets
            ]
            table(["spool", "pending", "store", "config", "backing off", "drainer"], rows)
        return 0
    results = []
    failed = 0
    for spool in spools:
        entry = describe_spool(spool)
        try:
            config = ctx.config if redirect else spool.load_config()
            entry["into"] = _describe_url(config)
            entry["replayed"], entry["rejected"] = replay_spool(spool, config)
            entry["error"] = None
        except NetskyError as exc:
            if getattr(ctx.args, "debug", False):
                raise
            failed += 1
            entry.update(replayed=0, rejected=0, error=" ".join(str(exc).split()))
        entry["pending"] = spool.count()
        results.append(entry)
    total = {
        "replayed": sum(r["replayed"] for r in results),
        "rejected": sum(r["rejected"] for r in results),
        "pending": sum(r["pending"] for r in results),
        "failed": failed,
        "targets": results,
    }
    if ctx.json:
        print_json(total)
    else:
        print(
            f"replayed {total['replayed']} spooled events"
            + (
                f"; {total['rejected']} unreadable lines set aside in {rejected}"
                if total["rejected"]
                else ""
            )
        )
    for r in results:
        if r["error"]:
            sys.stderr.write(
                f"netsky: error: spool {r['key']} ({r['db'] or 'default store'}): {r['error']}; "
                f"{r['pending']} events stay spooled\n"
            )
    return 1 if failed else 0


def _describe_url(config: Any) -> str:
    from ..._urls import mask_url

    return mask_url(str(config.storage_url.value))
