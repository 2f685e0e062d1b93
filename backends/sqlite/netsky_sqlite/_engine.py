"""The SQLite engine: one file, many processes (WAL).

One connection per engine, guarded by a lock (so one engine may be shared by
threads). Every write is one ``BEGIN IMMEDIATE`` transaction, so writers are
serialized by SQLite and the Store's rules see a stable store. When another process
holds the write lock, SQLite's busy timeout waits, and beyond it the whole transaction
is retried with jittered backoff until ``lock_timeout`` so "database is locked" never
reaches the caller.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import apsw

from netsky_core import (
    Capability,
    InvalidURLError,
    MigrationResult,
    NoStoreError,
    ReadOnlyStorageError,
    RecordError,
    StorageConnectionError,
    StorageError,
    StorageIntegrityError,
    StorageQueryError,
    StoreNeedsMigrationError,
)
from netsky_core.backend import EngineInfo

from . import _schema
from ._rows import one_row
from ._tx import SqliteReader, SqliteWriter
from ._url import parse_sqlite_url

T = TypeVar("T")

BULK_CACHE_KIB = 64 << 10
"""Page cache of a connection during ``bulk_load`` (KiB)."""
BULK_CHECKPOINT_BYTES = 64 << 20
"""WAL written between automatic checkpoints during ``bulk_load``. The default (1,000
pages: 4 MiB of 4 KiB pages) checkpoints too often for a big load; none until the end grows the WAL to
the size of everything loaded, and each write into a new block of the file costs the
kernel a zeroing of its partial pages (WAL frames are not block aligned). A checkpoint
every 64 MiB lets SQLite start the WAL again from its beginning, over blocks it already
has: 1 GB of history, 417,200 events, 17.9-20.1 s -> 12.8-13.9 s, system time 7.1-8.9 s
-> 3.3-3.6 s (measured interleaved with 16, 32 and 256 MiB, which were slower)."""
_SYNCHRONOUS = {"OFF", "NORMAL", "FULL", "EXTRA"}
_CAPABILITIES = frozenset(
    {
        Capability.PERSISTENT,
        Capability.MULTI_PROCESS,
        Capability.READ_ONLY,
        Capability.VACUUM,
        Capability.SIZE_ON_DISK,
        Capability.PROJECT_USAGE,
    }
)


def _is_busy(exc: BaseException) -> bool:
    return isinstance(exc, (apsw.BusyError, apsw.LockedError))


def _translate(exc: apsw.Error, path: str) -> StorageError:
    text = str(exc)
    if isinstance(exc, apsw.ReadOnlyError):
        return ReadOnlyStorageError(
            f"{_not_writable(path)} is read-only: {text}",
            hint="give it back write permission (chmod u+w) or open the store read-only",
        )
    if isinstance(exc, apsw.ConstraintError):
        return StorageIntegrityError(f"{path}: {text}")
    if isinstance(exc, (apsw.CorruptError, apsw.NotADBError)):
        return StorageIntegrityError(
            f"{path} is damaged: {text}",
            hint="check it with `sqlite3 FILE 'PRAGMA integrity_check'`",
        )
    if isinstance(exc, apsw.FullError):
        return StorageConnectionError(
            f"the disk holding {path} is full: {text}",
            hint="make room and run again: what was stored is kept whole, "
            "and files are read on from where it ended",
        )
    if isinstance(exc, (apsw.CantOpenError, apsw.IOError, apsw.PermissionsError)):
        return StorageConnectionError(f"cannot use {path}: {text}")
    if _is_busy(exc):
        return StorageConnectionError(
            f"{path} stayed locked by another process: {text}",
            hint="another netsky process holds a long write; retry later",
        )
    if isinstance(exc, apsw.SQLError) and text.startswith(("no such table", "no such column")):
        return StorageQueryError(
            f"{path}: the store's schema is damaged ({text})",
            hint="it was changed outside netsky: restore a backup, "
            "or move it away and run `netsky ingest` to rebuild it",
        )
    return StorageQueryError(f"{path}: {text}")


def _jitter() -> float:
    """A factor in [0.5, 1.5) for a retry's sleep (from ``os.urandom``: ``random``
    costs every drainer a millisecond of imports for two sleeps it rarely takes)."""
    return 0.5 + int.from_bytes(os.urandom(2), "little") / 65536


def _busy_handler(timeout_s: float) -> Callable[[int], bool]:
    """Wait for a lock in short jittered sleeps (SQLite's default sleeps grow to 100 ms,
    which lets a steady stream of writers starve one of them)."""
    state = {"deadline": 0.0}

    def handler(attempt: int) -> bool:
        now = time.monotonic()
        if attempt == 0:
            state["deadline"] = now + timeout_s
        elif now >= state["deadline"]:
            return False
        time.sleep(min(0.0005 * (1 + attempt) ** 0.5, 0.004) * _jitter())
        return True

    return handler


def _file_uri(path: Path) -> str:
    from urllib.parse import quote

    return "file:" + quote(str(path.absolute()))


def _repair_sidecars(path: Path) -> None:
    """Give ``-wal`` / ``-shm`` back the database's write permission.

    SQLite creates them with the database's mode: after ``chmod 400 netsky.db`` (and a
    reader) and ``chmod 600`` again they stay read-only and every write fails. Ours
    are made writable again; another user's are named by the error instead."""
    try:
        db_mode = path.stat().st_mode
    except OSError:
        return
    for suffix in ("-wal", "-shm"):
        side = Path(str(path) + suffix)
        try:
            st = side.stat()
        except OSError:
            continue
        if os.access(side, os.W_OK) or st.st_uid != os.geteuid():
            continue
        try:
            os.chmod(side, (st.st_mode | (db_mode & 0o600)) & 0o7777)
        except OSError:
            pass


def _not_writable(path: str) -> str:
    """The first of the database's files this process cannot write, else the database."""
    for name in (path, path + "-wal", path + "-shm"):
        if os.path.exists(name) and not os.access(name, os.W_OK):
            return name
    folder = os.path.dirname(path) or "."
    if not os.access(folder, os.W_OK):
        return folder + os.sep
    return path


def _create_private(path: Path) -> None:
    """Create the database file 0600 (in a 0700 folder we create) if it is missing."""
    parent = path.parent
    if not parent.exists():
        old = os.umask(0o077)
        try:
            parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        finally:
            os.umask(old)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)


class SqliteEngine:
    """An engine over one SQLite file (WAL mode)."""

    name = "sqlite"
    capabilities = _CAPABILITIES
    latest_schema_version = _schema.LATEST

    def __init__(
        self,
        path: Path,
        *,
        url: str,
        read_only: bool = False,
        migrate: bool = True,
        synchronous: str = "NORMAL",
        busy_timeout_ms: int = 5000,
        lock_timeout_s: float = 60.0,
    ) -> None:
        self._path = path
        self._name = str(path)
        self.url = url
        self.read_only = read_only
        self._lock = threading.RLock()
        self._lock_timeout = float(lock_timeout_s)
        self._closed = False
        synchronous = str(synchronous).upper()
        if synchronous not in _SYNCHRONOUS:
            raise InvalidURLError(
                f"synchronous must be one of {', '.join(sorted(_SYNCHRONOUS))}, got {synchronous!r}"
            )
        self._copy: str | None = None
        if not read_only:
            _create_private(path)
            _repair_sidecars(path)
        elif not path.exists():
            raise NoStoreError(
                f"no netsky store at {path}",
                hint="check the path; `netsky ingest` or `netsky hook` creates the store",
            )
        try:
            with path.open("rb") as fh:
                _schema.check_header(fh.read(16), self._name)
        except OSError as exc:
            raise StorageConnectionError(f"cannot read {path}: {exc.strerror}") from None
        if read_only:
            conn = self._open_read_only(path)
        else:
            try:
                conn = apsw.Connection(
                    str(path), flags=apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE
                )
            except apsw.Error as exc:
                raise _translate(exc, self._name) from None
        self._conn = conn
        try:
            conn.set_busy_handler(_busy_handler(busy_timeout_ms / 1000))
            conn.execute(f"PRAGMA synchronous = {synchronous}")
            conn.execute("PRAGMA foreign_keys = ON")
            version = self._retry(lambda: _schema.read_version(conn, self._name))
            if version < _schema.LATEST:
                if read_only or not migrate:
                    if read_only and version == 0:
                        raise NoStoreError(f"{path} holds no netsky data yet")
                    if read_only and migrate:
                        raise StoreNeedsMigrationError(
                            f"{path} has schema version {version}; this netsky needs {_schema.LATEST}",
                            hint="run `netsky db migrate` first",
                        )
                else:
                    self._retry(lambda: _schema.migrate(conn, self._name))
            if version == _schema.LATEST or (migrate and not read_only):
                self._retry(lambda: _schema.verify(conn, self._name))
            if not read_only:
                mode = self._retry(lambda: one_row(conn.execute("PRAGMA journal_mode"))[0])
                if str(mode).lower() != "wal":
                    self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone())
        except BaseException:
            conn.close()
            raise
        self._version = int(self._retry(lambda: one_row(conn.execute("PRAGMA user_version"))[0]))

    def __repr__(self) -> str:
        mode = ", read_only=True" if self.read_only else ""
        return f"SqliteEngine({self.url!r}{mode})"

    def _open_read_only(self, path: Path) -> apsw.Connection:
        """A read-only connection that works where the folder is read-only too.

        A WAL database needs its ``-shm`` to be read; where SQLite cannot create or
        open it, a database without WAL content opens ``immutable``, and one with WAL
        content is read from a private copy of the database and its WAL (a snapshot)."""
        flags = apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI
        try:
            conn = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except apsw.Error as exc:
            if not isinstance(exc, (apsw.CantOpenError, apsw.ReadOnlyError, apsw.IOError)):
                raise _translate(exc, self._name) from None
            first = exc
        wal = Path(str(path) + "-wal")
        try:
            wal_size = wal.stat().st_size
        except OSError:
            wal_size = 0
        try:
            if wal_size == 0:
                conn = apsw.Connection(f"{_file_uri(path)}?immutable=1", flags=flags)
            else:
                conn = apsw.Connection(
                    f"{_file_uri(self._private_copy(path))}?mode=ro", flags=flags
                )
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except (apsw.Error, OSError):
            raise _translate(first, self._name) from None

    def _private_copy(self, path: Path) -> Path:
        import shutil
        import tempfile

        folder = tempfile.mkdtemp(prefix="netsky-ro-")
        target = Path(folder) / path.name
        shutil.copyfile(path, target)
        shutil.copyfile(str(path) + "-wal", str(target) + "-wal")
        self._copy = folder
        return target

    @property
    def path(self) -> Path:
        return self._path

    @property
    def schema_version(self) -> int:
        return self._version

    # -- transactions ---------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"the SQLite store {self._name} is closed")

    def _retry(self, fn: Callable[[], T]) -> T:
        """Run ``fn``, retrying while the database is locked, up to ``lock_timeout``."""
        deadline = time.monotonic() + self._lock_timeout
        delay = 0.005
        while True:
            try:
                return fn()
            except apsw.Error as exc:
                if not _is_busy(exc) or time.monotonic() >= deadline:
                    raise _translate(exc, self._name) from None
            time.sleep(delay * _jitter())
            delay = min(delay * 2, 0.25)

    def write(self, work: Callable[[Any], T]) -> T:
        """Run ``work`` in one ``BEGIN IMMEDIATE`` transaction (retried while busy)."""
        conn = self._conn

        def attempt() -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(SqliteWriter(conn))
                conn.execute("COMMIT")
                return result
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

        with self._lock:
            self._check_open()
            if self.read_only:
                raise ReadOnlyStorageError(f"{self._name} was opened read-only")
            return self._retry(attempt)

    def read(self, work: Callable[[Any], T]) -> T:
        """Run ``work`` on one snapshot (a deferred read transaction)."""
        conn = self._conn

        def attempt() -> T:
            conn.execute("BEGIN")
            try:
                return work(SqliteReader(conn))
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

        with self._lock:
            self._check_open()
            return self._retry(attempt)

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """A big load on this connection: an automatic WAL checkpoint every
        ``BULK_CHECKPOINT_BYTES`` instead of every 1,000 pages (and one at the end), and
        a larger page cache. Other connections keep their own settings; a read-only
        engine is unchanged."""
        if self.read_only:
            yield
            return
        conn = self._conn
        with self._lock:
            self._check_open()
            saved = self._retry(
                lambda: (
                    one_row(conn.execute("PRAGMA wal_autocheckpoint"))[0],
                    one_row(conn.execute("PRAGMA cache_size"))[0],
                    one_row(conn.execute("PRAGMA page_size"))[0],
                )
            )
            pages = max(BULK_CHECKPOINT_BYTES // int(saved[2]), 1)
            conn.execute(f"PRAGMA wal_autocheckpoint = {pages}")
            conn.execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
        try:
            yield
        finally:
            with self._lock:
                if not self._closed:
                    conn.execute(f"PRAGMA wal_autocheckpoint = {int(saved[0])}")
                    conn.execute(f"PRAGMA cache_size = {int(saved[1])}")
                    try:  # PASSIVE: never waits for readers or writers
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    except apsw.Error:
                        pass  # a later commit's automatic checkpoint does it

    # -- lifecycle ------------------------------------------------------------------

    def migrate(self) -> MigrationResult:
        with self._lock:
            self._check_open()
            if self.read_only:
                if self._version == _schema.LATEST:
                    return MigrationResult(from_version=self._version, to_version=self._version)
                raise ReadOnlyStorageError(f"{self._name} was opened read-only")
            before, after = self._retry(lambda: _schema.migrate(self._conn, self._name))
            self._version = after
        return MigrationResult(from_version=before, to_version=after)

    def vacuum(self) -> None:
        with self._lock:
            self._check_open()
            self._retry(lambda: self._conn.execute("VACUUM"))
            self._retry(lambda: self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone())

    def describe(self) -> EngineInfo:
        mode = self.read(lambda r: r.c.execute("PRAGMA journal_mode").fetchone()[0])
        size = 0
        for suffix in ("", "-wal", "-shm"):
            try:
                size += os.path.getsize(str(self._path) + suffix)
            except OSError:
                pass
        return EngineInfo(
            size_bytes=size,
            details={
                "path": str(self._path),
                "journal_mode": str(mode),
                "sqlite_version": apsw.sqlite_lib_version(),
                "read_only": self.read_only,
            },
        )

    def integrity_check(self) -> list[str]:
        """``PRAGMA integrity_check`` messages (``['ok']`` when healthy)."""
        return [r[0] for r in self.read(lambda r: r.c.execute("PRAGMA integrity_check").fetchall())]

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if not self.read_only and self._conn.total_changes():
                # Copy the WAL into the database now, while readers go on. The last
                # connection to close does that under an exclusive lock that makes a
                # reader opening meanwhile (the statusline, a hook's budget check)
                # wait: with this it has nothing left to copy. Only after writing: a
                # command that only read leaves others' WAL to them. Readers' latency while
                # a process stored 3,000 events and closed, 40 times: reads over 10 ms
                # 12-18 -> 2-6 of about 1,600, 99th percentile 9.6-10.5 -> 4.5-7.5 ms.
                try:
                    self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except apsw.Error:
                    pass  # busy or failing: the next checkpoint does it
            try:
                self._conn.close()
            except apsw.Error:
                pass
            if self._copy is not None:
                import shutil

                shutil.rmtree(self._copy, ignore_errors=True)


def open_sqlite(
    url: str,
    *,
    read_only: bool = False,
    migrate: bool = True,
    synchronous: str | None = None,
    busy_timeout_ms: int | None = None,
    lock_timeout_s: float | None = None,
    timeout: float | None = None,
) -> SqliteEngine:
    """Open (creating if needed) the SQLite store a ``sqlite:`` URL names.

    ``timeout`` (seconds, the standard option every backend accepts) bounds how long
    any call waits for another process's write lock.
    """
    if timeout is not None:
        lock_timeout_s = lock_timeout_s or timeout
        busy_timeout_ms = busy_timeout_ms or int(min(timeout, 5.0) * 1000)
    path, params = parse_sqlite_url(url)
    unknown = set(params) - {"synchronous", "busy_timeout_ms", "lock_timeout_s", "mode"}
    if unknown:
        raise InvalidURLError(
            f"unknown sqlite URL option(s): {', '.join(sorted(unknown))}",
            hint="known: synchronous, busy_timeout_ms, lock_timeout_s, mode=ro",
        )
    try:
        return SqliteEngine(
            path,
            url=url,
            read_only=read_only or params.get("mode") == "ro",
            migrate=migrate,
            synchronous=synchronous or params.get("synchronous", "NORMAL"),
            busy_timeout_ms=int(busy_timeout_ms or params.get("busy_timeout_ms", "5000")),
            lock_timeout_s=float(lock_timeout_s or params.get("lock_timeout_s", "60")),
        )
    except ValueError as exc:
        if isinstance(exc, RecordError):
            raise
        raise InvalidURLError(f"invalid sqlite option in {url!r}: {exc}") from None
