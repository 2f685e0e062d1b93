"""Properties: a store depends on the set of events offered, never on order or batching."""

from __future__ import annotations

from collections.abc import Callable

import attrs
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from netsky_core import (
    Event,
    EventQuery,
    Session,
    SessionQuery,
    Storage,
    StorageStatsQuery,
    UsageQuery,
)

from .base import StorageFixtures
from .strategies import batchings, events, property_settings

_PROPERTY = property_settings(
    int(__import__("os").environ.get("NETSKY_HYPOTHESIS_EXAMPLES", "40")),
    HealthCheck.data_too_large,
)


def stored_sessions(store: Storage) -> dict[tuple[str, str], Session]:
    return {s.key: s for s in store.list_sessions(SessionQuery())}


def snapshot(store: Storage) -> tuple[object, ...]:
    """Everything observable but ids: events, sessions, usage, totals."""
    events = sorted(
        (attrs.evolve(e, id=None) for e in store.query(EventQuery())),
        key=lambda e: (e.machine_id, e.session_id, e.uuid or "", repr(e)),
    )
    return (
        events,
        stored_sessions(store),
        store.usage(UsageQuery()),
        store.storage_stats(StorageStatsQuery()),
    )


def feed(store: Storage, batches: list[list[Event]], singles: bool) -> None:
    for batch in batches:
        if singles and len(batch) == 1:
            store.insert(batch[0])
        else:
            store.insert_many(batch)


class AggregationConformance(StorageFixtures):
    @given(data=st.data(), offered=st.lists(events(), min_size=1, max_size=30))
    @_PROPERTY
    def test_sessions_do_not_depend_on_order_or_batching(
        self, open_store: Callable[..., Storage], data: st.DataObject, offered: list[Event]
    ) -> None:
        clean = open_store()
        clean.insert_many(offered)
        expected = snapshot(clean)
        for _ in range(2):
            store = open_store()
            feed(store, data.draw(batchings(offered)), singles=data.draw(st.booleans()))
            assert snapshot(store) == expected

    @given(offered=st.lists(events(keyed=True), min_size=1, max_size=25))
    @_PROPERTY
    def test_offering_everything_again_changes_nothing(
        self, open_store: Callable[..., Storage], offered: list[Event]
    ) -> None:
        store = open_store()
        store.insert_many(offered)
        before = stored_sessions(store)
        count = store.count()
        result = store.insert_many(offered)
        assert result.inserted == 0 and result.superseded == 0
        assert result.duplicates == len(offered)
        assert stored_sessions(store) == before
        assert store.count() == count

    @given(offered=st.lists(events(uuids=4), min_size=1, max_size=25), data=st.data())
    @_PROPERTY
    def test_stored_events_are_the_best_version_of_each_key(
        self, open_store: Callable[..., Storage], offered: list[Event], data: st.DataObject
    ) -> None:
        from netsky_core import EventQuery, version_rank

        store = open_store()
        feed(store, data.draw(batchings(offered)), singles=True)
        best: dict[tuple[str, str, str], Event] = {}
        keyless = 0
        for e in offered:
            if e.key is None:
                keyless += 1
            elif e.key not in best or version_rank(e) > version_rank(best[e.key]):
                best[e.key] = e
        stored = store.query(EventQuery())
        assert len(stored) == len(best) + keyless
        for e in stored:
            if e.key is not None:
                assert e.key in best
                assert version_rank(e) == version_rank(best[e.key])
