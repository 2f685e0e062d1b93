"""``netsky events`` (filtered event list) and ``netsky tail`` (last events, ``-f`` follows).

Also the small argument helpers the other storage commands share: ``time_value``
(``--since`` / ``--until``) and ``count_value``.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

from ..._display import SHORT_ID, short_id
from .._context import Context
from .._main import add_command
from .._output import local, money, print_json, shorten, table, tokens

if TYPE_CHECKING:
    from datetime import datetime

    from ..._queries import EventQuery
    from ..._records import Event
    from ...storage.protocol import Storage


def time_value(text: str) -> datetime:
    """argparse type of ``--since`` / ``--until`` (see ``netsky_core._timeparse``)."""
    from ..._timeparse import TimeParseError, parse_time

    try:
        return parse_time(text)
    except TimeParseError as exc:
        raise argparse.ArgumentTypeError(f"{exc}; {exc.hint}") from None


def count_value(text: str) -> int:
    """argparse type of a count that may be 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def positive_value(text: str) -> int:
    """argparse type of a count of at least 1."""
    value = count_value(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def jsonl(record: Any) -> None:
    """One record as one compact JSON line."""
    import orjson

    from ..._convert import unstructure

    sys.stdout.buffer.write(orjson.dumps(unstructure(record)) + b"\n")
    sys.stdout.flush()


def tool_or_model(event: Event) -> str:
    """The tool of a tool event, else the model's short name (``sonnet-4-5``)."""
    from ..._display import short_model

    if event.tool_name:
        return event.tool_name
    return short_model(event.model) if event.model else ""


def event_cost(event: Event) -> str:
    """Cost of one event: blank when it is not an API request, "unknown" when unpriced."""
    from ..._records import EventType

    if event.cost_usd is None and event.event_type != EventType.API_REQUEST:
        return ""
    return money(event.cost_usd)


def _filter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--session", metavar="ID", help="only this session (its id or a unique prefix of it)"
    )
    p.add_argument("--machine", metavar="ID", help="only this machine id")
    p.add_argument(
        "--type",
        dest="types",
        metavar="TYPE",
        action="append",
        help="only this event type (repeatable), e.g. ApiRequest, PreToolUse",
    )
    p.add_argument("--tool", metavar="NAME", help="only events of this tool, e.g. Bash")
    api = p.add_mutually_exclusive_group()
    api.add_argument("--api-only", action="store_true", help="only ApiRequest events")
    api.add_argument("--no-api", action="store_true", help="leave out ApiRequest events")


def _event_type(name: str) -> str:
    """A known type in any letter case becomes its name; another is matched as given
    (agents add types netsky stores as they come), with a warning on stderr."""
    import difflib

    from ..._records import EventType

    known = EventType.resolve(name)
    if known is not None:
        return known
    close = difflib.get_close_matches(name, EventType.known(), n=1, cutoff=0.6)
    guess = f"did you mean {close[0]}? " if close else ""
    sys.stderr.write(
        f"netsky: warning: {name!r} is not a known event type, matched as stored "
        f"({guess}known: {', '.join(EventType.known())})\n"
    )
    return name


def _filtered(args: argparse.Namespace, store: Storage) -> EventQuery:
    from ..._queries import EventQuery
    from .._lookup import session_id_option

    query = EventQuery()
    if args.session:
        query = query.with_session(session_id_option(store, args.session, args.machine))
    if args.machine:
        query = query.with_machine(args.machine)
    if args.types:
        query = query.with_event_types([_event_type(t) for t in args.types])
    if args.tool:
        query = query.with_tool_name(args.tool)
    if args.api_only:
        query = query.api_requests_only()
    if args.no_api:
        query = query.exclude_api_requests()
    return query


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "events",
        help="list stored events, newest first",
        description=(
            "List stored events, newest first (--asc: oldest first).\n\n"
            "--since / --until take a date (2026-01-31, local midnight), a date and time\n"
            "(2026-01-31T14:30, local unless it has an offset) or a duration ago (2h, 3d, 1w);\n"
            "the window is since <= time < until."
        ),
        examples=[
            "netsky events --limit 20",
            "netsky events --session 3f2a9c1e --asc",
            "netsky events --type PreToolUse --tool Bash --since 2h",
            "netsky events --api-only --since 2026-01-31 --until 2026-02-01 --json",
        ],
    )
    _filter_args(p)
    p.add_argument("--since", type=time_value, metavar="TIME", help="events at or after TIME")
    p.add_argument("--until", type=time_value, metavar="TIME", help="events before TIME")
    p.add_argument(
        "--limit",
        type=count_value,
        default=50,
        metavar="N",
        help="at most N events (0: all; default 50)",
    )
    p.add_argument("--asc", action="store_true", help="oldest first")
    p.add_argument("--json", action="store_true", help="print the full event records as JSON")
    p.set_defaults(handler=run)

    t = add_command(
        sub,
        common,
        "tail",
        help="show the last stored events; -f follows new ones as they arrive",
        description=(
            "Show the last N stored events (in the order they were stored); with -f keep\n"
            "watching and print new events as they arrive, like `tail -f`. Ctrl-C stops."
        ),
        examples=[
            "netsky tail",
            "netsky tail -f",
            "netsky tail -f -n 0 --type ApiRequest --interval 5",
            "netsky tail -f --json | jq .event_type",
        ],
    )
    _filter_args(t)
    t.add_argument(
        "-n",
        "--lines",
        type=count_value,
        default=10,
        metavar="N",
        help="show the last N events first (default 10)",
    )
    t.add_argument("-f", "--follow", action="store_true", help="keep printing new events")
    t.add_argument(
        "--interval",
        type=_interval,
        default=1.0,
        metavar="SECONDS",
        help="how often to look for new events with -f (default 1)",
    )
    t.add_argument("--json", action="store_true", help="print one JSON object per line (JSONL)")
    t.set_defaults(handler=run_tail)


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0.05 <= value <= 3600:
        raise argparse.ArgumentTypeError("must be between 0.05 and 3600 seconds")
    return value


def run(ctx: Context) -> int:
    args = ctx.args
    with ctx.storage(read=True) as store:
        query = _filtered(args, store).with_time_range(args.since, args.until)
        if args.asc:
            query = query.with_direction("asc")
        if args.limit:
            query = query.with_limit(args.limit)
        events = store.query(query)
    if ctx.json:
        print_json(events)
        return 0
    if not events:
        print("no events match")
        return 0
    table(
        ["TIME", "SESSION", "TYPE", "TOOL/MODEL", "TOKENS", "COST"],
        [
            (
                local(e.timestamp, seconds=True),
                short_id(e.session_id),
                e.event_type,
                shorten(tool_or_model(e), 30),
                tokens(e.total_tokens) if e.total_tokens is not None else "",
                event_cost(e),
            )
            for e in events
        ],
        right=(4, 5),
    )
    return 0


def _line(event: Event) -> str:
    total = event.total_tokens
    parts = [
        local(event.timestamp, seconds=True),
        short_id(event.session_id).ljust(SHORT_ID),
        shorten(event.event_type, 18).ljust(18),
        shorten(tool_or_model(event), 24).ljust(24),
        (tokens(total) if total is not None else "").rjust(6),
        event_cost(event).rjust(8),
    ]
    return "  ".join(parts).rstrip()


def _emit(ctx: Context, events: list[Event]) -> None:
    for e in events:
        if ctx.json:
            jsonl(e)
        else:
            sys.stdout.write(_line(e) + "\n")
    sys.stdout.flush()


def _newest_id(store: Storage) -> int | None:
    from ..._queries import EventQuery

    newest = store.query(EventQuery().order_by_id().with_direction("desc").with_limit(1))
    return newest[0].id if newest else None


def run_tail(ctx: Context) -> int:
    from ...storage.protocol import EventFollower

    args = ctx.args
    try:
        with ctx.storage(read=True) as store:
            base = _filtered(args, store).order_by_id()
            cursor = _newest_id(store)
            if args.lines and cursor is not None:
                last = store.query(base.with_direction("desc").with_limit(args.lines))
                # events stored after ``cursor`` are printed by the follow loop
                _emit(ctx, [e for e in reversed(last) if e.id is not None and e.id <= cursor])
            follower = EventFollower(store, base, after_id=cursor)
            while args.follow:
                time.sleep(args.interval)
                for batch in follower.poll():
                    _emit(ctx, batch)
    except KeyboardInterrupt:
        return 0
    return 0
