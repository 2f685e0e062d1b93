"""``Store``: the Storage protocol, implemented once over any Engine.

Every method is here, for every backend: a backend provides an
:class:`~netsky_core.storage.engine.Engine` (a few primitives inside transactions)
and ``open_storage`` hands out ``Store(engine)``.

Retention: ``gc`` deletes the events older than its cutoff, takes them out of their
sessions' totals and usage buckets (so every report, ``stats`` and every view agree
afterwards), deletes the sessions whose last activity is older, and moves the store's
*gc horizon* to the cutoff. Nothing older than the horizon is stored again: a file
read again, moved, renamed, or a line appended again brings nothing deleted back
(``InsertResult.expired`` counts what was refused). File positions are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from functools import partial
from types import TracebackType
from typing import Any, TypeVar

from .._errors import ReadOnlyStorageError, RecordError, StorageError
from .._queries import EventQuery, Order, SessionQuery, StorageStatsQuery, UsageQuery
from .._records import (
    Capability,
    Event,
    FilePosition,
    GitBranchInfo,
    GitContext,
    InsertResult,
    Session,
)
from .._results import (
    EventsVersion,
    GcResult,
    MigrationResult,
    ProjectUsage,
    StorageInfo,
    StorageStats,
    UsageBucket,
)
from . import _write
from .engine import Engine, LockBusy, Reader, Restart, SessionKey, Writer
from .git import apply_git_context, apply_git_info, apply_github_repo, apply_transcript_path
from .versions import plan_batch

__all__ = ["Store", "cutoff_for", "stats_from_sums"]

T = TypeVar("T")
GC_BATCH = 2000
"""Events deleted per gc transaction (short, so a writer never waits long)."""
_RETRIES = 20
SYNC_MARKS = "sync_marks"
"""Meta name of the sync marks (a JSON object: target key -> mark text)."""
_SYNC_LOCK = "netsky.sync_marks"


def cutoff_for(retention: timedelta, now: datetime | None = None) -> datetime:
    """The gc cutoff: events strictly older than it expire."""
    if not isinstance(retention, timedelta):
        raise TypeError("retention must be a datetime.timedelta")
    if retention <= timedelta(0):
        from .._errors import DurationError

        raise DurationError(f"retention must be positive, got {retention}")
    from datetime import UTC

    return (now or datetime.now(UTC)) - retention


def stats_from_sums(sums: Any) -> StorageStats:
    """``StorageStats`` from an engine's ``SessionSums``."""
    from .fold import PICO

    total = (
        sums.tokens_input
        + sums.tokens_output
        + sums.tokens_cache_read
        + sums.tokens_cache_write
        + sums.tokens_reasoning
    )
    return StorageStats(
        session_count=sums.sessions,
        active_session_count=sums.active,
        tokens_input=sums.tokens_input,
        tokens_output=sums.tokens_output,
        tokens_cache_read=sums.tokens_cache_read,
        tokens_cache_write=sums.tokens_cache_write,
        tokens_reasoning=sums.tokens_reasoning,
        total_tokens=total,
        total_cost_usd=None if sums.cost_picousd is None else sums.cost_picousd / PICO,
        total_api_requests=sums.api_requests,
    )


class Store:
    """A Storage over an Engine; thread-safe when the engine is."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._closed = False

    def __repr__(self) -> str:
        mode = ", read_only=True" if self._engine.read_only else ""
        return f"Store({self._engine.name}, {self._engine.url!r}{mode})"

    # -- plumbing -----------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The backend under this store (for native fast paths such as analytics)."""
        return self._engine

    @property
    def schema_version(self) -> int:
        return self._engine.schema_version

    @property
    def capabilities(self) -> frozenset[Capability]:
        return self._engine.capabilities

    @property
    def read_only(self) -> bool:
        return self._engine.read_only

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"{type(self).__name__} ({self._engine.name}) is closed")

    def _check_writable(self) -> None:
        self._check_open()
        if self._engine.read_only:
            raise ReadOnlyStorageError(f"{self._engine.url} was opened read-only")

    def _read(self, work: Callable[[Reader], T]) -> T:
        self._check_open()
        return self._engine.read(work)

    def _write(self, work: Callable[[Writer, Sequence[SessionKey]], T]) -> T:
        """Run ``work`` in one transaction; on ``LockBusy``, again with those
        sessions locked up front."""
        self._check_writable()
        extra: set[SessionKey] = set()
        for _ in range(_RETRIES):
            locked = sorted(extra)
            try:
                return self._engine.write(partial(_with_locked, work, locked))
            except LockBusy as busy:
                extra.update(busy.sessions)
        return self._engine.write(lambda w: work(w, sorted(extra)))

    # -- events ---------------------------------------------------------------------

    def insert(self, event: Event) -> int | None:
        """Store one event; the id of the row holding it (None: older than the gc
        horizon, not stored)."""
        return self.insert_many([event]).ids[0]

    def insert_many(
        self,
        events: Iterable[Event],
        *,
        git: Iterable[tuple[str, str, GitContext, datetime]] = (),
        positions: Iterable[FilePosition] = (),
    ) -> InsertResult:
        """Store a batch in one transaction; ``git``: ``(machine_id, session_id,
        GitContext, at)`` facts observed with it, merged into those sessions in the
        same transaction (as ``upsert_session_git_context`` would); ``positions``:
        file positions saved in the same transaction (how far the files that gave
        these events were read), so events and positions are stored together or not
        at all."""
        plan = plan_batch(events)
        facts = list(git)
        for fact in facts:
            if type(fact[2]) is not GitContext:
                raise RecordError(f"expected a GitContext, got {type(fact[2]).__name__}")
        marks = [_stamped(p) for p in positions]
        if not plan.candidates and not facts:
            if marks:
                self._write(lambda w, extra: _put_positions(w, marks))
            else:
                self._check_writable()
            return InsertResult()
        try:
            return self._write(lambda w, extra: _insert(w, plan, extra, facts, marks))
        except Restart:  # the optimistic path could not: the careful one
            return self._write(lambda w, extra: _insert(w, plan, extra, facts, marks, fast=False))

    def bulk_load(self) -> AbstractContextManager[None]:
        """A context for a big load (``netsky ingest``): the backend may trade
        durability points it does not need for speed on this connection only (SQLite
        checkpoints its WAL every 64 MiB instead of every 1,000 pages). Other
        connections are unaffected."""
        self._check_open()
        native = getattr(self._engine, "bulk_load", None)
        return native() if native is not None else nullcontext()

    def query(self, query: EventQuery) -> list[Event]:
        if query.limit == 0:
            self._check_open()
            return []
        return self._read(lambda r: r.events(query))

    def count(self, query: EventQuery | None = None) -> int:
        q = query or EventQuery()
        return self._read(lambda r: r.count_events(q))

    def event_exists_by_uuid(self, machine_id: str, session_id: str, uuid: str) -> bool:
        key = (machine_id, session_id, uuid)
        return bool(self._read(lambda r: r.events_by_key([key])))

    def gc(
        self, retention: timedelta, *, dry_run: bool = False, now: datetime | None = None
    ) -> GcResult:
        cutoff = cutoff_for(retention, now)
        expired_events, expired_sessions = self._read(
            lambda r: (
                r.count_events(EventQuery().with_until(cutoff)),
                r.count_sessions(SessionQuery().with_active_before(cutoff)),
            )
        )
        if dry_run:
            return GcResult(
                cutoff=cutoff,
                expired_events=expired_events,
                expired_sessions=expired_sessions,
                dry_run=True,
            )
        self._write(lambda w, extra: self._move_horizon(w, cutoff))
        deleted_events = deleted_sessions = 0
        while True:
            n, _ = self._write(lambda w, extra: _write.gc_step(w, cutoff, GC_BATCH, extra))
            deleted_events += n
            if n < GC_BATCH:
                break
        while True:
            n = self._write(lambda w, extra: _write.delete_sessions_step(w, cutoff, GC_BATCH))
            deleted_sessions += n
            if n < GC_BATCH:
                break
        from .usage import USAGE_WINDOW_US

        ends = cutoff - timedelta(microseconds=USAGE_WINDOW_US - 1)
        self._write(lambda w, extra: w.delete_usage(ends))
        if Capability.PROJECT_USAGE in self._engine.capabilities:
            self._write(lambda w, extra: w.delete_project_usage(ends))  # type: ignore[attr-defined]
        return GcResult(
            cutoff=cutoff,
            expired_events=max(expired_events, deleted_events),
            expired_sessions=max(expired_sessions, deleted_sessions),
            deleted_events=deleted_events,
            deleted_sessions=deleted_sessions,
        )

    @staticmethod
    def _move_horizon(w: Writer, cutoff: datetime) -> None:
        current = _write.read_horizon(w, exclusive=True)
        if current is None or cutoff > current:
            w.set_meta(_write.HORIZON, cutoff.isoformat())

    def horizon(self) -> datetime | None:
        """The gc horizon: events older than it were deleted and are not stored again."""
        from datetime import datetime as _dt

        value = self._read(lambda r: r.meta(_write.HORIZON))
        return None if value is None else _dt.fromisoformat(value)

    def events_version(self, upto: int | None = None) -> EventsVersion:
        """Where the events stand, on one snapshot: a copy of them that knows the
        version it was made from can tell inserts (rows above its ``max_id``) from
        rewrites and deletes (``rewritten`` changed). ``upto``: also count the rows with
        ``id <= upto`` (a server store can commit a smaller id after a larger one)."""

        def row(event: Event | None) -> tuple[str, ...] | None:
            if event is None:
                return None
            return (
                event.machine_id,
                event.session_id,
                event.uuid or "",
                event.timestamp.isoformat(),
            )

        def work(r: Reader) -> EventsVersion:
            ids = EventQuery().order_by_id().with_limit(1)
            rows = r.count_events(EventQuery())
            last = r.events(ids.with_direction(Order.DESC)) if rows else []
            first = r.events(ids.with_direction(Order.ASC)) if rows else []
            upto_rows = None
            if upto is not None:
                upto_rows = rows - r.count_events(EventQuery().with_after_id(upto))
            return EventsVersion(
                rewritten=r.meta(_write.EVENTS_REWRITTEN),
                rows=rows,
                max_id=last[0].id if last else None,
                upto=upto,
                rows_upto=upto_rows,
                first=row(first[0] if first else None),
                last=row(last[0] if last else None),
            )

        return self._read(work)

    def count_expired(self, retention: timedelta, *, now: datetime | None = None) -> int:
        cutoff = cutoff_for(retention, now)
        return self._read(lambda r: r.count_events(EventQuery().with_until(cutoff)))

    # -- sessions -----------------------------------------------------------------

    def list_sessions(self, query: SessionQuery) -> list[Session]:
        if query.limit == 0:
            self._check_open()
            return []
        return self._read(lambda r: r.sessions(query))

    def _most_recent(self, query: SessionQuery) -> Session | None:
        """The most recently active session ``query`` selects; ties (and no activity)
        by the smallest ``(machine_id, session_id)``."""
        best: Session | None = None
        for s in sorted(self._read(lambda r: r.sessions(query)), key=lambda s: s.key):
            if best is None or (
                s.last_activity is not None
                and (best.last_activity is None or s.last_activity > best.last_activity)
            ):
                best = s
        return best

    def get_session(self, session_id: str) -> Session | None:
        """The session with this id; across machines, the most recently active."""
        return self._most_recent(SessionQuery().with_session_id(session_id))

    def get_session_by_key(self, machine_id: str, session_id: str) -> Session | None:
        return self._read(lambda r: r.sessions_by_key([(machine_id, session_id)])).get(
            (machine_id, session_id)
        )

    def get_session_by_pid(self, pid: int) -> Session | None:
        return self._most_recent(SessionQuery().with_pid(pid))

    def _update(
        self, machine_id: str, session_id: str, change: Callable[[Session | None], Any]
    ) -> Any:
        key = (machine_id, session_id)
        return self._write(lambda w, extra: _write.update_session(w, key, change))

    def update_session_git_info(
        self,
        machine_id: str,
        session_id: str,
        info: GitBranchInfo,
        *,
        at: datetime | None = None,
    ) -> bool:
        when = at or _now()
        new = self._update(
            machine_id, session_id, lambda s: None if s is None else apply_git_info(s, info, when)
        )
        return new is not None

    def update_session_github_repo(self, machine_id: str, session_id: str, repo: str) -> bool:
        new = self._update(
            machine_id, session_id, lambda s: None if s is None else apply_github_repo(s, repo)
        )
        return new is not None

    def upsert_session_git_context(
        self,
        machine_id: str,
        session_id: str,
        context: GitContext,
        *,
        at: datetime | None = None,
    ) -> Session:
        when = at or _now()
        new = self._update(
            machine_id,
            session_id,
            lambda s: apply_git_context(s, machine_id, session_id, context, when),
        )
        assert new is not None
        return new

    def update_session_transcript_path(
        self, machine_id: str, session_id: str, path: str, *, at: datetime | None = None
    ) -> bool:
        when = at or _now()
        new = self._update(
            machine_id,
            session_id,
            lambda s: None if s is None else apply_transcript_path(s, path, when),
        )
        return new is not None

    def restore_sessions(self, sessions: Iterable[Session]) -> int:
        """Join session summaries (from a copy or an import) into the stored ones.

        The "when / latest" facts are joined (never rolled back), the git context
        given replaces the stored one; totals stay those of the stored events. A
        session not stored yet is written as given."""
        items = list(sessions)
        for s in items:
            if type(s) is not Session:
                raise RecordError(f"expected a Session, got {type(s).__name__}")
        if not items:
            self._check_writable()
            return 0
        return self._write(lambda w, extra: _write.restore(w, items, extra))

    def storage_stats(self, query: StorageStatsQuery) -> StorageStats:
        return stats_from_sums(self._read(lambda r: r.session_sums(query)))

    def recost(
        self,
        cost_of: Callable[[Event], float | None],
        *,
        since: datetime | None = None,
        batch_size: int = GC_BATCH,
    ) -> list[tuple[Event, Event]]:
        """Give every stored API response (from ``since``) the cost ``cost_of`` says,
        in transactions of ``batch_size`` responses; the sessions' totals and the usage
        buckets follow in the same transactions. Returns the ``(old, new)`` rows
        rewritten (none the second time: it is idempotent)."""
        self._check_writable()
        changed: list[tuple[Event, Event]] = []
        after = 0
        while True:

            def step(
                w: Writer, extra: Sequence[SessionKey], start: int = after
            ) -> tuple[int, int, list[tuple[Event, Event]]]:
                return _write.recost_step(w, cost_of, start, since, batch_size, extra)

            n, after, pairs = self._write(step)
            changed += pairs
            if n < batch_size:
                return changed

    # -- usage ----------------------------------------------------------------------

    def usage(self, query: UsageQuery) -> list[UsageBucket]:
        return self._read(lambda r: r.usage(query))

    def project_usage(self, since: datetime | None = None) -> list[ProjectUsage]:
        if Capability.PROJECT_USAGE not in self._engine.capabilities:
            raise StorageError(
                f"the {self._engine.name} backend keeps no usage per project and branch",
                hint=(
                    "per-project and per-branch budgets need a store that does, "
                    "such as sqlite or postgres"
                ),
            )
        return self._read(lambda r: r.project_usage(since))  # type: ignore[attr-defined]

    # -- transcript positions -------------------------------------------------------

    def get_transcript_position(self, machine_id: str, path: str) -> FilePosition | None:
        found = self._read(lambda r: r.positions(machine_id, path))
        return found[0] if found else None

    def set_transcript_position(self, position: FilePosition) -> None:
        stamped = _stamped(position)
        self._write(lambda w, extra: w.put_position(stamped))

    def query_transcript_positions(self, machine_id: str | None = None) -> list[FilePosition]:
        return self._read(lambda r: r.positions(machine_id))

    # -- sync marks -----------------------------------------------------------------

    def sync_marks(self) -> dict[str, str]:
        """The sync marks kept in this store, by target key (see ``set_sync_mark``)."""
        raw = self._read(lambda r: r.meta(SYNC_MARKS))
        return _marks(raw)

    def set_sync_mark(self, target: str, mark: str | None) -> None:
        """Keep ``mark`` (text, None removes it) for the sync target ``target``, in the
        same store as the events it describes; several writers are serialized."""
        if not isinstance(target, str) or not target:
            raise RecordError("a sync target key must be a non-empty string")
        if mark is not None and not isinstance(mark, str):
            raise RecordError(f"a sync mark must be text, got {type(mark).__name__}")

        def work(w: Writer, extra: Sequence[SessionKey]) -> None:
            w.lock_names([_SYNC_LOCK])
            marks = _marks(w.meta(SYNC_MARKS))
            if mark is None:
                marks.pop(target, None)
            else:
                marks[target] = mark
            import orjson

            w.set_meta(SYNC_MARKS, orjson.dumps(marks, option=orjson.OPT_SORT_KEYS).decode())

        self._write(work)

    # -- lifecycle ------------------------------------------------------------------

    def info(self) -> StorageInfo:
        tables, (oldest, newest) = self._read(lambda r: (r.table_counts(), r.event_time_range()))
        described = self._engine.describe()
        return StorageInfo(
            backend=self._engine.name,
            url=self._engine.url,
            schema_version=self._engine.schema_version,
            latest_schema_version=self._engine.latest_schema_version,
            tables=tables,
            size_bytes=described.size_bytes,
            oldest_event=oldest,
            newest_event=newest,
            details=described.details,
        )

    def migrate(self) -> MigrationResult:
        self._check_open()
        return self._engine.migrate()

    def vacuum(self) -> None:
        self._check_writable()
        self._engine.vacuum()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._engine.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _marks(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    import orjson

    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise StorageError("the stored sync marks are not valid JSON") from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise StorageError("the stored sync marks are not a JSON object of text")
    return dict(value)


def _now() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)


def _stamped(position: FilePosition) -> FilePosition:
    """``position`` checked, with its ``updated_at`` (now, when missing)."""
    if type(position) is not FilePosition:
        raise RecordError(f"expected a FilePosition, got {type(position).__name__}")
    if position.updated_at is None:
        import attrs

        position = attrs.evolve(position, updated_at=_now())
    return position


def _put_positions(w: Writer, positions: Sequence[FilePosition]) -> None:
    for position in positions:
        w.put_position(position)


def _insert(
    w: Writer,
    plan: Any,
    extra: Sequence[SessionKey],
    facts: Sequence[Any],
    positions: Sequence[FilePosition],
    *,
    fast: bool = True,
) -> InsertResult:
    """``insert_batch``, then the file positions, in the same transaction."""
    result = _write.insert_batch(w, plan, extra, facts, fast=fast)
    _put_positions(w, positions)
    return result


def _with_locked(
    work: Callable[[Writer, Sequence[SessionKey]], T], locked: Sequence[SessionKey], w: Writer
) -> T:
    return work(w, locked)
