"""``event_from_row`` builds, without validating again, the very Event a row holds."""

from __future__ import annotations

import operator
import pickle
from datetime import UTC, datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from netsky_conformance.strategies import events

from netsky_core import Event
from netsky_core._records import (
    _EVENT_ROW_ORDER,
    event_columns,
    event_from_row,
    events_from_columns,
)

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


wide_times = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
).map(lambda at: at.replace(fold=0))  # fold means nothing in UTC; equality ignores it


@given(st.lists(st.tuples(events(), wide_times, st.integers(0, 2**40)), max_size=30))
def test_events_sent_as_columns_come_back_equal(drawn: list[tuple[Event, datetime, int]]) -> None:
    """The parsing process sends a batch as columns; what the storing process rebuilds
    is the same events, any timestamp and id kept to the microsecond."""
    sent = [attrs.evolve(e, timestamp=at, id=row_id or None) for e, at, row_id in drawn]
    columns = pickle.loads(pickle.dumps(event_columns(sent), pickle.HIGHEST_PROTOCOL))
    got = events_from_columns(columns)
    assert got == sent
    assert all(type(e) is Event and e.timestamp.tzinfo is UTC for e in got)
    assert [repr(e) for e in got] == [repr(e) for e in sent]


def test_columns_share_one_string_per_repeated_name() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    sent = [
        Event(
            machine_id="m",
            session_id="".join(["s", "1"]),  # equal strings, separate objects
            event_type="Stop",
            timestamp=at,
            transcript_path="".join(["/t/", "1.jsonl"]),
        )
        for _ in range(3)
    ]
    assert len({id(e.session_id) for e in sent}) == 3
    columns = event_columns(sent)
    for name in ("session_id", "transcript_path"):
        assert len({id(v) for v in columns[_EVENT_ROW_ORDER.index(name)]}) == 1
    assert events_from_columns(columns) == sent
