"""``netsky sessions`` (the session list) and ``netsky session ID|PID`` (one in full)."""

from __future__ import annotations

import argparse
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..._display import count, prompt_text, request_cost, short_id, short_model
from .._context import Context
from .._errors import UsageError
from .._lookup import find_session
from .._main import add_command
from .._output import duration, local, print_json, shorten, table, tokens
from .events import count_value, time_value

if TYPE_CHECKING:
    from ..._records import Session

_ORDERS = {"started": "started_at", "last-activity": "last_activity", "cost": "cost"}
_REPO = re.compile(r"[^/\s]+/[^/\s]+")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "sessions",
        help="list agent sessions, most recently active first",
        description=(
            "List agent sessions, most recently active first.\n\n"
            "--since takes a date (2026-01-31), a date and time (2026-01-31T14:30) or a\n"
            "duration ago (2h, 3d, 1w) and keeps sessions active since then."
        ),
        examples=[
            "netsky sessions",
            "netsky sessions --active",
            "netsky sessions --since 1w --order cost --limit 10",
            "netsky sessions --repo octo/widgets --framework claude --json",
        ],
    )
    p.add_argument(
        "--active",
        action="store_true",
        help="only sessions that have not ended (agent process alive, not idle past "
        "[sessions] idle_timeout)",
    )
    p.add_argument(
        "--framework",
        metavar="NAME",
        help="only this agent framework (a source name: claude, codex, gemini, ...)",
    )
    p.add_argument("--machine", metavar="ID", help="only this machine id")
    p.add_argument("--repo", metavar="OWNER/REPO", type=_repo, help="only this GitHub repository")
    p.add_argument(
        "--since", type=time_value, metavar="TIME", help="only sessions active since TIME"
    )
    p.add_argument(
        "--order",
        choices=list(_ORDERS),
        default="last-activity",
        help="sort by start time, last activity (default) or cost",
    )
    p.add_argument("--asc", action="store_true", help="ascending (oldest / cheapest first)")
    p.add_argument(
        "--limit",
        type=count_value,
        default=50,
        metavar="N",
        help="at most N sessions (0: all; default 50)",
    )
    p.add_argument("--json", action="store_true", help="print the full session records as JSON")
    p.set_defaults(handler=run)

    s = add_command(
        sub,
        common,
        "session",
        help="show one session in full, with its last events",
        description=(
            "Show one session as a page: who and where, token and cost totals, git, and a\n"
            "timeline of its last events (prompts, tools, responses; local time). --json\n"
            "prints the full session record and events.\n"
            "ID may be a session id, a unique prefix of one, or the pid of the agent process."
        ),
        examples=[
            "netsky session 3f2a9c1e",
            "netsky session 48213            # the session of agent process 48213",
            "netsky session 3f2a --events 50",
            "netsky session 3f2a9c1e-7d0b-4c52-9b8e-0c1d2e3f4a5b --machine laptop --json",
        ],
    )
    s.add_argument("id", metavar="ID|PID", help="session id, unique id prefix, or agent pid")
    s.add_argument(
        "--machine",
        metavar="ID",
        help="the session of this machine (ids can repeat across machines)",
    )
    s.add_argument(
        "--events",
        type=count_value,
        default=20,
        metavar="N",
        help="show its last N events (default 20)",
    )
    s.add_argument("--json", action="store_true", help="print the session and its events as JSON")
    s.set_defaults(handler=run_one)


def _truthful(ctx: Context, sessions: list[Session], *, active_only: bool = False) -> list[Session]:
    """Sessions whose agent process is gone, or idle past ``[sessions] idle_timeout``,
    shown as Done."""
    from ...live.liveness import idle_timeout, truthful

    return truthful(
        sessions,
        machine_id=ctx.machine_id,
        idle=idle_timeout(ctx.config),
        active_only=active_only,
    )


def _repo(text: str) -> str:
    if not _REPO.fullmatch(text):
        raise argparse.ArgumentTypeError(f"expected OWNER/REPO, got {text!r}")
    return text


def run(ctx: Context) -> int:
    from ..._queries import SessionQuery

    args = ctx.args
    query = (
        SessionQuery().order_by(_ORDERS[args.order]).with_direction("asc" if args.asc else "desc")
    )
    if args.active:
        query = query.active_only()
    if args.framework:
        query = query.with_framework(args.framework)
    if args.machine:
        query = query.with_machine(args.machine)
    if args.repo:
        query = query.with_github_repo(args.repo)
    if args.since:
        query = query.with_active_since(args.since)
    if args.limit and not args.active:  # --active: the limit applies after the liveness check
        query = query.with_limit(args.limit)
    with ctx.storage(read=True) as store:
        sessions = _truthful(ctx, store.list_sessions(query), active_only=args.active)
    if args.limit:
        sessions = sessions[: args.limit]
    if ctx.json:
        print_json(sessions)
        return 0
    if not sessions:
        print("no sessions match")
        return 0
    many_machines = len({s.machine_id for s in sessions}) > 1
    headers = [
        "SESSION",
        "STARTED",
        "DURATION",
        "STATUS",
        "MODEL",
        "TOKENS",
        "COST",
        "BRANCH/PR",
        "FIRST PROMPT",
    ]
    if many_machines:
        headers.insert(1, "MACHINE")
    rows = []
    for s in sessions:
        row = [
            short_id(s.session_id),
            local(s.started_at),
            duration(_seconds(s.started_at, s.last_activity)),
            s.status.value if s.status else "-",
            short_model(s.model) if s.model else "-",
            tokens(s.total_tokens),
            session_cost(s),
            _branch(s),
            shorten(prompt_text(s.first_user_message), 50),
        ]
        if many_machines:
            row.insert(1, shorten(s.machine_id, 20))
        rows.append(row)

    def at(name: str) -> int:
        return headers.index(name)

    table(
        headers,
        rows,
        right=(at("TOKENS"), at("COST")),
        wrap=[at(h) for h in ("MACHINE", "BRANCH/PR", "FIRST PROMPT") if h in headers],
        optional=[at("DURATION"), at("STATUS"), at("BRANCH/PR"), at("TOKENS")],
    )
    return 0


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def session_cost(s: Session) -> str:
    """Total cost; "unknown" when requests were not priced, "+" when only some were."""
    text = request_cost(s.cost_usd, s.api_request_count)
    return text + "+" if s.cost_usd is not None and s.unpriced_request_count else text


def _branch(s: Session) -> str:
    parts = [shorten(s.git_branch, 28)] if s.git_branch else []
    if s.github_pr is not None:
        parts.append(f"PR #{s.github_pr}")
    elif s.github_issue is not None:
        parts.append(f"#{s.github_issue}")
    return " ".join(parts) or "-"


# -- one session -------------------------------------------------------------------------


def run_one(ctx: Context) -> int:
    from ..._queries import EventQuery

    args = ctx.args
    if not args.id.strip():
        raise UsageError("empty session id")
    with ctx.storage(read=True) as store:
        session = _truthful(ctx, [find_session(store, args.id.strip(), args.machine)])[0]
        events = []
        if args.events:
            query = (
                EventQuery()
                .with_machine(session.machine_id)
                .with_session(session.session_id)
                .with_limit(args.events)
            )
            events = store.query(query)[::-1]
    if ctx.json:
        print_json({"session": session, "events": events})
        return 0
    _page(session)
    if not args.events:
        return 0
    print()
    if not events:
        print("no events stored for this session")
        return 0
    _timeline(events)
    return 0


def _page(s: Session) -> None:
    """The session as a page: who and where, totals, git."""
    print(f"session {s.session_id}")
    agent = s.framework or "unknown agent"
    agent += f" on {s.machine_id}"
    if s.pid is not None:
        agent += f" (pid {s.pid})"
    ended = s.last_ended_at
    _section(
        None,
        [
            ("agent", agent),
            ("project", s.cwd or "-"),
            ("branch", s.git_branch or "-"),
            ("model", short_model(s.model) if s.model else "-"),
            ("started", local(s.started_at, seconds=True)),
            ("last activity", local(s.last_activity, seconds=True)),
            ("ended", local(ended, seconds=True) if ended else "-"),
            ("duration", duration(_seconds(s.started_at, s.last_activity))),
            ("status", s.status.value if s.status else "-"),
            ("revived", f"{s.revival_count:,} times" if s.revival_count else None),
            ("first prompt", shorten(prompt_text(s.first_user_message), 100) or "-"),
            ("last prompt", shorten(prompt_text(s.last_user_message), 100) or "-"),
        ],
    )
    requests = count(s.api_request_count)
    if s.api_error_count:
        requests += f" ({count(s.api_error_count)} failed)"
    _section(
        "totals",
        [
            ("input", count(s.tokens_input)),
            ("output", count(s.tokens_output)),
            ("cache write", count(s.tokens_cache_write)),
            ("cache read", count(s.tokens_cache_read)),
            ("reasoning", count(s.tokens_reasoning) if s.tokens_reasoning else None),
            ("total", count(s.total_tokens)),
            ("cost", session_cost(s)),
            ("requests", requests),
            ("unpriced", count(s.unpriced_request_count) if s.unpriced_request_count else None),
            ("tools", count(s.tool_call_count)),
            ("compactions", count(s.compaction_count)),
            ("events", count(s.event_count)),
        ],
    )
    pr = f"PR #{s.github_pr}" if s.github_pr is not None else None
    issue = f"#{s.github_issue}" if s.github_issue is not None else None
    _section(
        "git",
        [
            ("repository", s.github_repo or "-"),
            ("branch", s.git_branch or "-"),
            ("pull request", pr),
            ("issue", issue),
            ("worktree", s.git_worktree_path),
            ("git dir", s.local_git_dir),
        ],
    )
    if s.transcript_path:
        _section("files", [("transcript", s.transcript_path)])


def _section(title: str | None, pairs: list[tuple[str, str | None]]) -> None:
    if title:
        print()
        print(title)
    shown = [(k, v) for k, v in pairs if v is not None]
    width = max(len(k) for k, _ in shown)
    for key, value in shown:
        print(f"  {key.ljust(width)}  {value}")


def _timeline(events: list[Any]) -> None:
    import orjson

    from ..._display import event_kind, event_text

    tools: dict[str, str] = {}
    days = {e.timestamp.astimezone().date() for e in events}
    rows = []
    for e in events:
        try:
            payload = orjson.loads(e.payload) if e.payload else None
        except orjson.JSONDecodeError:
            payload = None
        if not isinstance(payload, dict):
            payload = None
        name = e.tool_name
        if e.tool_use_id:
            if name:
                tools[e.tool_use_id] = name
            else:
                name = tools.get(e.tool_use_id)
        text = event_text(
            e.event_type,
            payload,
            tool_name=name,
            model=e.model,
            total_tokens=e.total_tokens,
            cost_usd=e.cost_usd,
        )
        when = local(e.timestamp, seconds=True)
        rows.append((when if len(days) > 1 else when[11:], event_kind(e.event_type), text))
    print(f"timeline (last {len(events)} events, local time)")
    table(["TIME", "KIND", "WHAT"], [(t, k, shorten(x, 96)) for t, k, x in rows], wrap=[2])
