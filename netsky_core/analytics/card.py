"""The active 5-hour block as one card: elapsed and remaining time, current usage,
burn rate, projection to the block's end and, with a token limit, how much of it is
used now and at the projected end."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .results import Report

BLOCK_SECONDS = 5 * 3600
WARN_PERCENT = 80.0


def token_limit_of(report: Report, value: str | int | None) -> int | None:
    """``--token-limit``: a number of tokens, or ``max`` for the most tokens any earlier
    (not active) block used; None where there is no such block."""
    if value is None:
        return None
    if value == "max":
        earlier = [r.values["total_tokens"] for r in report.rows if not r.values.get("is_active")]
        return max(earlier) if earlier and max(earlier) > 0 else None
    return int(value)


def active_card(
    report: Report, *, now: datetime | None = None, token_limit: int | None = None
) -> dict[str, Any] | None:
    """The active block of a blocks report as a card (None when no block is active)."""
    row = next((r for r in report.rows if r.values.get("is_active")), None)
    if row is None:
        return None
    values = row.values
    now = now or datetime.now(UTC)
    elapsed = min(BLOCK_SECONDS, max(0.0, (now - values["start"]).total_seconds()))
    remaining = max(0.0, (values["end"] - now).total_seconds())
    card: dict[str, Any] = {
        "start": values["start"],
        "end": values["end"],
        "elapsed_seconds": round(elapsed),
        "remaining_seconds": round(remaining),
        "elapsed_percent": elapsed / BLOCK_SECONDS * 100,
        "total_tokens": values["total_tokens"],
        "cost_usd": values["cost_usd"],
        "requests": row.requests,
        "models": list(values.get("models", ())),
        "burn_rate": values.get("burn_rate"),
        "projection": values.get("projection"),
        "token_limit": None,
    }
    if token_limit:
        projection = values.get("projection")
        projected = projection["total_tokens"] if projection else values["total_tokens"]
        used = values["total_tokens"] / token_limit * 100
        ahead = projected / token_limit * 100
        status = "exceeded" if used >= 100 else "warning" if ahead >= WARN_PERCENT else "ok"
        card["token_limit"] = {
            "tokens": token_limit,
            "used_percent": used,
            "projected_percent": ahead,
            "remaining_tokens": max(0, token_limit - values["total_tokens"]),
            "status": status,
        }
    return card
