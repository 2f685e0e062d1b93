"""The session rules, written as plain set definitions, against the optimized fold."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from netsky_conformance.strategies import batchings, events

from netsky_core import (
    Event,
    EventSource,
    EventType,
    Session,
    SessionStatus,
    aggregate_events,
    fold_session,
    version_rank,
)
from netsky_core.storage.versions import content, plan_batch, repeated_version

RANK = {SessionStatus.IDLE: 0, SessionStatus.BUSY: 1, SessionStatus.WAIT: 2, SessionStatus.DONE: 3}
STATUS = {
    "SessionStart": SessionStatus.IDLE,
    "UserPromptSubmit": SessionStatus.BUSY,
    "PreToolUse": SessionStatus.BUSY,
    "PostToolUse": SessionStatus.BUSY,
    "PostToolUseFailure": SessionStatus.BUSY,
    "PermissionRequest": SessionStatus.WAIT,
    "Stop": SessionStatus.IDLE,
    "PreCompact": SessionStatus.BUSY,
    "PostCompact": SessionStatus.BUSY,
    "SubagentStart": SessionStatus.BUSY,
    "SubagentStop": SessionStatus.BUSY,
    "SessionEnd": SessionStatus.DONE,
}


def payload(e: Event) -> dict[str, Any]:
    try:
        value = orjson.loads(e.payload or "null")
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def status_of(e: Event) -> SessionStatus | None:
    if e.source == EventSource.TRANSCRIPT:
        return None
    if e.event_type == "Notification":
        return {
            "permission_prompt": SessionStatus.WAIT,
            "elicitation_dialog": SessionStatus.WAIT,
            "idle_prompt": SessionStatus.IDLE,
        }.get(payload(e).get("notification_type"))
    return STATUS.get(e.event_type)


def definition(machine: str, session: str, offered: list[Event]) -> Session:
    """Every field of a session, straight from the documented rules (a version offered
    in the repeated form counts as the response it holds: the store decides billing)."""
    offered = [content(e) for e in offered]
    kept: dict[Any, Event] = {}
    keyless: list[Event] = []
    for e in offered:
        if e.key is None:
            keyless.append(e)
        elif e.key not in kept or version_rank(e) > version_rank(kept[e.key]):
            kept[e.key] = e
    w = list(kept.values()) + keyless
    v = offered

    def argmax(items: list[tuple[Any, Any]]) -> Any:
        return max(items)[1] if items else (None, None)

    def latest(field: str) -> tuple[Any, Any]:
        found = [(e.timestamp, getattr(e, field)) for e in v if getattr(e, field) is not None]
        if not found:
            return None, None
        ts, value = max(found)
        return value, ts

    def count(pred: Any) -> int:
        return sum(1 for e in w if pred(e))

    def by_source(event_type: str) -> tuple[int, int, int]:
        hook = count(lambda e: e.event_type == event_type and e.source == "hook")
        tr = count(lambda e: e.event_type == event_type and e.source == "transcript")
        other = count(
            lambda e: e.event_type == event_type and e.source not in ("hook", "transcript")
        )
        return hook, tr, other

    def prompt_text(e: Event) -> str | None:
        text = payload(e).get("prompt")
        if not isinstance(text, str) or not text.strip():
            return None
        return text if len(text) <= 2000 else text[:1999] + "\u2026"

    prompts = [
        (e.timestamp, prompt_text(e))
        for e in v
        if e.event_type == "UserPromptSubmit" and prompt_text(e)
    ]
    statuses = [
        (e.timestamp, RANK[status_of(e)], status_of(e)) for e in v if status_of(e) is not None
    ]
    pids = [(e.timestamp, (e.pid, e.process_start_time or -1), e) for e in v if e.pid is not None]
    starts = [e.timestamp for e in v if e.event_type == "SessionStart"]
    ends = [e.timestamp for e in v if e.event_type == "SessionEnd"]
    usage = [e for e in w if e.total_tokens is not None]
    priced = [e for e in w if e.cost_usd is not None]
    prompts_hook, prompts_transcript, prompts_other = by_source("UserPromptSubmit")
    comp_hook, comp_transcript, comp_other = by_source("PreCompact")
    cost = sum(round(e.cost_usd * 10**12) for e in priced) if priced else None
    pid_event = max(pids, key=lambda p: (p[0], p[1]))[2] if pids else None
    values: dict[str, Any] = dict(
        machine_id=machine,
        session_id=session,
        framework=max((e.framework for e in v if e.framework is not None), default=None),
        first_activity=min(e.timestamp for e in v),
        last_activity=max(e.timestamp for e in v),
        first_started_at=min(starts, default=None),
        last_started_at=max(starts, default=None),
        first_ended_at=min(ends, default=None),
        last_ended_at=max(ends, default=None),
        revival_count=count(
            lambda e: e.event_type == "SessionStart" and payload(e).get("source") == "resume"
        ),
        status=max(statuses)[2] if statuses else None,
        status_updated_at=max(statuses)[0] if statuses else None,
        pid=pid_event.pid if pid_event else None,
        process_start_time=pid_event.process_start_time if pid_event else None,
        pid_at=pid_event.timestamp if pid_event else None,
        first_user_message=min(prompts)[1] if prompts else None,
        first_user_message_at=min(prompts)[0] if prompts else None,
        last_user_message=max(prompts)[1] if prompts else None,
        last_user_message_at=max(prompts)[0] if prompts else None,
        event_count=len(w),
        hook_event_count=count(lambda e: e.source == "hook"),
        transcript_event_count=count(lambda e: e.source == "transcript"),
        otel_event_count=count(lambda e: e.source == "otel"),
        api_event_count=count(lambda e: e.source == "api"),
        import_event_count=count(lambda e: e.source == "import"),
        prompts_hook=prompts_hook,
        prompts_transcript=prompts_transcript,
        prompts_other=prompts_other,
        message_count=max(prompts_hook, prompts_transcript, prompts_other),
        compactions_hook=comp_hook,
        compactions_transcript=comp_transcript,
        compactions_other=comp_other,
        compaction_count=max(comp_hook, comp_transcript, comp_other),
        tool_call_count=count(lambda e: e.event_type == "PreToolUse"),
        api_request_count=count(lambda e: e.event_type == "ApiRequest"),
        api_error_count=count(lambda e: e.event_type == "ApiError"),
        usage_event_count=len(usage),
        tokens_input=sum(e.tokens_input or 0 for e in usage) if usage else None,
        tokens_output=sum(e.tokens_output or 0 for e in usage) if usage else None,
        tokens_cache_read=sum(e.tokens_cache_read or 0 for e in usage) if usage else None,
        tokens_cache_write=sum(e.tokens_cache_write or 0 for e in usage) if usage else None,
        tokens_reasoning=sum(e.tokens_reasoning or 0 for e in usage) if usage else None,
        priced_event_count=len(priced),
        unpriced_request_count=count(
            lambda e: (
                e.event_type == "ApiRequest" and e.total_tokens is not None and e.cost_usd is None
            )
        ),
        cost_picousd=cost,
        cost_usd=None if cost is None else cost / 10**12,
    )
    for field in ("cwd", "git_branch", "model", "transcript_path"):
        values[field], values[field + "_at"] = latest(field)
    return Session(**values)


def one_session(offered: list[Event]) -> list[Event]:
    return [e for e in offered if (e.machine_id, e.session_id) == ("m1", "s1")]


@given(offered=st.lists(events(machines=1, sessions=1), min_size=1, max_size=40))
@settings(max_examples=300, deadline=None)
def test_fold_matches_the_definition(offered: list[Event]) -> None:
    assert aggregate_events("m1", "s1", offered) == definition("m1", "s1", offered)


@given(
    data=st.data(),
    offered=st.lists(events(machines=1, sessions=1, uuids=5), min_size=1, max_size=30),
)
@settings(max_examples=300, deadline=None)
def test_incremental_folding_matches_the_definition(
    data: st.DataObject, offered: list[Event]
) -> None:
    stored: dict[Any, Event] = {}
    state: Session | None = None
    for batch in data.draw(batchings(offered)):
        plan = plan_batch(batch)
        olds: list[Event | None] = []
        kept: list[Event | None] = []
        for cand in plan.candidates:
            old = stored.get(cand.key) if cand.key is not None else None
            olds.append(old)
            if old is None or version_rank(cand) > version_rank(old):
                kept.append(cand)
                if cand.key is not None:
                    stored[cand.key] = cand
            else:
                kept.append(None)
        _, changes = plan.finish(list(range(len(plan.candidates))), stored=olds, kept=kept)
        change = changes[("m1", "s1")]
        state = fold_session(
            state, "m1", "s1", added=change.added, removed=change.removed, seen=change.seen
        )
    assert state == definition("m1", "s1", offered)


def test_long_prompts_and_odd_payloads() -> None:
    from datetime import UTC, datetime

    t = datetime(2026, 1, 1, tzinfo=UTC)
    offered = [
        Event(
            machine_id="m1",
            session_id="s1",
            event_type=EventType.USER_PROMPT_SUBMIT,
            timestamp=t,
            payload='{"prompt": "' + "y" * 5000 + '"}',
        ),
        Event(
            machine_id="m1",
            session_id="s1",
            event_type=EventType.USER_PROMPT_SUBMIT,
            timestamp=t,
            payload="not json",
        ),
        Event(
            machine_id="m1",
            session_id="s1",
            event_type=EventType.SESSION_START,
            timestamp=t,
            payload="[1, 2]",
        ),
        Event(
            machine_id="m1",
            session_id="s1",
            event_type=EventType.NOTIFICATION,
            timestamp=t,
            payload='{"notification_type": 5}',
        ),
    ]
    assert aggregate_events("m1", "s1", offered) == definition("m1", "s1", offered)


@given(offered=st.lists(events(keyed=True), min_size=1, max_size=20))
@settings(max_examples=200, deadline=None)
def test_the_repeated_form_holds_the_response_exactly(offered: list[Event]) -> None:
    api = [content(e) for e in offered if e.event_type in ("ApiRequest", "ApiRequestRepeated")]
    for e in api:
        copy = repeated_version(e)
        assert copy.event_type == EventType.API_REQUEST_REPEATED
        assert copy.total_tokens is None and copy.cost_usd is None
        assert repeated_version(copy) == copy
        assert content(copy) == e
        # a repeated form ranks as the response it holds
        assert version_rank(copy) == version_rank(e)
        # folding the copy over the response moves its tokens out of the session
        before = fold_session(None, e.machine_id, e.session_id, added=[e])
        after = fold_session(before, e.machine_id, e.session_id, added=[copy], removed=[e])
        assert after.api_request_count == 0 and after.event_count == 1
        assert (after.tokens_input, after.tokens_output, after.cost_usd) == (None, None, None)


def test_ties_at_one_timestamp_are_broken_by_value_in_any_batching() -> None:
    from datetime import UTC, datetime, timedelta

    t = datetime(2026, 1, 1, tzinfo=UTC)

    def prompt(text: str, cwd: str, at: datetime = t) -> Event:
        return Event(
            machine_id="m1",
            session_id="s1",
            event_type=EventType.USER_PROMPT_SUBMIT,
            timestamp=at,
            cwd=cwd,
            payload=orjson.dumps({"prompt": text}).decode(),
        )

    offered = [
        prompt("beta", "/b"),
        prompt("alpha", "/c"),
        prompt("gamma", "/a"),
        prompt("   ", "/z", t - timedelta(seconds=1)),  # no text: not a message
        prompt("delta", "/d", t - timedelta(seconds=1)),
    ]
    expected = definition("m1", "s1", offered)
    assert (expected.first_user_message, expected.last_user_message) == ("delta", "gamma")
    assert expected.cwd == "/c"
    for cut in range(len(offered) + 1):
        for order in (offered, offered[::-1]):
            state = None
            for part in (order[:cut], order[cut:]):
                state = fold_session(state, "m1", "s1", added=part)
            assert state == expected


def usage_definition(changes: list[tuple[int, list[Event]]]) -> dict[Any, list[int]]:
    """The usage buckets' deltas, event by event, straight from their definition."""
    from netsky_core.storage.fold import PICO
    from netsky_core.storage.usage import usage_window

    out: dict[Any, list[int]] = {}
    for sign, evs in changes:
        for e in evs:
            if e.event_type != EventType.API_REQUEST:
                continue
            key = (e.machine_id, e.framework or None, e.model or None, usage_window(e.timestamp))
            d = out.setdefault(key, [0] * 9)
            priced = e.cost_usd is not None
            tokens = [e.tokens_input, e.tokens_output, e.tokens_cache_read]
            tokens += [e.tokens_cache_write, e.tokens_reasoning]
            row = [1, 0 if priced else 1, 1 if priced else 0, *(t or 0 for t in tokens)]
            row.append(round(e.cost_usd * PICO) if priced else 0)
            for i, v in enumerate(row):
                d[i] += sign * v
    return {k: v for k, v in out.items() if any(v)}


@given(
    data=st.data(),
    offered=st.lists(events(machines=2, sessions=2), min_size=0, max_size=40),
)
@settings(max_examples=300, deadline=None)
def test_usage_deltas_match_the_definition(data: st.DataObject, offered: list[Event]) -> None:
    from datetime import timedelta

    import attrs
    from netsky_conformance.strategies import T_BASE, wide_times

    from netsky_core.storage.usage import usage_deltas

    blank = st.sampled_from([None, "", "claude"])
    # around window edges (15 minutes), and far before and after 1970
    edges = st.integers(-3, 3).map(lambda n: T_BASE + timedelta(minutes=15 * n, microseconds=-n))
    times = st.one_of(edges, wide_times)
    offered = [
        attrs.evolve(
            e, framework=data.draw(blank), model=data.draw(blank), timestamp=data.draw(times)
        )
        if data.draw(st.booleans())
        else e
        for e in offered
    ]
    cut = data.draw(st.integers(0, len(offered)))
    changes = [(1, offered[:cut]), (data.draw(st.sampled_from([1, -1])), offered[cut:])]
    assert usage_deltas(changes) == usage_definition(changes)
