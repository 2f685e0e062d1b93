"""Small value pools and the strategies the differential machine draws from: keys,
sessions and pids collide on purpose; text fields carry unicode and SQL-looking strings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import attrs
import orjson
from hypothesis import strategies as st

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
    Order,
    Session,
    SessionOrder,
    SessionQuery,
    SessionStatus,
    StorageStatsQuery,
    UsageQuery,
)

from .strategies import EVENT_TYPES as STRATEGY_EVENT_TYPES
from .strategies import T_BASE, batchings, text_values, wide_times

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
