"""The status line: its fields, its format check and its rendering (pure functions
of a statusline payload and a :class:`~netsky_core.live.snapshot.Snapshot`)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["DEFAULT_FORMAT", "FIELDS", "check_format", "rate_limits", "render"]

DEFAULT_FORMAT = "{model} | {session} | {today} | {block} | {burn}{budget}{limits}"
FIELDS = (
    "model",
    "session",
    "today",
    "block",
    "burn",
    "budget",
    "limits",
    "session_cost",
    "session_tokens",
    "today_cost",
    "block_cost",
    "block_left",
)
_RESET = "\x1b[0m"
_COLORS = {"model": "\x1b[1;36m", "cost": "\x1b[32m", "dim": "\x1b[2m"}
_LEVEL = {"ok": "\x1b[32m", "high": "\x1b[33m", "over": "\x1b[1;31m"}


def _money(value: float | None) -> str:
    return "$?" if value is None else f"${value:,.2f}"


def _tokens(value: int | None) -> str:
    if value is None:
        return "? tok"
    for size, unit in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if value >= size:
            return f"{value / size:.1f}{unit} tok"
    return f"{value} tok"


def _left(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m"


def _level(fraction: float | None) -> str:
    if fraction is None or fraction < 0.8:
        return "ok"
    return "high" if fraction < 1.0 else "over"


def rate_limits(payload: dict[str, Any]) -> list[tuple[str, float]]:
    limits = payload.get("rate_limits")
    out: list[tuple[str, float]] = []
    if not isinstance(limits, dict):
        return out
    for key, label in (("five_hour", "5h"), ("seven_day", "7d")):
        item = limits.get(key)
        pct = item.get("used_percentage") if isinstance(item, dict) else None
        if isinstance(pct, int | float) and not isinstance(pct, bool):
            out.append((label, float(pct)))
    return out


def render(payload: dict[str, Any], snap: Any, fmt: str, color: bool) -> str:
    """The status line for a statusline payload and a :class:`Snapshot`."""

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if color and text else text

    model = payload.get("model")
    name = None
    if isinstance(model, dict):
        name = model.get("display_name") or model.get("id")
    elif isinstance(model, str):
        name = model
    session = snap.session
    if session is not None:
        session_cost, session_tokens = _money(session.cost_usd), _tokens(session.tokens)
    else:  # not stored yet: Claude Code's own estimate
        cost = payload.get("cost")
        estimate = cost.get("total_cost_usd") if isinstance(cost, dict) else None
        if isinstance(estimate, int | float) and not isinstance(estimate, bool):
            session_cost = "~" + _money(float(estimate))
        else:
            session_cost = "$?"
        session_tokens = "? tok"
    block = snap.block
    values: dict[str, str] = {
        "model": paint(str(name or "?"), _COLORS["model"]),
        "session_cost": paint(session_cost, _COLORS["cost"]),
        "session_tokens": session_tokens,
        "today_cost": paint(_money(snap.today.cost_usd), _COLORS["cost"]),
    }
    values["session"] = f"{values['session_cost']} session ({session_tokens})"
    values["today"] = f"{values['today_cost']} today"
    if block is None:
        values["block_cost"] = values["block_left"] = ""
        values["block"] = paint("no active block", _COLORS["dim"])
        values["burn"] = paint("-/h", _COLORS["dim"])
    else:
        values["block_cost"] = paint(_money(block.cost_usd), _COLORS["cost"])
        values["block_left"] = _left(block.left_us(snap.now_us) // 1_000_000)
        values["block"] = f"{values['block_cost']} block ({values['block_left']} left)"
        rate = block.burn_per_hour(snap.now_us)[0]
        values["burn"] = f"{_money(rate)}/h"
    parts = []
    for state in snap.budget:
        pct = state.fraction
        limit = state.limit
        what = limit.period if limit.scope is None else f"{limit.name} {limit.period}"
        text = f"{what} {'?' if pct is None else f'{pct * 100:.0f}%'}"
        parts.append(paint(text, _LEVEL[_level(pct)]))
    values["budget"] = f" | budget {' '.join(parts)}" if parts else ""
    limits = [
        paint(f"{label} {pct:.0f}%", _LEVEL[_level(pct / 100)])
        for label, pct in rate_limits(payload)
    ]
    values["limits"] = f" | {' '.join(limits)}" if limits else ""
    return fmt.format_map(values)


def check_format(fmt: str) -> str | None:
    """Why ``fmt`` is not a usable format, or None."""
    import _string  # type: ignore[import-not-found]  # string.Formatter.parse without re

    try:
        names = [f for _, f, _, _ in _string.formatter_parser(fmt) if f is not None]
    except ValueError as exc:
        return f"statusline format {fmt!r}: {exc}"
    for name in names:
        if name not in FIELDS:
            return f"statusline format: unknown field {{{name}}} (known: {', '.join(FIELDS)})"
    return None
