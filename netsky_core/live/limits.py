"""Plan limits: how much of a subscription's usage windows is used.

Codex writes ``rate_limits`` (``primary`` / ``secondary`` windows: ``used_percent``,
``window_minutes``, ``resets_at``) with its token counts; Claude Code gives its
statusline ``rate_limits`` (``five_hour`` / ``seven_day``: ``used_percentage``,
``resets_at``). Both are kept as ``PlanLimits`` events whose ``metadata`` is the
normalized form ``{"windows": [{"window": "5h", "used_percent": 42.0, "resets_at":
1769354480}, ...]}`` (``resets_at``: Unix seconds, or None), one event each time the
figures change.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["PLAN_LIMITS", "claude_windows", "codex_windows", "latest_plan_limits"]

PLAN_LIMITS = "PlanLimits"


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
        return float(value)
    return None


def _label(minutes: float | None, fallback: str) -> str:
    if minutes is None:
        return fallback
    if minutes % 1440 == 0:
        return f"{int(minutes // 1440)}d"
    if minutes % 60 == 0:
        return f"{int(minutes // 60)}h"
    return f"{int(minutes)}m"


def _window(label: str, used: Any, resets: Any) -> dict[str, Any] | None:
    pct = _number(used)
    if pct is None:
        return None
    at = _number(resets)
    return {"window": label, "used_percent": pct, "resets_at": None if at is None else int(at)}


def codex_windows(rate_limits: Any) -> list[dict[str, Any]]:
    """The windows of a Codex ``rate_limits`` object (empty when it holds none)."""
    out: list[dict[str, Any]] = []
    if not isinstance(rate_limits, dict):
        return out
    for key in ("primary", "secondary"):
        item = rate_limits.get(key)
        if isinstance(item, dict):
            label = _label(_number(item.get("window_minutes")), key)
            w = _window(label, item.get("used_percent"), item.get("resets_at"))
            if w is not None:
                out.append(w)
    return out


def claude_windows(rate_limits: Any) -> list[dict[str, Any]]:
    """The windows of Claude Code's statusline ``rate_limits`` (empty when none)."""
    out: list[dict[str, Any]] = []
    if not isinstance(rate_limits, dict):
        return out
    for key, label in (("five_hour", "5h"), ("seven_day", "7d")):
        item = rate_limits.get(key)
        if isinstance(item, dict):
            w = _window(label, item.get("used_percentage"), item.get("resets_at"))
            if w is not None:
                out.append(w)
    return out


def latest_plan_limits(store: Any) -> dict[str, dict[str, Any]]:
    """Per framework, the latest stored plan limits: ``{"at": datetime, "windows":
    [...]}`` (reads the newest ``PlanLimits`` events only)."""
    import json

    from .._queries import EventQuery

    out: dict[str, dict[str, Any]] = {}
    for framework in ("claude", "codex"):
        query = EventQuery().with_event_type(PLAN_LIMITS).with_framework(framework).with_limit(1)
        for event in store.query(query):
            try:
                windows = json.loads(event.metadata or "{}").get("windows", [])
            except (ValueError, AttributeError):
                continue
            out[framework] = {"at": event.timestamp, "windows": windows}
    return out
