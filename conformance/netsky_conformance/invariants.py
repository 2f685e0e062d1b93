"""The promises of the rules, checked on any store's observable state."""

from __future__ import annotations

from typing import Any

from netsky_core import (
    Capability,
    Event,
    EventType,
    SessionQuery,
    Storage,
    UsageQuery,
    iter_events,
)
from netsky_core.storage.billing import billing_key
from netsky_core.storage.fold import fold_session
from netsky_core.storage.usage import apply_usage, usage_deltas

__all__ = ["check_invariants"]

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
    for usage_key, delta in usage_deltas([(1, events)]).items():
        bucket = apply_usage(None, usage_key, delta)
        if bucket is not None:
            expected[usage_key] = bucket
    got = {b.key: b for b in store.usage(UsageQuery())}
    if got != expected:
        wrong = sorted(set(got) ^ set(expected) | {k for k in got if got[k] != expected.get(k)})
        raise AssertionError(f"usage buckets differ from the stored requests at {wrong[:3]}")
    if Capability.PROJECT_USAGE in store.capabilities:
        from .projects import expected_project_usage

        if store.project_usage() != expected_project_usage(events):
            raise AssertionError("project usage differs from the stored requests")
    horizon = store.horizon()
    if horizon is not None:
        old = [e for e in events if e.timestamp < horizon]
        if old:
            raise AssertionError(f"{len(old)} event(s) older than the gc horizon {horizon}")
