"""Project usage: API usage per working directory, git branch and 15 minutes
(``Capability.PROJECT_USAGE``), what per-project and per-branch budgets read."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st

from netsky_core import (
    Capability,
    Event,
    EventQuery,
    EventSource,
    EventType,
    ProjectUsage,
    Storage,
)
from netsky_core.storage.versions import repeated_version

from .base import StorageFixtures, requires
from .builders import api, at, ev
from .strategies import T_BASE, events, property_settings

_spread = st.tuples(events(), st.sampled_from([0, 14 * 60, 15 * 60, 40 * 60])).map(
    lambda pair: attrs.evolve(pair[0], timestamp=pair[0].timestamp + timedelta(seconds=pair[1]))
)
"""Events over a few 15-minute windows (the shared strategy's times are all in one)."""


@st.composite
def _responses(draw: st.DrawFn) -> Event:
    """Responses with colliding keys (better versions, copies billed in another session)."""
    small = st.one_of(st.none(), st.integers(0, 50))
    event = api(
        draw(st.sampled_from([0, 10, 14 * 60, 15 * 60, 40 * 60])),
        uuid=draw(st.sampled_from(["u0", "u1", "u2", "msg_1:req_1"])),
        session_id=draw(st.sampled_from(["s1", "s2"])),
        machine_id=draw(st.sampled_from(["m1", "m2"])),
        source=draw(st.sampled_from([EventSource.TRANSCRIPT, EventSource.HOOK, EventSource.API])),
        cwd=draw(st.sampled_from([None, "/a", "/b"])),
        git_branch=draw(st.sampled_from([None, "main", "fix/12-x"])),
        model=draw(st.sampled_from(["opus", "haiku"])),
        tokens=(draw(small), draw(small), draw(small), draw(small)),
        cost=draw(st.sampled_from([None, 0.0, 0.1, 1e-7])),
    )
    return repeated_version(event) if draw(st.integers(0, 5)) == 0 else event


__all__ = ["ProjectUsageConformance", "expected_project_usage"]

_PROPERTY = property_settings(30)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _window(ts: datetime) -> datetime:
    minutes = int((ts - _EPOCH).total_seconds() // 60)
    start = _EPOCH + timedelta(minutes=minutes - minutes % 15)
    return start if start <= ts else start - timedelta(minutes=15)


def expected_project_usage(stored: Iterable[Event]) -> list[ProjectUsage]:
    """The rows computed straight from the stored events (the definition): every
    billed response (``ApiRequest``) under its own cwd and git branch, per 15 minutes."""
    sums: dict[tuple, list[int]] = {}
    for e in stored:
        if e.event_type != EventType.API_REQUEST:
            continue
        key = (e.cwd or None, e.git_branch or None, _window(e.timestamp))
        v = sums.setdefault(key, [0, 0, 0, 0])
        v[0] += 1
        v[2] += sum(
            n or 0
            for n in (
                e.tokens_input,
                e.tokens_output,
                e.tokens_cache_read,
                e.tokens_cache_write,
                e.tokens_reasoning,
            )
        )
        if e.cost_usd is not None:
            v[1] += 1
            v[3] += round(e.cost_usd * 10**12)
    rows = [
        ProjectUsage(
            project=k[0],
            branch=k[1],
            start=k[2],
            requests=v[0],
            priced_requests=v[1],
            tokens=v[2],
            cost_picousd=v[3],
        )
        for k, v in sums.items()
    ]
    return sorted(rows, key=lambda r: (r.start, r.project or "", r.branch or ""))


class ProjectUsageConformance(StorageFixtures):
    def test_project_usage_sums_responses_per_cwd_branch_and_window(self, storage: Storage) -> None:
        requires(storage, Capability.PROJECT_USAGE)
        storage.insert_many(
            [
                api(0, tokens=(1, 2, 3, 4), cost=0.5, cwd="/w/a", git_branch="main"),
                api(60, tokens=(10, 0, 0, 0), cost=None, cwd="/w/a", git_branch="main"),
                api(90, cwd="/w/a", git_branch="fix/1", machine_id="m2", framework="codex"),
                api(15 * 60, tokens=(5, 0, 0, 0), cost=0.25, cwd="/w/b"),
                api(30, cwd=None, git_branch=None),
                ev(EventType.PRE_TOOL_USE, 10, cwd="/w/a", tokens_input=999),
            ]
        )
        got = storage.project_usage()
        assert got == expected_project_usage(storage.query(EventQuery()))
        main = next(r for r in got if r.branch == "main")
        assert (main.requests, main.priced_requests, main.tokens, main.cost_usd) == (2, 1, 20, 0.5)
        assert [r.project for r in got if r.start == _window(at(0))] == [None, "/w/a", "/w/a"]
        later = storage.project_usage(at(15 * 60))
        assert [(r.project, r.branch, r.tokens) for r in later] == [("/w/b", None, 5)]

    def test_a_better_version_moves_its_project_usage(self, storage: Storage) -> None:
        requires(storage, Capability.PROJECT_USAGE)
        storage.insert(api(10, uuid="r", tokens=(1, 1, 0, 0), cost=0.1, cwd="/w/a"))
        storage.insert(api(16 * 60, uuid="r", tokens=(1, 500, 0, 0), cost=0.2, cwd="/w/b"))
        (row,) = storage.project_usage()
        assert (row.project, row.start, row.tokens, row.cost_usd) == (
            "/w/b",
            _window(at(16 * 60)),
            501,
            0.2,
        )

    def test_a_response_billed_elsewhere_counts_once(self, storage: Storage) -> None:
        requires(storage, Capability.PROJECT_USAGE)
        storage.insert_many(
            [
                api(0, uuid="msg_1:req_1", cost=1.0, cwd="/w/a", session_id="one"),
                api(5, uuid="msg_1:req_1", cost=1.0, cwd="/w/a", session_id="two"),
            ]
        )
        (row,) = storage.project_usage()
        assert row.requests == 1 and row.cost_usd == 1.0
        assert storage.project_usage() == expected_project_usage(storage.query(EventQuery()))

    def test_gc_and_recost_keep_project_usage_with_the_events(self, storage: Storage) -> None:
        requires(storage, Capability.PROJECT_USAGE)
        cutoff = at(7 * 60)
        storage.insert_many(
            [
                api(cutoff - timedelta(hours=2), tokens=(1, 0, 0, 0), cwd="/w/a"),
                api(cutoff - timedelta(minutes=5), tokens=(2, 0, 0, 0), cwd="/w/a"),
                api(cutoff + timedelta(minutes=1), tokens=(4, 0, 0, 0), cwd="/w/a"),
                api(cutoff + timedelta(minutes=20), tokens=(8, 0, 0, 0), cwd="/w/b"),
            ]
        )
        storage.gc(timedelta(days=1), now=cutoff + timedelta(days=1))
        got = storage.project_usage()
        assert [(r.project, r.tokens) for r in got] == [("/w/a", 4), ("/w/b", 8)]
        assert got == expected_project_usage(storage.query(EventQuery()))
        recost: Any = getattr(storage, "recost", None)  # the Store's, not in the protocol
        if recost is None:
            return
        recost(lambda e: 2.0 if e.cwd == "/w/b" else None)
        got = storage.project_usage()
        assert [(r.project, r.cost_usd) for r in got] == [("/w/a", None), ("/w/b", 2.0)]
        assert got == expected_project_usage(storage.query(EventQuery()))

    @given(
        data=st.data(),
        steps=st.lists(
            st.one_of(
                st.lists(st.one_of(_responses(), _spread), min_size=1, max_size=8),
                st.integers(min_value=0, max_value=3000).map(lambda s: timedelta(seconds=s)),
                st.just("recost"),
            ),
            min_size=1,
            max_size=8,
        ),
    )
    @_PROPERTY
    def test_project_usage_equals_a_recomputation_after_any_writes(
        self, open_store: Callable[..., Storage], data: st.DataObject, steps: list
    ) -> None:
        """Random inserts (duplicates, better versions, responses billed in another
        session), gc at random cutoffs and reprices: the kept rows always equal the
        rows computed from the stored events."""
        store = open_store()
        requires(store, Capability.PROJECT_USAGE)
        for step in steps:
            if isinstance(step, list):
                store.insert_many(step)
            elif step == "recost":
                price = data.draw(st.sampled_from([None, 0.5, 1e-7]))
                recost: Any = getattr(store, "recost", None)  # the Store's, not the protocol's
                if recost is not None:
                    recost(lambda e, p=price: p if e.model == "opus" else e.cost_usd)
            else:
                store.gc(timedelta(days=1), now=T_BASE + step + timedelta(days=1))
            assert store.project_usage() == expected_project_usage(store.query(EventQuery()))
