"""``netsky report daily|weekly|monthly|session|model|project|blocks``: tokens and cost."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..._display import count, money, short_id, short_model
from .._context import Context
from .._errors import UsageError
from .._main import add_command
from .._output import duration, local, print_json, shorten, table

KINDS = ("daily", "weekly", "monthly", "session", "model", "project", "blocks")
_HEADERS = ("input", "output", "cache write", "cache read", "total", "cost")
_TOKENS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_tokens",
    "cache_read_tokens",
    "total_tokens",
)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "report",
        help="tokens and cost per day, week, month, session, model, project or 5-hour block",
        description=(
            "Token and cost totals of the stored API responses, grouped by calendar day, week\n"
            "(Monday first), month, session, model, project (working directory) or 5-hour\n"
            "billing block (a block starts at the first response floored to the hour and lasts\n"
            "5 hours; the next response after it starts a new one). Days are local days, or\n"
            "days in --timezone; --since / --until are inclusive days. Every report sums the\n"
            "same responses, so their totals agree. A model without a known price has\n"
            "unknown cost: shown as 'unknown' (null in JSON) and counted in a note, never as $0."
        ),
        examples=[
            "netsky report daily",
            "netsky report daily --since 2026-01-01 --until 2026-01-31 --breakdown",
            "netsky report monthly --framework codex --json",
            "netsky report session --since 2026-02-01 --timezone UTC",
            "netsky report blocks --active",
            "netsky report daily --html usage.html",
        ],
    )
    p.add_argument("kind", choices=KINDS, metavar="KIND", help=", ".join(KINDS))
    p.add_argument(
        "--since", metavar="DAY", help="first day included (YYYY-MM-DD, today, yesterday, 7d, ...)"
    )
    p.add_argument("--until", metavar="DAY", help="last day included (as --since)")
    p.add_argument("--timezone", metavar="ZONE", help="IANA time zone of the days (default: local)")
    p.add_argument(
        "--framework",
        metavar="NAME",
        help="only this agent's usage (a source name: claude, codex, gemini, ...; see `netsky sources`)",
    )
    p.add_argument("--breakdown", action="store_true", help="per-model rows under each row")
    p.add_argument(
        "--start-of-week",
        choices=("monday", "sunday"),
        default="monday",
        help="first day of a week (weekly; default monday)",
    )
    p.add_argument(
        "--active",
        action="store_true",
        help="blocks: the active block as a card (elapsed, remaining, usage, burn rate, projection)",
    )
    p.add_argument(
        "--token-limit",
        type=_token_limit,
        metavar="N|max",
        help="blocks: the block's token limit (max: the most tokens an earlier block used); "
        "the card shows the share used now and projected",
    )
    p.add_argument(
        "--live",
        action="store_true",
        help="blocks: the active block's card, redrawn in place until Ctrl-C",
    )
    p.add_argument(
        "--refresh",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="with --live: seconds between redraws (default 5)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--html",
        metavar="FILE",
        help="also write a self-contained HTML page with charts (no network needed)",
    )
    p.set_defaults(handler=run)


def run(ctx: Context) -> int:
    from ..._errors import ConfigError
    from ...analytics import parse_day
    from ...analytics.usage_report import usage_report

    args = ctx.args
    for flag, given in (
        ("--active", args.active),
        ("--live", args.live),
        ("--token-limit", args.token_limit is not None),
    ):
        if given and args.kind != "blocks":
            raise UsageError(f"{flag} applies to `netsky report blocks` only")
    if args.live:
        if ctx.json or args.html:
            raise UsageError("--live draws a card on the terminal: it takes no --json or --html")
        if not 0.2 <= args.refresh <= 3600:
            raise UsageError("--refresh must be between 0.2 and 3600 seconds")
        return _live(ctx)
    if args.framework is not None:
        _check_framework(ctx, args.framework)
    options = dict(timezone=args.timezone, framework=args.framework, config=ctx.config)
    try:
        since = parse_day(args.since, "--since", args.timezone) if args.since else None
        until = parse_day(args.until, "--until", args.timezone) if args.until else None
        if args.html:
            from ...analytics.reports import build_report, dashboard, load_usage

            data = load_usage(
                ctx.url, since=since, until=until, kinds=(args.kind,), html=True, **options
            )
        else:
            # daily / weekly / monthly / model from the store's usage buckets: no DuckDB,
            # and the time does not grow with the history
            report = usage_report(
                args.kind,
                ctx.url,
                since=since,
                until=until,
                breakdown=args.breakdown,
                start_of_week=args.start_of_week,
                use_buckets=True,
                **options,
            )
    except ConfigError as exc:
        raise UsageError(str(exc), hint=exc.hint) from None
    if args.html:
        with data:
            report = build_report(
                data, args.kind, breakdown=args.breakdown, start_of_week=args.start_of_week
            )
            board = dashboard(data)
    if args.active:
        everything, report = report, _only_active(report)
        card = _card(everything, args.token_limit)
        if ctx.json:
            data = report.to_json()
            data["card"] = _jsonable(card)
            print_json(data)
            return 0
        if not args.html:
            print(_card_text(everything, card), end="")
            return 0
    if args.html:
        from ...analytics import render_html

        Path(args.html).write_text(render_html(report, board), encoding="utf-8")
        sys.stderr.write(f"wrote {args.html}\n")
    return _show(ctx, report)


def _check_framework(ctx: Context, name: str) -> None:
    """A ``--framework`` no installed source has is a usage error (a typo would
    otherwise show an empty report)."""
    from ...plugins._sources import default_sources

    known = default_sources(ctx.config.disabled_plugins()).known()
    if name not in known:
        raise UsageError(
            f"unknown framework {name!r}",
            hint=f"installed sources: {', '.join(known) or 'none'}; see `netsky sources`",
        )


def _show(ctx: Context, report: Any) -> int:
    limits = _plan_limits(ctx) if report.kind == "blocks" else None
    if ctx.json:
        data = report.to_json()
        if limits is not None:
            data["plan_limits"] = limits
        print_json(data)
    elif not ctx.args.html:
        _print(report)
        for framework, value in (limits or {}).items():
            parts = []
            for w in value["windows"]:
                text = f"{w['window']} {w['used_percent']:.0f}%"
                if w.get("resets_at"):
                    resets = datetime.fromtimestamp(w["resets_at"], UTC)
                    text += f" (resets {local(resets)})"
                parts.append(text)
            print(f"plan limits ({framework}, {local(value['at'])}): {', '.join(parts)}")
    return 0


def _plan_limits(ctx: Context) -> dict[str, Any]:
    """The latest plan usage windows each agent reported (``PlanLimits`` events)."""
    from ...live.limits import latest_plan_limits

    with ctx.storage(read=True) as store:
        return latest_plan_limits(store)


def _only_active(report: Any) -> Any:
    return report.only_active()


def _token_limit(text: str) -> int | str:
    if text == "max":
        return text
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of tokens or 'max': {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of tokens: {text!r}")
    return value


def _jsonable(value: Any) -> Any:
    from ...analytics.results import _jsonable as convert

    return convert(value)


def _card(report: Any, token_limit: int | str | None) -> Any:
    from ...analytics.card import active_card, token_limit_of

    return active_card(report, token_limit=token_limit_of(report, token_limit))


def _card_text(report: Any, card: Any) -> str:
    """The card as text lines (what --active prints and --live redraws)."""
    if card is None:
        if report.rows:
            latest = report.rows[-1].values["last_activity"]
            return f"no active block: the latest usage was at {_local(latest, report.timezone)}\n"
        return "no API usage in the store\n"
    tz = report.timezone
    lines = [
        f"ACTIVE 5-hour block: {_local(card['start'], tz)} - "
        f"{_local(card['end'], tz, '%H:%M')} ({tz})",
        f"  elapsed     {duration(card['elapsed_seconds'])} ({card['elapsed_percent']:.0f}%)",
        f"  remaining   {duration(card['remaining_seconds'])}",
        f"  usage       {card['total_tokens']:,} tokens, {cost(card['cost_usd'])}, "
        f"{card['requests']:,} requests"
        + (
            f" ({', '.join(short_model(m) for m in card['models'] if m)})" if card["models"] else ""
        ),
    ]
    burn, projection, limit = card["burn_rate"], card["projection"], card["token_limit"]
    if burn:
        rate = f"  burn rate   {burn['tokens_per_minute']:,.0f} tokens/min"
        if burn["cost_usd_per_hour"] is not None:
            rate += f", {cost(burn['cost_usd_per_hour'])}/h"
        lines.append(rate)
    if projection:
        lines.append(
            f"  projection  {projection['total_tokens']:,} tokens, "
            f"{cost(projection['cost_usd'])} at the block's end"
        )
    if limit:
        lines.append(
            f"  limit       {limit['tokens']:,} tokens: {limit['used_percent']:.1f}% used, "
            f"{limit['projected_percent']:.1f}% projected, {limit['remaining_tokens']:,} left"
            + ("" if limit["status"] == "ok" else f" [{limit['status'].upper()}]")
        )
    return "\n".join(lines) + "\n"


def _live(ctx: Context) -> int:
    """Redraw the active block's card every ``--refresh`` seconds until Ctrl-C (on a
    terminal in place; in a pipe one card after another)."""
    import time

    from ...analytics.usage_report import usage_report

    args = ctx.args
    terminal = sys.stdout.isatty()
    try:
        while True:
            report = usage_report(
                "blocks",
                ctx.url,
                timezone=args.timezone,
                framework=args.framework,
                config=ctx.config,
                use_buckets=True,
            )
            text = _card_text(report, _card(report, args.token_limit))
            stamp = (
                f"(every {args.refresh:g}s, Ctrl-C ends; {datetime.now().strftime('%H:%M:%S')})\n"
            )
            if terminal:
                sys.stdout.write("\x1b[H\x1b[2J" + text + stamp)
            else:
                sys.stdout.write(text + stamp)
            sys.stdout.flush()
            time.sleep(args.refresh)
    except KeyboardInterrupt:
        return 0


# -- tables -------------------------------------------------------------------------------


def number(value: int | None) -> str:
    return count(value)


def cost(value: float | None, *, partial: bool = False) -> str:
    return money(value) + ("*" if partial and value is not None else "")


def _local(value: datetime | None, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return "-"
    from ...analytics import zone

    return value.astimezone(zone(tz)).strftime(fmt)


def _key_cells(report: Any, values: dict[str, Any]) -> list[str]:
    kind = report.kind
    if kind == "daily":
        return [values["date"]]
    if kind == "weekly":
        return [values["week"]]
    if kind == "monthly":
        return [values["month"]]
    if kind == "model":
        return [short_model(values["model"])]
    if kind == "project":
        return [shorten(values["project"], 60) or "(unknown)"]
    if kind == "session":
        return [
            short_id(values["session_id"]),
            _project(values["project"]),
            _local(values["last_activity"], report.timezone),
        ]
    status = ""
    if values["is_active"]:
        status = "ACTIVE"
    return [
        _local(values["start"], report.timezone),
        _local(values["end"], report.timezone, "%H:%M"),
        status,
    ]


def _project(path: str | None) -> str:
    """The last two parts of a working directory (``projects/widgets``)."""
    if not path:
        return "-"
    parts = [p for p in path.replace("\\", "/").split("/") if p]
    return shorten("/".join(parts[-2:]) or path, 30)


def _key_headers(kind: str) -> list[str]:
    return {
        "daily": ["date"],
        "weekly": ["week of"],
        "monthly": ["month"],
        "model": ["model"],
        "project": ["project"],
        "session": ["session", "project", "last activity"],
        "blocks": ["block start", "end", "status"],
    }[kind]


def _cells(values: dict[str, Any], *, partial: bool) -> list[str]:
    return [number(values[t]) for t in _TOKENS] + [cost(values["cost_usd"], partial=partial)]


def _print(report: Any) -> None:
    keys = _key_headers(report.kind)
    headers = [*keys, "requests" if report.kind == "model" else "models", *_HEADERS]
    rows: list[list[str]] = []
    sub: list[int] = []
    gaps = list(report.gaps)
    for row in report.rows:
        values = row.values
        if report.kind == "blocks":
            while gaps and gaps[0][1] <= values["first_activity"]:
                gap_start, gap_end = gaps.pop(0)
                span = duration((gap_end - gap_start).total_seconds())
                rows.append(["", "", f"({span} gap)"] + [""] * (len(headers) - 3))
        partial = 0 < row.unpriced_requests < row.requests
        if report.kind == "model":
            models = f"{row.requests:,}"
        else:
            models = ", ".join(short_model(m) for m in values["models"])
        rows.append([*_key_cells(report, values), models, *_cells(values, partial=partial)])
        if len(row.breakdown) > 1:
            for item in row.breakdown:
                model = "  " + short_model(item["model"])
                sub.append(len(rows))
                rows.append(["", *([""] * (len(keys) - 1)), model, *_cells(item, partial=False)])
    if not report.rows:
        what = "in this period" if report.since or report.until else "in the store"
        print(f"no API usage {what}")
        return
    totals = report.totals
    partial_total = 0 < report.unpriced_requests < report.requests
    rows.append([""] * len(headers))
    requests = f"{report.requests:,}" + ("" if report.kind == "model" else " requests")
    rows.append(
        ["total", *([""] * (len(keys) - 1)), requests, *_cells(totals, partial=partial_total)]
    )
    right = list(range(len(keys) + 1, len(headers)))
    if report.kind == "model":
        right.insert(0, len(keys))
    first = len(keys) + 1  # input, output, cache write, cache read, total, cost
    optional = [first + 2, first + 3]
    if report.kind == "session":
        optional.append(2)  # last activity
    optional += [first, first + 1]
    wrap = [len(keys)] if report.kind != "model" else []
    if report.kind in ("session", "project"):
        wrap.append(1 if report.kind == "session" else 0)
    table(
        headers,
        rows,
        right=right,
        sub=sub,
        total=[len(rows) - 1],
        wrap=wrap,
        optional=optional,
    )
    notes = [f"days in {report.timezone}"] if report.kind in ("daily", "weekly", "monthly") else []
    if report.framework:
        notes.append(f"{report.framework} only")
    if notes:
        print("(" + "; ".join(notes) + ")")
    if report.unpriced_requests:
        models = ", ".join(report.unpriced_models)
        print(
            f"note: {report.unpriced_requests:,} of {report.requests:,} requests have no known "
            f"price (models: {models}); their cost is unknown and not included: a cost "
            "marked * is partial, 'unknown' means nothing in that row is priced"
        )
    if report.kind == "blocks":
        _print_active(report)


def _print_active(report: Any) -> None:
    for row in report.rows:
        values = row.values
        if not values["is_active"]:
            continue
        left = (values["end"] - datetime.now(UTC)).total_seconds()
        line = f"active block: {duration(max(0.0, left))} left"
        burn, projection = values["burn_rate"], values["projection"]
        if burn:
            line += f"; burn rate {burn['tokens_per_minute']:,.0f} tokens/min"
            if burn["cost_usd_per_hour"] is not None:
                line += f" ({cost(burn['cost_usd_per_hour'])}/h)"
        if projection:
            line += (
                f"; projected at block end: {projection['total_tokens']:,} tokens, "
                f"{cost(projection['cost_usd'])}"
            )
        print(line)
