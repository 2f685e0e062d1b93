"""gc and count_expired: cutoff boundary, dry runs, what survives."""

from __future__ import annotations

from datetime import timedelta

import pytest

from netsky_core import (
    DurationError,
    EventQuery,
    EventType,
    FilePosition,
    SessionQuery,
    Storage,
    StorageStatsQuery,
    UsageQuery,
)

from .base import StorageFixtures
from .builders import api, at, ev

DAY = timedelta(days=1)


class GcConformance(StorageFixtures):
    def _seed_gc(self, storage: Storage) -> None:
        cutoff = at(0)
        storage.insert_many(
            [
                # session "old": everything before the cutoff
                ev(EventType.SESSION_START, cutoff - 3 * DAY, session_id="old"),
                api((cutoff - 2 * DAY), session_id="old"),
                # session "mixed": old events and new ones
                api(cutoff - 5 * DAY, session_id="mixed", tokens=(1, 1, 1, 1), cost=0.5),
                api(
                    cutoff + timedelta(hours=1), session_id="mixed", tokens=(2, 2, 2, 2), cost=0.25
                ),
                # exactly at the cutoff, and one microsecond before it
                ev(EventType.PRE_TOOL_USE, cutoff, session_id="edge"),
                ev(EventType.PRE_TOOL_USE, cutoff - timedelta(microseconds=1), session_id="edge"),
            ]
        )

    def test_gc_deletes_events_before_the_cutoff_and_idle_sessions(self, storage: Storage) -> None:
        self._seed_gc(storage)
        now = at(0) + 30 * DAY
        result = storage.gc(timedelta(days=30), now=now)
        assert result.cutoff == at(0)
        assert (result.deleted_events, result.expired_events) == (4, 4)
        assert (result.deleted_sessions, result.expired_sessions) == (1, 1)
        assert not result.dry_run
        remaining = sorted(e.timestamp for e in storage.query(EventQuery()))
        assert remaining == [at(0), at(0) + timedelta(hours=1)]
        assert storage.get_session_by_key("m1", "old") is None
        assert {s.session_id for s in storage.list_sessions(SessionQuery())} == {"mixed", "edge"}

    def test_sessions_lose_the_deleted_events_from_their_totals(self, storage: Storage) -> None:
        self._seed_gc(storage)
        before = storage.get_session_by_key("m1", "mixed")
        storage.gc(timedelta(days=30), now=at(0) + 30 * DAY)
        after = storage.get_session_by_key("m1", "mixed")
        assert before is not None and before.tokens_input == 3 and before.cost_usd == 0.75
        assert after is not None
        assert (after.api_request_count, after.tokens_input, after.cost_usd) == (1, 2, 0.25)
        assert after.event_count == 1
        # "when" facts are history: the session still started when it started
        assert after.first_activity == before.first_activity

    def test_every_total_agrees_after_gc(self, storage: Storage) -> None:
        self._seed_gc(storage)
        storage.gc(timedelta(days=30), now=at(0) + 30 * DAY)
        stats = storage.storage_stats(StorageStatsQuery())
        requests = storage.query(EventQuery().api_requests_only())
        buckets = storage.usage(UsageQuery())
        assert stats.total_api_requests == len(requests) == sum(b.requests for b in buckets) == 1
        assert stats.tokens_input == sum(e.tokens_input or 0 for e in requests)
        assert stats.tokens_input == sum(b.tokens_input for b in buckets) == 2

    def test_gc_moves_the_horizon_and_nothing_older_comes_back(self, storage: Storage) -> None:
        self._seed_gc(storage)
        old = api(at(0) - 5 * DAY, session_id="mixed", tokens=(1, 1, 1, 1), cost=0.5)
        assert storage.horizon() is None
        storage.gc(timedelta(days=30), now=at(0) + 30 * DAY)
        assert storage.horizon() == at(0)
        result = storage.insert_many(
            [old, ev(EventType.SESSION_START, at(0) - 3 * DAY, session_id="old")]
        )
        assert (result.inserted, result.expired, result.ids) == (0, 2, (None, None))
        assert storage.insert(old) is None
        assert storage.count() == 2
        assert storage.get_session_by_key("m1", "old") is None
        s = storage.get_session_by_key("m1", "mixed")
        assert s is not None and s.api_request_count == 1
        # exactly at the horizon is kept, as gc keeps it
        kept = storage.insert_many([ev(EventType.PRE_TOOL_USE, at(0), session_id="late")])
        assert kept.inserted == 1

    def test_a_shorter_gc_never_moves_the_horizon_back(self, storage: Storage) -> None:
        self._seed_gc(storage)
        storage.gc(timedelta(days=30), now=at(0) + 30 * DAY)
        storage.gc(timedelta(days=60), now=at(0) + 30 * DAY)
        assert storage.horizon() == at(0)

    def test_count_expired_and_dry_run_delete_nothing(self, storage: Storage) -> None:
        self._seed_gc(storage)
        now = at(0) + 30 * DAY
        assert storage.count_expired(timedelta(days=30), now=now) == 4
        dry = storage.gc(timedelta(days=30), dry_run=True, now=now)
        assert dry.dry_run and dry.cutoff == at(0)
        assert (dry.expired_events, dry.expired_sessions) == (4, 1)
        assert (dry.deleted_events, dry.deleted_sessions) == (0, 0)
        assert storage.count() == 6
        assert len(storage.list_sessions(SessionQuery())) == 3
        assert storage.count_expired(timedelta(days=365), now=now) == 0

    def test_transcript_positions_survive_gc(self, storage: Storage) -> None:
        self._seed_gc(storage)
        position = FilePosition(
            machine_id="m1",
            path="/t/old.jsonl",
            offset=100,
            line_number=3,
            updated_at=at(-90 * 86400),
        )
        storage.set_transcript_position(position)
        storage.gc(timedelta(days=1), now=at(0) + 400 * DAY)
        assert storage.count() == 0
        assert storage.get_transcript_position("m1", "/t/old.jsonl") == position

    def test_gc_of_an_empty_store(self, storage: Storage) -> None:
        result = storage.gc(timedelta(days=1))
        assert (result.deleted_events, result.deleted_sessions) == (0, 0)

    def test_gc_then_new_events_still_aggregate(self, storage: Storage) -> None:
        self._seed_gc(storage)
        storage.gc(timedelta(days=30), now=at(0) + 30 * DAY)
        storage.insert(api(at(0) + 2 * DAY, session_id="mixed", tokens=(1, 0, 0, 0), cost=0.25))
        s = storage.get_session_by_key("m1", "mixed")
        assert s is not None and s.api_request_count == 2 and s.cost_usd == 0.5

    @pytest.mark.parametrize("retention", [timedelta(0), timedelta(days=-1)])
    def test_non_positive_retention_is_refused(
        self, storage: Storage, retention: timedelta
    ) -> None:
        storage.insert(ev())
        with pytest.raises(DurationError):
            storage.gc(retention)
        with pytest.raises(DurationError):
            storage.count_expired(retention)
        assert storage.count() == 1
