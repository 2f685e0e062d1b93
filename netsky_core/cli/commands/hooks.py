"""``netsky hooks install | uninstall | status``: wire ``netsky hook`` into Claude Code.

The file work (reading, planning, backups, atomic writes) is in
:mod:`netsky_core.hooks.install`; this module parses and prints.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import Any

from .._context import Context
from .._errors import UsageError
from .._main import Parser, add_command, help_when_bare
from .._output import fields, print_json

SCOPE_HELP = (
    "which settings file: user (~/.claude/settings.json, or in CLAUDE_CONFIG_DIR), project "
    "(./.claude/settings.json, shared with the repository) or local "
    "(./.claude/settings.local.json, this machine only)"
)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    from ...hooks.events import DEFAULT_TIMEOUT, HOOK_EVENTS, SELECTABLE_EVENTS

    p = add_command(
        sub,
        common,
        "hooks",
        help="install, remove or check netsky's hook in Claude Code (and Codex)",
        description=(
            "Claude Code runs `netsky hook` once per event (session start and end, prompts,\n"
            "tool calls, notifications, stops, subagents, compaction) when its settings.json\n"
            "says so. `netsky hooks install` adds those entries, keeping every other setting\n"
            "and hook; `uninstall` removes only netsky's; `status` shows what is installed."
        ),
        examples=[
            "netsky hooks install",
            "netsky hooks install --scope local --dry-run",
            "netsky hooks status",
            "netsky hooks uninstall",
        ],
    )
    actions = p.add_subparsers(dest="hooks_action", metavar="ACTION", parser_class=Parser)

    install = add_command(
        actions,
        common,
        "install",
        help="add netsky's hook to a Claude Code settings file (or Codex's notify)",
        description=(
            "Add a command hook running this installation's netsky executable (absolute path,\n"
            "no interpreter shim) for every event netsky handles:\n"
            + textwrap.fill(
                ", ".join(HOOK_EVENTS) + ".", 82, initial_indent="  ", subsequent_indent="  "
            )
            + "\n"
            "Every other setting and hook is kept, in order; running it again changes nothing.\n"
            "The previous file is kept as <file>.netsky-backup-<time>, the one backup netsky\n"
            "keeps of it, and the new one is written atomically with the same mode.\n"
            "--db URL and --config PATH given to this command are written into the hook\n"
            "command; without them the hook uses NETSKY_DATABASE_URL, the config file or the\n"
            "default store, as every netsky command does.\n\n"
            "Claude Code skips a settings file that names an event it does not know: before\n"
            "version 2.0.45, leave out the newer events with --events.\n\n"
            "With --framework codex, sets `notify` in ~/.codex/config.toml (CODEX_HOME) when\n"
            "that is safe to do without rewriting the file (no notify yet, or netsky's own);\n"
            "otherwise it prints the line to add and changes nothing (exit 0)."
        ),
        examples=[
            "netsky hooks install",
            "netsky hooks install --dry-run",
            "netsky hooks install --scope local --db postgresql://me@db.example/netsky",
            "netsky hooks install --events PreToolUse,PostToolUse,Stop,SessionEnd --json",
            "netsky hooks install --framework codex",
            "netsky hooks install --statusline",
        ],
    )
    _common_args(install, SELECTABLE_EVENTS)
    install.add_argument(
        "--no-transcript",
        action="store_true",
        help="store hook events only (no transcript ingest on Stop, PreCompact, SessionEnd)",
    )
    install.add_argument(
        "--timeout",
        type=int,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"how long Claude Code lets the hook run (default {DEFAULT_TIMEOUT})",
    )
    install.add_argument(
        "--statusline",
        action="store_true",
        help="also make `netsky statusline` Claude Code's statusLine (an existing one of "
        "another program is kept unless --force)",
    )
    install.add_argument(
        "--force", action="store_true", help="with --statusline: replace another statusLine"
    )
    install.set_defaults(handler=run_install)

    uninstall = add_command(
        actions,
        common,
        "uninstall",
        help="remove netsky's hook entries (and nothing else)",
        description=(
            "Remove every netsky hook entry (any command running an executable named netsky\n"
            "with `hook`, wherever it is installed) from the settings file, and the groups and\n"
            "event lists that held only netsky's entries. Other hooks are never touched. The\n"
            "previous file is kept as a backup. With --framework codex, removes a netsky\n"
            "`notify` from Codex's config.toml."
        ),
        examples=[
            "netsky hooks uninstall",
            "netsky hooks uninstall --scope local --dry-run",
            "netsky hooks uninstall --events PermissionRequest",
            "netsky hooks uninstall --framework codex",
        ],
    )
    _common_args(uninstall, None)
    uninstall.set_defaults(handler=run_uninstall)

    status = add_command(
        actions,
        common,
        "status",
        help="where netsky's hook is installed, and whether it can store events now",
        description=(
            "For each settings file (user, project, local; Codex's config.toml too): does it\n"
            "exist, which events run netsky's hook, does the command point at this netsky\n"
            "executable (a moved or deleted executable makes every hook fail), how many other\n"
            "hooks it has. Then whether the store the hook uses can be opened now (read only,\n"
            "nothing is written) and how many events wait in the spool."
        ),
        examples=["netsky hooks status", "netsky hooks status --scope user --json"],
    )
    status.add_argument("--scope", choices=["user", "project", "local"], help=SCOPE_HELP)
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=_run_status)
    help_when_bare(p)


def _common_args(p: argparse.ArgumentParser, events: tuple[str, ...] | None) -> None:
    p.add_argument(
        "--scope", choices=["user", "project", "local"], help=SCOPE_HELP + " (default user)"
    )
    p.add_argument(
        "--framework",
        choices=["claude", "codex"],
        default="claude",
        help="which agent to wire (default claude)",
    )
    p.add_argument(
        "--events",
        metavar="E1,E2",
        help=(
            f"only these events (default: {'the ones listed above' if events else 'all'})"
            + (f"; known: {', '.join(events)}" if events else "")
        ),
    )
    p.add_argument("--dry-run", action="store_true", help="print the diff; write nothing")
    p.add_argument("--json", action="store_true", help="print JSON")


# -- helpers ------------------------------------------------------------------------


def _events(value: str | None, *, install: bool) -> list[str] | None:
    from ...hooks.events import HOOK_EVENTS, SELECTABLE_EVENTS

    if value is None:
        return list(HOOK_EVENTS) if install else None
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise UsageError("--events needs at least one event name")
    by_lower = {e.lower(): e for e in SELECTABLE_EVENTS}
    unknown = [n for n in names if n.lower() not in by_lower]
    if unknown and install:
        raise UsageError(
            f"unknown event {', '.join(unknown)} (Claude Code skips a settings file naming an "
            f"event it does not know); known: {', '.join(SELECTABLE_EVENTS)}"
        )
    out: list[str] = []
    for n in names:
        name = by_lower.get(n.lower(), n)
        if name not in out:
            out.append(name)
    return out


def _store_url(value: str | None) -> str | None:
    from ..._errors import InvalidURLError
    from ..._urls import scheme_of
    from ...hooks.install import absolute_store_url

    if not value:
        return None
    try:
        scheme_of(value)
    except InvalidURLError as exc:
        raise UsageError(str(exc), hint=exc.hint) from None
    return absolute_store_url(value)


def _config_path(value: str | None) -> str | None:
    if not value:
        return None
    path = Path(value).expanduser().absolute()
    if not path.is_file():
        raise UsageError(f"no such config file: {path}")
    return str(path)


def _warn(message: str) -> None:
    sys.stderr.write(f"netsky: warning: {' '.join(message.split())}\n")


def _note(message: str) -> None:
    sys.stderr.write(f"netsky: note: {' '.join(message.split())}\n")


def _join(names: list[str]) -> str:
    return ", ".join(names) if names else "-"


def _backup_text(result: Any) -> str | None:
    if result is None or result.backup is None:
        return None
    return f"{result.backup}" + (" (identical earlier backup kept)" if result.backup_reused else "")


def _other_scopes(scope: str, command: str) -> list[str]:
    """Other settings files with a different netsky hook (Claude runs both)."""
    from ...hooks.install import (
        SCOPES,
        SettingsFileError,
        is_netsky_command,
        read_settings,
        settings_path,
    )

    found = []
    for other in SCOPES:
        if other == scope:
            continue
        try:
            sf = read_settings(settings_path(other))
        except SettingsFileError:
            continue
        for groups in sf.data.get("hooks", {}).values():
            commands = [e.get("command") for g in groups for e in g["hooks"]]
            if any(is_netsky_command(c) and c != command for c in commands):
                found.append(other)
                break
    return found


# -- install / uninstall ------------------------------------------------------------


def run_install(ctx: Context) -> int:
    from ...hooks import install as cs

    args = ctx.args
    if args.timeout < 1:
        raise UsageError("--timeout must be at least 1 second")
    db = _store_url(args.db)
    config = _config_path(args.config)
    if args.framework == "codex":
        if args.scope or args.events:
            raise UsageError("--scope and --events are for Claude Code; Codex has one notify")
        return _install_codex(ctx, db, config)
    events = _events(args.events, install=True)
    assert events is not None
    scope = args.scope or "user"
    executable = cs.netsky_executable()
    command = cs.hook_command(executable, db=db, config=config, transcript=not args.no_transcript)
    sf = cs.read_settings(cs.settings_path(scope))
    plan = cs.plan_install(sf, command, events=events, timeout=args.timeout)
    if args.force and not args.statusline:
        raise UsageError("--force applies to --statusline only")
    statusline = None
    if args.statusline:
        line_command = cs.statusline_command(executable, db=db, config=config)
        statusline = cs.plan_statusline(plan, line_command, force=args.force)
    from ..._urls import url_password

    secret = bool(db and url_password(db))
    result = (
        None if args.dry_run else cs.apply(plan, private_dir=scope == "user", private_file=secret)
    )
    warnings = []
    if secret:
        warnings.append(
            f"the hook command holds the store's password, so {sf.path} is now readable by "
            "you only (mode 0600); NETSKY_DATABASE_URL or netsky's config file keeps it out"
        )
    newer = sorted(set(plan.added) & cs.NEWER_EVENTS)
    if newer:
        warnings.append(
            f"Claude Code before 2.0.45 skips a settings file naming events it does not know "
            f"({', '.join(newer)}): with an older Claude Code, update it or use --events"
        )
    if scope == "project" and (plan.added or plan.updated):
        warnings.append(
            f"the project settings file is usually committed, and the command names this "
            f"machine's netsky ({executable}); --scope local keeps it to this machine"
        )
    others = _other_scopes(scope, command)
    if others:
        warnings.append(
            f"a different netsky hook is also in the {', '.join(others)} settings: Claude Code "
            f"runs both, so events may be stored twice (`netsky hooks status` shows them)"
        )
    if statusline == "kept":
        warnings.append(
            f"{sf.path} already has a statusLine of another program: kept "
            "(--statusline --force replaces it)"
        )
    masked = cs.mask_command(command)
    info: dict[str, Any] = {
        "framework": "claude",
        "scope": scope,
        "path": str(sf.path),
        "dry_run": bool(args.dry_run),
        "changed": plan.changed,
        "created": not sf.exists and plan.changed,
        "added": plan.added,
        "updated": plan.updated,
        "unchanged": plan.unchanged,
        "command": masked,
        "timeout": args.timeout,
        "statusline": statusline,
        "backup": str(result.backup) if result and result.backup else None,
        "warnings": warnings,
    }
    if _printed(ctx, info, plan, sf.path):
        return 0
    if not plan.changed:
        print(f"netsky's hook is already installed in {sf.path} ({scope}): nothing changed")
    else:
        print(
            f"installed netsky's hook in {sf.path} ({scope})"
            + (" (created)" if info["created"] else "")
        )
        fields(
            [
                ("  added", _join(plan.added)),
                ("  updated", _join(plan.updated)),
                ("  unchanged", _join(plan.unchanged)),
                ("  command", masked),
                *([("  statusLine", statusline)] if statusline else []),
                ("  backup", _backup_text(result) or "-"),
            ]
        )
        print("Claude Code sessions already running may need a restart to pick it up.")
    for warning in warnings:
        _note(warning)
    return 0


def _printed(
    ctx: Context, info: dict[str, Any], plan: Any, path: Any, *, diff: bool = True
) -> bool:
    """Print ``info`` as JSON, or a dry run's diff (``diff``: the plan has one); True when
    that is all there is to print. A dry run's ``info`` carries the diff."""
    dry = bool(ctx.args.dry_run) and diff
    if dry:
        info["diff"] = plan.diff()
    if ctx.json:
        print_json(info)
        return True
    if dry:
        sys.stdout.write(info["diff"] or f"{path}: nothing would change\n")
        print(f"dry run: nothing was written to {path}")
    return dry


def run_uninstall(ctx: Context) -> int:
    from ...hooks import install as cs

    args = ctx.args
    if args.framework == "codex":
        if args.scope or args.events:
            raise UsageError("--scope and --events are for Claude Code; Codex has one notify")
        return _uninstall_codex(ctx)
    events = _events(args.events, install=False)
    scope = args.scope or "user"
    sf = cs.read_settings(cs.settings_path(scope))
    plan = cs.plan_uninstall(sf, events=events)
    statusline = events is None and cs.unplan_statusline(plan)
    if statusline:
        plan.removed.append("statusLine")
    result = None if args.dry_run else cs.apply(plan, private_dir=scope == "user")
    info: dict[str, Any] = {
        "framework": "claude",
        "scope": scope,
        "path": str(sf.path),
        "dry_run": bool(args.dry_run),
        "changed": plan.changed,
        "removed": plan.removed,
        "backup": str(result.backup) if result and result.backup else None,
    }
    if _printed(ctx, info, plan, sf.path):
        return 0
    if not plan.changed:
        where = sf.path if sf.exists else f"{sf.path} (no such file)"
        print(f"no netsky hook in {where}: nothing changed")
    else:
        print(f"removed netsky's hook from {sf.path} ({scope}): {_join(plan.removed)}")
        if result and result.backup:
            print(f"  backup  {_backup_text(result)}")
    return 0


def _install_codex(ctx: Context, db: str | None, config: str | None) -> int:
    from ...hooks import install as cs

    args = ctx.args
    executable = cs.netsky_executable()
    argv = cs.hook_argv(
        executable, db=db, config=config, transcript=not args.no_transcript, framework="codex"
    )
    path = cs.codex_config_path()
    plan = cs.plan_codex_install(path, argv)
    result = None
    if plan.text is not None and not args.dry_run:
        result = cs.apply_codex(plan)
    masked_line = plan.masked_line
    info: dict[str, Any] = {
        "framework": "codex",
        "path": str(path),
        "dry_run": bool(args.dry_run),
        "changed": plan.changed,
        "installed": plan.text is not None and (not args.dry_run or not plan.changed),
        "manual": plan.text is None,
        "reason": plan.reason,
        "line": masked_line,
        "backup": str(result.backup) if result and result.backup else None,
    }
    if _printed(ctx, info, plan, path, diff=plan.text is not None):
        return 0
    if plan.text is None:
        print(f"netsky did not change {path}: {plan.reason}.")
        print("To run netsky after every Codex turn, make the notify line at the top of the file")
        print("(before any [table]) read:")
        print(f"  {masked_line}")
        if masked_line != plan.line:
            print("(the password of the store URL is shown as ***)")
        return 0
    if not plan.changed:
        print(f"netsky is already Codex's notify program in {path}: nothing changed")
    else:
        print(f"set Codex's notify to netsky in {path}")
        fields([("  notify", masked_line), ("  backup", _backup_text(result) or "-")])
    return 0


def _uninstall_codex(ctx: Context) -> int:
    from ...hooks import install as cs

    args = ctx.args
    path = cs.codex_config_path()
    plan = cs.plan_codex_uninstall(path)
    result = None
    if plan.text is not None and not args.dry_run:
        result = cs.apply_codex(plan)
    info: dict[str, Any] = {
        "framework": "codex",
        "path": str(path),
        "dry_run": bool(args.dry_run),
        "changed": plan.changed,
        "manual": plan.text is None,
        "reason": plan.reason,
        "backup": str(result.backup) if result and result.backup else None,
    }
    if _printed(ctx, info, plan, path, diff=plan.text is not None):
        return 0
    if plan.text is None:
        print(f"netsky did not change {path}: {plan.reason}; remove its notify line by hand")
    elif not plan.changed:
        print(f"netsky is not Codex's notify program in {path}: nothing changed")
    else:
        print(f"removed netsky's notify from {path}")
        if result and result.backup:
            print(f"  backup  {_backup_text(result)}")
    return 0


def _run_status(ctx: Context) -> int:
    from .hooks_status import run_status

    return run_status(ctx)
