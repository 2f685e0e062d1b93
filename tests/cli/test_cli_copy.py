"""``netsky copy SRC DST``: SQLite to PostgreSQL and back, idempotent, verified."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from netsky_core import EventQuery, FilePosition, SessionQuery, open_storage

from .conftest import (
    S1,
    SEED_EVENTS,
    SEED_SESSIONS,
    Netsky,
    assert_one_line_error,
    at,
    make_event,
    seed,
)


def _password(url: str) -> str:
    return url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]


def _snapshot(url: str) -> tuple[list, list, list]:
    with open_storage(url) as store:
        events = store.query(EventQuery().order_by_id())
        return (
            [
                (e.machine_id, e.session_id, e.uuid, e.timestamp, e.payload, e.cost_usd)
                for e in events
            ],
            sorted(store.list_sessions(SessionQuery()), key=lambda s: s.key),
            store.query_transcript_positions(),
        )


@pytest.mark.postgres
def test_sqlite_to_postgres_and_back(
    netsky: Netsky, seeded_sqlite: str, postgres_url: Callable[..., str], tmp_path: Path
) -> None:
    pg = postgres_url()
    assert seeded_sqlite == f"sqlite:///{netsky.root / 'store.db'}"
    relative = "sqlite:///store.db"  # netsky runs in the test's folder
    first = netsky.ok("copy", relative, pg, "--json")
    assert _password(pg) not in first.output
    data = first.json()
    assert data["verified"] is True and data["problems"] == []
    assert data["events"] == {
        "read": SEED_EVENTS,
        "inserted": SEED_EVENTS,
        "duplicates": 0,
        "superseded": 0,
        "expired": 0,
    }
    assert data["sessions_restored"] == SEED_SESSIONS
    assert data["positions_restored"] == 2
    assert data["source_events"] == data["destination_events"] == SEED_EVENTS
    assert "***" in data["destination"]

    src_stats = netsky.ok("--db", relative, "stats", "--json").json()
    dst_stats = netsky.ok("--db", pg, "stats", "--json").json()
    assert src_stats == dst_stats
    assert _snapshot(seeded_sqlite) == _snapshot(pg)

    second = netsky.ok("copy", relative, pg, "--json").json()
    assert second["events"]["inserted"] == 0
    assert second["events"]["duplicates"] == SEED_EVENTS
    assert second["verified"] is True
    assert netsky.ok("--db", pg, "stats", "--json").json() == src_stats

    text = netsky.ok("copy", seeded_sqlite, pg)
    assert "0 new" in text.stdout and "verification    ok" in text.stdout
    assert _password(pg) not in text.output

    back = f"sqlite:///{tmp_path / 'back.db'}"
    netsky.ok("copy", pg, back)
    assert _snapshot(back) == _snapshot(seeded_sqlite)
    assert netsky.ok("--db", back, "stats", "--json").json() == src_stats


def test_copy_between_sqlite_files_adds_only_what_is_new(
    netsky: Netsky, seeded_sqlite: str, tmp_path: Path
) -> None:
    dst = f"sqlite:///{tmp_path / 'copy.db'}"
    assert (
        netsky.ok("copy", seeded_sqlite, dst, "--batch", "4", "--json").json()["events"]["inserted"]
        == SEED_EVENTS
    )
    with open_storage(seeded_sqlite) as store:
        store.insert(make_event("Stop", 9000, S1, "late-stop", framework="claude"))
        store.set_transcript_position(
            FilePosition(machine_id="laptop", path="/t/one.jsonl", offset=999, updated_at=at(20))
        )
    data = netsky.ok("copy", seeded_sqlite, dst, "--batch", "4", "--json").json()
    assert data["events"]["inserted"] == 1
    assert data["events"]["duplicates"] == SEED_EVENTS
    assert data["verified"] is True
    assert _snapshot(dst) == _snapshot(seeded_sqlite)


def test_copy_does_not_roll_back_a_destination_that_is_further_along(
    netsky: Netsky, seeded_sqlite: str, tmp_path: Path
) -> None:
    dst = f"sqlite:///{tmp_path / 'ahead.db'}"
    netsky.ok("copy", seeded_sqlite, dst)
    with open_storage(dst) as store:
        store.insert(make_event("Stop", 9000, S1, "dst-only", framework="claude"))
        ahead = store.get_session_by_key("laptop", S1)
    data = netsky.ok("copy", seeded_sqlite, dst, "--json").json()
    assert data["sessions_kept"] == 1
    assert data["verified"] is True
    with open_storage(dst) as store:
        assert store.get_session_by_key("laptop", S1) == ahead


def test_copying_a_store_onto_itself_is_refused(netsky: Netsky, seeded_sqlite: str) -> None:
    path = seeded_sqlite.removeprefix("sqlite:///")
    for dst in (seeded_sqlite, "sqlite:///" + path.replace("/store.db", "/./store.db")):
        assert_one_line_error(netsky("copy", seeded_sqlite, dst), 2, "same store")


@pytest.mark.postgres
def test_copying_a_postgres_schema_onto_itself_is_refused(
    netsky: Netsky, postgres_url: Callable[..., str]
) -> None:
    pg = postgres_url()
    seed(pg)
    result = netsky("copy", pg, pg)
    assert_one_line_error(result, 2, "same store")
    assert _password(pg) not in result.output


def test_a_missing_source_is_an_error_and_creates_nothing(netsky: Netsky, tmp_path: Path) -> None:
    result = netsky("copy", f"sqlite:///{tmp_path / 'typo.db'}", f"sqlite:///{tmp_path / 'dst.db'}")
    assert_one_line_error(result, 1, "typo.db")
    assert not (tmp_path / "typo.db").exists()
    assert not (tmp_path / "dst.db").exists()


def test_copy_arguments(netsky: Netsky, seeded_sqlite: str) -> None:
    assert_one_line_error(netsky("copy", seeded_sqlite), 2)
    assert_one_line_error(netsky("copy", seeded_sqlite, "sqlite:///x.db", "--batch", "0"), 2)
    assert_one_line_error(netsky("copy", "not-a-url", "sqlite:///x.db"), 1, "not a storage URL")
    assert_one_line_error(netsky("copy", seeded_sqlite, "nosuch://x"), 1, "nosuch")
