"""Deterministic synthetic events for the PostgreSQL benchmarks.

Events come in runs per session (like a transcript ingest), over many machines and
sessions, with realistic payload sizes and a timestamp spread of 60 days, so that
"gc 30%" is a cutoff at 30% of the time range.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson

from netsky_core import Event, EventSource, EventType

__all__ = ["SPAN", "T0", "batches", "event", "make_events"]

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=60)
EVENTS_PER_SESSION = 100
_TYPES = [
    EventType.PRE_TOOL_USE,
    EventType.POST_TOOL_USE,
    EventType.API_REQUEST,
    EventType.USER_PROMPT_SUBMIT,
    EventType.PRE_TOOL_USE,
    EventType.POST_TOOL_USE,
    EventType.API_REQUEST,
    EventType.STOP,
]
_TOOLS = ["Bash", "Edit", "Read", "Grep", "Write"]


def event(i: int, total: int, *, tag: str = "") -> Event:
    """The ``i``-th of ``total`` events; same ``i`` -> same event."""
    session = i // EVENTS_PER_SESSION
    et = _TYPES[i % len(_TYPES)]
    # Sessions are spread evenly over the span; events of a session are close together.
    sessions = max(1, total // EVENTS_PER_SESSION)
    ts = T0 + SPAN * (session / sessions) + timedelta(seconds=i % EVENTS_PER_SESSION)
    api = et == EventType.API_REQUEST
    payload = {
        "tool_input": {"command": f"ls -la /tmp/project-{session % 97}/src", "n": i},
        "cwd": f"/home/dev/project-{session % 97}",
        "text": "x" * 180,
    }
    if et == EventType.USER_PROMPT_SUBMIT:
        payload["prompt"] = f"please fix the failing test number {i % 13}"
    return Event(
        machine_id=f"machine-{session % 20:02d}",
        session_id=f"{tag}session-{session:07d}",
        event_type=et,
        timestamp=ts,
        uuid=f"{tag}uuid-{i:09d}",
        framework="claude",
        source=EventSource.TRANSCRIPT if api else EventSource.HOOK,
        tool_name=None if api else _TOOLS[i % len(_TOOLS)],
        tool_use_id=None if api else f"toolu_{i:09d}",
        pid=10_000 + session % 5000,
        cwd=f"/home/dev/project-{session % 97}",
        git_branch="main",
        model="claude-opus-4-6" if api else None,
        tokens_input=(i % 50) + 1 if api else None,
        tokens_output=(i % 300) + 10 if api else None,
        tokens_cache_read=1000 + i % 7 if api else None,
        tokens_cache_write=10 if api else None,
        cost_usd=0.0001 * ((i % 17) + 1) if api else None,
        duration_ms=None if api else i % 900,
        payload=orjson.dumps(payload).decode(),
    )


def make_events(start: int, stop: int, total: int, *, tag: str = "") -> list[Event]:
    return [event(i, total, tag=tag) for i in range(start, stop)]


def batches(total: int, size: int, *, tag: str = "") -> Iterator[list[Event]]:
    for start in range(0, total, size):
        yield make_events(start, min(total, start + size), total, tag=tag)
