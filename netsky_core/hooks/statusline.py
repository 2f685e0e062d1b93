"""``netsky statusline``: Claude Code's ``statusLine`` command.

Claude Code runs it with its statusline JSON on stdin (model, session id, its own
cost estimate, plan ``rate_limits``, ...) and shows the first line it prints. The
line is computed from the usage the store keeps precomputed (the session row and
15-minute usage buckets), never from the history, and the process imports only the
standard library on SQLite stores, so it stays fast however large the store grows.

Fields of ``[statusline] format`` (or ``--format``), written ``{name}``:

``model``, ``session`` (cost and tokens of this session), ``today``, ``block`` (the
current 5-hour block's cost and time left), ``burn`` (the block's cost per hour),
``budget`` (`` | budget ...`` when ``[budget]`` sets limits), ``limits`` (`` | 5h 42%
7d 12%`` from the plan usage Claude Code reports), and the bare values
``session_cost``, ``session_tokens``, ``today_cost``, ``block_cost``, ``block_left``.

Colours are on unless ``NO_COLOR`` is set, ``[statusline] color = false`` or
``--no-color``. A problem (bad input, an unreadable store) is shown on the line
itself, so the user sees it where they look; the exit status is 0 then too, since
Claude Code blanks the line of a command that fails.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["main"]

USAGE = "usage: netsky statusline [--db URL] [--config PATH] [--format TEXT] [--no-color] [--json]"


def _help() -> str:
    from ..live.line import DEFAULT_FORMAT

    return (
        USAGE
        + "\n\nPrint one status line for Claude Code (its statusline JSON on stdin): model, this "
        "session's cost and tokens, today's cost, the current 5-hour block's cost and time left, "
        "burn rate, budget and plan limits.\n\n"
        "options:\n"
        "  --format TEXT  the line, with fields such as {model} {session} {today} {block} {burn}\n"
        "                 {budget} {limits} (default: [statusline] format, else\n"
        f"                 {DEFAULT_FORMAT!r})\n"
        "  --no-color     no ANSI colours (also: NO_COLOR, [statusline] color = false)\n"
        "  --json         print what the line is made of as JSON instead\n"
        "  --db URL, --config PATH   the store and config file, as for every command\n\n"
        "examples:\n"
        "  netsky hooks install --statusline      wire it into ~/.claude/settings.json\n"
        '  echo \'{"session_id": "abc", "model": {"display_name": "Opus"}}\' | netsky statusline\n'
    )


class _Problem(Exception):
    pass


def _parse(argv: list[str]) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "db": None,
        "config": None,
        "format": None,
        "color": True,
        "json": False,
    }
    it = iter(argv)
    for arg in it:
        if arg in ("--db", "--config", "--format"):
            value = next(it, None)
            if value is None:
                raise _Problem(f"{arg} needs a value")
            opts[arg[2:]] = value
        elif arg.startswith(("--db=", "--config=", "--format=")):
            key, value = arg[2:].split("=", 1)
            opts[key] = value
        elif arg == "--no-color":
            opts["color"] = False
        elif arg == "--json":
            opts["json"] = True
        elif arg == "--debug":
            pass
        elif arg in ("-h", "--help"):
            sys.stdout.write(_help())
            raise SystemExit(0)
        else:
            raise _Problem(f"unknown statusline option {arg!r}")
    return opts


def main(argv: list[str]) -> int:
    try:
        opts = _parse(argv)
    except SystemExit:
        return 0
    except _Problem as exc:
        return _fail(f"{exc} ({USAGE})", code=2)
    try:
        line = _line(opts, sys.stdin.buffer.read())
    except _Problem as exc:
        return _fail(str(exc))
    except Exception as exc:
        from .._errors import NetskyError

        if isinstance(exc, NetskyError):
            hint = f" (hint: {exc.hint})" if getattr(exc, "hint", None) else ""
            return _fail(" ".join(f"{exc}{hint}".split()))
        return _fail(f"internal error: {type(exc).__name__}: {exc}")
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    try:
        _keep_limits(opts)
    except Exception as exc:  # the line is out; keeping the limits is best effort
        from .run import _log

        _log(f"statusline plan limits not kept: {type(exc).__name__}: {exc}")
    return 0


_LAST: dict[str, Any] = {}


def _keep_limits(opts: dict[str, Any]) -> None:
    """Store Claude Code's plan usage (``rate_limits``) as a ``PlanLimits`` event,
    through the hook spool like any hook event, when it changed since the last line
    (noted per store in the state dir)."""
    payload = _LAST.get("payload")
    if not isinstance(payload, dict):
        return
    from ..live.limits import claude_windows

    windows = claude_windows(payload.get("rate_limits"))
    session_id = payload.get("session_id")
    if not windows or not isinstance(session_id, str) or not session_id:
        return
    from .._jsonc import dumps, loads
    from .._paths import ensure_private_dir, replace_private_file, state_path

    target = f"{opts['db'] or ''}\0{opts['config'] or ''}"
    folder = state_path()
    path = os.path.join(folder, "statusline-limits.json")
    try:
        with open(path, encoding="utf-8") as fh:
            seen = loads(fh.read())
    except (OSError, ValueError):
        seen = {}
    if not isinstance(seen, dict) or seen.get(target) == windows:
        return
    seen[target] = windows
    ensure_private_dir(folder)
    replace_private_file(path, dumps(seen).encode())
    record = {
        "hook_event_name": "PlanLimits",
        "session_id": session_id,
        "cwd": payload.get("cwd"),
        "rate_limits": payload.get("rate_limits"),
    }
    from .run import _parse, _run, _utc_now_iso

    hook_opts = _parse(["--no-transcript"])
    hook_opts["db"], hook_opts["config"] = opts["db"], opts["config"]
    _run(hook_opts, dumps(record).encode(), _utc_now_iso())


def _cwd(payload: dict[str, Any]) -> str | None:
    """The session's working directory (``workspace.current_dir``, else ``cwd``)."""
    workspace = payload.get("workspace")
    for value in (
        workspace.get("current_dir") if isinstance(workspace, dict) else None,
        payload.get("cwd"),
    ):
        if isinstance(value, str) and value:
            return value
    return None


def _branch(settings: Any, cwd: str | None) -> str | None:
    """The git branch of ``cwd``, read only when a ``[budget.branch."..."]`` table
    needs it (else the session row's branch serves)."""
    tables = settings.section("budget").get("branch")
    if not cwd or not isinstance(tables, dict) or not tables:
        return None
    try:
        from ..ingest.gitinfo import find_git_dir, read_branch

        dirs = find_git_dir(cwd)
        return None if dirs is None else read_branch(dirs)
    except (OSError, ValueError, TypeError):
        return None


def _fail(message: str, code: int = 0) -> int:
    sys.stdout.write(f"netsky: {message}\n")
    sys.stderr.write(f"netsky: error: {message}\n")
    return code


def _line(opts: dict[str, Any], raw: bytes) -> str:
    from .._jsonc import dumps, loads

    try:
        payload = loads(raw or b"{}")
    except (ValueError, RecursionError):
        raise _Problem("statusline input is not JSON") from None
    if not isinstance(payload, dict):
        raise _Problem(f"statusline input is JSON {type(payload).__name__}, not an object")
    _LAST["payload"] = payload
    from .._settings import light_settings
    from ..live.line import DEFAULT_FORMAT, check_format, rate_limits, render

    settings = light_settings(opts["db"], opts["config"])
    section = settings.section("statusline")
    fmt = opts["format"] or section.get("format") or DEFAULT_FORMAT
    problem = check_format(fmt)
    if problem:
        raise _Problem(problem)
    color = opts["color"] and section.get("color", True) and not os.environ.get("NO_COLOR")
    session_id = payload.get("session_id")
    from ..live.reader import open_reader
    from ..live.snapshot import take_snapshot

    cwd = _cwd(payload)
    reader = open_reader(settings.url)
    try:
        snap = take_snapshot(
            reader,
            settings,
            machine_id=settings.machine_id,
            session_id=session_id if isinstance(session_id, str) else None,
            cwd=cwd,
            branch=_branch(settings, cwd),
        )
    finally:
        reader.close()
    if opts["json"]:
        data = snap.as_dict()
        data["rate_limits"] = dict(rate_limits(payload))
        return dumps(data, sort_keys=True)
    return render(payload, snap, fmt, bool(color))
