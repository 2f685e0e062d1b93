"""``EventFollower``: each event stored after the starting id is returned once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from netsky_core import Event, EventFollower, EventQuery, EventType, open_storage

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def _event(n: int, event_type: str = EventType.PRE_TOOL_USE) -> Event:
    return Event(
        machine_id="m",
        session_id="s",
        event_type=event_type,
        timestamp=T0 + timedelta(seconds=n),
        uuid=f"u{n}",
        source="hook",
    )


def test_each_new_event_once_and_nothing_from_before() -> None:
    with open_storage("memory://") as store:
        first = store.insert(_event(0))
        follower = EventFollower(
            store,
            EventQuery().with_event_types([EventType.PRE_TOOL_USE]),
            after_id=first,
            lookback=3,
            batch_size=2,
        )
        assert list(follower.poll()) == []
        store.insert_many([_event(n) for n in range(1, 6)] + [_event(6, EventType.STOP)])
        got = [e.uuid for batch in follower.poll() for e in batch]
        assert got == ["u1", "u2", "u3", "u4", "u5"]
        assert list(follower.poll()) == []  # the look-back window re-read, nothing again
        store.insert(_event(7))
        assert [e.uuid for batch in follower.poll() for e in batch] == ["u7"]
