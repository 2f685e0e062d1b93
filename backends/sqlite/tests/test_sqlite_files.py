"""SQLite files: URLs, permissions, pragmas, and files that are not ours."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import apsw
import pytest
from netsky_conformance.builders import ev
from netsky_sqlite import _schema, sqlite_path

from netsky_core import (
    InvalidURLError,
    NoStoreError,
    NotANetskyStoreError,
    SchemaVersionError,
    open_storage,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def pragma(path: Path, name: str) -> object:
    conn = apsw.Connection(str(path))
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def test_url_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert sqlite_path("sqlite:///rel.db") == tmp_path / "rel.db"
    assert sqlite_path("sqlite:////abs/path.db") == Path("/abs/path.db")
    assert sqlite_path("sqlite:///~/x.db") == tmp_path / "home" / "x.db"
    assert sqlite_path("sqlite:///dir%20with%20space/x.db") == tmp_path / "dir with space" / "x.db"
    with open_storage("sqlite:///rel.db") as store:
        store.info()
    assert (tmp_path / "rel.db").is_file()
    with open_storage("sqlite:///~/deep/x.db"):
        pass
    assert (tmp_path / "home" / "deep" / "x.db").is_file()


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite:///", "sqlite://host/x.db", "sqlite:///x.db?bogus=1"]
)
def test_bad_urls_are_clear_errors(url: str) -> None:
    with pytest.raises(InvalidURLError):
        open_storage(url)


def test_new_files_are_private(tmp_path: Path) -> None:
    db = tmp_path / "new" / "nested" / "store.db"
    with open_storage(f"sqlite:///{db}") as store:
        store.insert_many([])
        from netsky_conformance.builders import ev

        store.insert(ev())
        for suffix in ("-wal", "-shm"):
            side = Path(str(db) + suffix)
            if side.exists():
                assert mode(side) == 0o600, suffix
    assert mode(db) == 0o600
    assert mode(db.parent) == 0o700
    assert mode(db.parent.parent) == 0o700


def test_existing_folder_permissions_are_left_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    with open_storage(f"sqlite:///{tmp_path}/s.db"):
        pass
    assert mode(tmp_path) == 0o755


def test_pragmas_mark_and_configure_the_file(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with open_storage(f"sqlite:///{db}", synchronous="FULL", busy_timeout_ms=1234) as store:
        assert store.engine._conn.execute("PRAGMA synchronous").fetchone()[0] == 2
        assert store.engine._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.info().details["journal_mode"] == "wal"
    with open_storage(f"sqlite:///{db}?synchronous=off") as store:
        assert store.engine._conn.execute("PRAGMA synchronous").fetchone()[0] == 0
    assert pragma(db, "application_id") == _schema.APPLICATION_ID
    assert pragma(db, "user_version") == _schema.LATEST
    assert pragma(db, "journal_mode") == "wal"
    with pytest.raises(InvalidURLError):
        open_storage(f"sqlite:///{db}", synchronous="SOMETIMES")


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"my precious notes\n" * 100)
    before = notes.read_bytes()
    with pytest.raises(NotANetskyStoreError) as info:
        open_storage(f"sqlite:///{notes}")
    assert "not an SQLite database" in str(info.value)
    assert notes.read_bytes() == before
    assert not Path(str(notes) + "-wal").exists()


def test_another_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    other = tmp_path / "app.db"
    conn = apsw.Connection(str(other))
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO users (name) VALUES ('ada')")
    conn.close()
    before = other.read_bytes()
    with pytest.raises(NotANetskyStoreError):
        open_storage(f"sqlite:///{other}")
    assert other.read_bytes() == before


def test_a_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "future.db"
    with open_storage(f"sqlite:///{db}") as store:
        store.vacuum()
    conn = apsw.Connection(str(db))
    conn.execute(f"PRAGMA user_version = {_schema.LATEST + 1}")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = db.read_bytes()
    with pytest.raises(SchemaVersionError) as info:
        open_storage(f"sqlite:///{db}")
    assert "newer" in str(info.value) and info.value.hint
    with pytest.raises(SchemaVersionError):
        open_storage(f"sqlite:///{db}", read_only=True)
    assert db.read_bytes() == before


def test_read_only_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NoStoreError, match="no netsky store"):
        open_storage(f"sqlite:///{tmp_path}/missing.db", read_only=True)
    assert not (tmp_path / "missing.db").exists()


def test_an_empty_file_becomes_a_store(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    db.touch()
    os.chmod(db, 0o600)
    with open_storage(f"sqlite:///{db}") as store:
        assert store.schema_version == _schema.LATEST


def test_repr_and_info_show_the_path(tmp_path: Path) -> None:
    with open_storage(f"sqlite:///{tmp_path}/s.db") as store:
        assert str(tmp_path) in repr(store)
        info = store.info()
        assert info.backend == "sqlite" and info.details["path"] == str(tmp_path / "s.db")
        assert info.size_bytes and info.size_bytes > 0
        assert store.engine.integrity_check() == ["ok"]


def test_a_new_store_has_large_pages_and_an_older_one_keeps_its_own(tmp_path: Path) -> None:
    new = tmp_path / "new.db"
    open_storage(f"sqlite:///{new}").close()
    assert pragma(new, "page_size") == _schema.PAGE_SIZE == 16384
    old = tmp_path / "old.db"
    conn = apsw.Connection(str(old))
    conn.execute("PRAGMA page_size = 4096; CREATE TABLE t (a); DROP TABLE t")
    conn.close()
    with open_storage(f"sqlite:///{old}") as store:  # the schema made in 4 KiB pages
        store.insert(ev())
        assert store.count() == 1
    assert pragma(old, "page_size") == 4096
    assert pragma(old, "integrity_check") == "ok"


def test_closing_a_store_copies_its_wal_into_the_database_while_others_keep_it_open(
    tmp_path: Path,
) -> None:
    """So the last connection's close, which does it under an exclusive lock that makes
    a reader opening meanwhile wait, finds nothing left to copy."""
    db = tmp_path / "s.db"
    with open_storage(f"sqlite:///{db}") as keeper:  # another process's connection
        writer = open_storage(f"sqlite:///{db}")
        writer.insert(ev())
        check = apsw.Connection(str(db))
        _busy, frames, copied = check.execute("PRAGMA wal_checkpoint(NOOP)").fetchone()
        assert frames > copied  # the commit is in the WAL only
        writer.close()
        _busy, frames, copied = check.execute("PRAGMA wal_checkpoint(NOOP)").fetchone()
        assert frames == copied > 0  # copied at close, though the store stays open
        check.close()
        assert keeper.count() == 1
