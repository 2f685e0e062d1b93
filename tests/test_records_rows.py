"""``event_from_row`` builds, without validating again, the very Event a row holds."""

from __future__ import annotations

import operator
import pickle
from datetime import UTC, datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given
from netsky_conformance.strategies import events

from netsky_core import Event
from netsky_core._records import _EVENT_ROW_ORDER, event_from_row

row_of = operator.attrgetter(*_EVENT_ROW_ORDER)


@given(events())
def test_a_row_gives_back_an_equal_frozen_event(event: Event) -> None:
    event = attrs.evolve(event, id=7)
    built = event_from_row(row_of(event))
    assert type(built) is Event
    assert built == event and hash(built) == hash(event) and repr(built) == repr(event)
    assert pickle.loads(pickle.dumps(built)) == event
    assert attrs.evolve(built, uuid="other").uuid == "other"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.uuid = "changed"  # type: ignore[misc]
    assert event_from_row(list(row_of(event))) == event


def test_a_timestamp_in_another_zone_becomes_utc() -> None:
    at = datetime(2026, 1, 1, 12, tzinfo=UTC)
    event = Event(machine_id="m", session_id="s", event_type="Stop", timestamp=at)
    row = list(row_of(event))
    row[_EVENT_ROW_ORDER.index("timestamp")] = at.astimezone(timezone(timedelta(hours=2)))
    built = event_from_row(row)
    assert built.timestamp.tzinfo is UTC and built == event


def test_a_shorter_row_leaves_the_missing_fields_unset() -> None:
    event = Event(machine_id="m", session_id="s", event_type="Stop", timestamp=datetime.now(UTC))
    built = event_from_row(row_of(event)[:-1])
    assert built.payload is None
    with pytest.raises(AttributeError):
        _ = built.metadata
