"""``netsky doctor``: is history safe, and is capture working?

Claude Code deletes transcripts older than ``cleanupPeriodDays`` (its settings.json;
default 30 days) when it starts; Codex keeps its rollouts until they are deleted by
hand. A transcript is *at risk* when it is due for deletion within :data:`MARGIN_DAYS`
days; it is safe when netsky has read it to its end. The other checks: netsky's hook
in Claude Code's user settings, the hook spools, the store, and the age of the
shipped price table.

Each check has a level: ``ok``, ``warn`` (worth knowing) or ``problem`` (history is
being lost or cannot be stored); ``netsky doctor`` exits 1 when any is a problem.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

__all__ = ["DEFAULT_CLEANUP_DAYS", "MARGIN_DAYS", "Check", "run_checks"]

DEFAULT_CLEANUP_DAYS = 30
MARGIN_DAYS = 7
PRICES_STALE_DAYS = 60
_DAY = 86400.0


class Check:
    __slots__ = ("details", "level", "name", "summary")

    def __init__(self, name: str, level: str, summary: str, **details: Any) -> None:
        self.name = name
        self.level = level
        self.summary = summary
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "level": self.level, "summary": self.summary, **self.details}


def _cleanup_days(settings_file: Any) -> tuple[float, str]:
    value = settings_file.data.get("cleanupPeriodDays") if settings_file.exists else None
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value), f"cleanupPeriodDays = {value:g} in {settings_file.path}"
    return float(
        DEFAULT_CLEANUP_DAYS
    ), f"cleanupPeriodDays not set: Claude Code's default {DEFAULT_CLEANUP_DAYS}"


def _read_state(store: Any, machine_id: str, path: str, size: int) -> str:
    pos = store.get_transcript_position(machine_id, path)
    if pos is None:
        return "not read"
    return "read" if pos.offset >= size else "partly read"


def transcripts_check(
    store: Any, machine_id: str, settings_file: Any, config: Any, now: float
) -> tuple[Check, Check, list[str]]:
    """(Claude retention, Codex retention, paths not fully read)."""
    from ..ingest.scan import CLAUDE, discover

    ingest = config.section("ingest")
    days, origin = _cleanup_days(settings_file)
    sources = discover(
        claude_extra=ingest.get("claude_dirs", ()), codex_extra=ingest.get("codex_dirs", ())
    )
    at_risk: list[dict[str, Any]] = []
    pending: list[str] = []
    codex_pending = codex_total = 0
    claude_total = 0
    for source in sources:
        try:
            st = os.stat(source.path)
        except OSError:
            continue
        state = _read_state(store, machine_id, source.path, st.st_size)
        if state != "read":
            pending.append(source.path)
        if source.kind != CLAUDE:
            codex_total += 1
            codex_pending += state != "read"
            continue
        claude_total += 1
        deleted_in = days - (now - st.st_mtime) / _DAY
        if deleted_in <= MARGIN_DAYS:
            at_risk.append(
                {"path": source.path, "deleted_in_days": round(deleted_in, 1), "state": state}
            )
    unread = [t for t in at_risk if t["state"] != "read"]
    level = "problem" if unread else "ok"
    summary = (
        f"{len(at_risk)} of {claude_total} Claude transcripts are due for deletion within "
        f"{MARGIN_DAYS} days ({origin}); {len(unread)} of them not fully read"
        + (": run `netsky ingest` now" if unread else "")
    )
    claude = Check(
        "claude retention",
        level,
        summary,
        cleanup_period_days=days,
        transcripts=claude_total,
        at_risk=at_risk,
    )
    codex = Check(
        "codex retention",
        "ok",
        f"Codex keeps its rollouts until deleted by hand; {codex_pending} of {codex_total} "
        "not fully read",
        rollouts=codex_total,
        not_fully_read=codex_pending,
    )
    return claude, codex, pending


def hooks_check(settings_file: Any) -> Check:
    from .command import netsky_executable
    from .settings import inspect

    if not settings_file.exists:
        return Check("hooks", "warn", f"{settings_file.path} does not exist: no hook installed")
    try:
        current = netsky_executable()
    except Exception:
        current = None
    info = inspect(settings_file, current)
    if info["stale"]:
        return Check(
            "hooks",
            "problem",
            "netsky's hook runs a netsky executable that is missing or another one "
            "(`netsky hooks install` brings it up to date)",
            **info,
        )
    if not info["events"]:
        return Check(
            "hooks", "warn", f"no netsky hook in {settings_file.path} (`netsky hooks install`)"
        )
    return Check("hooks", "ok", f"netsky's hook runs on {len(info['events'])} events", **info)


def spool_check() -> Check:
    from .spool import all_spools

    waiting = 0
    failing = 0
    for spool in all_spools():
        n = spool.count()
        waiting += n
        failing += bool(n and spool.backing_off())
    if failing:
        return Check(
            "spool",
            "problem",
            f"{waiting} hook events wait; a store was unreachable a moment ago "
            "(`netsky spool status`)",
            waiting=waiting,
        )
    if waiting:
        return Check("spool", "warn", f"{waiting} hook events wait to be stored", waiting=waiting)
    return Check("spool", "ok", "no hook event waits", waiting=0)


def prices_check(now: float) -> Check:
    from datetime import date
    from importlib.resources import files

    data = json.loads(files("netsky_core").joinpath("data/prices.json").read_text("utf-8"))
    retrieved = data.get("retrieved")
    try:
        age = (date.fromtimestamp(now) - date.fromisoformat(retrieved)).days
    except (TypeError, ValueError):
        return Check("pricing", "warn", "the price table says not when it was retrieved")
    level = "warn" if age > PRICES_STALE_DAYS else "ok"
    return Check(
        "pricing",
        level,
        f"price table retrieved {retrieved} ({age} days ago)"
        + ("; a newer netsky may price new models" if level == "warn" else ""),
        retrieved=retrieved,
        age_days=age,
    )


def run_checks(
    config: Any, machine_id: str, open_store: Any, now: float | None = None
) -> list[Check]:
    """Every check, in order: store, Claude and Codex retention, hooks, spool, pricing.
    ``open_store()`` opens the configured store for reading (it may raise)."""
    from .._errors import NetskyError
    from .._urls import mask_url
    from .command import settings_path
    from .settings import SettingsFileError, read_settings

    now = time.time() if now is None else now
    checks: list[Check] = []
    try:
        settings_file = read_settings(settings_path("user"))
    except SettingsFileError as exc:
        settings_file = None
        checks.append(Check("claude settings", "problem", str(exc)))
    try:
        store = open_store()
    except NetskyError as exc:
        checks.append(Check("store", "problem", " ".join(str(exc).split())))
        store = None
    if store is not None:
        try:
            info = store.info()
            checks.append(
                Check(
                    "store",
                    "ok",
                    f"{info.backend} store, schema {info.schema_version}, "
                    f"{info.tables.get('events', 0):,} events",
                    url=mask_url(info.url),
                )
            )
            if settings_file is not None:
                claude, codex, _pending = transcripts_check(
                    store, machine_id, settings_file, config, now
                )
                checks += [claude, codex]
        finally:
            store.close()
    if settings_file is not None:
        checks.append(hooks_check(settings_file))
    checks.append(spool_check())
    checks.append(prices_check(now))
    return checks
