"""Reading another program's SQLite database without making it wait: ``open_database``
(read-only, never locking, creating nothing beside the file) and small helpers over the
tables of a schema that varies between the agent's versions."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

__all__ = ["database_signature", "open_database", "select_rows", "table_columns"]


def _writable(path: Path) -> bool:
    """Whether ``path`` is meant to be written: a write bit set and, for others than
    root, access granted. Root ignores permissions, so the bits are checked too."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) and os.access(path, os.W_OK)


def _is_wal_mode(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            header = fh.read(20)
    except OSError:
        return False
    return len(header) == 20 and header[18:20] == b"\x02\x02"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


_COPY_ATTEMPTS = 5


def _header(path: str, start: int, size: int) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            fh.seek(start)
            return fh.read(size)
    except OSError:
        return None


def database_signature(path: str) -> list[Any]:
    """What every commit to an SQLite database changes, taken before the database is
    read (so a commit after it changes it again):

    - the change counter in the main file's header: in rollback-journal mode a commit
      rewrites pages in place, often keeping the size and, within a tick of the file
      system's clock, the mtime;
    - the ``-wal``'s size and mtime;
    - the WAL index header at the start of ``-shm``, whose change counter and last
      frame move with each commit only once it is visible: a commit grows the ``-wal``
      first, so a reader in between sees a grown ``-wal`` without its rows. The header
      is kept twice; copies that differ (caught mid-write) give a signature that
      matches nothing, so the next ingest reads again.
    """
    counter = _header(path, 24, 4)
    try:
        st = os.stat(f"{path}-wal")
        wal: list[Any] = [st.st_size, st.st_mtime_ns]
    except OSError:
        wal = [None]
    index = _header(f"{path}-shm", 0, 96)
    shm: str | None = None
    if index is not None and len(index) == 96:
        shm = index[:48].hex() if index[:48] == index[48:] else f"mid-write {os.urandom(8).hex()}"
    return [*wal, counter.hex() if counter else None, shm]


def _connect(path: Path, query: str) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{quote(str(path))}?{query}", uri=True, timeout=0.2)
    try:
        conn.execute("PRAGMA query_only = ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


def _signature(db: Path, extras: tuple[Path, ...]) -> list[Any]:
    out: list[Any] = database_signature(str(db))
    for path in (db, *extras):
        try:
            st = path.stat()
        except OSError:
            out.append(None)
        else:
            out.append((st.st_size, st.st_mtime_ns))
    return out


def _copy_files(db: Path, extras: tuple[Path, ...], dest: Path) -> Path:
    """Copy ``db`` and the ``extras`` beside it that exist into ``dest``; retried (a
    few times) while the owner commits during the copy, then ``OSError`` (a copy
    caught mid-commit may hold pages of two versions). A plain file read takes no
    lock."""
    copy = dest / db.name
    for _attempt in range(_COPY_ATTEMPTS):
        before = _signature(db, extras)
        shutil.copyfile(db, copy)
        for extra in extras:
            target = Path(f"{copy}{extra.name[len(db.name) :]}")
            try:
                shutil.copyfile(extra, target)
            except FileNotFoundError:
                target.unlink(missing_ok=True)
        if _signature(db, extras) == before:
            return copy
    raise OSError(f"{db} changed during each of {_COPY_ATTEMPTS} copies")


@contextlib.contextmanager
def open_database(path: str | os.PathLike[str]) -> Iterator[sqlite3.Connection]:
    """A read-only connection to another program's SQLite database, taking no lock
    that makes its owner wait and creating nothing beside it.

    WAL mode (the agents' databases):

    - ``mode=ro`` when the database, its folder, ``-wal`` and ``-shm`` exist and are
      writable in place: a WAL reader never blocks the writer, and opening creates
      nothing new;
    - else, or when that fails (read-only folder, ``-shm`` that cannot be used):
      ``immutable=1`` when there is no ``-wal`` content (the main file is complete);
    - else a private copy of the database, ``-wal`` and ``-shm`` in a temporary folder,
      read there and removed.

    Rollback-journal mode: any reader's shared lock holds back the owner's commits, so
    the database (and a ``-journal`` of a write in progress, which SQLite then rolls
    back on the copy) is always read from a private copy.

    Raises ``sqlite3.Error`` when the file is not a database at all.
    """
    db = Path(path)
    wal, shm, journal = Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")
    conn: sqlite3.Connection | None = None
    tmp: str | None = None
    copy_query = "mode=ro"
    extras: tuple[Path, ...] = (wal, shm)
    if _is_wal_mode(db):
        wal_content = _size(wal) > 0
        in_place = _writable(db) and _writable(db.parent) and _writable(wal) and _writable(shm)
        if in_place:
            with contextlib.suppress(sqlite3.Error):
                conn = _connect(db, "mode=ro")
        if conn is None and not wal_content:
            with contextlib.suppress(sqlite3.Error):
                conn = _connect(db, "mode=ro&immutable=1")
    else:
        extras, copy_query = (journal,), "mode=rw"  # rw: a copied hot journal rolls back
    try:
        if conn is None:
            tmp = tempfile.mkdtemp(prefix="netsky-db-")
            conn = _connect(_copy_files(db, extras, Path(tmp)), copy_query)
        yield conn
    finally:
        if conn is not None:
            conn.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def table_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """Column names of ``table`` (empty when it does not exist)."""
    rows = conn.execute("SELECT name FROM pragma_table_info(?)", (table,)).fetchall()
    return [row[0] for row in rows]


def select_rows(
    conn: sqlite3.Connection,
    table: str,
    wanted: tuple[str, ...],
    *,
    keys: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """The ``wanted`` columns ``table`` has, as dicts of every row; none when it has none
    of them, or (given ``keys``) none of the ``keys``."""
    have = set(table_columns(conn, table))
    cols = [c for c in wanted if c in have]
    if not cols or (keys and not have.intersection(keys)):
        return []
    cursor = conn.execute(f"SELECT {', '.join(cols)} FROM {table}")
    return [dict(zip(cols, row, strict=True)) for row in cursor.fetchall()]
