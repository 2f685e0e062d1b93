"""Hypothesis strategies for events, reused by the conformance suite and its users."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from netsky_core import Event, EventSource, EventType
from netsky_core.storage.versions import repeated_version

# Every string a store must keep unchanged: any unicode except NUL and surrogates.
odd_text = st.text(
    alphabet=st.characters(exclude_characters="\x00", exclude_categories=["Cs"]),
    max_size=40,
)
sql_like = st.sampled_from(
    [
        "'; DROP TABLE events; --",
        "Robert'); DELETE FROM sessions;--",
        '"quoted" \\backslash\\ %percent% _under_',
        "line\nbreak\ttab\r",
        "emoji 🚀 ünïcödé 漢字 عربى",
        '{"json": [1, 2, {"x": null}]}',
        "$1 ? :name @p",
    ]
)
text_values = st.one_of(odd_text, sql_like)

T_BASE = datetime(2026, 3, 1, tzinfo=UTC)

# Microsecond timestamps across a wide range, with many ties in small_times.
wide_times = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(2099, 12, 31),
    timezones=st.just(UTC),
)
small_times = st.integers(min_value=0, max_value=40).map(
    lambda n: T_BASE + timedelta(seconds=n // 4, microseconds=n % 4)
)

EVENT_TYPES = (
    EventType.SESSION_START,
    EventType.SESSION_END,
    EventType.USER_PROMPT_SUBMIT,
    EventType.PRE_TOOL_USE,
    EventType.POST_TOOL_USE,
    EventType.PERMISSION_REQUEST,
    EventType.NOTIFICATION,
    EventType.STOP,
    EventType.PRE_COMPACT,
    EventType.API_REQUEST,
    EventType.API_ERROR,
    "SomethingNew",
)


@st.composite
def events(
    draw: st.DrawFn, *, machines: int = 2, sessions: int = 3, uuids: int = 12, keyed: bool = False
) -> Event:
    """Events over a few sessions, with colliding uuids and tied timestamps, so that
    dedup, supersession and tie-breaking are all exercised."""
    event_type = draw(st.sampled_from(EVENT_TYPES))
    payload = None
    if event_type == EventType.USER_PROMPT_SUBMIT:
        payload = {"prompt": draw(st.sampled_from(["fix it", "add tests", "why?", ""]))}
    elif event_type == EventType.SESSION_START:
        payload = {"source": draw(st.sampled_from(["startup", "resume", "compact"]))}
    elif event_type == EventType.NOTIFICATION:
        payload = {
            "notification_type": draw(
                st.sampled_from(["permission_prompt", "idle_prompt", "other"])
            )
        }
    has_usage = event_type == EventType.API_REQUEST and draw(st.booleans())
    small = st.one_of(st.none(), st.integers(min_value=0, max_value=50))
    event = Event(
        machine_id=f"m{draw(st.integers(1, machines))}",
        session_id=f"s{draw(st.integers(1, sessions))}",
        event_type=event_type,
        timestamp=draw(small_times),
        uuid=draw(
            st.integers(0, uuids).map(lambda n: f"u{n}")
            if keyed
            else st.one_of(st.none(), st.integers(0, uuids).map(lambda n: f"u{n}"))
        ),
        framework=draw(st.sampled_from([None, "claude", "codex"])),
        source=draw(st.sampled_from([EventSource.HOOK, EventSource.TRANSCRIPT, EventSource.API])),
        tool_name=draw(st.sampled_from([None, "Bash", "Edit"])),
        pid=draw(st.sampled_from([None, 100, 200])),
        process_start_time=draw(st.sampled_from([None, 5])),
        cwd=draw(st.sampled_from([None, "/a", "/b"])),
        git_branch=draw(st.sampled_from([None, "main", "fix/12-x"])),
        model=draw(st.sampled_from([None, "opus", "haiku"])),
        transcript_path=draw(st.sampled_from([None, "/t/1.jsonl", "/t/2.jsonl"])),
        tokens_input=draw(small) if has_usage else None,
        tokens_output=draw(small) if has_usage else None,
        tokens_cache_read=draw(small) if has_usage else None,
        tokens_cache_write=draw(small) if has_usage else None,
        cost_usd=draw(st.sampled_from([None, 0.0, 0.1, 1e-7, 0.3333333333333333]))
        if has_usage
        else None,
        is_sidechain=draw(st.booleans()),
        payload=None if payload is None else orjson.dumps(payload).decode(),
    )
    if event_type == EventType.API_REQUEST and draw(st.integers(0, 5)) == 0:
        # a copy billed in another session: outranks every ApiRequest version
        event = repeated_version(event)
    return event


@st.composite
def batchings(draw: st.DrawFn, items: list) -> list[list]:
    """A random permutation of ``items`` cut into random consecutive batches."""
    order = draw(st.permutations(items))
    batches: list[list] = []
    i = 0
    while i < len(order):
        size = draw(st.integers(min_value=1, max_value=max(1, len(order) - i)))
        batches.append(list(order[i : i + size]))
        i += size
    return batches


def property_settings(max_examples: int, *extra: HealthCheck) -> settings:
    """The Hypothesis settings of the suite's properties: ``max_examples``, no
    deadline, and the health checks a store under test trips without a fault (its
    fixtures are function-scoped and slow, the base classes run per backend)."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.differing_executors,
            *extra,
        ],
    )
