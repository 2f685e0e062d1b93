"""Model-based differential testing: random operation sequences against several stores.

A Hypothesis ``RuleBasedStateMachine`` drives random sequences of every ``Storage``
operation (``insert``, ``insert_many`` with duplicates and competing versions of one
key, the ``update_session_*`` / ``upsert_session_git_context`` / ``restore_sessions``
session writes, transcript positions, ``gc`` / ``count_expired`` and every query,
``usage`` buckets included) against each store ``open_stores()`` returns, and against
the reference: the Store over the memory engine. Every observable result must agree
with the reference, hence between the stores. After every step the machine also
checks the invariants the rules promise, on every store:

* each response (billing key) with stored holders is billed by exactly one of them;
* every session's totals are those of its stored events (sessions written as given by
  ``restore_sessions`` excepted), every usage bucket is the sum of the stored
  ``ApiRequest`` events in it;
* nothing older than the gc horizon is stored.

Details:

* events are compared without ``id`` (stores assign ids independently); where an
  order depends on ids (``order_by_id``, timestamp ties, ``after_id``), the *order*
  of ids is compared, by mapping each store's ids to the model's;
* every timestamp is explicit (``at=``, ``now=``, ``updated_at=``), so "now" never
  differs between stores;
* text fields carry unicode and SQL-looking strings.

Entry points (pick one):

* Subclass :class:`DifferentialConformance` next to your ``StorageConformance``
  class; its default ``open_stores`` fixture pairs your store (from ``new_url``)
  with the memory backend::

      from netsky_conformance import DifferentialConformance, StorageConformance

      class TestMyStore(StorageConformance, DifferentialConformance):
          @pytest.fixture
          def new_url(self, tmp_path): ...

  or override ``open_stores`` itself to compare several stores at once.
* ``make_differential_test(open_stores)`` returns a ``unittest.TestCase`` class to
  assign at module level when the opener needs no fixtures::

      TestAgree = make_differential_test(
          lambda: [open_storage("memory://"), open_storage("mystore://fresh")]
      )

* ``run_differential(open_stores, max_examples=..., steps=...)`` runs it from inside
  any test and returns :class:`DifferentialStats` (examples, steps, checks made).

``open_stores`` must return fresh, empty, open stores at each call; the machine
closes them at the end of each example. A failure prints the shrunk sequence of
calls (``state.insert_many(batch=[...])`` ...) as a reproduction.
"""

from __future__ import annotations

import os
import unittest
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

import attrs
import hypothesis
import pytest
from hypothesis import HealthCheck
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from netsky_core import (
    Event,
    EventQuery,
    FilePosition,
    GitBranchInfo,
    GitContext,
    InsertResult,
    Session,
    SessionQuery,
    Storage,
    open_storage,
)

from .base import StorageFixtures
from .differential_reads import ReadRules
from .invariants import check_invariants
from .pools import (
    MACHINES,
    PATHS,
    REPOS,
    SESSIONS,
    batches,
    events,
    git_contexts,
    git_infos,
    near_times,
    odd_or,
    positions,
    retentions,
    sessions,
    streamed_responses,
    times,
)

__all__ = [
    "DifferentialConformance",
    "DifferentialStats",
    "StorageMachine",
    "check_invariants",
    "differential_machine",
    "differential_settings",
    "make_differential_test",
    "run_differential",
]

OpenStores = Callable[[], list[Storage]]

# -- the machine ---------------------------------------------------------------------


@attrs.define
class DifferentialStats:
    """What a differential run did (filled in as it runs)."""

    examples: int = 0
    steps: int = 0
    checks: int = 0
    full_checks: int = 0
    events_offered: int = 0
    max_events: int = 0
    lost: int = 0
    duplicated: int = 0
    rules: Counter[str] = attrs.field(factory=Counter)


def _short(value: Any, limit: int = 600) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def _first_difference(expected: Any, got: Any) -> str:
    if isinstance(expected, list) and isinstance(got, list):
        for i, (a, b) in enumerate(zip(expected, got)):
            if a != b:
                detail = ""
                if attrs.has(type(a)) and type(a) is type(b):
                    fields = [
                        f"{f.name}: expected {getattr(a, f.name)!r}, got {getattr(b, f.name)!r}"
                        for f in attrs.fields(type(a))
                        if getattr(a, f.name) != getattr(b, f.name)
                    ]
                    detail = "; " + "; ".join(fields)
                return f"first difference at [{i}]{detail}\n  expected {_short(a)}\n  got      {_short(b)}"
        return f"expected {len(expected)} items, got {len(got)}"
    if attrs.has(type(expected)) and type(expected) is type(got):
        fields = [
            f"{f.name}: expected {getattr(expected, f.name)!r}, got {getattr(got, f.name)!r}"
            for f in attrs.fields(type(expected))
            if getattr(expected, f.name) != getattr(got, f.name)
        ]
        return "; ".join(fields)
    return f"expected {_short(expected)}\n  got      {_short(got)}"


class StorageMachine(ReadRules, RuleBasedStateMachine):
    """Random Storage operations on every store of ``open_stores()`` and on the model.

    Use :func:`differential_machine` (or the other entry points) to bind the opener.
    """

    open_stores: ClassVar[OpenStores | None] = None
    stats: ClassVar[DifferentialStats | None] = None

    def __init__(self) -> None:
        super().__init__()
        opener = type(self).open_stores
        if opener is None:
            raise TypeError("bind open_stores first: differential_machine(open_stores)")
        bound = type(self).stats
        self.run_stats = bound if bound is not None else DifferentialStats()
        self.run_stats.examples += 1
        self.stores: list[Storage] = []
        self.stores = list(opener())
        if not self.stores:
            raise ValueError("open_stores() returned no store")
        self.model = open_storage("memory://")
        self.given: set[tuple[str, str]] = set()
        # per store: store id -> model id, model id -> store id, largest id seen
        self.to_model: list[dict[int, int]] = [{} for _ in self.stores]
        self.to_store: list[dict[int, int]] = [{} for _ in self.stores]
        self.max_id: list[int | None] = [None for _ in self.stores]
        self.has_usage = True
        try:
            for i, store in enumerate(self.stores):
                if self._call(i, "count()", store.count):
                    raise AssertionError(f"{self._name(i)}: open_stores() must give empty stores")
        except BaseException:
            self._close()
            raise

    # -- plumbing ---------------------------------------------------------------------

    def _name(self, i: int) -> str:
        store = self.stores[i]
        engine = getattr(store, "engine", None)
        return f"store #{i} ({type(engine or store).__name__})"

    def _call(self, i: int, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise AssertionError(
                f"{self._name(i)} raised on {what}: {type(exc).__name__}: {exc}"
            ) from exc

    def _step(self, name: str) -> None:
        self.run_stats.steps += 1
        self.run_stats.rules[name] += 1

    def _model_ids_in_order(self) -> list[int]:
        return [e.id for e in self.model.query(EventQuery().order_by_id()) if e.id is not None]

    @invariant()
    def rules_hold(self) -> None:
        for i, store in enumerate(self.stores):
            try:
                check_invariants(store, given=self.given)
            except AssertionError as exc:
                raise AssertionError(f"{self._name(i)}: {exc}") from None

    def _agree(self, i: int, what: str, expected: Any, got: Any) -> None:
        self.run_stats.checks += 1
        if expected != got:
            raise AssertionError(
                f"{self._name(i)} disagrees with the model on {what}: "
                f"{_first_difference(expected, got)}"
            )

    def _same(
        self, method: str, what: str, *args: Any, call: str | None = None, **kwargs: Any
    ) -> None:
        """``method`` with these arguments on the model, then on every store: each store
        answers as the model does (``what`` names the answer, ``call`` the call when a
        store raises; default ``method``)."""
        expected = getattr(self.model, method)(*args, **kwargs)
        for i, store in enumerate(self.stores):
            got = self._call(i, call or method, getattr(store, method), *args, **kwargs)
            self._agree(i, what, expected, got)

    def _model_ids(self, i: int, events: list[Event], what: str) -> list[int]:
        out = []
        for e in events:
            m = self.to_model[i].get(e.id) if e.id is not None else None
            if m is None:
                raise AssertionError(
                    f"{self._name(i)} returned an event with an id it never reported "
                    f"(id={e.id!r}) from {what}: {_short(e)}"
                )
            out.append(m)
        return out

    def _learn_ids(
        self, i: int, model_ids: Sequence[int | None], store_ids: Sequence[int | None]
    ) -> None:
        to_model, to_store = self.to_model[i], self.to_store[i]
        for m, s in zip(model_ids, store_ids):
            if m is None or s is None:
                if m is not s:
                    raise AssertionError(
                        f"{self._name(i)} gave id {s!r} where the reference gave {m!r} "
                        "(None: older than the gc horizon, not stored)"
                    )
                continue
            known = to_store.get(m)
            if known is not None:
                if known != s:
                    raise AssertionError(
                        f"{self._name(i)} reported id {s} for an event it stores as id {known}"
                    )
                continue
            top = self.max_id[i]
            if type(s) is not int or (top is not None and s <= top):
                raise AssertionError(
                    f"{self._name(i)} gave a newly stored event id {s!r}, not greater than "
                    f"the ids it gave before (up to {top}): after_id watchers would miss it"
                )
            to_store[m] = s
            to_model[s] = m
            self.max_id[i] = s

    def _insert(self, batch: list[Event], single: bool) -> None:
        self.run_stats.events_offered += len(batch)
        if single:
            expected = InsertResult(ids=(self.model.insert(batch[0]),))
        else:
            expected = self.model.insert_many(batch)
        for i, store in enumerate(self.stores):
            if single:
                (event,) = batch
                store_id = self._call(i, f"insert({_short(event)})", store.insert, event)
                self._learn_ids(i, expected.ids, [store_id])
                continue
            got = self._call(i, f"insert_many(<{len(batch)} events>)", store.insert_many, batch)
            self._agree(
                i,
                "insert_many counts",
                (
                    expected.inserted,
                    expected.duplicates,
                    expected.superseded,
                    expected.expired,
                    len(expected.ids),
                ),
                (got.inserted, got.duplicates, got.superseded, got.expired, len(got.ids)),
            )
            self._learn_ids(i, expected.ids, got.ids)
        self.run_stats.max_events = max(self.run_stats.max_events, self.model.count())

    def _after_ids(self, rank: int | None) -> list[int | None] | None:
        """``after_id`` for the model and each store, naming the same event; None when
        there is no event to name (the query then goes without ``after_id``)."""
        ordered = self._model_ids_in_order()
        if rank is None or not ordered:
            return None
        if rank < 0:
            return [
                ordered[0] - 1,
                *(self.to_store[i][ordered[0]] - 1 for i in range(len(self.stores))),
            ]
        m = ordered[min(rank, len(ordered) - 1)]
        return [m, *(self.to_store[i][m] for i in range(len(self.stores)))]

    # -- writes -------------------------------------------------------------------------

    @rule(event=events())
    def insert_one(self, event: Event) -> None:
        self._step("insert")
        self._insert([event], single=True)

    @rule(batch=batches())
    def insert_many(self, batch: list[Event]) -> None:
        self._step("insert_many")
        self._insert(batch, single=False)

    @rule(parts=streamed_responses())
    def insert_streamed_response(self, parts: list[list[Event]]) -> None:
        self._step("insert_many (streamed response)")
        for part in parts:
            self._insert(part, single=len(part) == 1)

    @rule(
        machine=st.sampled_from(MACHINES),
        session=st.sampled_from(SESSIONS),
        info=git_infos,
        at=times,
    )
    def update_session_git_info(
        self, machine: str, session: str, info: GitBranchInfo, at: datetime
    ) -> None:
        self._step("update_session_git_info")
        self._same(
            "update_session_git_info",
            f"update_session_git_info({machine!r}, {session!r})",
            machine,
            session,
            info,
            at=at,
        )

    @rule(
        machine=st.sampled_from(MACHINES),
        session=st.sampled_from(SESSIONS),
        repo=st.sampled_from(REPOS),
    )
    def update_session_github_repo(self, machine: str, session: str, repo: str) -> None:
        self._step("update_session_github_repo")
        self._same(
            "update_session_github_repo",
            f"update_session_github_repo({machine!r}, {session!r})",
            machine,
            session,
            repo,
        )

    @rule(
        machine=st.sampled_from(MACHINES),
        session=st.sampled_from(SESSIONS),
        context=git_contexts,
        at=times,
    )
    def upsert_session_git_context(
        self, machine: str, session: str, context: GitContext, at: datetime
    ) -> None:
        self._step("upsert_session_git_context")
        self._same(
            "upsert_session_git_context",
            "upsert_session_git_context (returned session)",
            machine,
            session,
            context,
            at=at,
        )

    @rule(
        machine=st.sampled_from(MACHINES),
        session=st.sampled_from(SESSIONS),
        path=odd_or(*PATHS).filter(bool),
        at=times,
    )
    def update_session_transcript_path(
        self, machine: str, session: str, path: str, at: datetime
    ) -> None:
        self._step("update_session_transcript_path")
        self._same(
            "update_session_transcript_path",
            "update_session_transcript_path",
            machine,
            session,
            path,
            at=at,
        )

    @rule(items=st.lists(sessions(), max_size=3))
    def restore_sessions(self, items: list[Session]) -> None:
        self._step("restore_sessions")
        for s in items:
            if self.model.get_session_by_key(*s.key) is None:
                self.given.add(s.key)
        self.model.restore_sessions(items)
        for i, store in enumerate(self.stores):
            got = self._call(i, "restore_sessions", store.restore_sessions, items)
            self._agree(i, "restore_sessions (count)", len(items), got)

    @rule(position=positions)
    def set_transcript_position(self, position: FilePosition) -> None:
        self._step("set_transcript_position")
        self.model.set_transcript_position(position)
        for i, store in enumerate(self.stores):
            self._call(i, "set_transcript_position", store.set_transcript_position, position)

    @rule(retention=retentions, now=near_times, dry_run=st.booleans())
    def gc(self, retention: timedelta, now: datetime, dry_run: bool) -> None:
        self._step("gc (dry run)" if dry_run else "gc")
        before = set(self._model_ids_in_order())
        expected = self.model.gc(retention, dry_run=dry_run, now=now)
        deleted = before - set(self._model_ids_in_order())
        self.given &= {s.key for s in self.model.list_sessions(SessionQuery())}
        for i, store in enumerate(self.stores):
            got = self._call(
                i, f"gc({retention}, now={now})", store.gc, retention, dry_run=dry_run, now=now
            )
            self._agree(i, f"gc({retention!r}, dry_run={dry_run}, now={now})", expected, got)
            for m in deleted:
                s = self.to_store[i].pop(m)
                del self.to_model[i][s]

    def teardown(self) -> None:
        try:
            if self.stores:
                self._compare_everything()
        finally:
            self._close()

    def _close(self) -> None:
        for store in [*self.stores, self.model]:
            try:
                store.close()
            except Exception:
                pass


def differential_machine(
    open_stores: OpenStores, *, stats: DifferentialStats | None = None
) -> type[StorageMachine]:
    """A :class:`StorageMachine` subclass bound to ``open_stores`` (and ``stats``)."""
    return type(
        "BoundStorageMachine",
        (StorageMachine,),
        {"open_stores": staticmethod(open_stores), "stats": stats},
    )


def differential_settings(
    *, max_examples: int | None = None, steps: int | None = None, **overrides: Any
) -> hypothesis.settings:
    """Settings for a run: ``max_examples`` defaults to ``NETSKY_DIFFERENTIAL_EXAMPLES``
    (else the active Hypothesis profile's), ``steps`` (the longest sequence) to
    ``NETSKY_DIFFERENTIAL_STEPS`` (else 30); no deadline."""
    if max_examples is None:
        env = os.environ.get("NETSKY_DIFFERENTIAL_EXAMPLES")
        max_examples = int(env) if env else hypothesis.settings().max_examples
    if steps is None:
        steps = int(os.environ.get("NETSKY_DIFFERENTIAL_STEPS", "30"))
    values: dict[str, Any] = {
        "max_examples": max_examples,
        "stateful_step_count": steps,
        "deadline": None,
        "suppress_health_check": [
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
        "report_multiple_bugs": False,
    }
    values.update(overrides)
    return hypothesis.settings(**values)


def run_differential(
    open_stores: OpenStores,
    *,
    max_examples: int | None = None,
    steps: int | None = None,
    settings: hypothesis.settings | None = None,
    stats: DifferentialStats | None = None,
) -> DifferentialStats:
    """Run the machine now (from inside a test); returns what it did (``stats``, when
    given, is filled in as it runs, so it also tells what ran before a failure).

    Raises AssertionError (after shrinking) at the first disagreement.
    """
    stats = stats if stats is not None else DifferentialStats()
    machine = differential_machine(open_stores, stats=stats)
    chosen = settings or differential_settings(max_examples=max_examples, steps=steps)
    run_state_machine_as_test(machine, settings=chosen)
    return stats


def make_differential_test(
    open_stores: OpenStores, *, settings: hypothesis.settings | None = None
) -> type[unittest.TestCase]:
    """A ``unittest.TestCase`` class running the machine; assign it at module level."""
    machine = differential_machine(open_stores)
    machine.TestCase.settings = settings or differential_settings()
    return machine.TestCase


class DifferentialConformance(StorageFixtures):
    """The differential test as a conformance class: override ``new_url`` (your store
    is compared with the memory backend and the model) or ``open_stores``."""

    differential: ClassVar[hypothesis.settings | None] = None
    """Hypothesis settings for the run (default: :func:`differential_settings`)."""

    @pytest.fixture
    def open_stores(self, new_url: Callable[[], str]) -> OpenStores:
        """A callable returning fresh stores to compare at each call."""
        return lambda: [open_storage("memory://"), open_storage(new_url())]

    def test_stores_agree_with_the_model_on_random_operation_sequences(
        self, open_stores: OpenStores
    ) -> None:
        run_differential(open_stores, settings=self.differential)
