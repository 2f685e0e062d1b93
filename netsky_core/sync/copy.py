"""``copy_store``: every event, session and file position of one store into another, verified."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import attrs

from .._errors import RecordError
from .._queries import SessionQuery
from .._records import FilePosition, Session
from .._urls import mask_url
from ..storage.protocol import Storage, iter_events
from ._writer import (
    _MAX_PROBLEMS,
    DEFAULT_BATCH_SIZE,
    CopyResult,
    Progress,
    SameStoreError,
    _newer_position,
    _sessions_of,
    _Writer,
)

# -- copy ------------------------------------------------------------------------------


def _location(store: Storage) -> tuple[Any, ...] | None:
    """Where a store keeps its data, when its ``info()`` tells (else None)."""
    info = store.info()
    path = info.details.get("path")
    if isinstance(path, str) and path:
        return ("file", os.path.realpath(path))
    database = info.details.get("database")
    if database:
        try:
            parts = urlsplit(info.url)
            host, port = (parts.hostname or "").lower(), parts.port
        except ValueError:
            return None
        return (info.backend, host, port, database, info.details.get("schema"))
    return None


def check_distinct(src: Storage, dst: Storage) -> None:
    """Raise ``SameStoreError`` when ``src`` and ``dst`` are the same store."""
    if src is dst:
        raise SameStoreError("source and destination are the same store")
    a, b = _location(src), _location(dst)
    if a is not None and a == b:
        raise SameStoreError(
            "source and destination are the same store",
            hint="name two different stores: copying a store onto itself changes nothing",
        )


def copy_store(
    src: Storage,
    dst: Storage,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    source_url: str | None = None,
    destination_url: str | None = None,
    on_start: Callable[[int], None] | None = None,
) -> CopyResult:
    """Copy every event, session and file position of ``src`` into ``dst``, then verify.

    Idempotent: a second run inserts no event. ``on_start(n)`` is called first with
    the number of events in ``src``, ``progress(n)`` after each batch with the number
    of events it held. Verification: ``dst`` holds at least as many events as were
    read and not expired (older than its gc horizon), every session of ``src`` is in
    ``dst`` with every fact the source's summary holds, and every position is stored
    as in ``src`` (or a newer one); what fails is listed in ``problems`` (the copy
    itself is not undone).
    """
    check_distinct(src, dst)
    if batch_size < 1:
        raise RecordError(f"batch size must be at least 1, got {batch_size}")
    source_events = src.count()
    if on_start is not None:
        on_start(source_events)
    writer = _Writer(dst)
    for batch in iter_events(src, batch_size=batch_size):
        writer.insert(batch)
        if progress is not None:
            progress(len(batch))
    sessions = src.list_sessions(SessionQuery())
    positions = src.query_transcript_positions()
    restored, kept, pos_written, pos_kept = writer.restore(sessions, positions)
    destination_events = dst.count()
    expected = writer.counts.read - writer.counts.expired
    problems = _verify(dst, expected, destination_events, sessions, positions)
    return CopyResult(
        source=mask_url(source_url if source_url is not None else src.info().url),
        destination=mask_url(destination_url if destination_url is not None else dst.info().url),
        events=writer.counts,
        sessions_restored=len(restored),
        sessions_kept=kept,
        positions_restored=pos_written,
        positions_kept=pos_kept,
        source_events=source_events,
        destination_events=destination_events,
        problems=tuple(problems),
    )


def _verify(
    dst: Storage,
    events_read: int,
    destination_events: int,
    sessions: list[Session],
    positions: list[FilePosition],
) -> list[str]:
    from ..storage.fold import merge_sessions

    problems: list[str] = []
    if destination_events < events_read:
        problems.append(
            f"destination holds {destination_events} events, fewer than the {events_read} "
            "copied and not expired"
        )
    stored = _sessions_of(dst, sessions)
    for s in sessions:
        got = stored.get(s.key)
        if got is None:
            problems.append(f"session {s.machine_id}/{s.session_id} is missing")
            continue
        joined = merge_sessions(got, s)
        if joined != got:
            diff = [
                f.name
                for f in attrs.fields(Session)
                if getattr(got, f.name) != getattr(joined, f.name)
            ]
            problems.append(
                f"session {s.machine_id}/{s.session_id} lacks the source's {', '.join(diff)}"
            )
    stored_pos = {(p.machine_id, p.path): p for p in dst.query_transcript_positions()}
    for p in positions:
        got_pos = stored_pos.get((p.machine_id, p.path))
        if got_pos is None:
            problems.append(f"file position {p.machine_id}:{p.path} is missing")
        elif got_pos != p and not _newer_position(got_pos, p):
            problems.append(f"file position {p.machine_id}:{p.path} differs")
    if len(problems) > _MAX_PROBLEMS:
        more = len(problems) - _MAX_PROBLEMS
        problems = [*problems[:_MAX_PROBLEMS], f"... and {more} more"]
    return problems
