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
import orjson
import pytest
from hypothesis import HealthCheck
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from netsky_core import (
    ApiFilter,
    Event,
    EventOrder,
    EventQuery,
    EventSource,
    EventType,
    FilePosition,
    GitBranchInfo,
    GitContext,
    InsertResult,
    Order,
    Session,
    SessionOrder,
    SessionQuery,
    SessionStatus,
    Storage,
    StorageStatsQuery,
    UsageQuery,
    iter_events,
    open_storage,
)
from netsky_core.storage.billing import billing_key
from netsky_core.storage.fold import fold_session
from netsky_core.storage.usage import apply_usage, usage_deltas

from .base import StorageFixtures
from .strategies import EVENT_TYPES as STRATEGY_EVENT_TYPES
from .strategies import T_BASE, batchings, text_values, wide_times

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

# -- value pools: small, so keys, sessions and pids collide; odd text on purpose ------

MACHINES = ("m1", "m2", "mâchine-🚀")
SESSIONS = ("s1", "s2", "s3", "'; DROP TABLE sessions; --", "セッション ünï")
UUIDS = (
    "u0",
    "u1",
    "u2",
    "u3",
    "api:msg_01:req_01",
    "tool_use:toolu_01",
    "Robert'); DELETE FROM events;--",
)
PIDS = (None, 100, 200, 2**40, -5)
EVENT_TYPES = (*STRATEGY_EVENT_TYPES, "Odd 'type' \"quoted\" 漢字")
SOURCES = (
    EventSource.HOOK,
    EventSource.TRANSCRIPT,
    EventSource.API,
    EventSource.OTEL,
    EventSource.IMPORT,
    "sourcé",
)
FRAMEWORKS = (None, "claude", "codex", "framé 🚀")
TOOLS = (None, "Bash", "Edit", 'O\'Reilly "tool" %s')
REPOS = ("octo/widgets", "acme/ünï", "x'; DROP TABLE x; --")
BRANCHES = ("main", "fix/12-thing", "feature/ü-ñ")
PATHS = ("/t/1.jsonl", "/t/ü 2.jsonl", "C:\\t\\3.jsonl", "'; DELETE FROM positions; --")
MODELS = (None, "opus", "haiku", "mödel")

INT64 = (1 << 63) - 1


def _opt(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


# Timestamps in a 20 s window with many exact ties, now and then far away.
near_times = st.integers(min_value=0, max_value=60).map(
    lambda n: T_BASE + timedelta(seconds=n // 3, microseconds=n % 3)
)
times = st.one_of(near_times, near_times, near_times, wide_times)
odd_or = lambda *pool: st.one_of(st.sampled_from(pool), text_values)  # noqa: E731

_payloads = st.one_of(
    st.none(),
    text_values,  # not JSON at all
    text_values.map(lambda t: orjson.dumps({"prompt": t}).decode()),
    st.sampled_from(
        [
            '{"source": "resume"}',
            '{"source": "startup"}',
            '{"notification_type": "permission_prompt"}',
            '{"notification_type": "idle_prompt"}',
            '{"prompt": "  "}',
            "[1, 2, 3]",
        ]
    ),
)
_tokens = _opt(st.integers(min_value=0, max_value=10**6))
_costs = _opt(
    st.one_of(
        st.sampled_from([0.0, 0.1, 1e-7, 0.3333333333333333]),
        st.floats(min_value=0, max_value=100, allow_nan=False, allow_infinity=False),
    )
)


@st.composite
def events(draw: st.DrawFn, *, uuid: st.SearchStrategy[str | None] | None = None) -> Event:
    """A random event over the small pools (every field varied)."""
    event_type = draw(st.sampled_from(EVENT_TYPES))
    usage = (
        draw(st.booleans()) if event_type == EventType.API_REQUEST else draw(st.integers(0, 9)) == 0
    )
    return Event(
        machine_id=draw(st.sampled_from(MACHINES)),
        session_id=draw(st.sampled_from(SESSIONS)),
        event_type=event_type,
        timestamp=draw(times),
        uuid=draw(uuid if uuid is not None else _opt(st.sampled_from(UUIDS))),
        framework=draw(st.sampled_from(FRAMEWORKS)),
        source=draw(st.sampled_from(SOURCES)),
        tool_use_id=draw(_opt(text_values)),
        tool_name=draw(st.sampled_from(TOOLS)),
        spawned_agent_id=draw(_opt(text_values)),
        subagent_type=draw(_opt(text_values)),
        permission_mode=draw(_opt(st.sampled_from(["default", "plan", "bypassPermissions"]))),
        transcript_path=draw(_opt(odd_or(*PATHS))),
        pid=draw(st.sampled_from(PIDS)),
        process_start_time=draw(_opt(st.integers(min_value=-(2**63), max_value=INT64))),
        cwd=draw(_opt(odd_or("/a", "/b"))),
        git_branch=draw(_opt(odd_or(*BRANCHES))),
        model=draw(st.sampled_from(MODELS)),
        tokens_input=draw(_tokens) if usage else None,
        tokens_output=draw(_tokens) if usage else None,
        tokens_cache_read=draw(_tokens) if usage else None,
        tokens_cache_write=draw(_tokens) if usage else None,
        cost_usd=draw(_costs) if usage else None,
        duration_ms=draw(_opt(st.integers(min_value=0, max_value=10**9))),
        is_sidechain=draw(st.booleans()),
        payload=draw(_payloads),
        metadata=draw(_opt(text_values)),
    )


@st.composite
def rival(draw: st.DrawFn, event: Event) -> Event:
    """Another version of ``event``'s key: other usage, thread, time or content."""
    changes: dict[str, Any] = {}
    for name in draw(
        st.sets(
            st.sampled_from(["tokens", "is_sidechain", "timestamp", "payload", "cwd", "model"]),
            min_size=1,
        )
    ):
        if name == "tokens":
            changes.update(
                tokens_input=draw(_tokens),
                tokens_output=draw(_tokens),
                tokens_cache_read=draw(_tokens),
                tokens_cache_write=draw(_tokens),
                cost_usd=draw(_costs),
            )
        elif name == "is_sidechain":
            changes["is_sidechain"] = not event.is_sidechain
        elif name == "timestamp":
            changes["timestamp"] = draw(times)
        elif name == "payload":
            changes["payload"] = draw(_payloads)
        elif name == "cwd":
            changes["cwd"] = draw(_opt(odd_or("/a", "/b")))
        else:
            changes["model"] = draw(st.sampled_from(MODELS))
    return attrs.evolve(event, **changes)


@st.composite
def batches(draw: st.DrawFn) -> list[Event]:
    """A batch with exact duplicates and competing versions of some keys, shuffled."""
    base = draw(st.lists(events(), min_size=1, max_size=8))
    out = list(base)
    for i in draw(st.lists(st.integers(0, len(base) - 1), max_size=3)):
        out.append(base[i])  # an identical copy
    keyed = [e for e in base if e.uuid is not None]
    if keyed:
        for i in draw(st.lists(st.integers(0, len(keyed) - 1), max_size=3)):
            out.append(draw(rival(keyed[i])))
    return list(draw(st.permutations(out)))


@st.composite
def streamed_responses(draw: st.DrawFn) -> list[list[Event]]:
    """One API response written as several lines with growing usage (and a sidechain
    copy now and then), cut into random consecutive batches."""
    message = draw(st.sampled_from(["msg_01", "msg_02", "msg_ü"]))
    request = draw(st.sampled_from(["req_01", "req_02", None]))
    uuid = f"api:{message}:{request}" if request else f"api:{message}"
    start = draw(near_times)
    n = draw(st.integers(min_value=2, max_value=5))
    outputs = sorted(draw(st.lists(st.integers(0, 5000), min_size=n, max_size=n)))
    common = dict(
        machine_id=draw(st.sampled_from(MACHINES)),
        session_id=draw(st.sampled_from(SESSIONS)),
        event_type=EventType.API_REQUEST,
        uuid=uuid,
        framework="claude",
        source=EventSource.TRANSCRIPT,
        model=draw(st.sampled_from(["opus", "haiku"])),
        tokens_input=draw(st.integers(0, 10**5)),
        tokens_cache_read=draw(st.integers(0, 10**5)),
        tokens_cache_write=draw(_opt(st.integers(0, 10**5))),
        metadata=orjson.dumps({"message_id": message, "request_id": request}).decode(),
    )
    lines = [
        Event(
            **common,
            timestamp=start + timedelta(milliseconds=k),
            tokens_output=out,
            cost_usd=None if draw(st.integers(0, 4)) == 0 else out / 10**6,
            is_sidechain=draw(st.integers(0, 3)) == 0,
        )
        for k, out in enumerate(outputs)
    ]
    return draw(batchings(lines))


positions = st.builds(
    FilePosition,
    machine_id=st.sampled_from(MACHINES),
    path=st.one_of(st.sampled_from(PATHS), text_values.filter(bool)),
    offset=st.integers(min_value=0, max_value=INT64),
    line_number=st.integers(min_value=0, max_value=2**40),
    last_uuid=_opt(text_values),
    size=_opt(st.integers(min_value=0, max_value=INT64)),
    mtime_ns=_opt(st.integers(min_value=-(2**63), max_value=INT64)),
    inode=_opt(st.integers(min_value=-(2**63), max_value=INT64)),
    state=_opt(text_values),
    updated_at=times,
)

_counts = st.integers(min_value=0, max_value=50)


def _observed(value: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, Any]]:
    """A "latest value" and when it was observed: both known, or both unknown.

    (A session with a time but no value is never produced by the rules; given to
    ``restore_sessions`` it makes the next ``fold_session`` raise TypeError.)
    """
    return st.one_of(st.just((None, None)), st.tuples(value, times))


@st.composite
def sessions(draw: st.DrawFn) -> Session:
    """A session summary as ``restore_sessions`` receives it (from a copy or import)."""
    cwd, cwd_at = draw(_observed(text_values))
    branch, branch_at = draw(_observed(st.sampled_from(BRANCHES)))
    model, model_at = draw(_observed(st.sampled_from(MODELS[1:])))
    path, path_at = draw(_observed(st.sampled_from(PATHS)))
    return Session(
        machine_id=draw(st.sampled_from(MACHINES)),
        session_id=draw(st.sampled_from(SESSIONS)),
        framework=draw(st.sampled_from(FRAMEWORKS)),
        first_activity=draw(_opt(times)),
        last_activity=draw(_opt(times)),
        first_started_at=draw(_opt(times)),
        last_ended_at=draw(_opt(times)),
        revival_count=draw(_counts),
        status=draw(_opt(st.sampled_from(list(SessionStatus)))),
        status_updated_at=draw(_opt(times)),
        pid=draw(st.sampled_from(PIDS)),
        pid_at=draw(_opt(times)),
        cwd=cwd,
        cwd_at=cwd_at,
        local_git_dir=draw(_opt(text_values)),
        git_branch=branch,
        git_branch_at=branch_at,
        github_repo=draw(_opt(st.sampled_from(REPOS))),
        github_issue=draw(_opt(st.integers(1, 50))),
        github_pr=draw(_opt(st.integers(1, 50))),
        first_user_message=draw(_opt(text_values)),
        model=model,
        model_at=model_at,
        transcript_path=path,
        transcript_path_at=path_at,
        event_count=draw(_counts),
        hook_event_count=draw(_counts),
        prompts_hook=draw(_counts),
        message_count=draw(_counts),
        tool_call_count=draw(_counts),
        api_request_count=draw(_counts),
        usage_event_count=draw(_counts),
        tokens_input=draw(_tokens),
        tokens_output=draw(_tokens),
        priced_event_count=draw(_counts),
        cost_picousd=draw(_opt(st.integers(min_value=0, max_value=10**14))),
        cost_usd=draw(_opt(st.floats(min_value=0, max_value=100, allow_nan=False))),
    )


def _subset(pool: Sequence[Any]) -> st.SearchStrategy[tuple[Any, ...] | None]:
    return _opt(st.lists(st.sampled_from(pool), max_size=3, unique=True).map(tuple))


_EVENT_FILTERS: dict[str, st.SearchStrategy[Any]] = {
    "session_ids": _subset(SESSIONS),
    "machine_id": st.sampled_from(MACHINES),
    "framework": st.sampled_from(FRAMEWORKS[1:]),
    "event_types": _subset(EVENT_TYPES),
    "tool_name": st.sampled_from(TOOLS[1:]),
    "uuids": _subset((*UUIDS, "api:msg_01:req_01", "api:msg_02", "nope")),
    "since": near_times,
    "until": near_times,
    "api": st.sampled_from(list(ApiFilter)),
}
_SESSION_FILTERS: dict[str, st.SearchStrategy[Any]] = {
    "machine_id": st.sampled_from(MACHINES),
    "framework": st.sampled_from(FRAMEWORKS[1:]),
    "only_active": st.booleans(),
    "active_since": near_times,
    "started_after": near_times,
    "started_before": near_times,
    "github_repo": st.sampled_from(REPOS),
    "github_issue": st.integers(1, 50),
    "github_pr": st.integers(1, 50),
}


def _filters(draw: st.DrawFn, choices: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    """Zero to two filters (more would rarely leave anything to order or limit)."""
    names = draw(st.lists(st.sampled_from(sorted(choices)), max_size=2, unique=True))
    return {name: draw(choices[name]) for name in names}


@st.composite
def event_queries(draw: st.DrawFn) -> EventQuery:
    return EventQuery(
        **_filters(draw, _EVENT_FILTERS),
        order=draw(st.sampled_from(list(EventOrder))),
        direction=draw(_opt(st.sampled_from(list(Order)))),
        limit=draw(_opt(st.integers(min_value=0, max_value=8))),
    )


@st.composite
def session_queries(draw: st.DrawFn) -> SessionQuery:
    return SessionQuery(
        **_filters(draw, _SESSION_FILTERS),
        order=draw(st.sampled_from(list(SessionOrder))),
        direction=draw(st.sampled_from(list(Order))),
        limit=draw(_opt(st.integers(min_value=0, max_value=6))),
    )


stats_queries = st.builds(
    StorageStatsQuery,
    only_active=st.booleans(),
    framework=_opt(st.sampled_from(FRAMEWORKS[1:])),
    machine_id=_opt(st.sampled_from(MACHINES)),
    since=_opt(near_times),
)
git_infos = st.builds(
    GitBranchInfo,
    branch=_opt(st.sampled_from(BRANCHES)),
    pr_number=_opt(st.integers(1, 50)),
    issue_number=_opt(st.integers(1, 50)),
)
git_contexts = st.builds(
    GitContext,
    local_git_dir=_opt(text_values),
    git_worktree_path=_opt(text_values),
    github_repo=_opt(st.sampled_from(REPOS)),
    git_branch=_opt(st.sampled_from(BRANCHES)),
    github_pr=_opt(st.integers(1, 50)),
    github_issue=_opt(st.integers(1, 50)),
)
usage_queries = (
    st.builds(
        UsageQuery,
        since=_opt(near_times),
        until=_opt(near_times),
        framework=_opt(st.sampled_from(FRAMEWORKS[1:])),
        machine_id=_opt(st.sampled_from(MACHINES)),
    )
    if UsageQuery is not None
    else st.none()
)
retentions = st.integers(min_value=1, max_value=40).map(lambda s: timedelta(seconds=s / 2))


# -- the invariants ----------------------------------------------------------------

_ADDITIVE = (
    "event_count",
    "hook_event_count",
    "transcript_event_count",
    "otel_event_count",
    "api_event_count",
    "import_event_count",
    "prompts_hook",
    "prompts_transcript",
    "prompts_other",
    "message_count",
    "compactions_hook",
    "compactions_transcript",
    "compactions_other",
    "compaction_count",
    "tool_call_count",
    "api_request_count",
    "api_error_count",
    "usage_event_count",
    "tokens_input",
    "tokens_output",
    "tokens_cache_read",
    "tokens_cache_write",
    "tokens_reasoning",
    "priced_event_count",
    "unpriced_request_count",
    "cost_picousd",
    "revival_count",
)


def check_invariants(store: Storage, *, given: set[tuple[str, str]] = frozenset()) -> None:  # type: ignore[assignment]
    """Raise AssertionError unless ``store`` keeps the promises of the rules.

    ``given`` names sessions written as given by ``restore_sessions`` (their totals
    need not follow their events).
    """
    events = [e for page in iter_events(store) for e in page]
    holders: dict[str, list[Event]] = {}
    by_session: dict[tuple[str, str], list[Event]] = {}
    for e in events:
        key = billing_key(e)
        if key is not None:
            holders.setdefault(key, []).append(e)
        by_session.setdefault((e.machine_id, e.session_id), []).append(e)
    for key, group in holders.items():
        billed = [e for e in group if e.event_type == EventType.API_REQUEST]
        if len(billed) != 1:
            raise AssertionError(
                f"response {key!r} is billed {len(billed)} times among {len(group)} holders: "
                f"{[(e.machine_id, e.session_id, e.event_type) for e in group]}"
            )
    for session in store.list_sessions(SessionQuery()):
        if session.key in given:
            continue
        folded = fold_session(
            None, session.machine_id, session.session_id, added=by_session.get(session.key, [])
        )
        for name in _ADDITIVE:
            if getattr(folded, name) != getattr(session, name):
                raise AssertionError(
                    f"session {session.key}: {name} is {getattr(session, name)!r}, its stored "
                    f"events give {getattr(folded, name)!r}"
                )
    missing = set(by_session) - {s.key for s in store.list_sessions(SessionQuery())}
    if missing:
        raise AssertionError(f"events stored without their session: {sorted(missing)[:3]}")
    expected: dict[Any, Any] = {}
    for key, delta in usage_deltas([(1, events)]).items():
        bucket = apply_usage(None, key, delta)
        if bucket is not None:
            expected[key] = bucket
    got = {b.key: b for b in store.usage(UsageQuery())}
    if got != expected:
        wrong = sorted(set(got) ^ set(expected) | {k for k in got if got[k] != expected.get(k)})
        raise AssertionError(f"usage buckets differ from the stored requests at {wrong[:3]}")
    horizon = store.horizon()
    if horizon is not None:
        old = [e for e in events if e.timestamp < horizon]
        if old:
            raise AssertionError(f"{len(old)} event(s) older than the gc horizon {horizon}")


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


def _without_id(event: Event) -> Event:
    return attrs.evolve(event, id=None)


class StorageMachine(RuleBasedStateMachine):
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
        expected = self.model.update_session_git_info(machine, session, info, at=at)
        for i, store in enumerate(self.stores):
            got = self._call(
                i,
                "update_session_git_info",
                store.update_session_git_info,
                machine,
                session,
                info,
                at=at,
            )
            self._agree(i, f"update_session_git_info({machine!r}, {session!r})", expected, got)

    @rule(
        machine=st.sampled_from(MACHINES),
        session=st.sampled_from(SESSIONS),
        repo=st.sampled_from(REPOS),
    )
    def update_session_github_repo(self, machine: str, session: str, repo: str) -> None:
        self._step("update_session_github_repo")
        expected = self.model.update_session_github_repo(machine, session, repo)
        for i, store in enumerate(self.stores):
            got = self._call(
                i,
                "update_session_github_repo",
                store.update_session_github_repo,
                machine,
                session,
                repo,
            )
            self._agree(i, f"update_session_github_repo({machine!r}, {session!r})", expected, got)

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
        expected = self.model.upsert_session_git_context(machine, session, context, at=at)
        for i, store in enumerate(self.stores):
            got = self._call(
                i,
                "upsert_session_git_context",
                store.upsert_session_git_context,
                machine,
                session,
                context,
                at=at,
            )
            self._agree(i, "upsert_session_git_context (returned session)", expected, got)

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
        expected = self.model.update_session_transcript_path(machine, session, path, at=at)
        for i, store in enumerate(self.stores):
            got = self._call(
                i,
                "update_session_transcript_path",
                store.update_session_transcript_path,
                machine,
                session,
                path,
                at=at,
            )
            self._agree(i, "update_session_transcript_path", expected, got)

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

    # -- reads --------------------------------------------------------------------------

    @rule(retention=retentions, now=near_times)
    def count_expired(self, retention: timedelta, now: datetime) -> None:
        self._step("count_expired")
        expected = self.model.count_expired(retention, now=now)
        for i, store in enumerate(self.stores):
            got = self._call(i, "count_expired", store.count_expired, retention, now=now)
            self._agree(i, f"count_expired({retention!r}, now={now})", expected, got)

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
        expected = self.model.list_sessions(query)
        for i, store in enumerate(self.stores):
            got = self._call(i, f"list_sessions({query!r})", store.list_sessions, query)
            self._agree(i, f"list_sessions({query!r})", expected, got)

    @rule(session=st.sampled_from([*SESSIONS, "missing"]))
    def get_session(self, session: str) -> None:
        self._step("get_session")
        expected = self.model.get_session(session)
        for i, store in enumerate(self.stores):
            got = self._call(i, "get_session", store.get_session, session)
            self._agree(i, f"get_session({session!r})", expected, got)

    @rule(machine=st.sampled_from(MACHINES), session=st.sampled_from(SESSIONS))
    def get_session_by_key(self, machine: str, session: str) -> None:
        self._step("get_session_by_key")
        expected = self.model.get_session_by_key(machine, session)
        for i, store in enumerate(self.stores):
            got = self._call(i, "get_session_by_key", store.get_session_by_key, machine, session)
            self._agree(i, f"get_session_by_key({machine!r}, {session!r})", expected, got)

    @rule(pid=st.sampled_from([p for p in PIDS if p is not None] + [999]))
    def get_session_by_pid(self, pid: int) -> None:
        self._step("get_session_by_pid")
        expected = self.model.get_session_by_pid(pid)
        for i, store in enumerate(self.stores):
            got = self._call(i, "get_session_by_pid", store.get_session_by_pid, pid)
            self._agree(i, f"get_session_by_pid({pid})", expected, got)

    @rule(
        machine=st.sampled_from(MACHINES),
        session=st.sampled_from(SESSIONS),
        uuid=st.sampled_from([*UUIDS, "api:msg_01:req_01", "api:msg_ü", "nope"]),
    )
    def event_exists_by_uuid(self, machine: str, session: str, uuid: str) -> None:
        self._step("event_exists_by_uuid")
        expected = self.model.event_exists_by_uuid(machine, session, uuid)
        for i, store in enumerate(self.stores):
            got = self._call(
                i, "event_exists_by_uuid", store.event_exists_by_uuid, machine, session, uuid
            )
            self._agree(
                i, f"event_exists_by_uuid({machine!r}, {session!r}, {uuid!r})", expected, got
            )

    @rule(query=stats_queries)
    def storage_stats(self, query: StorageStatsQuery) -> None:
        self._step("storage_stats")
        expected = self.model.storage_stats(query)
        for i, store in enumerate(self.stores):
            got = self._call(i, "storage_stats", store.storage_stats, query)
            self._agree(i, f"storage_stats({query!r})", expected, got)

    @precondition(lambda self: self.has_usage)
    @rule(query=usage_queries)
    def usage(self, query: Any) -> None:
        self._step("usage")
        expected = self.model.usage(query)
        for i, store in enumerate(self.stores):
            got = self._call(i, "usage", store.usage, query)  # type: ignore[attr-defined]
            self._agree(i, f"usage({query!r})", expected, got)

    @rule(machine=st.sampled_from(MACHINES), path=st.sampled_from([*PATHS, "/missing"]))
    def get_transcript_position(self, machine: str, path: str) -> None:
        self._step("get_transcript_position")
        expected = self.model.get_transcript_position(machine, path)
        for i, store in enumerate(self.stores):
            got = self._call(
                i, "get_transcript_position", store.get_transcript_position, machine, path
            )
            self._agree(i, f"get_transcript_position({machine!r}, {path!r})", expected, got)

    @rule(machine=_opt(st.sampled_from(MACHINES)))
    def query_transcript_positions(self, machine: str | None) -> None:
        self._step("query_transcript_positions")
        expected = self.model.query_transcript_positions(machine)
        for i, store in enumerate(self.stores):
            got = self._call(
                i, "query_transcript_positions", store.query_transcript_positions, machine
            )
            self._agree(i, f"query_transcript_positions({machine!r})", expected, got)

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
                    self._call(i, "usage", store.usage, UsageQuery()),  # type: ignore[attr-defined]
                )
            self._agree(
                i,
                "storage_stats()",
                self.model.storage_stats(StorageStatsQuery()),
                self._call(i, "storage_stats", store.storage_stats, StorageStatsQuery()),
            )

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
        max_examples = int(env) if env else hypothesis.settings.default.max_examples
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
