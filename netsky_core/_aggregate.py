"""The session aggregation rules and the dedup rule, once, for every backend.

A session summary is a pure function of the *set* of event versions a store was
offered for that session, never of their order or batching:

* Each keyed event ``(machine_id, session_id, uuid)`` is stored once. When several
  versions of it are offered (a streamed API response written as several lines with
  growing usage; a tool call reported by a hook and by the transcript), the store
  keeps the best by :func:`version_rank`: a repeated copy (a response billed in
  another session, :func:`repeated_version`) first, then most tokens, then main
  thread over sidechain, then earliest timestamp, then a canonical tie-break. The
  choice does not depend on arrival order.
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
from ._results import UsageBucket

__all__ = [
    "BatchPlan",
    "SessionChange",
    "aggregate_events",
    "fold_session",
    "outranks",
    "plan_batch",
    "repeated_version",
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

    A repeated copy (:func:`repeated_version`) first: once a response is known to be
    billed in another session, that is final for this one. Then more tokens (for a
    repeated copy: the tokens it had), then a main-thread version over a sidechain
    one, then the earliest, then a canonical comparison of every field but ``id``, so
    that two versions rank equal only when they are identical.
    """
    return (*_primary(event), _canonical(event))


def _primary(event: Event) -> tuple:
    if event.event_type == _REPEATED:
        repeated, total = 1, _repeated_total(event)
    else:
        repeated, total = 0, event.total_tokens
    return (
        repeated,
        -1 if total is None else total,
        not event.is_sidechain,
        -((event.timestamp - _EPOCH) // _US),
    )


_REPEATED = EventType.API_REQUEST_REPEATED
_REPEATED_KEY = "repeated_tokens"


def _repeated_total(event: Event) -> int | None:
    try:
        meta = orjson.loads(event.metadata) if event.metadata else None
    except orjson.JSONDecodeError:
        return None
    value = meta.get(_REPEATED_KEY) if isinstance(meta, dict) else None
    if isinstance(value, list) and all(type(v) is int for v in value):
        return sum(value)
    return None


def repeated_version(event: Event) -> Event:
    """The version of an ``ApiRequest`` filed in a session that only repeats it.

    A resumed transcript copies earlier API responses under its own session id; the
    response was billed once, in the session that owns it. The copy stays in this
    session (its line is part of this transcript) as an ``ApiRequestRepeated`` event
    without tokens or cost; the tokens it had are kept in ``metadata`` (key
    ``repeated_tokens``: input, output, cache read, cache write) so that versions of
    a copy rank as the responses they repeat. It outranks every ``ApiRequest``
    version of its key, so replacing a stored version with it moves the tokens out.
    """
    if event.event_type == _REPEATED:
        return event
    try:
        meta = orjson.loads(event.metadata) if event.metadata else {}
    except orjson.JSONDecodeError:
        meta = {"metadata": event.metadata}
    if not isinstance(meta, dict):
        meta = {"metadata": meta}
    meta[_REPEATED_KEY] = [
        event.tokens_input or 0,
        event.tokens_output or 0,
        event.tokens_cache_read or 0,
        event.tokens_cache_write or 0,
    ]
    if event.cost_usd is not None:
        meta["repeated_cost_usd"] = event.cost_usd
    return attrs.evolve(
        event,
        event_type=_REPEATED,
        tokens_input=None,
        tokens_output=None,
        tokens_cache_read=None,
        tokens_cache_write=None,
        cost_usd=None,
        metadata=orjson.dumps(meta, option=orjson.OPT_SORT_KEYS).decode(),
    )


def outranks(new: Event, stored: Event) -> bool:
    """True when ``new`` should replace ``stored`` (same key). Identical -> False.

    Equivalent to ``version_rank(new) > version_rank(stored)``; the canonical part is
    only computed when the cheap part ties.
    """
    a, b = _primary(new), _primary(stored)
    if a != b:
        return a > b
    return _canonical(new) > _canonical(stored)


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
        if not self.losers and all(inserted):
            for event in self.candidates:
                key = (event.machine_id, event.session_id)
                change = changes.get(key)
                if change is None:
                    change = changes[key] = SessionChange()
                change.added.append(event)
            index_of = self.index_of
            result = InsertResult(
                ids=tuple(ids) if len(index_of) == len(ids) else tuple(ids[c] for c in index_of),
                inserted=len(self.candidates),
            )
            return result, changes
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


_COUNT_FIELDS = (
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
_LATEST_FIELDS = ("cwd", "git_branch", "model", "transcript_path")
_TS_FIELDS = (
    "first_activity",
    "last_activity",
    "first_started_at",
    "last_started_at",
    "first_ended_at",
    "last_ended_at",
)
_API = EventType.API_REQUEST
_PRE_TOOL = EventType.PRE_TOOL_USE
_PROMPT = EventType.USER_PROMPT_SUBMIT
_COMPACT = EventType.PRE_COMPACT
_API_ERROR = EventType.API_ERROR
_START = EventType.SESSION_START
_END = EventType.SESSION_END
_HOOK = EventSource.HOOK
_TRANSCRIPT = EventSource.TRANSCRIPT
_PROMPT_COUNTER = {_HOOK: "prompts_hook", _TRANSCRIPT: "prompts_transcript"}
_COMPACTION_COUNTER = {_HOOK: "compactions_hook", _TRANSCRIPT: "compactions_transcript"}


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
    c = {name: get(name) or 0 for name in _COUNT_FIELDS}
    ti = get("tokens_input") or 0
    to = get("tokens_output") or 0
    tr = get("tokens_cache_read") or 0
    tw = get("tokens_cache_write") or 0
    cost = get("cost_picousd") or 0
    first, last, first_start, last_start, first_end, last_end = (get(n) for n in _TS_FIELDS)
    latest = {n: (get(n), get(n + "_at")) for n in _LATEST_FIELDS}
    status, status_at = get("status"), get("status_updated_at")
    framework = get("framework")
    pid_state = (get("pid"), get("process_start_time"), get("pid_at"))
    prompt_first = (get("first_user_message"), get("first_user_message_at"))
    prompt_last = (get("last_user_message"), get("last_user_message_at"))

    items: list[tuple[Event, int]] = [(e, 1) for e in added]
    items.extend((e, -1) for e in removed)
    items.extend((e, 0) for e in seen)
    n_events = n_api = n_tools = n_errors = n_usage = n_priced = n_unpriced = n_revivals = 0
    by_source: dict[str, int] = {}
    prompts: dict[str, int] = {}
    compactions: dict[str, int] = {}
    for event, sign in items:
        et = event.event_type
        source = event.source
        if sign:
            n_events += sign
            by_source[source] = by_source.get(source, 0) + sign
            if et == _API:
                n_api += sign
            elif et == _PRE_TOOL:
                n_tools += sign
            elif et == _PROMPT:
                prompts[source] = prompts.get(source, 0) + sign
            elif et == _COMPACT:
                compactions[source] = compactions.get(source, 0) + sign
            elif et == _API_ERROR:
                n_errors += sign
            elif et == _START and _payload_field(event, "source") == "resume":
                n_revivals += sign
            a = event.tokens_input
            b = event.tokens_output
            r = event.tokens_cache_read
            w = event.tokens_cache_write
            if a is not None or b is not None or r is not None or w is not None:
                n_usage += sign
                if a:
                    ti += sign * a
                if b:
                    to += sign * b
                if r:
                    tr += sign * r
                if w:
                    tw += sign * w
                if event.cost_usd is None and et == _API:
                    n_unpriced += sign
            if event.cost_usd is not None:
                n_priced += sign
                cost += sign * round(event.cost_usd * PICO)
            if sign < 0:
                continue
        # the "when / latest" join over every version seen
        ts = event.timestamp
        if first is None or ts < first:
            first = ts
        if last is None or ts > last:
            last = ts
        if et == _START:
            if first_start is None or ts < first_start:
                first_start = ts
            if last_start is None or ts > last_start:
                last_start = ts
        elif et == _END:
            if first_end is None or ts < first_end:
                first_end = ts
            if last_end is None or ts > last_end:
                last_end = ts
        elif et == _PROMPT:
            text = _prompt_text(event)
            if text is not None:
                if _earlier(ts, text, prompt_first[1], prompt_first[0]):
                    prompt_first = (text, ts)
                if _later(ts, text, prompt_last[1], prompt_last[0]):
                    prompt_last = (text, ts)
        if source != _TRANSCRIPT:
            new_status = status_for_event(event)
            if new_status is not None and (
                status_at is None
                or ts > status_at
                or (
                    ts == status_at
                    and (status is None or _STATUS_RANK[new_status] > _STATUS_RANK[status])
                )
            ):
                status, status_at = new_status, ts
        pid = event.pid
        if pid is not None:
            value = (pid, event.process_start_time or -1)
            current = None if pid_state[0] is None else (pid_state[0], pid_state[1] or -1)
            if _later(ts, value, pid_state[2], current):
                pid_state = (pid, event.process_start_time, ts)
        value = event.cwd
        if value is not None:
            current, current_at = latest["cwd"]
            if (
                current_at is None
                or ts > current_at
                or (ts == current_at and (current is None or value > current))
            ):
                latest["cwd"] = (value, ts)
        value = event.git_branch
        if value is not None:
            current, current_at = latest["git_branch"]
            if (
                current_at is None
                or ts > current_at
                or (ts == current_at and (current is None or value > current))
            ):
                latest["git_branch"] = (value, ts)
        value = event.model
        if value is not None:
            current, current_at = latest["model"]
            if (
                current_at is None
                or ts > current_at
                or (ts == current_at and (current is None or value > current))
            ):
                latest["model"] = (value, ts)
        value = event.transcript_path
        if value is not None:
            current, current_at = latest["transcript_path"]
            if (
                current_at is None
                or ts > current_at
                or (ts == current_at and (current is None or value > current))
            ):
                latest["transcript_path"] = (value, ts)
        fw = event.framework
        if fw is not None and (framework is None or fw > framework):
            framework = fw

    c["event_count"] += n_events
    c["api_request_count"] += n_api
    c["tool_call_count"] += n_tools
    c["api_error_count"] += n_errors
    c["usage_event_count"] += n_usage
    c["priced_event_count"] += n_priced
    c["unpriced_request_count"] += n_unpriced
    c["revival_count"] += n_revivals
    for source, n in by_source.items():
        counter = _SOURCE_COUNTER.get(source)
        if counter is not None:
            c[counter] += n
    for source, n in prompts.items():
        c[_PROMPT_COUNTER.get(source, "prompts_other")] += n
    for source, n in compactions.items():
        c[_COMPACTION_COUNTER.get(source, "compactions_other")] += n
    s.update(c)
    s["first_activity"], s["last_activity"] = first, last
    s["first_started_at"], s["last_started_at"] = first_start, last_start
    s["first_ended_at"], s["last_ended_at"] = first_end, last_end
    s["status"], s["status_updated_at"] = status, status_at
    s["framework"] = framework
    s["pid"], s["process_start_time"], s["pid_at"] = pid_state
    s["first_user_message"], s["first_user_message_at"] = prompt_first
    s["last_user_message"], s["last_user_message_at"] = prompt_last
    for name, (value, when) in latest.items():
        s[name], s[name + "_at"] = value, when
    s["message_count"] = max(c["prompts_hook"], c["prompts_transcript"], c["prompts_other"])
    s["compaction_count"] = max(
        c["compactions_hook"], c["compactions_transcript"], c["compactions_other"]
    )
    if c["usage_event_count"] > 0:
        s["tokens_input"], s["tokens_output"] = ti, to
        s["tokens_cache_read"], s["tokens_cache_write"] = tr, tw
    else:
        s["tokens_input"] = s["tokens_output"] = s["tokens_cache_read"] = s[
            "tokens_cache_write"
        ] = None
    if c["priced_event_count"] > 0:
        s["cost_picousd"] = cost
        s["cost_usd"] = cost / PICO
    else:
        s["cost_picousd"] = None
        s["cost_usd"] = None
    return Session(**s)


USAGE_WINDOW_US = 15 * 60 * 1_000_000
"""Usage buckets cover 15 minutes: every UTC offset in use is a multiple of 15 minutes,
so buckets add up to local days in any time zone."""

UsageKey = tuple[str, "str | None", "str | None", datetime]


def usage_window(ts: datetime) -> datetime:
    """The start of the usage bucket holding ``ts`` (floored to 15 minutes, UTC)."""
    us = (ts - _EPOCH) // _US
    return _EPOCH + (us - us % USAGE_WINDOW_US) * _US


def usage_deltas(changes: dict[tuple[str, str], SessionChange]) -> dict[UsageKey, list[int]]:
    """What a batch's kept-set changes do to the usage buckets.

    Per bucket key ``(machine_id, framework, model, window start)`` a list
    ``[requests, unpriced_requests, priced_requests, tokens_input, tokens_output,
    tokens_cache_read, tokens_cache_write, cost_picousd]`` to add. Only
    ``ApiRequest`` events count; an empty framework or model counts as None.
    """
    out: dict[UsageKey, list[int]] = {}
    for change in changes.values():
        for sign, events in ((1, change.added), (-1, change.removed)):
            for e in events:
                if e.event_type != _API:
                    continue
                key = (
                    e.machine_id,
                    e.framework or None,
                    e.model or None,
                    usage_window(e.timestamp),
                )
                d = out.get(key)
                if d is None:
                    d = out[key] = [0] * 8
                d[0] += sign
                if e.cost_usd is None:
                    d[1] += sign
                else:
                    d[2] += sign
                    d[7] += sign * round(e.cost_usd * PICO)
                d[3] += sign * (e.tokens_input or 0)
                d[4] += sign * (e.tokens_output or 0)
                d[5] += sign * (e.tokens_cache_read or 0)
                d[6] += sign * (e.tokens_cache_write or 0)
    return {k: v for k, v in out.items() if any(v)}


_USAGE_FIELDS = tuple(f.name for f in attrs.fields(UsageBucket))[4:]  # the sums


def apply_usage(bucket: Any, key: UsageKey, delta: list[int]) -> Any:
    """``bucket`` (None: absent) plus ``delta``; None when it no longer holds a request."""
    base = [0] * 8 if bucket is None else [getattr(bucket, f) for f in _USAGE_FIELDS]
    values = [a + b for a, b in zip(base, delta)]
    if values[0] == 0:
        return None
    machine_id, framework, model, start = key
    return UsageBucket(
        machine_id=machine_id,
        framework=framework,
        model=model,
        start=start,
        **dict(zip(_USAGE_FIELDS, values)),
    )


def aggregate_events(machine_id: str, session_id: str, events: Iterable[Event]) -> Session:
    """The summary of a session from scratch, from every version offered (reference)."""
    plan = plan_batch(events)
    return fold_session(None, machine_id, session_id, added=plan.candidates, seen=plan.losers)
