"""``netsky db status | migrate | vacuum`` and how opening a store fails."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from netsky_core import UsageQuery, open_storage

from .conftest import SEED_EVENTS, SEED_SESSIONS, Netsky, assert_one_line_error


def test_status_of_a_seeded_store(netsky: Netsky, seeded: str) -> None:
    data = netsky.ok("--db", seeded, "db", "status", "--json").json()
    assert data["initialized"] is True
    assert data["backend"] in ("sqlite", "postgres")
    assert data["schema_version"] == data["latest_schema_version"] >= 1
    assert data["needs_migration"] is False
    with open_storage(seeded) as store:
        buckets = len(store.usage(UsageQuery()))
        projects = len(store.project_usage())
    assert buckets >= 1 and projects >= 1
    assert data["tables"] == {
        "events": SEED_EVENTS,
        "sessions": SEED_SESSIONS,
        "positions": 2,
        "usage": buckets,
        "project_usage": projects,
    }
    assert data["size_bytes"] > 0
    assert data["oldest_event"] == "2026-03-01T12:00:00+00:00"
    assert data["newest_event"] == "2026-03-01T13:00:00+00:00"

    text = netsky.ok("db", "status", "--db", seeded).stdout
    assert "schema version" in text
    assert "2026-03-01 12:00:00" in text  # local time (TZ=UTC in the tests)
    assert "events rows" in text and "project_usage rows" in text


def test_status_shows_local_time(netsky: Netsky, seeded_sqlite: str) -> None:
    text = netsky.ok("--db", seeded_sqlite, "db", "status", env={"TZ": "Asia/Tokyo"}).stdout
    assert "2026-03-01 21:00:00" in text  # 12:00 UTC is 21:00 in Tokyo


def test_status_never_shows_the_password(netsky: Netsky, postgres_url: Callable[..., str]) -> None:
    url = postgres_url()
    password = url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    netsky.ok("--db", url, "db", "migrate")
    for args in (["db", "status"], ["db", "status", "--json"], ["db", "migrate"], ["db", "vacuum"]):
        result = netsky.ok("--db", url, *args)
        assert password not in result.output
        assert "***" in result.output


def test_migrate_then_status_of_a_new_store(netsky: Netsky, store_url: str) -> None:
    missing = netsky("--db", store_url, "db", "status")
    assert_one_line_error(missing, 1, "no netsky store")
    first = netsky.ok("--db", store_url, "db", "migrate", "--json").json()
    assert first["from_version"] == 0
    assert first["to_version"] >= 1
    assert first["changed"] is True
    again = netsky.ok("--db", store_url, "db", "migrate")
    assert "up to date" in again.stdout
    assert netsky.ok("--db", store_url, "db", "status", "--json").json()["initialized"] is True


def test_vacuum(netsky: Netsky, seeded: str) -> None:
    data = netsky.ok("--db", seeded, "db", "vacuum", "--json").json()
    assert data["vacuumed"] is True
    assert data["size_after"] > 0
    assert "vacuumed" in netsky.ok("--db", seeded, "db", "vacuum").stdout
    # the data is still there
    assert (
        netsky.ok("--db", seeded, "db", "status", "--json").json()["tables"]["events"]
        == SEED_EVENTS
    )


def test_vacuum_on_a_backend_without_it_exits_0(netsky: Netsky) -> None:
    result = netsky.ok("--db", "memory://", "db", "vacuum")
    assert "has no vacuum" in result.stdout
    assert netsky.ok("--db", "memory://", "db", "vacuum", "--json").json()["vacuumed"] is False


def test_db_without_action_prints_help(netsky: Netsky) -> None:
    result = netsky("db")
    assert result.returncode == 2
    assert "status" in result.stdout and "migrate" in result.stdout


def test_a_non_netsky_sqlite_file_is_refused_and_left_alone(netsky: Netsky, tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.execute("INSERT INTO notes VALUES ('keep me')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    for args in (
        ["db", "status"],
        ["db", "migrate"],
        ["sessions"],
        ["stats", "--json"],
        ["export"],
    ):
        result = netsky("--db", f"sqlite:///{path}", *args)
        assert_one_line_error(result, 1, "not a netsky store")
    assert path.read_bytes() == before


def test_a_file_that_is_not_sqlite_is_refused(netsky: Netsky, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not a database at all\n" * 10)
    result = netsky("--db", f"sqlite:///{path}", "events")
    assert_one_line_error(result, 1, "not an SQLite database")
    assert path.read_text().startswith("hello")


def test_an_unreachable_database_fails_fast_in_one_line(netsky: Netsky) -> None:
    url = "postgresql://netsky:secret@127.0.0.1:1/x"
    for args in (
        ["db", "status"],
        ["sessions"],
        ["stats", "--json"],
        ["copy", url, "sqlite:///x.db"],
    ):
        started = time.monotonic()
        result = netsky("--db", url, *args)
        assert time.monotonic() - started < 20
        assert_one_line_error(result, 1, "127.0.0.1")
        assert "secret" not in result.output
    assert not (netsky.root / "x.db").exists()


def test_sizes_say_the_binary_units_they_are(netsky: Netsky, seeded_sqlite: str) -> None:
    """360,448 bytes were shown as "352.0 kB" (352 KiB is 360,448 bytes)."""
    data = netsky.ok("--db", seeded_sqlite, "db", "status", "--json").json()
    text = netsky.ok("--db", seeded_sqlite, "db", "status").stdout
    line = next(line for line in text.splitlines() if line.startswith("size on disk"))
    value, unit = line.split()[-2:]
    step = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[unit]
    assert abs(float(value) * step - data["size_bytes"]) <= step * 0.05
