"""The session aggregation rules and the dedup rule, once, for every backend.

A session summary is a pure function of the *set* of event versions a store was
offered for that session, never of their order or batching:

* Each keyed event ``(machine_id, session_id, uuid)`` is stored once. When several
  versions of it are offered (a streamed API response written as several lines with
  growing usage; a tool call reported by a hook and by the transcript), the store
  keeps the best by :func:`version_rank`: most tokens, then main thread over
  sidechain, then earliest timestamp, then a canonical tie-break. The choice does
  not depend on arrival order.
* Additive fields (counts, tokens, cost) sum over the kept versions. When a better
  version replaces a stored one, the stored one is subtracted and the new one added.
* "When" and "latest value" fields (last activity, status, cwd, model, ...) are a
  join over every version offered: min/max by timestamp, ties broken by value.
  Offering an identical duplicate therefore changes nothing.
* Prompts and compactions are reported by hooks and by transcripts without a shared
  id, so each source is counted apart and the session shows the larger count.

Backends call :func:`plan_batch` to dedup a batch, decide each candidate against the
stored version with :func:`outranks`, then :func:`fold_session` the changes into the
stored summary, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs
import orjson

from ._records import Event, EventSource, EventType, InsertResult, Session, SessionStatus

__all__ = [
    "BatchPlan",
    "SessionChange",
    "aggregate_events",
    "fold_session",
    "outranks",
    "plan_batch",
    "status_for_event",
    "version_rank",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = datetime.resolution  # timedelta(microseconds=1)
PICO = 10**12
MESSAGE_LIMIT = 2000

_STATUS_RANK = {
    SessionStatus.IDLE: 0,
    SessionStatus.BUSY: 1,
    SessionStatus.WAIT: 2,
    SessionStatus.DONE: 3,
}
_STATUS_BY_TYPE: dict[str, SessionStatus] = {
    EventType.SESSION_START: SessionStatus.IDLE,
    EventType.USER_PROMPT_SUBMIT: SessionStatus.BUSY,
    EventType.PRE_TOOL_USE: SessionStatus.BUSY,
    EventType.POST_TOOL_USE: SessionStatus.BUSY,
    EventType.POST_TOOL_USE_FAILURE: SessionStatus.BUSY,
    EventType.PERMISSION_REQUEST: SessionStatus.WAIT,
    EventType.STOP: SessionStatus.IDLE,
    EventType.PRE_COMPACT: SessionStatus.BUSY,
    EventType.POST_COMPACT: SessionStatus.BUSY,
    EventType.SUBAGENT_START: SessionStatus.BUSY,
    EventType.SUBAGENT_STOP: SessionStatus.BUSY,
    EventType.SESSION_END: SessionStatus.DONE,
}
_NOTIFICATION_STATUS = {
    "permission_prompt": SessionStatus.WAIT,
    "elicitation_dialog": SessionStatus.WAIT,
    "idle_prompt": SessionStatus.IDLE,
}


def _payload_field(event: Event, name: str) -> Any:
    if not event.payload:
        return None
    try:
        data = orjson.loads(event.payload)
    except orjson.JSONDecodeError:
        return None
    return data.get(name) if isinstance(data, dict) else None


def status_for_event(event: Event) -> SessionStatus | None:
    """The live status an event implies, or None when it implies none.

    Transcript-derived events are history, not a live signal: they imply no status.
    """
    if event.source == EventSource.TRANSCRIPT:
        return None
    if event.event_type == EventType.NOTIFICATION:
        kind = _payload_field(event, "notification_type")
        return _NOTIFICATION_STATUS.get(kind) if isinstance(kind, str) else None
    return _STATUS_BY_TYPE.get(event.event_type)


_EVENT_FIELDS = tuple(f.name for f in attrs.fields(Event) if f.name != "id")


def _canonical(event: Event) -> tuple:
    return tuple(
        (0, "") if v is None else (1, repr(v))
        for v in (getattr(event, name) for name in _EVENT_FIELDS)
    )


def version_rank(event: Event) -> tuple:
    """Order of preference among versions of one keyed event (greater is kept).

    More tokens first, then a main-thread version over a sidechain one, then the
    earliest, then a canonical comparison of every field but ``id``, so that two
    versions rank equal only when they are identical.
    """
    total = event.total_tokens
    ts_us = (event.timestamp - _EPOCH) // _US
    return (-1 if total is None else total, not event.is_sidechain, -ts_us, _canonical(event))


def outranks(new: Event, stored: Event) -> bool:
    """True when ``new`` should replace ``stored`` (same key). Identical -> False."""
    return version_rank(new) > version_rank(stored)


@attrs.define
class SessionChange:
    """What a batch changes in one session: versions added to / removed from the
    kept set, and versions merely seen (lesser duplicates)."""

    added: list[Event] = attrs.field(factory=list)
    removed: list[Event] = attrs.field(factory=list)
    seen: list[Event] = attrs.field(factory=list)


@attrs.define
class BatchPlan:
    """A batch deduplicated in memory, before it meets the store.

    ``candidates`` holds one event per key (the best of the batch) plus every event
    without a uuid; ``index_of[i]`` maps input ``i`` to its candidate. The backend
    reports for each candidate whether it was inserted, was a duplicate of a stored
    version, or superseded one, then calls :meth:`finish`.
    """

    candidates: list[Event]
    index_of: list[int]
    losers: list[Event]

    def finish(
        self,
        ids: Sequence[int],
        *,
        inserted: Sequence[bool],
        replaced: Sequence[Event | None],
    ) -> tuple[InsertResult, dict[tuple[str, str], SessionChange]]:
        """Build the result and the per-session changes.

        ``ids[c]`` is the row id now holding candidate ``c``; ``inserted[c]`` tells if
        it was newly stored; ``replaced[c]`` is the stored version it superseded
        (None if it superseded nothing). A candidate neither inserted nor superseding
        is a duplicate.
        """
        changes: dict[tuple[str, str], SessionChange] = {}
        n_inserted = n_superseded = 0
        n_duplicates = len(self.losers)
        for c, event in enumerate(self.candidates):
            key = (event.machine_id, event.session_id)
            change = changes.get(key)
            if change is None:
                change = changes[key] = SessionChange()
            old = replaced[c]
            if inserted[c]:
                n_inserted += 1
                change.added.append(event)
            elif old is not None:
                n_superseded += 1
                change.added.append(event)
                change.removed.append(old)
            else:
                n_duplicates += 1
                change.seen.append(event)
        for event in self.losers:
            key = (event.machine_id, event.session_id)
            change = changes.get(key)
            if change is None:
                change = changes[key] = SessionChange()
            change.seen.append(event)
        result = InsertResult(
            ids=tuple(ids[c] for c in self.index_of),
            inserted=n_inserted,
            duplicates=n_duplicates,
            superseded=n_superseded,
        )
        return result, changes


def plan_batch(events: Iterable[Event]) -> BatchPlan:
    """Deduplicate a batch by key, keeping the best version of each key."""
    candidates: list[Event] = []
    index_of: list[int] = []
    losers: list[Event] = []
    slot: dict[tuple[str, str, str], int] = {}
    for event in events:
        if type(event) is not Event:
            from ._errors import RecordError

            raise RecordError(f"expected an Event, got {type(event).__name__}")
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
            losers.append(event)
        elif outranks(event, current):
            candidates[c] = event
            losers.append(current)
        else:
            losers.append(event)
    return BatchPlan(candidates=candidates, index_of=index_of, losers=losers)


def _later(ts: datetime, value: Any, at: datetime | None, current: Any) -> bool:
    """Is (ts, value) after (at, current)? Values break timestamp ties."""
    if at is None:
        return True
    if ts != at:
        return ts > at
    return current is None or value > current


def _earlier(ts: datetime, value: Any, at: datetime | None, current: Any) -> bool:
    if at is None:
        return True
    if ts != at:
        return ts < at
    return current is None or value < current


def _prompt_text(event: Event) -> str | None:
    text = _payload_field(event, "prompt")
    if not isinstance(text, str) or not text.strip():
        return None
    text = text.replace("\x00", "")
    if len(text) > MESSAGE_LIMIT:
        text = text[: MESSAGE_LIMIT - 1] + "\u2026"
    return text


_SOURCE_COUNTER = {
    EventSource.HOOK: "hook_event_count",
    EventSource.TRANSCRIPT: "transcript_event_count",
    EventSource.OTEL: "otel_event_count",
    EventSource.API: "api_event_count",
    EventSource.IMPORT: "import_event_count",
}


def fold_session(
    state: Session | None,
    machine_id: str,
    session_id: str,
    *,
    added: Iterable[Event] = (),
    removed: Iterable[Event] = (),
    seen: Iterable[Event] = (),
) -> Session:
    """Fold event versions into a session summary (``state`` None: a new session).

    ``added`` versions enter the kept set (and count as seen), ``removed`` versions
    leave it, ``seen`` versions only inform the "when / latest" fields.
    """
    s: dict[str, Any] = (
        attrs.asdict(state, recurse=False)
        if state is not None
        else {"machine_id": machine_id, "session_id": session_id}
    )
    get = s.get
    counts = {
        name: get(name) or 0
        for name in (
            "event_count",
            "hook_event_count",
            "transcript_event_count",
            "otel_event_count",
            "api_event_count",
            "import_event_count",
            "prompts_hook",
            "prompts_transcript",
            "prompts_other",
            "compactions_hook",
            "compactions_transcript",
            "compactions_other",
            "tool_call_count",
            "api_request_count",
            "api_error_count",
            "usage_event_count",
            "priced_event_count",
            "unpriced_request_count",
            "revival_count",
        )
    }
    tokens_input = get("tokens_input") or 0
    tokens_output = get("tokens_output") or 0
    tokens_cache_read = get("tokens_cache_read") or 0
    tokens_cache_write = get("tokens_cache_write") or 0
    cost = get("cost_picousd") or 0

    def count(event: Event, sign: int) -> None:
        nonlocal tokens_input, tokens_output, tokens_cache_read, tokens_cache_write, cost
        counts["event_count"] += sign
        source = event.source
        counter = _SOURCE_COUNTER.get(source)
        if counter is not None:
            counts[counter] += sign
        et = event.event_type
        if et == EventType.API_REQUEST:
            counts["api_request_count"] += sign
        elif et == EventType.PRE_TOOL_USE:
            counts["tool_call_count"] += sign
        elif et == EventType.USER_PROMPT_SUBMIT:
            if source == EventSource.HOOK:
                counts["prompts_hook"] += sign
            elif source == EventSource.TRANSCRIPT:
                counts["prompts_transcript"] += sign
            else:
                counts["prompts_other"] += sign
        elif et == EventType.PRE_COMPACT:
            if source == EventSource.HOOK:
                counts["compactions_hook"] += sign
            elif source == EventSource.TRANSCRIPT:
                counts["compactions_transcript"] += sign
            else:
                counts["compactions_other"] += sign
        elif et == EventType.API_ERROR:
            counts["api_error_count"] += sign
        elif et == EventType.SESSION_START and _payload_field(event, "source") == "resume":
            counts["revival_count"] += sign
        ti, to, tr, tw = (
            event.tokens_input,
            event.tokens_output,
            event.tokens_cache_read,
            event.tokens_cache_write,
        )
        if ti is not None or to is not None or tr is not None or tw is not None:
            counts["usage_event_count"] += sign
            tokens_input += sign * (ti or 0)
            tokens_output += sign * (to or 0)
            tokens_cache_read += sign * (tr or 0)
            tokens_cache_write += sign * (tw or 0)
            if event.cost_usd is None and et == EventType.API_REQUEST:
                counts["unpriced_request_count"] += sign
        if event.cost_usd is not None:
            counts["priced_event_count"] += sign
            cost += sign * round(event.cost_usd * PICO)

    def observe(event: Event) -> None:
        ts = event.timestamp
        first = s.get("first_activity")
        if first is None or ts < first:
            s["first_activity"] = ts
        last = s.get("last_activity")
        if last is None or ts > last:
            s["last_activity"] = ts
        et = event.event_type
        if et == EventType.SESSION_START:
            v = s.get("first_started_at")
            if v is None or ts < v:
                s["first_started_at"] = ts
            v = s.get("last_started_at")
            if v is None or ts > v:
                s["last_started_at"] = ts
        elif et == EventType.SESSION_END:
            v = s.get("first_ended_at")
            if v is None or ts < v:
                s["first_ended_at"] = ts
            v = s.get("last_ended_at")
            if v is None or ts > v:
                s["last_ended_at"] = ts
        elif et == EventType.USER_PROMPT_SUBMIT:
            text = _prompt_text(event)
            if text is not None:
                if _earlier(ts, text, s.get("first_user_message_at"), s.get("first_user_message")):
                    s["first_user_message"] = text
                    s["first_user_message_at"] = ts
                if _later(ts, text, s.get("last_user_message_at"), s.get("last_user_message")):
                    s["last_user_message"] = text
                    s["last_user_message_at"] = ts
        status = status_for_event(event)
        if status is not None:
            at = s.get("status_updated_at")
            current = s.get("status")
            if (
                at is None
                or ts > at
                or (ts == at and (current is None or _STATUS_RANK[status] > _STATUS_RANK[current]))
            ):
                s["status"] = status
                s["status_updated_at"] = ts
        if event.pid is not None:
            value = (event.pid, event.process_start_time or -1)
            current_pid = s.get("pid")
            current = (
                None if current_pid is None else (current_pid, s.get("process_start_time") or -1)
            )
            if _later(ts, value, s.get("pid_at"), current):
                s["pid"] = event.pid
                s["process_start_time"] = event.process_start_time
                s["pid_at"] = ts
        for field in ("cwd", "git_branch", "model", "transcript_path"):
            value = getattr(event, field)
            if value is not None and _later(ts, value, s.get(field + "_at"), s.get(field)):
                s[field] = value
                s[field + "_at"] = ts
        framework = event.framework
        if framework is not None:
            current = s.get("framework")
            if current is None or framework > current:
                s["framework"] = framework

    for event in added:
        count(event, 1)
        observe(event)
    for event in removed:
        count(event, -1)
    for event in seen:
        observe(event)

    s.update(counts)
    s["message_count"] = max(
        counts["prompts_hook"], counts["prompts_transcript"], counts["prompts_other"]
    )
    s["compaction_count"] = max(
        counts["compactions_hook"], counts["compactions_transcript"], counts["compactions_other"]
    )
    if counts["usage_event_count"] > 0:
        s["tokens_input"] = tokens_input
        s["tokens_output"] = tokens_output
        s["tokens_cache_read"] = tokens_cache_read
        s["tokens_cache_write"] = tokens_cache_write
    else:
        s["tokens_input"] = s["tokens_output"] = s["tokens_cache_read"] = s[
            "tokens_cache_write"
        ] = None
    if counts["priced_event_count"] > 0:
        s["cost_picousd"] = cost
        s["cost_usd"] = cost / PICO
    else:
        s["cost_picousd"] = None
        s["cost_usd"] = None
    return Session(**s)


def aggregate_events(machine_id: str, session_id: str, events: Iterable[Event]) -> Session:
    """The summary of a session from scratch, from every version offered (reference)."""
    plan = plan_batch(events)
    return fold_session(None, machine_id, session_id, added=plan.candidates, seen=plan.losers)
