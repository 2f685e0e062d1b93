"""Deterministic event workloads shared by the SQLite benchmarks."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from netsky_core import Event, EventSource, EventType

T0 = datetime(2026, 1, 1, tzinfo=UTC)
_TYPES = [
    EventType.PRE_TOOL_USE,
    EventType.POST_TOOL_USE,
    EventType.API_REQUEST,
    EventType.API_REQUEST,
    EventType.USER_PROMPT_SUBMIT,
]


def make_events(
    n: int,
    *,
    sessions: int = 2000,
    seed: int = 0,
    start: int = 0,
    days: int = 60,
    total: int | None = None,
) -> list[Event]:
    """Events ``start .. start + n`` of a workload of ``total`` (default ``start + n``)
    realistic events spread evenly over ``sessions`` sessions and ``days`` days."""
    rng = random.Random(seed)
    out = []
    span = days * 86400
    total = max(total or start + n, 1)
    for i in range(start, start + n):
        session = i * sessions // total
        et = _TYPES[i % len(_TYPES)]
        api = et == EventType.API_REQUEST
        out.append(
            Event(
                machine_id="bench",
                session_id=f"session-{session:06d}",
                event_type=et,
                timestamp=T0 + timedelta(seconds=session * span // sessions + (i % 5000) * 0.5),
                uuid=f"{seed}-{i:012d}",
                framework="claude",
                source=EventSource.TRANSCRIPT,
                tool_name="Bash"
                if et in (EventType.PRE_TOOL_USE, EventType.POST_TOOL_USE)
                else None,
                tool_use_id=f"toolu_{i}" if not api else None,
                cwd="/home/dev/project",
                git_branch="main",
                model="claude-opus-4-6" if api else None,
                tokens_input=rng.randint(1, 50) if api else None,
                tokens_output=rng.randint(1, 2000) if api else None,
                tokens_cache_read=rng.randint(0, 100_000) if api else None,
                tokens_cache_write=rng.randint(0, 5000) if api else None,
                cost_usd=rng.random() / 10 if api else None,
                payload='{"tool_input":{"command":"ls -la"}}' if not api else None,
            )
        )
    return out
