"""``netsky hooks status``: where netsky's hook is installed, and whether it works."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from .._context import Context
from .._output import fields, print_json, table

# -- status -------------------------------------------------------------------------


def _sqlite_file(url: str) -> Path | None:
    from urllib.parse import unquote

    if not url.lower().startswith("sqlite:///"):
        return None
    rest = url[len("sqlite:///") :].partition("?")[0]
    if not rest:
        return None
    return Path(os.path.expanduser(unquote(rest))).absolute()


def _store_check(config: Any) -> dict[str, Any]:
    """Open the hook's store read only (no writes, no migration)."""
    from ..._errors import NetskyError, StorageOptionsError
    from ..._open import open_storage
    from ..._urls import mask_url

    url = str(config.storage_url.value)
    info: dict[str, Any] = {
        "url": mask_url(url),
        "from": config.storage_url.source,
        "reachable": False,
        "detail": None,
    }
    db_file = _sqlite_file(url)
    if db_file is not None and not db_file.exists():
        folder = db_file.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        info["reachable"] = folder.is_dir() and os.access(folder, os.W_OK)
        info["detail"] = (
            "no store yet: the first hook creates it"
            if info["reachable"]
            else f"no store yet, and {folder} is "
            + ("not writable" if folder.is_dir() else "not a folder")
        )
        return info
    try:
        try:
            store = open_storage(url, config=config, read_only=True, timeout=5.0)
        except StorageOptionsError:
            store = open_storage(url, config=config, read_only=True)
        store.close()
    except NetskyError as exc:
        info["detail"] = " ".join(str(exc).split())
        return info
    info["reachable"] = True
    return info


def _scope_row(entry: dict[str, Any]) -> list[str]:
    from ...hooks.install import HOOK_EVENTS

    path = entry["path"] + ("" if entry["exists"] else " (no file)")
    if entry.get("error"):
        return [entry["scope"], "file error", "-", "-", path]
    hooked = [e for e in entry["events"] if e in HOOK_EVENTS]
    extra = len(entry["events"]) - len(hooked)
    events = "none" if not entry["events"] else f"{len(hooked)}/{len(HOOK_EVENTS)} events"
    if extra:
        events += f" +{extra}"
    states = sorted({x["state"] for x in entry["executables"]})
    return [entry["scope"], events, ",".join(states) or "-", str(entry["other_hooks"]), path]


def run_status(ctx: Context) -> int:
    from ..._config import load_config
    from ..._errors import NetskyError
    from ...hooks import install as cs
    from ...hooks.spool import all_spools, spool_root
    from .spool import describe_spool

    args = ctx.args
    try:
        executable: Path | None = cs.netsky_executable()
    except NetskyError:
        executable = None
    scopes = [args.scope] if args.scope else list(cs.SCOPES)
    entries: list[dict[str, Any]] = []
    commands: list[cs.HookCommand] = []
    warnings: list[str] = []
    for scope in scopes:
        path = cs.settings_path(scope)
        entry: dict[str, Any] = {"scope": scope, "path": str(path), "exists": path.is_file()}
        try:
            sf = cs.read_settings(path)
        except cs.SettingsFileError as exc:
            entry.update(
                error=" ".join(str(exc).split()),
                events=[],
                missing_events=list(cs.HOOK_EVENTS),
                commands=[],
                executables=[],
                stale=False,
                other_hooks=0,
            )
            warnings.append(f"{scope}: {entry['error']} (Claude Code skips this file)")
            entries.append(entry)
            continue
        entry["error"] = None
        entry.update(cs.inspect(sf, executable))
        for parsed in cs.installed_commands(sf):
            if parsed not in commands:
                commands.append(parsed)
        for exe in entry["executables"]:
            if exe["state"] == "missing":
                warnings.append(
                    f"{scope}: the hook runs {exe['path']}, which does not exist: every hook "
                    f"fails; run `netsky hooks install --scope {scope}`"
                )
            elif exe["state"] == "other":
                warnings.append(
                    f"{scope}: the hook runs another netsky ({exe['path']}), not this one "
                    f"({executable}); `netsky hooks install --scope {scope}` points it here"
                )
        if len(entry["commands"]) > 1:
            warnings.append(
                f"{scope}: netsky's hook runs {len(entry['commands'])} different commands"
            )
        entries.append(entry)
    codex = cs.inspect_codex(cs.codex_config_path(), executable)
    if codex.get("executable_state") == "missing":
        warnings.append("codex: the notify program does not exist any more")
    installed = [e["scope"] for e in entries if e["events"]]
    if not installed and not args.scope:
        warnings.append("netsky is not hooked into Claude Code here: run `netsky hooks install`")
    if len(installed) > 1 and len({c for e in entries for c in e["commands"]}) > 1:
        warnings.append(
            f"different netsky hooks in {', '.join(installed)}: Claude Code runs each, so "
            "events may be stored twice"
        )

    stores: list[dict[str, Any]] = []
    for db, config_path in dict.fromkeys((c.db, c.config) for c in commands) or [(None, None)]:
        try:
            config = (
                load_config(db_url=db or ctx.args.db, config_path=config_path or ctx.args.config)
                if db or config_path
                else ctx.config
            )
        except NetskyError as exc:
            warnings.append(f"the installed hook's options are unusable: {exc}")
            continue
        check = _store_check(config)
        stores.append(check)
        if not check["reachable"]:
            warnings.append(
                f"the hook cannot reach the store {check['url']} now ({check['detail']}): "
                "its events wait in its spool"
            )
    store = stores[0] if stores else _store_check(ctx.config)
    targets = [describe_spool(s) for s in all_spools()]
    pending = sum(t["pending"] for t in targets)
    for t in targets:
        if t["pending"]:
            warnings.append(
                f"{t['pending']} events wait in spool {t['key']} for "
                f"{t['db'] or 'the default store'}"
                + (" (its store was unreachable a moment ago)" if t["backing_off"] else "")
                + "; `netsky spool replay` stores them"
            )
    info: dict[str, Any] = {
        "executable": str(executable) if executable else None,
        "scopes": entries,
        "codex": codex,
        "store": store,
        "stores": stores,
        "spool": {"folder": spool_root(), "pending": pending, "targets": targets},
        "warnings": warnings,
    }
    if ctx.json:
        print_json(info)
        return 0

    def reach(check: dict[str, Any]) -> str:
        state = "reachable" if check["reachable"] else "NOT reachable"
        return f"{check['url']} ({state}{'; ' + check['detail'] if check['detail'] else ''})"

    fields(
        [
            ("netsky", info["executable"] or "not found"),
            *(("store", reach(check)) for check in stores or [store]),
            ("spool", f"{pending} events waiting in {spool_root()} ({len(targets)} stores)"),
        ]
    )
    print()
    rows = [_scope_row(e) for e in entries]
    if codex["installed"] or codex["other_notify"] or codex.get("error"):
        state = (
            "netsky notify"
            if codex["installed"]
            else ("error" if codex.get("error") else "other notify")
        )
        rows.append(["codex", state, codex.get("executable_state") or "-", "-", codex["path"]])
    table(["scope", "netsky hook", "executable", "other hooks", "file"], rows)
    for entry in entries:
        if entry["commands"]:
            print(f"{entry['scope']}: {' | '.join(entry['commands'])}")
    for warning in warnings:
        _warn(warning)
    return 0


def _warn(message: str) -> None:
    sys.stderr.write(f"netsky: warning: {' '.join(message.split())}\n")
