"""Usage buckets: 15-minute API usage per machine, framework and model."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from netsky_core import (
    Event,
    EventQuery,
    EventType,
    Storage,
    UsageBucket,
    UsageQuery,
)
from netsky_core.storage.usage import usage_window

from .base import StorageFixtures
from .builders import api, at, ev
from .strategies import batchings, events, property_settings

_PROPERTY = property_settings(30)


def expected_usage(stored: Iterable[Event]) -> list[UsageBucket]:
    """Buckets computed straight from stored ApiRequest events (the definition)."""
    sums: dict[tuple, list[int]] = {}
    for e in stored:
        if e.event_type != EventType.API_REQUEST:
            continue
        key = (e.machine_id, e.framework or None, e.model or None, usage_window(e.timestamp))
        v = sums.setdefault(key, [0] * 8)
        v[0] += 1
        if e.cost_usd is None:
            v[1] += 1
        else:
            v[2] += 1
            v[7] += round(e.cost_usd * 10**12)
        v[3] += e.tokens_input or 0
        v[4] += e.tokens_output or 0
        v[5] += e.tokens_cache_read or 0
        v[6] += e.tokens_cache_write or 0
    buckets = [
        UsageBucket(
            machine_id=k[0],
            framework=k[1],
            model=k[2],
            start=k[3],
            requests=v[0],
            unpriced_requests=v[1],
            priced_requests=v[2],
            tokens_input=v[3],
            tokens_output=v[4],
            tokens_cache_read=v[5],
            tokens_cache_write=v[6],
            cost_picousd=v[7],
        )
        for k, v in sums.items()
    ]
    return sorted(buckets, key=UsageQuery.sort_key)


class UsageConformance(StorageFixtures):
    def test_usage_buckets_sum_api_requests_per_window(self, storage: Storage) -> None:
        storage.insert_many(
            [
                api(0, tokens=(1, 2, 3, 4), cost=0.5, framework="claude"),
                api(60, tokens=(10, 20, 30, 40), cost=0.25, framework="claude"),
                api(15 * 60, tokens=(5, 5, 5, 5), cost=None, framework="claude"),
                api(30, model="other", framework="claude"),
                api(45, machine_id="m2", framework="codex", model="gpt"),
                api(50, model=None, framework=None),
                ev(EventType.PRE_TOOL_USE, 10, tokens_input=999),
            ]
        )
        got = storage.usage(UsageQuery())
        assert got == expected_usage(storage.query(EventQuery()))
        first = next(b for b in got if b.model == "claude-test" and b.start == usage_window(at(0)))
        assert (first.requests, first.tokens_input, first.cost_usd) == (2, 11, 0.75)
        later = next(b for b in got if b.start == usage_window(at(15 * 60)))
        assert (later.requests, later.unpriced_requests, later.cost_usd) == (1, 1, None)
        none = next(b for b in got if b.framework is None)
        assert none.model is None and none.requests == 1

    def test_usage_query_filters_and_order(self, storage: Storage) -> None:
        storage.insert_many(
            [
                api(0, framework="claude"),
                api(3600, framework="codex", machine_id="m2"),
                api(7200, framework="claude", model="b"),
                api(7200, framework="claude", model="a"),
            ]
        )
        all_buckets = storage.usage(UsageQuery())
        assert [b.start for b in all_buckets] == sorted(b.start for b in all_buckets)
        assert [b.model for b in all_buckets][-2:] == ["a", "b"]
        assert len(storage.usage(UsageQuery().with_framework("codex"))) == 1
        assert len(storage.usage(UsageQuery().with_machine("m2"))) == 1
        window = storage.usage(UsageQuery().with_time_range(at(3600), at(7200)))
        assert [b.framework for b in window] == ["codex"]

    def test_a_better_version_moves_its_usage(self, storage: Storage) -> None:
        storage.insert(api(10, uuid="r", tokens=(1, 1, 0, 0), cost=0.1))
        storage.insert(api(16 * 60, uuid="r", tokens=(1, 500, 0, 0), cost=0.2))
        (bucket,) = storage.usage(UsageQuery())
        assert bucket.start == usage_window(at(16 * 60))
        assert (bucket.requests, bucket.tokens_output, bucket.cost_usd) == (1, 500, 0.2)
        assert storage.usage(UsageQuery()) == expected_usage(storage.query(EventQuery()))

    def test_gc_takes_the_deleted_requests_out_of_the_buckets(self, storage: Storage) -> None:
        cutoff = at(7 * 60)  # inside the 12:00-12:15 window
        storage.insert_many(
            [
                api(cutoff - timedelta(hours=2), tokens=(1, 0, 0, 0)),
                api(cutoff - timedelta(minutes=10), tokens=(2, 0, 0, 0)),  # 11:57
                api(cutoff - timedelta(minutes=5), tokens=(4, 0, 0, 0)),  # 12:02: deleted
                api(cutoff + timedelta(minutes=1), tokens=(8, 0, 0, 0)),  # 12:08: same window
                api(cutoff + timedelta(minutes=20), tokens=(16, 0, 0, 0)),
            ]
        )
        storage.gc(timedelta(days=1), now=cutoff + timedelta(days=1))
        buckets = storage.usage(UsageQuery())
        assert [b.start for b in buckets] == [
            usage_window(cutoff),
            usage_window(cutoff + timedelta(minutes=20)),
        ]
        assert [(b.requests, b.tokens_input) for b in buckets] == [(1, 8), (1, 16)]
        assert buckets == expected_usage(storage.query(EventQuery()))

    @given(data=st.data(), offered=st.lists(events(), min_size=1, max_size=30))
    @_PROPERTY
    def test_usage_equals_the_stored_api_requests_whatever_the_order(
        self, open_store: Callable[..., Storage], data: st.DataObject, offered: list[Event]
    ) -> None:
        results = []
        for _ in range(2):
            store = open_store()
            for batch in data.draw(batchings(offered)):
                store.insert_many(batch)
            got = store.usage(UsageQuery())
            assert got == expected_usage(store.query(EventQuery()))
            results.append(got)
        assert results[0] == results[1]
