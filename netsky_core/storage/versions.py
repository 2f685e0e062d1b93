"""Versions of one event: which one a store keeps, and the repeated form.

Each keyed event ``(machine_id, session_id, uuid)`` is stored once. When several
versions of it are offered (a streamed API response written as several lines with
growing usage; a tool call reported by a hook and by the transcript), the store keeps
the best by :func:`version_rank`, whatever the arrival order: most tokens, then main
thread over sidechain, then earliest, then a canonical comparison of every field.

An API response billed in another session is stored here in its *repeated* form
(:func:`repeated_version`): an ``ApiRequestRepeated`` event without tokens, the tokens
it had kept in ``metadata``. Ranking looks through that form (:func:`content`): which
version is best and whether it is billed here are separate questions, the second one
answered by :mod:`netsky_core.storage.billing`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import groupby, repeat
from operator import attrgetter, is_, is_not
from typing import Any

import attrs
import orjson

from .._errors import RecordError
from .._records import Event, EventType, InsertResult

__all__ = [
    "BatchPlan",
    "SessionChange",
    "content",
    "is_repeated",
    "outranks",
    "plan_batch",
    "repeated_version",
    "version_rank",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = datetime.resolution
_EVENT_FIELDS = tuple(f.name for f in attrs.fields(Event) if f.name != "id")
_REPEATED = EventType.API_REQUEST_REPEATED
_SESSION_KEY = attrgetter("machine_id", "session_id")
_API = EventType.API_REQUEST
_TOKENS = (
    "tokens_input",
    "tokens_output",
    "tokens_cache_read",
    "tokens_cache_write",
    "tokens_reasoning",
)
_META_TOKENS = "repeated_tokens"
_META_COST = "repeated_cost_usd"
_META_ORIGINAL = "repeated_metadata"


def is_repeated(event: Event) -> bool:
    return event.event_type == _REPEATED


def repeated_version(event: Event) -> Event:
    """The form of an ``ApiRequest`` stored in a session that does not bill it.

    A resumed transcript copies earlier API responses under its own session id, and a
    history read on two machines holds every response twice; each response is billed
    once. The other copies stay where they were read, as ``ApiRequestRepeated`` events
    without tokens or cost. ``metadata`` keeps what they had (``repeated_tokens``:
    input, output, cache read, cache write, reasoning; ``repeated_cost_usd``;
    ``repeated_metadata``: the original metadata text), so :func:`content` restores
    the response exactly.
    """
    if event.event_type == _REPEATED:
        return event
    meta: dict[str, Any] = {
        _META_TOKENS: [getattr(event, name) for name in _TOKENS],
        _META_ORIGINAL: event.metadata,
    }
    if event.cost_usd is not None:
        meta[_META_COST] = event.cost_usd
    return attrs.evolve(
        event,
        event_type=_REPEATED,
        tokens_input=None,
        tokens_output=None,
        tokens_cache_read=None,
        tokens_cache_write=None,
        tokens_reasoning=None,
        cost_usd=None,
        metadata=orjson.dumps(meta, option=orjson.OPT_SORT_KEYS).decode(),
    )


def content(event: Event) -> Event:
    """The response a version holds: a repeated form turned back into its ``ApiRequest``
    (any other event as it is)."""
    if event.event_type != _REPEATED:
        return event
    try:
        meta = orjson.loads(event.metadata) if event.metadata else None
    except orjson.JSONDecodeError:
        meta = None
    if not isinstance(meta, dict):
        return attrs.evolve(event, event_type=_API)
    tokens = meta.pop(_META_TOKENS, None)
    cost = meta.pop(_META_COST, None)
    if _META_ORIGINAL in meta:
        original = meta[_META_ORIGINAL]
    else:  # the form written before 0.2: the original keys, merged with ours
        original = orjson.dumps(meta).decode() if meta else None
    values: dict[str, Any] = {}
    if isinstance(tokens, list):
        for name, value in zip(_TOKENS, tokens):
            values[name] = value if type(value) is int and value >= 0 else None
    try:
        return attrs.evolve(
            event,
            event_type=_API,
            cost_usd=cost if isinstance(cost, (int, float)) else None,
            metadata=original if isinstance(original, str) else None,
            **values,
        )
    except RecordError:
        return attrs.evolve(event, event_type=_API)


def _canonical(event: Event) -> tuple[Any, ...]:
    return tuple(
        (0, "") if v is None else (1, repr(v))
        for v in (getattr(event, name) for name in _EVENT_FIELDS)
    )


def _primary(event: Event) -> tuple[Any, ...]:
    total = event.total_tokens
    return (
        -1 if total is None else total,
        not event.is_sidechain,
        -((event.timestamp - _EPOCH) // _US),
    )


def version_rank(event: Event) -> tuple[Any, ...]:
    """Order of preference among versions of one keyed event (greater is kept).

    Most tokens first, then a main-thread version over a sidechain one, then the
    earliest, then a canonical comparison of every field but ``id``, so two versions
    rank equal only when they are identical. A repeated form ranks as its content.
    """
    event = content(event)
    return (*_primary(event), _canonical(event))


def outranks(new: Event, stored: Event) -> bool:
    """True when ``new`` should replace ``stored`` (same key). Identical -> False.

    Both are compared as their :func:`content`; equivalent to
    ``version_rank(new) > version_rank(stored)``.
    """
    a, b = content(new), content(stored)
    pa, pb = _primary(a), _primary(b)
    if pa != pb:
        return pa > pb
    return _canonical(a) > _canonical(b)


@attrs.define
class SessionChange:
    """What a batch changes in one session: versions added to / removed from the
    kept set, and versions merely seen (lesser duplicates)."""

    added: list[Event] = attrs.field(factory=list)
    removed: list[Event] = attrs.field(factory=list)
    seen: list[Event] = attrs.field(factory=list)


def _change(changes: dict[tuple[str, str], SessionChange], event: Event) -> SessionChange:
    key = (event.machine_id, event.session_id)
    change = changes.get(key)
    if change is None:
        change = changes[key] = SessionChange()
    return change


@attrs.define
class BatchPlan:
    """A batch deduplicated in memory, before it meets the store.

    ``candidates`` holds one event per key (the best of the batch, as its content)
    plus every event without a uuid; ``index_of[i]`` maps input ``i`` to its
    candidate; ``losers`` are the lesser versions, each with its candidate's index.
    """

    candidates: list[Event]
    index_of: list[int]
    losers: list[tuple[int, Event]]

    def finish(
        self,
        ids: Sequence[int | None],
        *,
        stored: Sequence[Event | None],
        kept: Sequence[Event | None],
    ) -> tuple[InsertResult, dict[tuple[str, str], SessionChange]]:
        """The result and the per-session changes once the store has decided.

        For candidate ``c``: ``ids[c]`` is the row now holding it (None: not stored,
        it is older than the store's gc horizon); ``stored[c]`` the version the store
        held before (None: new key); ``kept[c]`` the version the row holds now (None:
        unchanged, the candidate was a duplicate).
        """
        changes: dict[tuple[str, str], SessionChange] = {}
        if (
            not self.losers
            and not any(map(is_not, stored, repeat(None)))
            and not any(map(is_, kept, repeat(None)))  # (`in` would call Event.__eq__)
        ):
            # the common case: every candidate is new
            for key, run in groupby(self.candidates, key=_SESSION_KEY):
                change = changes.get(key)
                if change is None:
                    change = changes[key] = SessionChange()
                change.added.extend(run)
            n = len(self.candidates)
            result = InsertResult(
                ids=tuple(ids) if len(self.index_of) == n else tuple(ids[c] for c in self.index_of),
                inserted=n,
            )
            return result, changes
        n_inserted = n_superseded = 0
        for c, event in enumerate(self.candidates):
            if ids[c] is None:
                continue
            change = _change(changes, event)
            old, new = stored[c], kept[c]
            if new is None:
                change.seen.append(event)
            elif old is None:
                n_inserted += 1
                change.added.append(new)
            else:
                n_superseded += 1
                change.added.append(new)
                change.removed.append(old)
        for c, event in self.losers:
            if ids[c] is not None:
                _change(changes, event).seen.append(event)
        n_expired = sum(1 for c in self.index_of if ids[c] is None)
        result = InsertResult(
            ids=tuple(ids[c] for c in self.index_of),
            inserted=n_inserted,
            duplicates=len(self.index_of) - n_expired - n_inserted - n_superseded,
            superseded=n_superseded,
            expired=n_expired,
        )
        return result, changes


def plan_batch(events: Iterable[Event]) -> BatchPlan:
    """Deduplicate a batch by key, keeping the best version of each key (as its content)."""
    candidates: list[Event] = []
    index_of: list[int] = []
    losers: list[tuple[int, Event]] = []
    slot: dict[tuple[str, str, str], int] = {}
    for event in events:
        if type(event) is not Event:
            raise RecordError(f"expected an Event, got {type(event).__name__}")
        if event.event_type == _REPEATED:
            event = content(event)
        uuid = event.uuid
        if uuid is None:
            index_of.append(len(candidates))
            candidates.append(event)
            continue
        key = (event.machine_id, event.session_id, uuid)
        c = slot.get(key)
        if c is None:
            slot[key] = len(candidates)
            index_of.append(len(candidates))
            candidates.append(event)
            continue
        index_of.append(c)
        current = candidates[c]
        if current == event:
            losers.append((c, event))
        elif outranks(event, current):
            candidates[c] = event
            losers.append((c, current))
        else:
            losers.append((c, event))
    return BatchPlan(candidates=candidates, index_of=index_of, losers=losers)
