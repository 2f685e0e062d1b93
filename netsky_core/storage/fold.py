"""The session summary rules, once, for every backend: one small fold per concern.

A session summary is a pure function of the *set* of event versions a store was
offered for that session, never of their order or batching:

* Additive fields (counts, tokens, cost) sum over the kept versions. When a better
  version replaces a stored one, the stored one is subtracted and the new one added.
* "When" and "latest value" fields (last activity, status, cwd, model, ...) are a
  join over every version offered: min/max by timestamp, ties broken by value.
  Offering an identical duplicate therefore changes nothing.
* Prompts and compactions are reported by hooks and by transcripts without a shared
  id, so each source is counted apart and the session shows the larger count.

:func:`fold_session` folds a change (versions added, removed, merely seen) into a
stored summary; :func:`merge_sessions` joins two summaries' "when / latest" facts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import chain, repeat
from typing import Any

import attrs
import orjson

from .._records import Event, EventSource, EventType, Session, SessionStatus
from .._units import PICO

__all__ = [
    "MESSAGE_LIMIT",
    "PICO",
    "aggregate_events",
    "fold_session",
    "merge_sessions",
    "status_for_event",
]

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
_API = EventType.API_REQUEST
_PRE_TOOL = EventType.PRE_TOOL_USE
_PROMPT = EventType.USER_PROMPT_SUBMIT
_COMPACT = EventType.PRE_COMPACT
_API_ERROR = EventType.API_ERROR
_START = EventType.SESSION_START
_END = EventType.SESSION_END
_HOOK = EventSource.HOOK
_TRANSCRIPT = EventSource.TRANSCRIPT

_SOURCE_COUNTER = {
    EventSource.HOOK: "hook_event_count",
    EventSource.TRANSCRIPT: "transcript_event_count",
    EventSource.OTEL: "otel_event_count",
    EventSource.API: "api_event_count",
    EventSource.IMPORT: "import_event_count",
}
_PROMPT_COUNTER = {_HOOK: "prompts_hook", _TRANSCRIPT: "prompts_transcript"}
_COMPACTION_COUNTER = {_HOOK: "compactions_hook", _TRANSCRIPT: "compactions_transcript"}
_TYPE_COUNTER = {
    _API: "api_request_count",
    _PRE_TOOL: "tool_call_count",
    _API_ERROR: "api_error_count",
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
_TOKEN_FIELDS = (
    "tokens_input",
    "tokens_output",
    "tokens_cache_read",
    "tokens_cache_write",
    "tokens_reasoning",
)
_LATEST_FIELDS = ("cwd", "git_branch", "model", "transcript_path")
_FIRST_LAST = (
    ("first_activity", "last_activity", None),
    ("first_started_at", "last_started_at", _START),
    ("first_ended_at", "last_ended_at", _END),
)

_MIN = datetime.min.replace(tzinfo=UTC)

Items = Iterable[tuple[Event, int]]
"""Versions with a sign: 1 added to the kept set, -1 removed from it, 0 only seen."""


class _Signed:
    """The versions of one fold with their signs, read once per concern without a
    tuple kept per version (``zip`` reuses its pair; fewer objects for the cyclic gc)."""

    __slots__ = ("added", "removed", "seen")

    def __init__(self, added: list[Event], removed: list[Event], seen: list[Event]) -> None:
        self.added, self.removed, self.seen = added, removed, seen

    def __iter__(self) -> Iterator[tuple[Event, int]]:
        return chain(
            zip(self.added, repeat(1)), zip(self.removed, repeat(-1)), zip(self.seen, repeat(0))
        )


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


# -- additive concerns --------------------------------------------------------------


def _fold_counts(s: dict[str, Any], items: Items) -> None:
    """Event counters: per source, per type, prompts and compactions per source."""
    c = {name: s.get(name) or 0 for name in _COUNT_FIELDS}
    kinds = Counter((e.event_type, e.source, sign) for e, sign in items if sign)
    for (et, source, sign), n in kinds.items():
        n *= sign
        c["event_count"] += n
        counter = _SOURCE_COUNTER.get(source)
        if counter is not None:
            c[counter] += n
        counter = _TYPE_COUNTER.get(et)
        if counter is not None:
            c[counter] += n
        elif et == _PROMPT:
            c[_PROMPT_COUNTER.get(source, "prompts_other")] += n
        elif et == _COMPACT:
            c[_COMPACTION_COUNTER.get(source, "compactions_other")] += n
    if any(et == _START for et, _source, _sign in kinds):
        for event, sign in items:
            if sign and event.event_type == _START and _payload_field(event, "source") == "resume":
                c["revival_count"] += sign
    s.update(c)
    s["message_count"] = max(c["prompts_hook"], c["prompts_transcript"], c["prompts_other"])
    s["compaction_count"] = max(
        c["compactions_hook"], c["compactions_transcript"], c["compactions_other"]
    )


def _fold_usage(s: dict[str, Any], items: Items) -> None:
    """Tokens and cost (exact picodollars); unknown stays None, never 0."""
    ti, to, tr, tw, tx = (s.get(name) or 0 for name in _TOKEN_FIELDS)
    cost = s.get("cost_picousd") or 0
    usage = s.get("usage_event_count") or 0
    priced = s.get("priced_event_count") or 0
    unpriced = s.get("unpriced_request_count") or 0
    for event, sign in items:
        if not sign:
            continue
        i, o, r, w, x = (
            event.tokens_input,
            event.tokens_output,
            event.tokens_cache_read,
            event.tokens_cache_write,
            event.tokens_reasoning,
        )
        c = event.cost_usd
        if i is not None or o is not None or r is not None or w is not None or x is not None:
            usage += sign
            if i:
                ti += sign * i
            if o:
                to += sign * o
            if r:
                tr += sign * r
            if w:
                tw += sign * w
            if x:
                tx += sign * x
            if c is None and event.event_type == _API:
                unpriced += sign
        if c is not None:
            priced += sign
            cost += sign * round(c * PICO)
    s["usage_event_count"] = usage
    s["priced_event_count"] = priced
    s["unpriced_request_count"] = unpriced
    for name, total in zip(_TOKEN_FIELDS, (ti, to, tr, tw, tx)):
        s[name] = total if usage > 0 else None
    s["cost_picousd"] = cost if priced > 0 else None
    s["cost_usd"] = cost / PICO if priced > 0 else None


# -- join concerns (every version seen: added or merely seen) --------------------------


def _fold_times(s: dict[str, Any], items: Items) -> None:
    """First / last activity, start and end."""
    seen = [e for e, sign in items if sign >= 0]
    for first_name, last_name, only in _FIRST_LAST:
        if only is None:
            times = [e.timestamp for e in seen]
        else:
            times = [e.timestamp for e in seen if e.event_type == only]
        first, last = s.get(first_name), s.get(last_name)
        if times:
            lo, hi = min(times), max(times)
            if first is None or lo < first:
                first = lo
            if last is None or hi > last:
                last = hi
        s[first_name], s[last_name] = first, last


def _fold_status(s: dict[str, Any], items: Items) -> None:
    """The live status: the latest live signal; ties by the stronger status."""
    status, at = s.get("status"), s.get("status_updated_at")
    for event, sign in items:
        if sign < 0 or event.source == _TRANSCRIPT:
            continue
        new = status_for_event(event)
        if new is None:
            continue
        ts = event.timestamp
        if (
            at is None
            or ts > at
            or (ts == at and (status is None or _STATUS_RANK[new] > _STATUS_RANK[status]))
        ):
            status, at = new, ts
    s["status"], s["status_updated_at"] = status, at


def _fold_latest(s: dict[str, Any], items: Items) -> None:
    """The latest cwd, branch, model, transcript path, agent process; the framework.

    One pass: each value is replaced by a later one (ties: the greater value)."""
    cwd, cwd_at = s.get("cwd"), s.get("cwd_at")
    br, br_at = s.get("git_branch"), s.get("git_branch_at")
    model, model_at = s.get("model"), s.get("model_at")
    path, path_at = s.get("transcript_path"), s.get("transcript_path_at")
    pid, start, pid_at = s.get("pid"), s.get("process_start_time"), s.get("pid_at")
    framework = s.get("framework")
    for event, sign in items:
        if sign < 0:
            continue
        ts = event.timestamp
        v = event.cwd
        if v is not None and (
            cwd_at is None or ts > cwd_at or (ts == cwd_at and (cwd is None or v > cwd))
        ):
            cwd, cwd_at = v, ts
        v = event.git_branch
        if v is not None and (
            br_at is None or ts > br_at or (ts == br_at and (br is None or v > br))
        ):
            br, br_at = v, ts
        v = event.model
        if v is not None and (
            model_at is None or ts > model_at or (ts == model_at and (model is None or v > model))
        ):
            model, model_at = v, ts
        v = event.transcript_path
        if v is not None and (
            path_at is None or ts > path_at or (ts == path_at and (path is None or v > path))
        ):
            path, path_at = v, ts
        if event.pid is not None:
            new = (event.pid, event.process_start_time or -1)
            current = None if pid is None else (pid, start or -1)
            if _later(ts, new, pid_at, current):
                pid, start, pid_at = event.pid, event.process_start_time, ts
        fw = event.framework
        if fw is not None and (framework is None or fw > framework):
            framework = fw
    s["cwd"], s["cwd_at"] = cwd, cwd_at
    s["git_branch"], s["git_branch_at"] = br, br_at
    s["model"], s["model_at"] = model, model_at
    s["transcript_path"], s["transcript_path_at"] = path, path_at
    s["pid"], s["process_start_time"], s["pid_at"] = pid, start, pid_at
    s["framework"] = framework


def _fold_prompts(s: dict[str, Any], items: Items) -> None:
    """The first and last user prompt texts."""
    first = (s.get("first_user_message"), s.get("first_user_message_at"))
    last = (s.get("last_user_message"), s.get("last_user_message_at"))
    for event, sign in items:
        if sign < 0 or event.event_type != _PROMPT:
            continue
        text = _prompt_text(event)
        if text is None:
            continue
        ts = event.timestamp
        if _earlier(ts, text, first[1], first[0]):
            first = (text, ts)
        if _later(ts, text, last[1], last[0]):
            last = (text, ts)
    s["first_user_message"], s["first_user_message_at"] = first
    s["last_user_message"], s["last_user_message_at"] = last


_FOLDS = (_fold_counts, _fold_usage, _fold_times, _fold_status, _fold_latest, _fold_prompts)


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
    items = _Signed(list(added), list(removed), list(seen))
    for fold in _FOLDS:
        fold(s, items)
    return Session(**s)


def aggregate_events(machine_id: str, session_id: str, events: Iterable[Event]) -> Session:
    """The summary of a session from scratch, from every version offered (reference)."""
    from .versions import plan_batch

    plan = plan_batch(events)
    return fold_session(
        None,
        machine_id,
        session_id,
        added=plan.candidates,
        seen=[e for _c, e in plan.losers],
    )


_JOIN_FIRST = ("first_activity", "first_started_at", "first_ended_at")
_JOIN_LAST = ("last_activity", "last_started_at", "last_ended_at")
_GIT_FIELDS = (
    "local_git_dir",
    "git_worktree_path",
    "github_repo",
    "github_issue",
    "github_pr",
)


def merge_sessions(stored: Session | None, given: Session) -> Session:
    """``stored`` joined with the facts of ``given`` (a copy or an import of it).

    The "when / latest" fields are joined as if ``given``'s events had been seen;
    the git context ``given`` knows replaces the stored one; the additive fields stay
    ``stored``'s, which follow the stored events. A session seen for the first time
    is taken as given (its events may be gone from the source: gc).
    """
    if stored is None:
        return given
    s = attrs.asdict(stored, recurse=False)
    g = attrs.asdict(given, recurse=False)
    for name in _JOIN_FIRST:
        if g[name] is not None and (s[name] is None or g[name] < s[name]):
            s[name] = g[name]
    for name in _JOIN_LAST:
        if g[name] is not None and (s[name] is None or g[name] > s[name]):
            s[name] = g[name]
    for name in _LATEST_FIELDS:
        if g[name] is not None and _later(
            g[name + "_at"] or _MIN, g[name], s[name + "_at"], s[name]
        ):
            s[name], s[name + "_at"] = g[name], g[name + "_at"]
    if g["status"] is not None:
        at, status = s["status_updated_at"], s["status"]
        gat = g["status_updated_at"] or _MIN
        if (
            at is None
            or gat > at
            or (gat == at and (status is None or _STATUS_RANK[g["status"]] > _STATUS_RANK[status]))
        ):
            s["status"], s["status_updated_at"] = g["status"], g["status_updated_at"]
    if g["pid"] is not None:
        new = (g["pid"], g["process_start_time"] or -1)
        current = None if s["pid"] is None else (s["pid"], s["process_start_time"] or -1)
        if _later(g["pid_at"] or _MIN, new, s["pid_at"], current):
            s["pid"], s["process_start_time"], s["pid_at"] = (
                g["pid"],
                g["process_start_time"],
                g["pid_at"],
            )
    first = (g["first_user_message"], g["first_user_message_at"])
    if first[0] is not None and _earlier(
        first[1] or _MIN, first[0], s["first_user_message_at"], s["first_user_message"]
    ):
        s["first_user_message"], s["first_user_message_at"] = first
    last = (g["last_user_message"], g["last_user_message_at"])
    if last[0] is not None and _later(
        last[1] or _MIN, last[0], s["last_user_message_at"], s["last_user_message"]
    ):
        s["last_user_message"], s["last_user_message_at"] = last
    if g["framework"] is not None and (s["framework"] is None or g["framework"] > s["framework"]):
        s["framework"] = g["framework"]
    for name in _GIT_FIELDS:
        if g[name] is not None:
            s[name] = g[name]
    return Session(**s)
