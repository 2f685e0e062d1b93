"""The PostgreSQL write path's row of an event follows ``EVENT_WRITE_FIELDS`` (the
accessors are spelled out for speed, so their order is checked here)."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs
from netsky_postgres._sql import EVENT_WRITE_FIELDS, event_params

from netsky_core import Event
from netsky_core.backend import billing_key


def _every_field_set(event_type: str) -> Event:
    values: dict[str, object] = {}
    # Resolved here because whether another module (cattrs) resolved them already
    # depends on which tests ran first in this process.
    for i, field in enumerate(attrs.fields(attrs.resolve_types(Event))):
        if field.name == "id":
            continue
        if field.type in (int, int | None):
            values[field.name] = 1000 + i
        elif field.type in (float, float | None):
            values[field.name] = 0.5 + i
        elif field.type is bool:
            values[field.name] = True
        else:
            values[field.name] = f"v{i}"
    values.update(
        event_type=event_type,
        timestamp=datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC),
        uuid="api:msg_1:req_1",
        source="transcript",
    )
    return Event(**values)


def test_event_params_follow_the_write_fields() -> None:
    for event_type in ("ApiRequest", "ToolUse"):
        event = _every_field_set(event_type)
        expected = [getattr(event, f) for f in EVENT_WRITE_FIELDS[:-1]] + [billing_key(event)]
        assert list(event_params(event)) == expected
    assert EVENT_WRITE_FIELDS[-1] == "bill_key"
