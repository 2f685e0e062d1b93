"""The read rules of the differential machine: every query, compared with the reference."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import (
    precondition,
    rule,
)

from netsky_core import (
    Event,
    EventQuery,
    SessionQuery,
    StorageStatsQuery,
    UsageQuery,
)

from .pools import (
    MACHINES,
    PATHS,
    PIDS,
    SESSIONS,
    UUIDS,
    _opt,
    event_queries,
    near_times,
    retentions,
    session_queries,
    stats_queries,
    usage_queries,
)


def _without_id(event: Event) -> Event:
    return attrs.evolve(event, id=None)


class ReadRules:
    """Mixed into ``StorageMachine``: each rule asks every store and the reference."""

    model: Any
    stores: list[Any]
    has_usage: bool
    run_stats: Any  # DifferentialStats
    to_model: list[dict[int, int]]

    if TYPE_CHECKING:  # defined by StorageMachine

        def _step(self, name: str) -> None: ...
        def _call(
            self, i: int, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any
        ) -> Any: ...
        def _agree(self, i: int, what: str, expected: Any, got: Any) -> None: ...
        def _model_ids(self, i: int, events: list[Event], what: str) -> list[int]: ...
        def _after_ids(self, rank: int | None) -> list[int | None] | None: ...
        def _same(
            self, method: str, what: str, *args: Any, call: str | None = None, **kwargs: Any
        ) -> None: ...

    # -- reads --------------------------------------------------------------------------

    @rule(retention=retentions, now=near_times)
    def count_expired(self, retention: timedelta, now: datetime) -> None:
        self._step("count_expired")
        self._same("count_expired", f"count_expired({retention!r}, now={now})", retention, now=now)

    @rule(query=event_queries(), rank=_opt(st.integers(min_value=-1, max_value=40)))
    def query(self, query: EventQuery, rank: int | None) -> None:
        self._step("query")
        after = self._after_ids(rank)
        model_query = query if after is None else attrs.evolve(query, after_id=after[0])
        found = self.model.query(model_query)
        expected = ([e.id for e in found], [_without_id(e) for e in found])
        for i, store in enumerate(self.stores):
            q = query if after is None else attrs.evolve(query, after_id=after[i + 1])
            got = self._call(i, f"query({q!r})", store.query, q)
            observed = (self._model_ids(i, got, "query"), [_without_id(e) for e in got])
            self._agree(i, f"query({q!r}) (ids in model terms, events)", expected[0], observed[0])
            self._agree(i, f"query({q!r})", expected[1], observed[1])
            n = self._call(i, "count(query)", store.count, q)
            self._agree(i, f"count({q!r})", self.model.count(model_query), n)

    @rule()
    def count_all(self) -> None:
        self._step("count")
        for i, store in enumerate(self.stores):
            self._agree(i, "count()", self.model.count(), self._call(i, "count()", store.count))

    @rule(query=session_queries())
    def list_sessions(self, query: SessionQuery) -> None:
        self._step("list_sessions")
        self._same(
            "list_sessions", f"list_sessions({query!r})", query, call=f"list_sessions({query!r})"
        )

    @rule(session=st.sampled_from([*SESSIONS, "missing"]))
    def get_session(self, session: str) -> None:
        self._step("get_session")
        self._same("get_session", f"get_session({session!r})", session)

    @rule(machine=st.sampled_from(MACHINES), session=st.sampled_from(SESSIONS))
    def get_session_by_key(self, machine: str, session: str) -> None:
        self._step("get_session_by_key")
        self._same(
            "get_session_by_key", f"get_session_by_key({machine!r}, {session!r})", machine, session
        )

    @rule(pid=st.sampled_from([p for p in PIDS if p is not None] + [999]))
    def get_session_by_pid(self, pid: int) -> None:
        self._step("get_session_by_pid")
        self._same("get_session_by_pid", f"get_session_by_pid({pid})", pid)

    @rule(
        machine=st.sampled_from(MACHINES),
        session=st.sampled_from(SESSIONS),
        uuid=st.sampled_from([*UUIDS, "api:msg_01:req_01", "api:msg_ü", "nope"]),
    )
    def event_exists_by_uuid(self, machine: str, session: str, uuid: str) -> None:
        self._step("event_exists_by_uuid")
        self._same(
            "event_exists_by_uuid",
            f"event_exists_by_uuid({machine!r}, {session!r}, {uuid!r})",
            machine,
            session,
            uuid,
        )

    @rule(query=stats_queries)
    def storage_stats(self, query: StorageStatsQuery) -> None:
        self._step("storage_stats")
        self._same("storage_stats", f"storage_stats({query!r})", query)

    @precondition(lambda self: self.has_usage)
    @rule(query=usage_queries)
    def usage(self, query: Any) -> None:
        self._step("usage")
        self._same("usage", f"usage({query!r})", query)

    @rule(machine=st.sampled_from(MACHINES), path=st.sampled_from([*PATHS, "/missing"]))
    def get_transcript_position(self, machine: str, path: str) -> None:
        self._step("get_transcript_position")
        self._same(
            "get_transcript_position",
            f"get_transcript_position({machine!r}, {path!r})",
            machine,
            path,
        )

    @rule(machine=_opt(st.sampled_from(MACHINES)))
    def query_transcript_positions(self, machine: str | None) -> None:
        self._step("query_transcript_positions")
        self._same(
            "query_transcript_positions", f"query_transcript_positions({machine!r})", machine
        )

    @rule()
    def compare_everything(self) -> None:
        self._step("full comparison")
        self._compare_everything()

    def _compare_everything(self) -> None:
        """Every event (in id order), session and position, and the totals."""
        stats = self.run_stats
        stats.full_checks += 1
        model_events = self.model.query(EventQuery().order_by_id())
        expected_ids = [e.id for e in model_events]
        for i, store in enumerate(self.stores):
            got = self._call(i, "query(order_by_id)", store.query, EventQuery().order_by_id())
            known = [self.to_model[i].get(e.id) for e in got if e.id is not None]
            mapped = [m for m in known if m is not None]
            stats.lost += len(set(expected_ids) - set(mapped))
            stats.duplicated += len(got) - len(set(mapped) & set(expected_ids))
            observed = self._model_ids(i, got, "query(order_by_id)")
            self._agree(
                i, "the ids of every event, in id order (model terms)", expected_ids, observed
            )
            self._agree(
                i,
                "every event",
                [_without_id(e) for e in model_events],
                [_without_id(e) for e in got],
            )
            self._agree(
                i,
                "every session",
                self.model.list_sessions(SessionQuery()),
                self._call(i, "list_sessions", store.list_sessions, SessionQuery()),
            )
            self._agree(
                i,
                "every position",
                self.model.query_transcript_positions(),
                self._call(i, "query_transcript_positions", store.query_transcript_positions),
            )
            if self.has_usage:
                self._agree(
                    i,
                    "every usage bucket",
                    self.model.usage(UsageQuery()),
                    self._call(i, "usage", store.usage, UsageQuery()),
                )
            self._agree(
                i,
                "storage_stats()",
                self.model.storage_stats(StorageStatsQuery()),
                self._call(i, "storage_stats", store.storage_stats, StorageStatsQuery()),
            )
