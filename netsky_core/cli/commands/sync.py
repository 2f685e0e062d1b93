"""``netsky sync``: push what is new in the local store to a shared store; ``sync status``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from .._context import Context
from .._errors import UsageError
from .._main import add_command
from .._output import fields, local, print_json, progress
from .events import jsonl, positive_value

DEFAULT_INTERVAL = "30s"
_REPORT_EVERY = 5.0  # seconds between progress lines when stderr is not a terminal


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "sync",
        help="push what is new in the local store to a shared store (e.g. a team's PostgreSQL)",
        description=(
            "Push the events, sessions and file positions stored locally since the last\n"
            "sync to the store at --to (or [sync] to in the config file), in batches. How\n"
            "far each target got is kept in the local store after every batch, so a sync\n"
            "that is interrupted (killed, target down) goes on where it stopped. The target\n"
            "keeps each event once and bills each API response once, so machines syncing\n"
            "copies of the same transcripts count them once. With --watch, sync again\n"
            "every --interval until interrupted; a target that is down is retried.\n\n"
            "`netsky sync status` shows, per target, how many local events are not there yet."
        ),
        examples=[
            "netsky sync --to postgresql://me@db.example/netsky",
            "netsky sync --watch --interval 1m",
            "netsky sync status --json",
        ],
    )
    p.add_argument(
        "action",
        nargs="?",
        choices=["status"],
        help="status: show the lag per target instead of syncing",
    )
    p.add_argument(
        "--to",
        metavar="URL",
        action="append",
        default=None,
        help="target store (repeatable; default: [sync] to in the config file)",
    )
    p.add_argument("--watch", action="store_true", help="keep syncing every --interval")
    p.add_argument(
        "--interval",
        metavar="DURATION",
        default=None,
        help=f"time between syncs with --watch (default: [sync] interval, else {DEFAULT_INTERVAL})",
    )
    p.add_argument(
        "--batch",
        type=positive_value,
        default=5000,
        metavar="N",
        help="events per transaction on the target (default 5000)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(handler=run)


def _targets(ctx: Context, required: bool) -> list[str]:
    given = ctx.args.to
    if given:
        return list(given)
    value = ctx.config.section("sync").get("to", [])
    targets = [value] if isinstance(value, str) else list(value)
    if not targets and required:
        raise UsageError(
            "no sync target",
            hint='pass --to URL, or set [sync] to = "postgresql://..." in the config file',
        )
    return targets


def _interval(ctx: Context) -> timedelta:
    from ..._durations import parse_duration

    text = ctx.args.interval or ctx.config.section("sync").get("interval") or DEFAULT_INTERVAL
    try:
        return parse_duration(text)
    except Exception as exc:
        raise UsageError(f"--interval: {exc}") from None


def run(ctx: Context) -> int:
    if ctx.args.action == "status":
        return _status(ctx)
    targets = _targets(ctx, required=True)
    if ctx.args.watch:
        return _watch(ctx, targets, _interval(ctx))
    failed = 0
    with ctx.storage() as store:
        for url in targets:
            failed += _sync_once(ctx, store, url, raise_errors=len(targets) == 1)
    return 1 if failed else 0


def _sync_once(ctx: Context, store: Any, url: str, *, raise_errors: bool) -> int:
    """Sync ``store`` to ``url`` once; 0 when it worked, 1 when the target failed (the
    error is printed as one line, unless ``raise_errors``)."""
    from ..._errors import NetskyError
    from ..._urls import mask_url
    from ...sync import SameStoreError
    from ...sync.push import sync_store, target_key
    from .._main import report_error

    try:
        with (
            _exclusive(ctx.url, target_key(url)),
            ctx.storage(url) as target,
            _progress() as bar,
        ):
            result = sync_store(
                store,
                target,
                url=url,
                batch_size=ctx.args.batch,
                progress=bar.advance,
                on_start=lambda total: bar.update(total=total),
            )
    except SameStoreError as exc:
        raise UsageError(str(exc), hint=exc.hint) from None
    except NetskyError as exc:
        if raise_errors:
            raise
        sys.stderr.write(f"netsky: sync to {mask_url(url)} failed\n")
        report_error(exc)
        if ctx.json and ctx.args.watch:
            jsonl({"target": mask_url(url), "error": str(exc)})
        return 1
    _print_result(ctx, result)
    return 0


def _print_result(ctx: Context, result: Any) -> None:
    e = result.events
    if ctx.json:
        value = {
            "target": result.target,
            "events": e,
            "sessions_restored": result.sessions_restored,
            "positions_restored": result.positions_restored,
            "after_id": result.after_id,
            "behind": result.behind,
        }
        if ctx.args.watch:
            jsonl(value)  # one line per round and target, for a reader of the stream
        else:
            print_json(value)
        return
    fields(
        [
            ("to", result.target),
            (
                "events",
                f"{e.read:,} read, {e.inserted:,} new, {e.duplicates:,} already there, "
                f"{e.superseded:,} replaced a lesser version, {e.expired:,} older than its gc",
            ),
            ("sessions", f"{result.sessions_restored:,} updated"),
            ("file positions", f"{result.positions_restored:,} written"),
            ("behind", f"{result.behind:,} events"),
        ]
    )
    sys.stdout.flush()


def _watch(ctx: Context, targets: list[str], interval: timedelta) -> int:
    """Sync every ``interval`` until interrupted; a failing target is retried."""
    seconds = interval.total_seconds()
    with ctx.storage() as store:
        while True:
            for url in targets:
                _sync_once(ctx, store, url, raise_errors=False)
            time.sleep(seconds)


@contextmanager
def _exclusive(local_url: str, key: str) -> Iterator[None]:
    """One sync at a time from this local store to one target (a file lock in the
    state dir; released by the system when the process dies)."""
    import fcntl
    import hashlib

    from ..._paths import ensure_private_dir, state_dir

    folder = state_dir() / "sync"
    ensure_private_dir(folder)
    name = hashlib.sha256(f"{local_url}\n{key}".encode()).hexdigest()[:24]
    with open(folder / f"{name}.lock", "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            from ..._errors import StorageError

            raise StorageError(
                "another netsky sync from this store to this target is running",
                hint="wait for it to finish, or stop it",
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class _Lines:
    """Progress as a line on stderr every few seconds (stderr is not a terminal)."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.done = 0
        self._last = time.monotonic()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last >= _REPORT_EVERY:
            self._last = now
            of = f" of {self.total:,}" if self.total is not None else ""
            sys.stderr.write(f"netsky: sync: {self.done:,}{of} events sent\n")
            sys.stderr.flush()

    def update(self, **kwargs: Any) -> None:
        if "total" in kwargs:
            self.total = kwargs["total"]


@contextmanager
def _progress() -> Iterator[Any]:
    if sys.stderr.isatty():
        with progress("syncing events", unit="events") as bar:
            yield bar
    else:
        yield _Lines()


def _status(ctx: Context) -> int:
    from ...sync.push import sync_status

    targets = _targets(ctx, required=False)
    with ctx.storage(read=True) as store:
        rows = sync_status(store, targets)
    if ctx.json:
        print_json(
            [
                {
                    "target": r.target,
                    "key": r.key,
                    "behind": r.behind,
                    "after_id": r.after_id,
                    "events_sent": r.events_sent,
                    "synced_at": r.synced_at,
                }
                for r in rows
            ]
        )
        return 0
    if not rows:
        print("no sync targets (netsky sync --to URL, or [sync] to in the config file)")
        return 0
    for r in rows:
        fields(
            [
                ("target", r.target),
                ("behind", f"{r.behind:,} events"),
                ("sent", f"{r.events_sent:,} events"),
                ("last sync", local(r.synced_at) if r.synced_at else "never"),
            ]
        )
    return 0
