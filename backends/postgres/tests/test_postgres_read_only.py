"""Read-only stores: every write refused (by netsky and by the server), reads work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from netsky_core import (
    Capability,
    Event,
    EventQuery,
    FilePosition,
    GitBranchInfo,
    GitContext,
    ReadOnlyStorageError,
    SessionQuery,
    StorageStatsQuery,
    open_storage,
)

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _event(i: int) -> Event:
    return Event(
        machine_id="m", session_id="s", event_type="PreToolUse", timestamp=T0, uuid=f"u{i}"
    )


def test_read_only_store(postgres_url: Callable[..., str]) -> None:
    url = postgres_url()
    with open_storage(url) as writer:
        writer.insert_many([_event(1), _event(2)])
        writer.set_transcript_position(FilePosition(machine_id="m", path="/p", offset=3))
        session = writer.get_session_by_key("m", "s")
    assert session is not None

    with open_storage(url, read_only=True) as ro:
        assert Capability.READ_ONLY in ro.capabilities
        assert "read_only=True" in repr(ro)
        assert ro.count() == 2
        assert len(ro.query(EventQuery())) == 2
        assert ro.list_sessions(SessionQuery()) == [session]
        assert ro.storage_stats(StorageStatsQuery()).session_count == 1
        assert ro.get_transcript_position("m", "/p") is not None
        assert ro.count_expired(timedelta(days=1), now=T0 + timedelta(days=9)) == 2
        assert ro.gc(timedelta(days=1), dry_run=True, now=T0 + timedelta(days=9)).expired_events
        assert ro.info().tables["events"] == 2
        assert not ro.migrate().changed

        writes: list[Callable[[], object]] = [
            lambda: ro.insert(_event(3)),
            lambda: ro.insert_many([_event(4), _event(5)]),
            lambda: ro.insert_many([]),
            lambda: ro.gc(timedelta(days=1)),
            lambda: ro.set_transcript_position(FilePosition(machine_id="m", path="/q")),
            lambda: ro.update_session_git_info("m", "s", GitBranchInfo(branch="b")),
            lambda: ro.update_session_github_repo("m", "s", "o/r"),
            lambda: ro.upsert_session_git_context("m", "s2", GitContext(github_repo="o/r")),
            lambda: ro.update_session_transcript_path("m", "s", "/t"),
            lambda: ro.restore_sessions([attrs.evolve(session, session_id="copy")]),
            lambda: ro.vacuum(),
        ]
        for write in writes:
            with pytest.raises(ReadOnlyStorageError):
                write()
        assert ro.count() == 2
        assert ro.get_session_by_key("m", "s2") is None


def test_the_server_enforces_read_only_too(postgres_url: Callable[..., str]) -> None:
    """Below netsky's own check, the pooled connections are read-only sessions."""
    url = postgres_url()
    open_storage(url).close()
    with open_storage(url, read_only=True) as ro:
        ro._read_only = False  # bypass the Python-side guard
        with pytest.raises(ReadOnlyStorageError, match="read-only"):
            ro.insert(_event(9))
        assert ro.count() == 0
