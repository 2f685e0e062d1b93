"""The shared pieces of the other-agent readers: timestamps and counts as ccusage reads
them, the ``total`` fallback, and the read-only SQLite opener's fallbacks."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from netsky_core.sources import _sqlite
from netsky_core.sources._sqlite import open_database
from netsky_core.sources._values import count, parse_time, total_fallback


def test_parse_time() -> None:
    assert parse_time("2026-01-02T03:04:05.678Z") == datetime(2026, 1, 2, 3, 4, 5, 678000, UTC)
    assert parse_time("2026-01-02T05:04:05+02:00") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_time("2025-12-02 16:58:55") == datetime(2025, 12, 2, 16, 58, 55, tzinfo=UTC)
    assert parse_time(1772590689.2019053, unit="s") == datetime(2026, 3, 4, 2, 18, 9, 201000, UTC)
    assert parse_time(1764265577715, unit="ms") == parse_time(1764265577.715, unit="s")
    assert parse_time(1764265577715) == parse_time(1764265577.715)  # auto: > 1e12 is ms
    for bad in (None, "", "yesterday", [], {}, float("nan"), float("inf"), 0, -5, True):
        assert parse_time(bad) is None


def test_count() -> None:
    assert [count(v) for v in (5, 5.9, -3, "7", None, True, float("nan"), 1e400)] == [
        5,
        5,
        0,
        0,
        0,
        0,
        0,
        0,
    ]


def test_total_fallback() -> None:
    assert total_fallback(100, 0, 0, 150) == (50, 0)  # missing tokens go to output when 0
    assert total_fallback(100, 10, 5, 150) == (10, 50)  # else to the extra (reasoning)
    assert total_fallback(100, 10, 5, 50) == (10, 5)  # a smaller total changes nothing


def _wal_db(path: Path, *, keep_open: bool) -> sqlite3.Connection | None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.execute("INSERT INTO t VALUES (1), (2), (3)")
    if keep_open:
        return conn  # the owner is running: -wal (with the rows) and -shm exist
    conn.close()
    return None


def _rows(path: Path) -> list[int]:
    with open_database(path) as conn:
        return [r[0] for r in conn.execute("SELECT x FROM t ORDER BY x")]


def test_wal_database_is_read_in_place_with_its_wal(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    owner = _wal_db(db, keep_open=True)
    assert Path(f"{db}-wal").stat().st_size > 0
    before = sorted(p.name for p in tmp_path.iterdir())
    assert _rows(db) == [1, 2, 3]
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    with open_database(db) as conn, pytest.raises(sqlite3.Error):
        conn.execute("INSERT INTO t VALUES (4)")  # read-only
    owner.close()


def test_closed_wal_database_is_read_immutable_and_nothing_is_created(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    _wal_db(db, keep_open=False)  # closed cleanly: no -wal, no -shm
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.db"]
    assert _rows(db) == [1, 2, 3]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.db"]


def test_failing_read_only_open_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``mode=ro`` failing (read-only folder, ``-shm`` not creatable): ``immutable=1``
    without ``-wal`` content, else a private copy of db + wal + shm."""
    real = _sqlite._connect
    seen: list[str] = []

    def connect(path: Path, query: str) -> sqlite3.Connection:
        seen.append(f"{path.parent == tmp_path}:{query}")
        if query == "mode=ro" and path.parent == tmp_path:
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return real(path, query)

    monkeypatch.setattr(_sqlite, "_connect", connect)
    live = tmp_path / "live.db"
    owner = _wal_db(live, keep_open=True)
    assert _rows(live) == [1, 2, 3]
    assert seen == ["True:mode=ro", "False:mode=ro"]  # the copy, elsewhere
    owner.close()
    seen.clear()
    closed = tmp_path / "closed.db"
    _wal_db(closed, keep_open=False)
    assert _rows(closed) == [1, 2, 3]
    assert seen == ["True:mode=ro&immutable=1"]


def test_not_a_database_raises_sqlite_error(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(b"hello, this is text")
    with pytest.raises(sqlite3.Error), open_database(path):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.db"]


def test_rollback_journal_database_is_read_from_a_copy_without_locking(tmp_path: Path) -> None:
    """A database in rollback-journal mode: a reader's shared lock would hold back the
    owner's commits, so it is read from a private copy; a write in progress (its
    ``-journal`` beside the file) is rolled back on the copy, so only committed rows are
    seen, and the owner's exclusive lock never makes the read fail."""
    db = tmp_path / "r.db"
    owner = sqlite3.connect(db, isolation_level=None, timeout=0)
    owner.execute("PRAGMA journal_mode=DELETE")
    owner.execute("CREATE TABLE t (x INTEGER)")
    owner.execute("INSERT INTO t VALUES (1), (2), (3)")
    owner.execute("PRAGMA cache_size=1")  # spill the uncommitted pages into the file
    owner.execute("BEGIN EXCLUSIVE")
    owner.execute(
        "WITH RECURSIVE n(v) AS (SELECT 10 UNION ALL SELECT v + 1 FROM n WHERE v < 5000) "
        "INSERT INTO t SELECT v FROM n"
    )
    owner.execute("DELETE FROM t WHERE x = 1")
    assert Path(f"{db}-journal").exists()
    assert _rows(db) == [1, 2, 3]  # committed state, through the owner's exclusive lock
    owner.execute("COMMIT")  # never blocked by the reader
    rows = _rows(db)
    assert rows[:2] == [2, 3] and len(rows) == 2 + 4991
    owner.execute("BEGIN IMMEDIATE")
    owner.execute("INSERT INTO t VALUES (7)")
    with open_database(db) as conn:  # while this connection is open the owner commits
        owner.execute("COMMIT")
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 4993
    owner.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.db"]
