"""The hook spool: where hook events wait until their store takes them.

Every store a hook writes to (its *target*: the ``--db`` URL, else
``NETSKY_DATABASE_URL``, and the ``--config`` file, else ``NETSKY_CONFIG``) has a
spool folder of its own, ``<state dir>/spool/t-<key>/``: ``key`` is a hash of the
masked URL and the config path, ``target.json`` (0600, in a 0700 folder) holds the
full target. A record is only ever stored in the store it was spooled for, and one
store's outage (its back-off marker, its drainer) never delays another's events.

A hook appends one JSON line (the raw hook input plus what was known at receipt:
time, id, machine, pid, git context) to ``hooks.jsonl``, fsync'd, under the
folder's ``flock``. A record is whole or absent: short writes are continued, a
failed append is cut off again, and a record always starts on a fresh line. Draining
takes the lock just long enough to rename the file aside; the renamed files
(``*.replay``) are then stored and deleted. Every spooled event keeps the id it was
given at receipt, so replaying twice (a crash mid-replay) stores each event once.
Lines that cannot be read go to the spool's ``rejected.jsonl`` instead of blocking
it; a torn line costs only itself, never the record after it.

Spools written before targets existed (``hooks.jsonl`` directly in the spool folder)
were written for the default target (no ``--db``, no ``--config``) and are moved
there (:func:`migrate_legacy`).
"""

from __future__ import annotations

import os

from .._jsonc import dumps, loads
from .._paths import ensure_private_dir, replace_private_file, state_path
from .._paths import write_all as _write_all

TYPE_CHECKING = False
if TYPE_CHECKING:  # the hook's fast path imports neither typing nor pathlib
    from collections.abc import Callable, Mapping
    from pathlib import Path
    from typing import Any

    from .._config import Config

__all__ = [
    "Spool",
    "absolute_store_url",
    "all_spools",
    "append_whole",
    "hook_spool",
    "hook_target",
    "migrate_legacy",
    "spool_root",
]

SPOOL_NAME = "hooks.jsonl"
LOCK_NAME = ".lock"
DRAINER_LOCK = ".drainer"
WAKE = ".wake"  # a FIFO a lingering drainer reads: a hook that finds it running writes a byte
FAILED = ".store-unavailable"
BACKOFF_S = 10.0
REJECTED = "rejected.jsonl"
TARGET = "target.json"
TARGET_PREFIX = "t-"
ENV_URL = "NETSKY_DATABASE_URL"  # as in _config (not imported: the hook's fast path)
ENV_CONFIG = "NETSKY_CONFIG"
_RECORD_START = b'{"v":'


def _lock(fd: int, exclusive: bool) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: appends are still line-atomic
        return
    fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)


def _open_private(path: str | os.PathLike[str], flags: int) -> int:
    return os.open(path, flags | os.O_CREAT, 0o600)


def absolute_store_url(url: str, cwd: str | os.PathLike[str] | None = None) -> str:
    """``url`` with a relative ``sqlite:///file`` made absolute.

    The hook runs in the agent's working directory, so a relative path baked into
    the hook command would name a different file in every project.
    """
    if not url.lower().startswith("sqlite:///"):
        return url
    rest = url[len("sqlite:///") :]
    if not rest or rest.startswith(("/", "~")):
        return url
    path, sep, query = rest.partition("?")
    if len(path) > 2 and path[0].isalpha() and path[1] == ":" and path[2] in "\\/":
        return url  # a Windows absolute path
    base = os.path.abspath(os.fspath(cwd) if cwd is not None else os.getcwd())
    absolute = os.path.join(base, path).replace(os.sep, "/")
    return "sqlite:///" + absolute + sep + query


def hook_target(
    db: str | None = None, config: str | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, str | None]:
    """The store ``netsky hook --db DB --config CONFIG`` writes to, as the hook's
    environment names it (``--db`` before ``NETSKY_DATABASE_URL``, ``--config``
    before ``NETSKY_CONFIG``); relative paths made absolute."""
    env = os.environ if environ is None else environ
    url = db or env.get(ENV_URL) or None
    path = config or env.get(ENV_CONFIG) or None
    return {
        "db": absolute_store_url(url) if url else None,
        "config": os.path.abspath(os.path.expanduser(path)) if path else None,
    }


def _masked(url: str | None) -> str | None:
    if url is None or ("@" not in url and "password" not in url.lower()):
        return url
    from .._urls import mask_url

    return mask_url(url)


def target_key(target: Mapping[str, str | None]) -> str:
    """The spool folder's name for ``target`` (no password goes into it): FNV-1a,
    64 bits, of the masked URL and the config path (``hashlib`` would cost the hook
    a few ms of imports; the key tells targets apart, it guards nothing)."""
    text = dumps([_masked(target.get("db")), target.get("config")])
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8", "surrogatepass"):
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{TARGET_PREFIX}{h:016x}"


def append_whole(folder: str | os.PathLike[str], name: str, data: bytes) -> None:
    """Append ``data`` (whole lines) to ``folder/name``, fsync'd, under the folder's
    exclusive lock: whole or not at all, starting on a fresh line.

    Raises ``OSError`` when it could not be written (the file is then as it was).
    """
    folder = os.fspath(folder)
    with _Locked(folder, exclusive=True):
        fd = _open_private(os.path.join(folder, name), os.O_RDWR | os.O_APPEND)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # a torn tail (a crash mid-write): start afresh
            try:
                _write_all(fd, data)
                os.fsync(fd)
            except BaseException:
                try:
                    os.ftruncate(fd, size)
                except OSError:
                    pass  # the reader resyncs at the next newline
                raise
        finally:
            os.close(fd)


class _Locked:
    """A spool folder's ``flock``, exclusive for appending and for claiming."""

    def __init__(self, folder: str, exclusive: bool) -> None:
        self.folder, self.exclusive, self.fd = folder, exclusive, -1

    def __enter__(self) -> None:
        ensure_private_dir(self.folder)
        self.fd = _open_private(os.path.join(self.folder, LOCK_NAME), os.O_RDWR)
        _lock(self.fd, self.exclusive)

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


def _parse_line(raw: bytes) -> dict[str, Any] | None:
    try:
        value = loads(raw)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) and value.get("v") == 1 else None


def parse_spool(data: bytes) -> tuple[list[dict[str, Any]], list[bytes]]:
    """The records of a spool file, and the lines that are not records.

    A line that does not parse costs only itself: a torn tail without a newline is
    set aside, and a line where a torn record had the next one glued onto it (spools
    written before records started on a fresh line) gives up the good record.
    """
    records: list[dict[str, Any]] = []
    bad: list[bytes] = []
    for raw in data.split(b"\n"):
        if not raw.strip():
            continue
        value = _parse_line(raw)
        if value is not None:
            records.append(value)
            continue
        start = raw.find(_RECORD_START, 1)
        while start != -1:
            value = _parse_line(raw[start:])
            if value is not None:
                break
            start = raw.find(_RECORD_START, start + 1)
        if value is None:
            bad.append(raw)
        else:
            bad.append(raw[:start])
            records.append(value)
    return records, bad


class Spool:
    """One target's spool folder (created 0700, files 0600).

    ``target`` is what :func:`hook_target` returns (None: read ``target.json``);
    ``rejected`` the file unreadable lines go to (default: the folder's).
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        target: dict[str, str | None] | None = None,
        rejected: str | os.PathLike[str] | None = None,
    ) -> None:
        self._dir = os.fspath(folder)
        self._target = target
        self._rejected = os.fspath(rejected) if rejected is not None else None
        self._drainer_fd: int | None = None

    @property
    def folder(self) -> Path:
        from pathlib import Path

        return Path(self._dir)

    @property
    def key(self) -> str:
        return os.path.basename(self._dir)

    @property
    def rejected_path(self) -> Path:
        from pathlib import Path

        return Path(self._rejected or self._file(REJECTED))

    def _file(self, name: str) -> str:
        return os.path.join(self._dir, name)

    @property
    def target(self) -> dict[str, str | None]:
        """Where this spool's records go: ``{"db": URL or None, "config": path or None}``
        (None: the default of the environment that drains, without the variables)."""
        if self._target is None:
            try:
                with open(self._file(TARGET), "rb") as fh:
                    value = loads(fh.read())
                self._target = {"db": value.get("db"), "config": value.get("config")}
            except (OSError, ValueError, AttributeError):
                self._target = {"db": None, "config": None}
        return self._target

    def load_config(self, environ: Mapping[str, str] | None = None) -> Config:
        """The configuration of this spool's target (``NETSKY_DATABASE_URL`` and
        ``NETSKY_CONFIG`` of the caller's environment do not redirect it)."""
        from .._config import load_config

        env = dict(os.environ if environ is None else environ)
        env.pop(ENV_URL, None)
        env.pop(ENV_CONFIG, None)
        target = self.target
        return load_config(db_url=target["db"], config_path=target["config"], environ=env)

    def _write_target(self) -> None:
        """Keep ``target.json`` (0600) naming this spool's target (rewritten when a
        password changed: the key hides it)."""
        wanted = dumps(self._target, sort_keys=True).encode("utf-8", "surrogatepass")
        path = self._file(TARGET)
        try:
            with open(path, "rb") as fh:
                if fh.read() == wanted:
                    return
        except FileNotFoundError:
            pass
        ensure_private_dir(self._dir)
        replace_private_file(path, wanted, sync=True)

    def try_drainer(self) -> bool:
        """Become the one drainer (non-blocking ``flock``); False if one is running."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: every caller drains
            return True
        ensure_private_dir(self._dir)
        fd = _open_private(self._file(DRAINER_LOCK), os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._drainer_fd = fd
        return True

    def wake_drainer(self) -> None:
        """Tell a lingering drainer (see :meth:`wait_for_records`) that a record waits:
        one byte into the folder's FIFO, never blocking; nothing when none reads it."""
        try:
            fd = os.open(self._file(WAKE), os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # no FIFO, or no drainer reading it (ENXIO)
            return
        try:
            os.write(fd, b"\0")
        except OSError:  # full: the drainer has wake-ups waiting already
            pass
        finally:
            os.close(fd)

    def open_wake(self) -> int | None:
        """The drainer's end of the wake FIFO (made 0600 if missing), or None where
        FIFOs are missing. Opened for reading and writing, so it never reads as closed."""
        import stat

        path = self._file(WAKE)
        try:
            if not stat.S_ISFIFO(os.lstat(path).st_mode):
                os.unlink(path)  # not a FIFO: made again as one
            return os.open(path, os.O_RDWR | os.O_NONBLOCK)  # an earlier drainer's FIFO
        except FileNotFoundError:
            pass
        except OSError:
            return None
        try:
            os.mkfifo(path, 0o600)
            return os.open(path, os.O_RDWR | os.O_NONBLOCK)
        except (AttributeError, OSError):  # no FIFOs here, or a race with another drainer
            return None

    def wait_for_records(self, wake: int, seconds: float) -> bool:
        """Wait up to ``seconds`` for a record (a hook's wake-up, or one found by a
        look every second for hooks that wake nobody); whether one waits."""
        import select
        import time

        deadline = time.monotonic() + seconds
        while True:
            if self.pending():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([wake], [], [], min(left, 1.0))
            if ready:
                try:
                    while os.read(wake, 4096):
                        pass
                except BlockingIOError:
                    pass

    def note_failure(self, failed: bool) -> None:
        """Remember (or forget) that the store was unreachable a moment ago."""
        marker = self._file(FAILED)
        if failed:
            ensure_private_dir(self._dir)
            os.close(_open_private(marker, os.O_WRONLY))
            os.utime(marker)
        else:
            try:
                os.unlink(marker)
            except FileNotFoundError:
                pass

    def backing_off(self) -> bool:
        """Whether a drainer failed to reach the store in the last few seconds."""
        import time

        try:
            return time.time() - os.stat(self._file(FAILED)).st_mtime < BACKOFF_S
        except FileNotFoundError:
            return False

    def drainer_running(self) -> bool | None:
        """Whether a drainer holds this spool's lock (a lingering one waits for hooks),
        read from ``/proc/locks`` without taking the lock: a hook that found it taken
        by a look like this one would leave its event to a drainer that is not there.
        None where that cannot be told (no ``/proc/locks``)."""
        try:
            st = os.stat(self._file(DRAINER_LOCK))
        except FileNotFoundError:
            return False
        except OSError:
            return None
        try:
            with open("/proc/locks", "rb") as fh:
                lines = fh.read().decode("ascii", "replace").splitlines()
        except OSError:
            return None
        # "1: FLOCK  ADVISORY  WRITE 1234 fe:00:2148840 0 EOF" ("->": waiting for it)
        inode = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
        return any(
            "FLOCK" in parts and "->" not in parts and inode in parts
            for parts in (line.split() for line in lines)
        )

    def release_drainer(self) -> None:
        """Stop being the drainer."""
        fd, self._drainer_fd = self._drainer_fd, None
        if fd is not None:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def forget_drainer(self) -> None:
        """Close this process's handle without unlocking (a forked child drains)."""
        fd, self._drainer_fd = self._drainer_fd, None
        if fd is not None:
            os.close(fd)

    @property
    def path(self) -> Path:
        return self.folder / SPOOL_NAME

    def _locked(self, exclusive: bool) -> _Locked:
        return _Locked(self._dir, exclusive)

    def append(self, record: dict[str, Any]) -> None:
        """Durably append one record (one line, fsync'd), whole or not at all.

        Raises ``OSError`` when the record could not be written (the file is then
        as it was before).
        """
        line = (dumps(record, compact=True, ensure_ascii=False) + "\n").encode(
            "utf-8", "surrogatepass"
        )
        if self._target is not None:
            self._write_target()
        append_whole(self._dir, SPOOL_NAME, line)

    def pending(self) -> bool:
        """Whether anything waits to be replayed (cheap: a stat and a listing, no lock)."""
        try:
            if os.stat(self._file(SPOOL_NAME)).st_size > 0:
                return True
        except FileNotFoundError:
            pass
        try:
            return any(name.endswith(".replay") for name in os.listdir(self._dir))
        except FileNotFoundError:
            return False

    def _claim(self) -> list[Path]:
        """Move the live spool aside (under the exclusive lock); all files to replay."""
        with self._locked(exclusive=True):
            if self.path.exists() and self.path.stat().st_size > 0:
                target = self.folder / f"hooks.{os.getpid()}.{os.urandom(4).hex()}.replay"
                os.replace(self.path, target)
        return sorted(p for p in self.folder.iterdir() if p.suffix == ".replay")

    def replay(self, store_records: Callable[[list[dict[str, Any]]], object]) -> tuple[int, int]:
        """Hand every spooled record to ``store_records`` (in batches per file) and
        delete the files that were stored. Returns (records, rejected lines).

        If ``store_records`` raises, the file is kept for the next replay.
        """
        if not self.folder.is_dir():
            return 0, 0
        done = rejected = 0
        for path in self._claim():
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue  # another drainer took it
            records, bad = parse_spool(data)
            if records:
                store_records(records)
            if bad:
                rejected_path = self.rejected_path
                append_whole(rejected_path.parent, rejected_path.name, b"\n".join(bad) + b"\n")
            path.unlink(missing_ok=True)
            done += len(records)
            rejected += len(bad)
        return done, rejected

    def count(self) -> int:
        """Records waiting (lines in the spool and in unfinished replays)."""
        total = 0
        if not self.folder.is_dir():
            return 0
        for p in self.folder.iterdir():
            if p.name == SPOOL_NAME or p.suffix == ".replay":
                try:
                    total += sum(1 for line in p.read_bytes().splitlines() if line.strip())
                except OSError:
                    pass
        return total


def spool_root() -> str:
    """The folder holding every target's spool (``$NETSKY_HOME/spool`` when set)."""
    return os.path.join(state_path(), "spool")


def hook_spool(
    db: str | None = None,
    config: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    root: str | os.PathLike[str] | None = None,
) -> Spool:
    """The spool of the store ``netsky hook --db DB --config CONFIG`` writes to."""
    base = os.fspath(root) if root is not None else spool_root()
    target = hook_target(db, config, environ)
    return Spool(
        os.path.join(base, target_key(target)), target, rejected=os.path.join(base, REJECTED)
    )


def migrate_legacy(root: str | os.PathLike[str] | None = None) -> Spool | None:
    """Move records spooled before targets existed into the default target's spool
    (under the old spool's lock, so an old hook still appending is not cut off).
    Returns that spool when anything moved."""
    base = os.fspath(root) if root is not None else spool_root()
    try:
        names = [n for n in os.listdir(base) if n == SPOOL_NAME or n.endswith(".replay")]
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not names:
        return None
    target: dict[str, str | None] = {"db": None, "config": None}
    spool = Spool(
        os.path.join(base, target_key(target)), target, rejected=os.path.join(base, REJECTED)
    )
    moved = False
    with _Locked(base, exclusive=True):
        spool._write_target()
        for name in names:
            source = os.path.join(base, name)
            try:
                if os.stat(source).st_size == 0:
                    os.unlink(source)
                    continue
                os.replace(source, spool._file(f"legacy.{os.urandom(4).hex()}.{name}.replay"))
                moved = True
            except FileNotFoundError:
                continue
    return spool if moved else None


def all_spools(root: str | os.PathLike[str] | None = None) -> list[Spool]:
    """Every target's spool (after moving old records to the default target)."""
    base = os.fspath(root) if root is not None else spool_root()
    migrate_legacy(base)
    try:
        names = sorted(n for n in os.listdir(base) if n.startswith(TARGET_PREFIX))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [
        Spool(os.path.join(base, n), rejected=os.path.join(base, REJECTED))
        for n in names
        if os.path.isdir(os.path.join(base, n))
    ]
