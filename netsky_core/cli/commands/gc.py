"""``netsky gc``: delete events and sessions older than the retention period."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any

from .._context import Context
from .._errors import UsageError
from .._main import add_command
from .._output import fields, local, print_json

_HINT = "pass --retention 30d (units s m h d w), or set retention under [storage] in config.toml"


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "gc",
        help="delete events and sessions older than the retention period",
        description=(
            "Delete events older than now minus the retention period, and sessions whose\n"
            "last activity is older. File read positions are kept, so deleted events are not\n"
            "read again from transcripts. The retention defaults to [storage] retention in\n"
            "the config file. On a terminal gc asks before deleting; elsewhere it needs --yes."
        ),
        examples=[
            "netsky gc --retention 30d --dry-run",
            "netsky gc --retention 90d --yes",
            "netsky gc --yes                 # retention from the config file",
            "netsky gc --retention 2w --dry-run --json",
        ],
    )
    p.add_argument(
        "--retention", metavar="DURATION", help="keep this much history, e.g. 30d, 12h, 1w, 1d12h"
    )
    p.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run)


def _retention(ctx: Context) -> tuple[timedelta, str]:
    from ..._durations import parse_duration
    from ..._errors import ConfigError, DurationError

    text = ctx.args.retention
    if text is not None:
        try:
            return parse_duration(text), text
        except DurationError as exc:
            raise UsageError(f"invalid --retention: {exc}", hint=exc.hint) from None
    setting = ctx.config.retention
    if setting.value is None:
        raise UsageError("no retention period given", hint=_HINT)
    try:
        return parse_duration(str(setting.value)), str(setting.value)
    except DurationError as exc:
        raise ConfigError(
            f"invalid [storage] retention in {setting.source}: {exc}", hint=exc.hint
        ) from None


def _confirm(events: int, sessions: int, cutoff: str) -> bool:
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise UsageError(
            f"gc would delete {events:,} events and {sessions:,} sessions older than {cutoff}",
            hint="add --yes to delete without asking, or --dry-run to only count",
        )
    sys.stderr.write(
        f"delete {events:,} events and {sessions:,} sessions older than {cutoff}? [y/N] "
    )
    sys.stderr.flush()
    try:
        answer = input()
    except EOFError:
        answer = ""
    return answer.strip().lower() in ("y", "yes")


def run(ctx: Context) -> int:
    from datetime import UTC, datetime

    retention, text = _retention(ctx)
    now = datetime.now(UTC)
    args = ctx.args
    with ctx.storage() as store:
        result = store.gc(retention, dry_run=True, now=now)
        cutoff = local(result.cutoff, seconds=True)
        if not args.dry_run:
            pending = result.expired_events or result.expired_sessions
            if (
                pending
                and not args.yes
                and not _confirm(result.expired_events, result.expired_sessions, cutoff)
            ):
                sys.stderr.write("netsky: aborted; nothing was deleted\n")
                return 1
            result = store.gc(retention, now=now)
    if ctx.json:
        from ..._convert import unstructure

        print_json({**unstructure(result), "retention": text})
        return 0
    if result.dry_run:
        print("dry run: nothing was deleted")
        fields(
            [
                ("cutoff", f"{cutoff} (retention {text})"),
                ("events", f"{result.expired_events:,} would be deleted"),
                ("sessions", f"{result.expired_sessions:,} would be deleted"),
            ]
        )
    else:
        fields(
            [
                ("cutoff", f"{cutoff} (retention {text})"),
                ("events", f"{result.deleted_events:,} deleted"),
                ("sessions", f"{result.deleted_sessions:,} deleted"),
            ]
        )
    return 0
