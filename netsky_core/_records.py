"""Records: the typed values that go into and come out of every Storage.

All records are frozen attrs classes with keyword-only fields. Timestamps are
timezone-aware UTC ``datetime`` values (microsecond precision); a naive datetime is
rejected. ``None`` means unknown and is never silently turned into ``0``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import repeat
from operator import attrgetter, floordiv, sub
from typing import Any

import attrs

from ._errors import RecordError

__all__ = [
    "Capability",
    "Event",
    "EventSource",
    "EventType",
    "FilePosition",
    "GitBranchInfo",
    "GitContext",
    "InsertResult",
    "Session",
    "SessionStatus",
]


class EventType:
    """Names of the event types netsky knows. Any other string is stored as given."""

    SESSION_START = "SessionStart"
    SESSION_END = "SessionEnd"
    USER_PROMPT_SUBMIT = "UserPromptSubmit"
    PRE_TOOL_USE = "PreToolUse"
    POST_TOOL_USE = "PostToolUse"
    POST_TOOL_USE_FAILURE = "PostToolUseFailure"
    PERMISSION_REQUEST = "PermissionRequest"
    NOTIFICATION = "Notification"
    STOP = "Stop"
    SUBAGENT_START = "SubagentStart"
    SUBAGENT_STOP = "SubagentStop"
    PRE_COMPACT = "PreCompact"
    POST_COMPACT = "PostCompact"
    API_REQUEST = "ApiRequest"
    API_ERROR = "ApiError"
    #: An API response this session's transcript repeats from another session (a
    #: resumed or copied transcript). Billed once, in the session that owns it; this
    #: version carries no tokens or cost (see ``netsky_core.ingest.scan``).
    API_REQUEST_REPEATED = "ApiRequestRepeated"

    @classmethod
    def known(cls) -> tuple[str, ...]:
        """Every event type name netsky knows, sorted."""
        return tuple(sorted(v for k, v in vars(cls).items() if k.isupper() and isinstance(v, str)))

    @classmethod
    def resolve(cls, name: str) -> str | None:
        """The known type ``name`` spells in any letter case (``posttooluse`` ->
        ``PostToolUse``), or ``None`` when it is not a known type."""
        folded = name.strip().casefold()
        return next((k for k in cls.known() if k.casefold() == folded), None)


class EventSource:
    """Where an event came from (the ``Event.source`` field)."""

    HOOK = "hook"
    TRANSCRIPT = "transcript"
    OTEL = "otel"
    API = "api"
    IMPORT = "import"


class SessionStatus(enum.StrEnum):
    """Live state of a session, derived from its latest lifecycle event."""

    IDLE = "Idle"
    BUSY = "Busy"
    WAIT = "Wait"
    DONE = "Done"


class Capability(enum.StrEnum):
    """Optional abilities a backend declares; the conformance suite skips the rest."""

    PERSISTENT = "persistent"
    """Data survives closing and reopening the same URL."""
    MULTI_PROCESS = "multi_process"
    """Several processes may open the same URL and write concurrently."""
    READ_ONLY = "read_only"
    """``open_storage(url, read_only=True)`` gives a store that refuses writes."""
    VACUUM = "vacuum"
    """``vacuum()`` reclaims space."""
    SIZE_ON_DISK = "size_on_disk"
    """``info().size_bytes`` is known."""
    PROJECT_USAGE = "project_usage"
    """``project_usage()``: usage per working directory and git branch is kept (the
    engine has the ``project_usage`` / ``add_project_usage`` /
    ``delete_project_usage`` primitives)."""


def _utc(value: Any, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise RecordError(f"{name} must be a datetime, got {type(value).__name__}")
    tz = value.tzinfo
    if tz is None or tz.utcoffset(value) is None:
        raise RecordError(f"{name} must be timezone-aware (got naive {value.isoformat()})")
    if tz is not UTC:
        value = value.astimezone(UTC)
    return value


INT64_MAX = (1 << 63) - 1


def _bad_text(value: str) -> str | None:
    """Why a string cannot be stored by every backend, or None."""
    if "\x00" in value:
        return "must not contain NUL characters"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "must be valid unicode (no lone surrogates)"
    return None


def _check_text(value: Any, name: str, *, required: bool = False) -> None:
    if value is None:
        if required:
            raise RecordError(f"{name} is required")
        return
    if type(value) is not str:
        raise RecordError(f"{name} must be a string, got {type(value).__name__}")
    if required and not value:
        raise RecordError(f"{name} must not be empty")
    problem = _bad_text(value)
    if problem:
        raise RecordError(f"{name} {problem}")


def _check_count(value: Any, name: str) -> None:
    if value is None:
        return
    if type(value) is not int:
        raise RecordError(f"{name} must be an int or None, got {type(value).__name__}")
    if value < 0 or value > INT64_MAX:
        raise RecordError(f"{name} must be between 0 and 2**63-1, got {value}")


def _check_int(value: Any, name: str) -> None:
    if value is None:
        return
    if type(value) is not int:
        raise RecordError(f"{name} must be an int or None, got {type(value).__name__}")
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise RecordError(f"{name} must fit in 64 bits, got {value}")


_EVENT_TEXT_FIELDS = (
    "framework",
    "source",
    "uuid",
    "tool_use_id",
    "tool_name",
    "spawned_agent_id",
    "subagent_type",
    "permission_mode",
    "transcript_path",
    "cwd",
    "git_branch",
    "model",
    "payload",
    "metadata",
)
_EVENT_TOKEN_FIELDS = (
    "tokens_input",
    "tokens_output",
    "tokens_cache_read",
    "tokens_cache_write",
    "tokens_reasoning",
)


@attrs.frozen(kw_only=True, weakref_slot=False)
class Event:
    """One thing that happened in an agent session.

    Identity: ``(machine_id, session_id, uuid)``. ``id`` is assigned by the store.
    ``payload`` and ``metadata`` hold JSON text. The uuid of an API request event
    names the response, not the row: the same uuid in another session or on another
    machine is the same response, billed once per store.

    ``tokens_input`` excludes cache reads and writes; ``tokens_reasoning`` counts the
    reasoning (thinking) tokens an agent reports apart from its output tokens (None
    where they are part of ``tokens_output`` or not reported).
    """

    machine_id: str
    session_id: str
    event_type: str
    timestamp: datetime
    id: int | None = None
    uuid: str | None = None
    framework: str | None = None
    source: str = EventSource.API
    tool_use_id: str | None = None
    tool_name: str | None = None
    spawned_agent_id: str | None = None
    subagent_type: str | None = None
    permission_mode: str | None = None
    transcript_path: str | None = None
    pid: int | None = None
    process_start_time: int | None = None
    cwd: str | None = None
    git_branch: str | None = None
    model: str | None = None
    tokens_input: int | None = None
    tokens_output: int | None = None
    tokens_cache_read: int | None = None
    tokens_cache_write: int | None = None
    tokens_reasoning: int | None = None
    cost_usd: float | None = None
    duration_ms: int | None = None
    is_sidechain: bool = False
    payload: str | None = None
    metadata: str | None = None

    def __attrs_post_init__(self) -> None:
        _check_text(self.machine_id, "machine_id", required=True)
        _check_text(self.session_id, "session_id", required=True)
        _check_text(self.event_type, "event_type", required=True)
        ts = self.timestamp
        if type(ts) is not datetime or ts.tzinfo is not UTC:
            object.__setattr__(self, "timestamp", _utc(ts, "timestamp"))
        for name in _EVENT_TEXT_FIELDS:
            value = getattr(self, name)
            if value is not None and (
                type(value) is not str or "\x00" in value or not value.isascii()
            ):
                _check_text(value, name)
        if self.source is None or self.source == "":
            raise RecordError("source must not be empty")
        for name in _EVENT_TOKEN_FIELDS:
            value = getattr(self, name)
            if value is not None:
                _check_count(value, name)
        _check_int(self.id, "id")
        _check_int(self.pid, "pid")
        _check_int(self.process_start_time, "process_start_time")
        _check_count(self.duration_ms, "duration_ms")
        cost = self.cost_usd
        if cost is not None:
            if type(cost) is not float:
                if type(cost) is not int:
                    raise RecordError(
                        f"cost_usd must be a float or None, got {type(cost).__name__}"
                    )
                object.__setattr__(self, "cost_usd", float(cost))
                cost = float(cost)
            if not math.isfinite(cost) or cost < 0:
                raise RecordError(f"cost_usd must be a finite number >= 0, got {cost!r}")
        if type(self.is_sidechain) is not bool:
            raise RecordError("is_sidechain must be a bool")

    @property
    def key(self) -> tuple[str, str, str] | None:
        """The dedup key ``(machine_id, session_id, uuid)``, or None without a uuid."""
        if self.uuid is None:
            return None
        return (self.machine_id, self.session_id, self.uuid)

    @property
    def total_tokens(self) -> int | None:
        """Sum of the token counts (reasoning included), or None when none is known."""
        values = [
            v
            for v in (
                self.tokens_input,
                self.tokens_output,
                self.tokens_cache_read,
                self.tokens_cache_write,
                self.tokens_reasoning,
            )
            if v is not None
        ]
        return sum(values) if values else None


_EVENT_ROW_ORDER = ("id", *(f.name for f in attrs.fields(Event) if f.name != "id"))
_new = object.__new__
_set = object.__setattr__


class _EventSlots:
    """The slots of an ``Event``, writable: a trusted row is written into them (plain
    attribute stores, the fastest way) and the object then becomes an ``Event``."""

    __slots__ = vars(Event)["__slots__"]


def _event_builder() -> Any:
    stores = ", ".join(f"e.{name}" for name in _EVENT_ROW_ORDER)
    source = (
        "def build(row):\n"
        "    e = _new(_EventSlots)\n"
        f"    {stores}, = row\n"
        "    e.__class__ = Event\n"
        "    return e\n"
    )
    namespace: dict[str, Any] = {"_new": _new, "_EventSlots": _EventSlots, "Event": Event}
    exec(source, namespace)
    return namespace["build"]


_build_event = _event_builder()
_ROW_LENGTH = len(_EVENT_ROW_ORDER)


event_row: Callable[[Event], tuple[Any, ...]] = attrgetter(*_EVENT_ROW_ORDER)
"""The row :func:`event_from_row` turns back into an equal Event (``(id, *EVENT_FIELDS)``)."""


def event_from_row(row: Any) -> Event:
    """An Event from a stored row ``(id, *EVENT_FIELDS)``, without validating again
    what was validated when it was stored (reads are hot: analytics load millions).

    ``timestamp`` must be an aware datetime and ``is_sidechain`` a bool.
    """
    if len(row) == _ROW_LENGTH:
        e: Event = _build_event(row)
    else:
        e = _new(Event)
        for name, value in zip(_EVENT_ROW_ORDER, row):
            _set(e, name, value)
    ts = e.timestamp
    if ts.tzinfo is not UTC:
        _set(e, "timestamp", _utc(ts, "timestamp"))
    return e


_TS_COLUMN = _EVENT_ROW_ORDER.index("timestamp")
_COLUMN_GETTERS = tuple(attrgetter(name) for name in _EVENT_ROW_ORDER)
_PER_EVENT_TEXT = frozenset({"uuid", "tool_use_id", "payload", "metadata"})
_SHARED_COLUMNS = frozenset(
    _EVENT_ROW_ORDER.index(name)
    for name in ("machine_id", "session_id", "event_type", *_EVENT_TEXT_FIELDS)
    if name not in _PER_EVENT_TEXT
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""The Unix epoch, UTC: stores keep times as integer microseconds since it."""
_US = timedelta(microseconds=1)


def event_columns(events: list[Event]) -> list[list[Any]]:
    """Events as columns of :func:`event_row` values, for sending to another process:
    the timestamp as integer microseconds since the epoch and each repeated name
    (session, path, model, ...) one shared string, so the pickle is about a fifth
    smaller and half as slow to write and read as a list of rows.
    :func:`events_from_columns` turns them back into equal Events."""
    seen: dict[Any, Any] = {}
    share = seen.setdefault
    columns: list[list[Any]] = []
    for i, get in enumerate(_COLUMN_GETTERS):
        column = list(map(get, events))
        if i in _SHARED_COLUMNS:
            column = list(map(share, column, column))
        elif i == _TS_COLUMN:
            column = list(map(floordiv, map(sub, column, repeat(EPOCH)), repeat(_US)))
        columns.append(column)
    return columns


def events_from_columns(columns: list[list[Any]]) -> list[Event]:
    """The Events :func:`event_columns` was given (trusted: not validated again)."""
    columns = list(columns)
    columns[_TS_COLUMN] = list(
        map(EPOCH.__add__, map(timedelta, repeat(0), repeat(0), columns[_TS_COLUMN]))
    )
    return list(map(_build_event, zip(*columns)))


@attrs.frozen(kw_only=True)
class GitBranchInfo:
    """What a branch name tells: the branch and the PR / issue numbers it names."""

    branch: str | None = None
    pr_number: int | None = None
    issue_number: int | None = None


@attrs.frozen(kw_only=True)
class GitContext:
    """Git facts about a session's working directory, for ``upsert_session_git_context``.

    ``None`` fields mean "not known now" and leave the stored value alone.
    """

    local_git_dir: str | None = None
    git_worktree_path: str | None = None
    github_repo: str | None = None
    git_branch: str | None = None
    github_pr: int | None = None
    github_issue: int | None = None


@attrs.frozen(kw_only=True)
class Session:
    """The summary of one ``(machine_id, session_id)``, kept up to date with its events.

    Every field is computed by the core aggregation rules (``netsky_core.fold_session``)
    from the session's events, except the git context fields set through the
    ``update_session_*`` / ``upsert_session_git_context`` methods. The ``*_at``
    fields record when the value next to them was observed; they make the summary
    independent of the order in which events arrive.
    """

    machine_id: str
    session_id: str
    framework: str | None = None
    first_activity: datetime | None = None
    last_activity: datetime | None = None
    first_started_at: datetime | None = None
    last_started_at: datetime | None = None
    first_ended_at: datetime | None = None
    last_ended_at: datetime | None = None
    revival_count: int = 0
    status: SessionStatus | None = None
    status_updated_at: datetime | None = None
    pid: int | None = None
    process_start_time: int | None = None
    pid_at: datetime | None = None
    cwd: str | None = None
    cwd_at: datetime | None = None
    local_git_dir: str | None = None
    git_branch: str | None = None
    git_branch_at: datetime | None = None
    git_worktree_path: str | None = None
    github_repo: str | None = None
    github_issue: int | None = None
    github_pr: int | None = None
    first_user_message: str | None = None
    first_user_message_at: datetime | None = None
    last_user_message: str | None = None
    last_user_message_at: datetime | None = None
    model: str | None = None
    model_at: datetime | None = None
    transcript_path: str | None = None
    transcript_path_at: datetime | None = None
    event_count: int = 0
    hook_event_count: int = 0
    transcript_event_count: int = 0
    otel_event_count: int = 0
    api_event_count: int = 0
    import_event_count: int = 0
    message_count: int = 0
    prompts_hook: int = 0
    prompts_transcript: int = 0
    prompts_other: int = 0
    compaction_count: int = 0
    compactions_hook: int = 0
    compactions_transcript: int = 0
    compactions_other: int = 0
    tool_call_count: int = 0
    api_request_count: int = 0
    api_error_count: int = 0
    usage_event_count: int = 0
    tokens_input: int | None = None
    tokens_output: int | None = None
    tokens_cache_read: int | None = None
    tokens_cache_write: int | None = None
    tokens_reasoning: int | None = None
    priced_event_count: int = 0
    unpriced_request_count: int = 0
    cost_picousd: int | None = None
    cost_usd: float | None = None

    def __attrs_post_init__(self) -> None:
        _check_text(self.machine_id, "machine_id", required=True)
        _check_text(self.session_id, "session_id", required=True)
        if self.status is not None and type(self.status) is not SessionStatus:
            try:
                object.__setattr__(self, "status", SessionStatus(self.status))
            except ValueError:
                raise RecordError(f"unknown session status {self.status!r}") from None
        for field in _SESSION_TIME_FIELDS:
            value = getattr(self, field)
            if value is not None and (type(value) is not datetime or value.tzinfo is not UTC):
                object.__setattr__(self, field, _utc(value, field))

    @property
    def key(self) -> tuple[str, str]:
        return (self.machine_id, self.session_id)

    @property
    def started_at(self) -> datetime | None:
        """When the session started: its first SessionStart, else its first event."""
        return self.first_started_at or self.first_activity

    @property
    def is_active(self) -> bool:
        """True while the live status says the agent has not ended the session."""
        return self.status is not None and self.status is not SessionStatus.DONE

    @property
    def total_tokens(self) -> int | None:
        if self.usage_event_count == 0:
            return None
        return (
            (self.tokens_input or 0)
            + (self.tokens_output or 0)
            + (self.tokens_cache_read or 0)
            + (self.tokens_cache_write or 0)
            + (self.tokens_reasoning or 0)
        )


_SESSION_TIME_FIELDS = tuple(
    f.name for f in attrs.fields(Session) if f.name.endswith(("_at", "_activity"))
)


@attrs.frozen(kw_only=True)
class FilePosition:
    """How far a source file (transcript, rollout, spool) has been read.

    ``size``, ``mtime_ns`` and ``inode`` identify the file version read, so that a
    truncated or replaced file is noticed. ``state`` is JSON text a scanner keeps
    between runs (e.g. cumulative token counters).
    """

    machine_id: str
    path: str
    offset: int = 0
    line_number: int = 0
    last_uuid: str | None = None
    size: int | None = None
    mtime_ns: int | None = None
    inode: int | None = None
    state: str | None = None
    updated_at: datetime | None = None

    def __attrs_post_init__(self) -> None:
        _check_text(self.machine_id, "machine_id", required=True)
        _check_text(self.path, "path", required=True)
        _check_count(self.offset, "offset")
        _check_count(self.line_number, "line_number")
        _check_text(self.last_uuid, "last_uuid")
        _check_count(self.size, "size")
        _check_int(self.mtime_ns, "mtime_ns")
        _check_int(self.inode, "inode")
        _check_text(self.state, "state")
        if self.updated_at is not None:
            object.__setattr__(self, "updated_at", _utc(self.updated_at, "updated_at"))


@attrs.frozen(kw_only=True)
class InsertResult:
    """Outcome of a batch insert.

    ``ids[i]`` is the id of the stored row that holds ``events[i]`` (the existing row
    for a duplicate; None for an event older than the store's gc horizon, which is
    not stored: ``expired``). ``superseded`` counts events that replaced a stored,
    lesser version of themselves (see ``netsky_core.version_rank``).
    """

    ids: tuple[int | None, ...] = ()
    inserted: int = 0
    duplicates: int = 0
    superseded: int = 0
    expired: int = 0
