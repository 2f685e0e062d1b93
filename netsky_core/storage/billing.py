"""Billing once: every API response is billed in exactly one place per store.

An API response has a global identity, its *billing key* (:func:`billing_key`): the
API request id where the event names one (a Claude transcript line's ``requestId``,
in its uuid ``api:<message.id>:<requestId>``; an OpenTelemetry ``api_request``'s
``request_id``, uuid ``api_request:<request_id>``), else the event's uuid (Codex
``usage:<session>:<position of the cumulative counter>``, another agent's own
response id). The same response read from a resumed transcript, from a history
synced to a second machine, from another machine's export or from OpenTelemetry is
one response.

Of the events holding one billing key (its *holders*, in any session of any
machine), exactly one is billed: the holder whose session started first (earliest
first activity), ties broken by machine id, session id and uuid. Every other holder
keeps its row in the repeated form (``ApiRequestRepeated``, no tokens, see
:func:`~netsky_core.storage.versions.repeated_version`). The choice depends only on
the stored holders and their sessions (within one session: a transcript's version
before a hook's, before OpenTelemetry's), so it does not depend on the order or
batching in which anything arrived; the Store settles it again whenever a holder is
stored or deleted (gc) or a holder's session learns an earlier first activity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import attrs

from .._records import Event, EventSource, EventType, Session
from .versions import content, repeated_version

__all__ = ["BILLABLE_TYPES", "billing_key", "choose_owner", "in_billing_state", "owner_rank"]

_API = EventType.API_REQUEST
_REPEATED = EventType.API_REQUEST_REPEATED
BILLABLE_TYPES = (_API, _REPEATED)
"""The event types :func:`billing_key` gives a key (a backend may skip the call for others)."""
_BILLABLE = BILLABLE_TYPES


def billing_key(event: Event) -> str | None:
    """The global identity of the response an event holds (None: not a response, or
    one without a uuid, which is billed where it is). Backends index it."""
    uuid = event.uuid
    if uuid is None or event.event_type not in _BILLABLE:
        return None
    if uuid.startswith("api:"):
        request = uuid.split(":", 2)[2:]
        if request and request[0]:
            return "request:" + request[0]
    elif uuid.startswith("api_request:") and not uuid.startswith("api_request:client:"):
        return "request:" + uuid[len("api_request:") :]
    return uuid


_SOURCE_RANK = {EventSource.TRANSCRIPT: 0, EventSource.HOOK: 1, EventSource.OTEL: 2}


def owner_rank(
    event: Event, sessions: Mapping[tuple[str, str], Session | None]
) -> tuple[datetime, str, str, int, str]:
    """Smaller is preferred: the session's first activity, machine, session, source,
    uuid."""
    session = sessions.get((event.machine_id, event.session_id))
    first = session.first_activity if session is not None else None
    return (
        first or event.timestamp,
        event.machine_id,
        event.session_id,
        _SOURCE_RANK.get(event.source, 3),
        event.uuid or "",
    )


def choose_owner(
    holders: Iterable[Event], sessions: Mapping[tuple[str, str], Session | None]
) -> Event:
    """The holder that bills the response."""
    return min(holders, key=lambda e: owner_rank(e, sessions))


def in_billing_state(event: Event, billed: bool) -> Event:
    """``event`` (a holder, stored) as it is stored when it bills, or does not."""
    if billed:
        return content(event)
    return repeated_version(content(event))


def is_billed(event: Event) -> bool:
    return event.event_type == _API


def same_row(a: Event, b: Event) -> bool:
    return attrs.evolve(a, id=None) == attrs.evolve(b, id=None)
