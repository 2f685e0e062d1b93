"""Events: insert, dedup, supersession, round trips, queries, watching."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from netsky_core import (
    Event,
    EventQuery,
    EventSource,
    EventType,
    Order,
    RecordError,
    Storage,
)

from .base import StorageFixtures
from .builders import T0, api, at, ev, present, without_id
from .strategies import property_settings, text_values, wide_times

_TEXT_FIELDS = (
    "framework",
    "tool_use_id",
    "tool_name",
    "spawned_agent_id",
    "subagent_type",
    "permission_mode",
    "transcript_path",
    "cwd",
    "git_branch",
    "model",
    "payload",
    "metadata",
)
_PROPERTY = property_settings(25)


def full_event(**overrides: object) -> Event:
    values: dict[str, object] = dict(
        machine_id="machine-a",
        session_id="session-a",
        event_type=EventType.POST_TOOL_USE,
        timestamp=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        uuid="uuid-1",
        framework="claude",
        source=EventSource.HOOK,
        tool_use_id="toolu_1",
        tool_name="Bash",
        spawned_agent_id="agent-7",
        subagent_type="Explore",
        permission_mode="acceptEdits",
        transcript_path="/home/u/.claude/projects/p/s.jsonl",
        pid=4242,
        process_start_time=1234567,
        cwd="/home/u/p",
        git_branch="feature/x",
        model="claude-opus-4-6",
        tokens_input=1,
        tokens_output=2,
        tokens_cache_read=3,
        tokens_cache_write=4,
        cost_usd=0.123456789,
        duration_ms=55,
        is_sidechain=True,
        payload='{"tool_input": {"command": "ls"}}',
        metadata='{"cache_write_1h": 4}',
    )
    values.update(overrides)
    return Event(**values)  # type: ignore[arg-type]


class EventsConformance(StorageFixtures):
    # -- insert and round trip ------------------------------------------------------

    def test_insert_returns_id_and_round_trips_every_field(self, storage: Storage) -> None:
        event = full_event()
        event_id = storage.insert(event)
        assert isinstance(event_id, int)
        (stored,) = storage.query(EventQuery())
        assert stored.id == event_id
        assert without_id(stored) == event

    def test_ids_increase_with_each_insert(self, storage: Storage) -> None:
        ids = present(storage.insert(ev(t=i)) for i in range(5))
        assert ids == sorted(ids) and len(set(ids)) == 5
        more = present(storage.insert_many([ev(t=10), ev(t=11)]).ids)
        assert min(more) > max(ids)

    def test_insert_duplicate_returns_existing_id_and_changes_nothing(
        self, storage: Storage
    ) -> None:
        event = ev(EventType.USER_PROMPT_SUBMIT, payload={"prompt": "hi"})
        first = storage.insert(event)
        before = storage.get_session_by_key("m1", "s1")
        assert storage.insert(event) == first
        assert storage.count() == 1
        assert storage.get_session_by_key("m1", "s1") == before

    def test_insert_many_reports_inserted_and_duplicates(self, storage: Storage) -> None:
        a, b, c = ev(t=1), ev(t=2), ev(t=3)
        storage.insert(a)
        result = storage.insert_many([a, b, c, b])
        assert (result.inserted, result.duplicates, result.superseded) == (2, 2, 0)
        assert len(result.ids) == 4
        assert result.ids[1] == result.ids[3]
        assert result.ids[0] == storage.query(EventQuery().with_limit(1).order_by_id())[0].id
        assert storage.count() == 3

    def test_insert_many_of_nothing(self, storage: Storage) -> None:
        result = storage.insert_many([])
        assert (result.ids, result.inserted, result.duplicates) == ((), 0, 0)
        assert storage.count() == 0

    def test_insert_many_accepts_any_iterable(self, storage: Storage) -> None:
        result = storage.insert_many(ev(t=i) for i in range(3))
        assert result.inserted == 3

    def test_insert_many_ids_point_at_the_stored_rows(self, storage: Storage) -> None:
        events = [ev(t=i, tool_name=f"tool{i}") for i in range(20)]
        result = storage.insert_many(events)
        by_id = {e.id: e for e in storage.query(EventQuery())}
        for event, event_id in zip(events, result.ids):
            assert without_id(by_id[event_id]) == event

    def test_events_without_uuid_are_never_deduplicated(self, storage: Storage) -> None:
        event = ev(uuid=None)
        storage.insert(event)
        result = storage.insert_many([event, event])
        assert result.inserted == 2 and result.duplicates == 0
        assert storage.count() == 3

    def test_dedup_key_is_machine_session_uuid(self, storage: Storage) -> None:
        storage.insert_many(
            [
                ev(uuid="same"),
                ev(uuid="same", session_id="s2"),
                ev(uuid="same", machine_id="m2"),
            ]
        )
        assert storage.count() == 3
        assert storage.insert(ev(uuid="same", session_id="s2")) is not None
        assert storage.count() == 3

    def test_invalid_batch_stores_nothing(self, storage: Storage) -> None:
        with pytest.raises(RecordError):
            storage.insert_many([ev(t=1), "not an event"])  # type: ignore[list-item]
        assert storage.count() == 0

    def test_none_and_zero_are_kept_apart(self, storage: Storage) -> None:
        zero = full_event(
            uuid="zero",
            tokens_input=0,
            tokens_output=0,
            tokens_cache_read=0,
            tokens_cache_write=0,
            cost_usd=0.0,
            duration_ms=0,
            pid=0,
            process_start_time=0,
            payload="",
            metadata="",
            cwd="",
        )
        none = full_event(
            uuid="none",
            tokens_input=None,
            tokens_output=None,
            tokens_cache_read=None,
            tokens_cache_write=None,
            cost_usd=None,
            duration_ms=None,
            pid=None,
            process_start_time=None,
            payload=None,
            metadata=None,
            cwd=None,
        )
        storage.insert_many([zero, none])
        stored = {e.uuid: without_id(e) for e in storage.query(EventQuery())}
        assert stored["zero"] == zero
        assert stored["none"] == none

    @pytest.mark.parametrize(
        "when",
        [
            datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
            datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=UTC),
            datetime(2099, 12, 31, 23, 59, 59, 123456, tzinfo=UTC),
        ],
    )
    def test_timestamps_round_trip_to_the_microsecond(
        self, storage: Storage, when: datetime
    ) -> None:
        storage.insert(ev(t=when))
        (stored,) = storage.query(EventQuery())
        assert stored.timestamp == when
        assert stored.timestamp.tzinfo is UTC

    def test_non_utc_timestamps_are_stored_as_utc(self, storage: Storage) -> None:
        tz = timezone(timedelta(hours=-7, minutes=-30))
        local = datetime(2026, 5, 5, 1, 2, 3, 456789, tzinfo=tz)
        storage.insert(ev(t=local))
        (stored,) = storage.query(EventQuery())
        assert stored.timestamp == local
        assert stored.timestamp.tzinfo is UTC
        assert stored.timestamp.hour == 8

    @given(when=wide_times)
    @_PROPERTY
    def test_any_timestamp_round_trips(
        self, open_store: Callable[..., Storage], when: datetime
    ) -> None:
        store = open_store()
        store.insert(ev(t=when))
        assert store.query(EventQuery())[0].timestamp == when

    def test_unknown_event_types_are_stored_as_given(self, storage: Storage) -> None:
        storage.insert_many([ev("CwdChanged"), ev("task-created v2 ✓")])
        types = {e.event_type for e in storage.query(EventQuery())}
        assert types == {"CwdChanged", "task-created v2 ✓"}
        assert [
            e.event_type for e in storage.query(EventQuery().with_event_type("CwdChanged"))
        ] == ["CwdChanged"]

    @given(value=text_values, field=st.sampled_from(_TEXT_FIELDS))
    @_PROPERTY
    def test_odd_strings_round_trip_in_every_text_field(
        self, open_store: Callable[..., Storage], value: str, field: str
    ) -> None:
        store = open_store()
        event = full_event(**{field: value})
        store.insert(event)
        (stored,) = store.query(EventQuery())
        assert getattr(stored, field) == value
        assert without_id(stored) == event

    @given(machine=text_values.filter(bool), session=text_values.filter(bool), uuid=text_values)
    @_PROPERTY
    def test_odd_strings_round_trip_in_identity_fields(
        self, open_store: Callable[..., Storage], machine: str, session: str, uuid: str
    ) -> None:
        store = open_store()
        event = full_event(machine_id=machine, session_id=session, uuid=uuid)
        store.insert(event)
        assert store.event_exists_by_uuid(machine, session, uuid)
        (stored,) = store.query(EventQuery().with_session(session).with_machine(machine))
        assert without_id(stored) == event
        assert store.get_session_by_key(machine, session) is not None

    def test_large_payload_round_trips(self, storage: Storage) -> None:
        big = '{"content": "' + ("x" * 2_000_000) + '"}'
        storage.insert(ev(payload=big))
        assert storage.query(EventQuery())[0].payload == big

    def test_nul_characters_are_rejected_before_storage(self, storage: Storage) -> None:
        with pytest.raises(RecordError):
            storage.insert(ev(cwd="a\x00b"))
        assert storage.count() == 0

    @pytest.mark.parametrize(
        "fields",
        [
            {"cwd": "lone \ud800 surrogate"},
            {"tokens_input": 1 << 63},
            {"pid": -(1 << 63) - 1},
            {"duration_ms": -1},
        ],
    )
    def test_values_no_backend_can_store_are_rejected(self, storage: Storage, fields: dict) -> None:
        with pytest.raises(RecordError):
            storage.insert(ev(**fields))
        assert storage.count() == 0

    def test_64_bit_extremes_round_trip(self, storage: Storage) -> None:
        big = (1 << 63) - 1
        event = full_event(
            pid=-(1 << 63), process_start_time=big, tokens_input=big, duration_ms=big
        )
        storage.insert(event)
        assert without_id(storage.query(EventQuery())[0]) == event

    # -- supersession ------------------------------------------------------------------

    def test_better_version_supersedes_the_stored_one(self, storage: Storage) -> None:
        partial = api(1, uuid="msg-1", tokens=(5, 3, 0, 100), cost=0.01)
        final = api(2, uuid="msg-1", tokens=(5, 400, 0, 100), cost=0.02)
        first_id = storage.insert(partial)
        result = storage.insert_many([final])
        assert (result.inserted, result.duplicates, result.superseded) == (0, 0, 1)
        assert result.ids == (first_id,)
        (stored,) = storage.query(EventQuery())
        assert stored.id == first_id
        assert without_id(stored) == final
        session = storage.get_session_by_key("m1", "s1")
        assert session is not None
        assert session.tokens_output == 400
        assert session.api_request_count == 1
        assert session.cost_usd == pytest.approx(0.02)

    def test_lesser_version_is_a_duplicate(self, storage: Storage) -> None:
        final = api(2, uuid="msg-1", tokens=(5, 400, 0, 100))
        partial = api(1, uuid="msg-1", tokens=(5, 3, 0, 100))
        storage.insert(final)
        result = storage.insert_many([partial])
        assert (result.inserted, result.duplicates, result.superseded) == (0, 1, 0)
        assert without_id(storage.query(EventQuery())[0]) == final

    def test_equal_usage_keeps_main_thread_then_earliest(self, storage: Storage) -> None:
        side = api(1, uuid="m", is_sidechain=True)
        main_late = api(5, uuid="m")
        main_early = api(3, uuid="m")
        storage.insert_many([side, main_late])
        storage.insert(main_early)
        assert without_id(storage.query(EventQuery())[0]) == main_early

    # -- queries -----------------------------------------------------------------------

    def _seed_events(self, storage: Storage) -> list[Event]:
        events = [
            ev(EventType.SESSION_START, 0, framework="claude"),
            ev(EventType.PRE_TOOL_USE, 1, tool_name="Bash", framework="claude"),
            api(2, framework="claude"),
            ev(EventType.PRE_TOOL_USE, 3, tool_name="Edit", session_id="s2", framework="codex"),
            ev(EventType.STOP, 4, machine_id="m2", framework="claude"),
            api(5, session_id="s2", framework="codex"),
            ev("Custom", 6, session_id="s3"),
        ]
        storage.insert_many(events)
        return events

    def _event_types(self, events: list[Event]) -> list[str]:
        return [e.event_type for e in events]

    def test_query_filters(self, storage: Storage) -> None:
        self._seed_events(storage)
        q = EventQuery()
        assert len(storage.query(q.with_session("s1"))) == 4
        assert len(storage.query(q.with_sessions(["s2", "s3"]))) == 3
        assert len(storage.query(q.with_sessions([]))) == 0
        assert len(storage.query(q.with_machine("m2"))) == 1
        assert len(storage.query(q.with_framework("codex"))) == 2
        assert len(storage.query(q.with_event_type(EventType.PRE_TOOL_USE))) == 2
        assert len(storage.query(q.with_event_types([EventType.STOP, "Custom"]))) == 2
        assert [e.tool_name for e in storage.query(q.with_tool_name("Edit"))] == ["Edit"]
        assert len(storage.query(q.api_requests_only())) == 2
        assert len(storage.query(q.exclude_api_requests())) == 5
        assert len(storage.query(q.with_session("s1").with_machine("m1").api_requests_only())) == 1

    def test_time_window_is_half_open(self, storage: Storage) -> None:
        self._seed_events(storage)
        window = storage.query(EventQuery().with_time_range(at(1), at(4)))
        assert sorted(e.timestamp for e in window) == [at(1), at(2), at(3)]
        assert len(storage.query(EventQuery().with_since(at(6)))) == 1
        assert len(storage.query(EventQuery().with_until(at(0)))) == 0
        edge = storage.query(EventQuery().with_since(at(1, micros=1)).with_until(at(2, micros=1)))
        assert [e.timestamp for e in edge] == [at(2)]

    def test_default_order_is_newest_first_ties_by_id(self, storage: Storage) -> None:
        self._seed_events(storage)
        tie = storage.insert_many([ev(t=2, tool_name="tie-a"), ev(t=2, tool_name="tie-b")]).ids
        got = storage.query(EventQuery())
        stamps = [e.timestamp for e in got]
        assert stamps == sorted(stamps, reverse=True)
        at_two = present(e.id for e in got if e.timestamp == at(2))
        assert at_two == sorted(at_two, reverse=True)
        assert set(tie) <= set(at_two)
        asc = storage.query(EventQuery().with_direction(Order.ASC))
        assert [e.id for e in asc] == [e.id for e in reversed(got)]

    def test_order_by_id_is_ascending_by_default(self, storage: Storage) -> None:
        storage.insert_many([ev(t=9), ev(t=1), ev(t=5)])
        got = storage.query(EventQuery().order_by_id())
        assert [e.id for e in got] == sorted(present(e.id for e in got))
        assert [e.timestamp for e in got] == [at(9), at(1), at(5)]
        desc = storage.query(EventQuery().order_by_id().with_direction("desc"))
        assert [e.id for e in desc] == sorted(present(e.id for e in got), reverse=True)

    def test_limit(self, storage: Storage) -> None:
        self._seed_events(storage)
        assert len(storage.query(EventQuery().with_limit(3))) == 3
        assert storage.query(EventQuery().with_limit(0)) == []
        assert len(storage.query(EventQuery().with_limit(100))) == 7
        newest = storage.query(EventQuery().with_limit(1))[0]
        assert newest.timestamp == at(6)

    def test_after_id_follows_new_events(self, storage: Storage) -> None:
        first = storage.insert_many([ev(t=i) for i in range(3)]).ids
        watch = EventQuery().order_by_id()
        assert [e.id for e in storage.query(watch.with_after_id(first[0]))] == list(first[1:])
        assert storage.query(watch.with_after_id(first[-1])) == []
        more = storage.insert_many([ev(t=-5), ev(t=50)]).ids
        assert [e.id for e in storage.query(watch.with_after_id(first[-1]))] == list(more)
        page = storage.query(watch.with_after_id(0).with_limit(2))
        assert [e.id for e in page] == list(first[:2])

    def test_query_by_uuids_across_sessions(self, storage: Storage) -> None:
        storage.insert_many(
            [
                ev(uuid="shared", session_id="a"),
                ev(uuid="shared", session_id="b", machine_id="m2"),
                ev(uuid="other", session_id="a"),
                ev(uuid=None, session_id="a"),
            ]
        )
        found = storage.query(EventQuery().with_uuids(["shared", "absent"]))
        assert sorted((e.machine_id, e.session_id) for e in found) == [("m1", "a"), ("m2", "b")]
        assert storage.query(EventQuery().with_uuids([])) == []
        mine = storage.query(EventQuery().with_uuids(["shared", "other"]).with_machine("m1"))
        assert sorted(present(e.uuid for e in mine)) == ["other", "shared"]
        assert storage.count(EventQuery().with_uuids(["other"])) == 1

    def test_count(self, storage: Storage) -> None:
        assert storage.count() == 0
        self._seed_events(storage)
        assert storage.count() == 7
        assert storage.count(EventQuery().with_session("s2")) == 2
        assert storage.count(EventQuery().api_requests_only().with_limit(1)) == 2

    def test_event_exists_by_uuid(self, storage: Storage) -> None:
        storage.insert(ev(uuid="here"))
        assert storage.event_exists_by_uuid("m1", "s1", "here")
        assert not storage.event_exists_by_uuid("m1", "s1", "absent")
        assert not storage.event_exists_by_uuid("m2", "s1", "here")
        assert not storage.event_exists_by_uuid("m1", "s2", "here")

    def test_returned_events_are_records_with_ids(self, storage: Storage) -> None:
        self._seed_events(storage)
        for event in storage.query(EventQuery()):
            assert type(event) is Event
            assert isinstance(event.id, int)
            assert event.timestamp.tzinfo is UTC
            assert attrs.has(type(event))
        assert at(0) == T0
