"""Reading precomputed usage fast: the ``LiveReader`` seam.

A backend may ship a reader of its own (entry point group ``netsky.live``, named
after the URL scheme, pointing at a function ``open_live(url) -> reader | None``)
that reads its usage buckets and session rows with nothing but its driver; it
returns None when it cannot answer (the store is missing, or has another schema
version). Such a reader has ``windows(since_us, framework=None)`` returning
``(start_us, requests, priced_requests, tokens, cost_picousd)`` tuples per 15-minute
window (every machine and model summed, ordered by start), ``project_totals(starts)``
returning per project and branch ``(project, branch, *sums)`` with ``(requests,
priced_requests, tokens, cost_picousd)`` since each start, ``session(machine_id,
session_id)`` returning a dict of :data:`SESSION_FIELDS` or None, and ``close()``;
optionally ``buckets(since_us, until_us, framework=None)`` returning the usage buckets
as :data:`BUCKET_FIELDS` tuples (the daily, weekly, monthly and model reports read
them). Every other store is read through ``open_storage`` (:class:`StoreReader`):
the same answers, with the full import cost.
"""

from __future__ import annotations

from collections import namedtuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any, Protocol

    class LiveReader(Protocol):
        def windows(self, since_us: int, framework: str | None = None) -> list[Window]:
            """Usage summed per 15-minute window starting at or after ``since_us``
            (all machines and models; one framework when given), by start."""
            ...

        def project_totals(self, starts: list[int]) -> list[tuple[Any, ...]]:
            """Per project and branch of the project usage rows (None or '' for
            none), ``(project, branch, *sums)`` where ``sums`` holds ``(requests,
            priced_requests, tokens, cost_picousd)`` since each of ``starts``."""
            ...

        def session(self, machine_id: str, session_id: str) -> SessionUsage | None: ...

        def buckets(
            self, since_us: int | None, until_us: int | None, framework: str | None = None
        ) -> list[Bucket] | None:
            """The usage buckets starting in ``[since_us, until_us)`` (None: open), in
            ``UsageQuery`` order; None when this reader cannot list them."""
            ...

        def close(self) -> None: ...


__all__ = [
    "BUCKET_FIELDS",
    "GROUP",
    "SESSION_FIELDS",
    "BackendReader",
    "Bucket",
    "SessionUsage",
    "StoreReader",
    "Window",
    "backend_reader",
    "open_reader",
]

GROUP = "netsky.live"


class Window:
    """One 15-minute window of usage: its start (UTC microseconds), responses,
    priced responses, all tokens, cost in picodollars."""

    __slots__ = ("cost_picousd", "priced", "requests", "start_us", "tokens")

    def __init__(self, start_us: int, requests: int, priced: int, tokens: int, cost_picousd: int):
        self.start_us = start_us
        self.requests = requests
        self.priced = priced
        self.tokens = tokens
        self.cost_picousd = cost_picousd

    def __repr__(self) -> str:
        return (
            f"Window({self.start_us}, {self.requests}, {self.priced}, {self.tokens}, "
            f"{self.cost_picousd})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Window) and all(
            getattr(self, k) == getattr(other, k) for k in self.__slots__
        )


_TIME: tuple[Any, Any] | None = None  # (the epoch, timedelta): datetime imported on first use


_BucketFields = namedtuple(
    "_BucketFields",
    "start_us model requests unpriced_requests priced_requests tokens_input tokens_output "
    "tokens_cache_read tokens_cache_write tokens_reasoning cost_picousd",
)
BUCKET_FIELDS: tuple[str, ...] = _BucketFields._fields


class Bucket(_BucketFields):
    """One usage bucket as a report sums it: the ``UsageBucket`` fields but machine and
    framework, ``start_us`` (UTC microseconds) for ``start``."""

    __slots__ = ()

    @property
    def start(self) -> datetime:
        """The bucket's start as an aware UTC datetime (exact)."""
        global _TIME
        if _TIME is None:
            from datetime import UTC, datetime, timedelta

            _TIME = (datetime(1970, 1, 1, tzinfo=UTC), timedelta)
        epoch, delta = _TIME
        return epoch + delta(microseconds=self.start_us)


SESSION_FIELDS = (
    "framework",
    "model",
    "cwd",
    "git_branch",
    "status",
    "pid",
    "process_start_time",
    "last_activity_us",
    "usage_event_count",
    "tokens",
    "priced_event_count",
    "cost_picousd",
)


class SessionUsage:
    """What a session row says about its usage (``tokens``: all token kinds summed,
    None when no response reported usage; ``cost_picousd`` None when none was priced)."""

    __slots__ = SESSION_FIELDS

    framework: str | None
    model: str | None
    cwd: str | None
    git_branch: str | None
    status: str | None
    pid: int | None
    process_start_time: int | None
    last_activity_us: int | None
    usage_event_count: int
    tokens: int | None
    priced_event_count: int
    cost_picousd: int | None

    def __init__(self, **values: Any) -> None:
        for name in SESSION_FIELDS:
            setattr(self, name, values.get(name))
        self.usage_event_count = self.usage_event_count or 0
        self.priced_event_count = self.priced_event_count or 0

    @property
    def cost_usd(self) -> float | None:
        return None if self.cost_picousd is None else self.cost_picousd / 10**12

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SESSION_FIELDS}


def backend_reader(url: str) -> BackendReader | None:
    """The reader the backend of ``url`` ships, when it has one that can answer."""
    from .._urls import scheme_of
    from ..plugins._entrypoints import scan_entry_points

    scheme = scheme_of(url)
    for ref in scan_entry_points(GROUP, scheme):
        import importlib

        module = importlib.import_module(ref.module)
        reader = getattr(module, ref.attr or "open_live")(url)
        return None if reader is None else BackendReader(reader)
    return None


def open_reader(url: str) -> Any:
    """A reader of the store at ``url``: the backend's own when it ships one that
    can answer, else a :class:`StoreReader`."""
    return backend_reader(url) or StoreReader(url)


class BackendReader:
    """A backend's own reader, its plain rows as :class:`Window` and :class:`SessionUsage`."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def windows(self, since_us: int, framework: str | None = None) -> list[Window]:
        return [Window(*row) for row in self._inner.windows(since_us, framework)]

    def project_totals(self, starts: list[int]) -> list[tuple[Any, ...]]:
        return list(self._inner.project_totals(starts))

    def session(self, machine_id: str, session_id: str) -> SessionUsage | None:
        found = self._inner.session(machine_id, session_id)
        return None if found is None else SessionUsage(**found)

    def buckets(
        self, since_us: int | None, until_us: int | None, framework: str | None = None
    ) -> list[Bucket] | None:
        read = getattr(self._inner, "buckets", None)  # optional: older readers lack it
        if read is None:
            return None
        return list(map(Bucket._make, read(since_us, until_us, framework)))

    def close(self) -> None:
        self._inner.close()


class StoreReader:
    """A reader over ``open_storage`` (any backend)."""

    def __init__(self, url: str | None = None, *, store: Any = None) -> None:
        """Open ``url``, or read ``store`` (already open; ``close`` leaves it open)."""
        self._owned = store is None
        if store is None:  # read-only: a store that does not exist is reported, not made
            from .._open import open_for_reading

            store = open_for_reading(url)
        self._store: Any = store

    def windows(self, since_us: int, framework: str | None = None) -> list[Window]:
        from .._queries import UsageQuery
        from ..backend import from_us, to_us

        query = UsageQuery().with_time_range(from_us(since_us), None).with_framework(framework)
        out: dict[int, Window] = {}
        for b in self._store.usage(query):
            start = to_us(b.start)
            w = out.get(start)
            if w is None:
                w = out[start] = Window(start, 0, 0, 0, 0)
            w.requests += b.requests
            w.priced += b.priced_requests
            w.tokens += (
                b.tokens_input
                + b.tokens_output
                + b.tokens_cache_read
                + b.tokens_cache_write
                + b.tokens_reasoning
            )
            w.cost_picousd += b.cost_picousd
        return [out[k] for k in sorted(out)]

    def project_totals(self, starts: list[int]) -> list[tuple[Any, ...]]:
        from ..backend import from_us, to_us

        out: dict[tuple[Any, Any], list[int]] = {}
        for r in self._store.project_usage(from_us(min(starts))):
            sums = out.setdefault((r.project, r.branch), [0] * (4 * len(starts)))
            start = to_us(r.start)
            for i, since in enumerate(starts):
                if start >= since:
                    sums[4 * i] += r.requests
                    sums[4 * i + 1] += r.priced_requests
                    sums[4 * i + 2] += r.tokens
                    sums[4 * i + 3] += r.cost_picousd
        return [(p, b, *sums) for (p, b), sums in out.items()]

    def buckets(
        self, since_us: int | None, until_us: int | None, framework: str | None = None
    ) -> list[Bucket]:
        from .._queries import UsageQuery
        from ..backend import from_us, to_us

        query = (
            UsageQuery()
            .with_time_range(
                None if since_us is None else from_us(since_us),
                None if until_us is None else from_us(until_us),
            )
            .with_framework(framework)
        )
        return [
            Bucket._make((to_us(b.start), *[getattr(b, k) for k in BUCKET_FIELDS[1:]]))
            for b in self._store.usage(query)
        ]

    def session(self, machine_id: str, session_id: str) -> SessionUsage | None:
        from ..backend import to_us

        s = self._store.get_session_by_key(machine_id, session_id)
        if s is None:
            return None
        return SessionUsage(
            framework=s.framework,
            model=s.model,
            cwd=s.cwd,
            git_branch=s.git_branch,
            status=None if s.status is None else s.status.value,
            pid=s.pid,
            process_start_time=s.process_start_time,
            last_activity_us=None if s.last_activity is None else to_us(s.last_activity),
            usage_event_count=s.usage_event_count,
            tokens=s.total_tokens,
            priced_event_count=s.priced_event_count,
            cost_picousd=s.cost_picousd,
        )

    def close(self) -> None:
        if self._owned:
            self._store.close()
