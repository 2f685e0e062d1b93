"""Event builders and fixed times shared by the conformance tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import orjson

from netsky_core import Event, EventSource, EventType

_T = TypeVar("_T")

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
_uuids = itertools.count()


def at(seconds: float = 0, *, micros: int = 0) -> datetime:
    """``T0`` plus an offset."""
    return T0 + timedelta(seconds=seconds, microseconds=micros)


def ev(
    event_type: str = EventType.PRE_TOOL_USE,
    t: float | datetime = 0,
    *,
    machine_id: str = "m1",
    session_id: str = "s1",
    uuid: str | Any | None = ...,
    source: str = EventSource.HOOK,
    payload: Any = None,
    **fields: Any,
) -> Event:
    """An event with sensible defaults; ``uuid`` defaults to a fresh unique one."""
    if uuid is ...:
        uuid = f"u{next(_uuids)}"
    if payload is not None and not isinstance(payload, str):
        payload = orjson.dumps(payload).decode()
    timestamp = t if isinstance(t, datetime) else at(t)
    return Event(
        machine_id=machine_id,
        session_id=session_id,
        event_type=event_type,
        timestamp=timestamp,
        uuid=uuid,
        source=source,
        payload=payload,
        **fields,
    )


def api(
    t: float | datetime = 0,
    *,
    tokens: tuple[int | None, int | None, int | None, int | None] = (10, 20, 30, 40),
    cost: float | None = 0.001,
    model: str | None = "claude-test",
    **fields: Any,
) -> Event:
    """An ``ApiRequest`` event from a transcript."""
    ti, to, tr, tw = tokens
    fields.setdefault("source", EventSource.TRANSCRIPT)
    return ev(
        EventType.API_REQUEST,
        t,
        tokens_input=ti,
        tokens_output=to,
        tokens_cache_read=tr,
        tokens_cache_write=tw,
        cost_usd=cost,
        model=model,
        **fields,
    )


def present(values: Iterable[_T | None]) -> list[_T]:
    """``values`` as a list, failing the test if one is None (an id or uuid a store lost)."""
    out: list[_T] = []
    for value in values:
        assert value is not None, f"None among {values!r}"
        out.append(value)
    return out


def prompt(text: str, t: float = 0, **fields: Any) -> Event:
    return ev(EventType.USER_PROMPT_SUBMIT, t, payload={"prompt": text}, **fields)


def without_id(event: Event) -> Event:
    import attrs

    return attrs.evolve(event, id=None)
