"""The hook spool: where hook events wait while the store is unreachable.

A hook that cannot store its event appends one JSON line (the raw hook input plus
what was known at receipt: time, id, machine, pid, git context) to
``<state dir>/spool/hooks.jsonl``, fsync'd, under a shared ``flock``. Draining takes
the exclusive lock just long enough to rename the file aside, so no appender can
write into a file that is being replayed; the renamed files (``*.replay``) are then
stored and deleted. Every spooled event keeps the id it was given at receipt, so
replaying twice (a crash mid-replay) stores each event once. Lines that cannot be
read go to ``rejected.jsonl`` for inspection instead of blocking the spool.
"""

from __future__ import annotations

import json
import os

from .._paths import ensure_private_dir, state_path

TYPE_CHECKING = False
if TYPE_CHECKING:  # the hook's fast path imports neither typing nor pathlib
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

__all__ = ["Spool", "default_spool"]

SPOOL_NAME = "hooks.jsonl"
LOCK_NAME = ".lock"
DRAINER_LOCK = ".drainer"
FAILED = ".store-unavailable"
BACKOFF_S = 10.0
REJECTED = "rejected.jsonl"


def _lock(fd: int, exclusive: bool) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: appends are still line-atomic
        return
    fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)


def _open_private(path: str | os.PathLike[str], flags: int) -> int:
    return os.open(path, flags | os.O_CREAT, 0o600)


class _Locked:
    """The spool's ``flock``, shared by appenders, exclusive for claiming."""

    def __init__(self, folder: str, exclusive: bool) -> None:
        self.folder, self.exclusive, self.fd = folder, exclusive, -1

    def __enter__(self) -> None:
        ensure_private_dir(self.folder)
        self.fd = _open_private(os.path.join(self.folder, LOCK_NAME), os.O_RDWR)
        _lock(self.fd, self.exclusive)

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


class Spool:
    """A spool folder (created 0700, files 0600)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self._dir = os.fspath(folder)
        self._drainer_fd: int | None = None

    @property
    def folder(self) -> Path:
        from pathlib import Path

        return Path(self._dir)

    def _file(self, name: str) -> str:
        return os.path.join(self._dir, name)

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
        """Durably append one record (one line, fsync'd)."""
        line = (json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n").encode(
            "utf-8", "surrogatepass"
        )
        with self._locked(exclusive=False):
            fd = _open_private(self._file(SPOOL_NAME), os.O_WRONLY | os.O_APPEND)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)

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
            records: list[dict[str, Any]] = []
            bad: list[bytes] = []
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue  # another drainer took it
            for raw in data.splitlines():
                if not raw.strip():
                    continue
                try:
                    value = json.loads(raw)
                except ValueError:
                    bad.append(raw)
                    continue
                if isinstance(value, dict) and value.get("v") == 1:
                    records.append(value)
                else:
                    bad.append(raw)
            if records:
                store_records(records)
            if bad:
                fd = _open_private(self.folder / REJECTED, os.O_WRONLY | os.O_APPEND)
                try:
                    os.write(fd, b"\n".join(bad) + b"\n")
                    os.fsync(fd)
                finally:
                    os.close(fd)
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


def default_spool() -> Spool:
    """The spool in the user state dir (``$NETSKY_HOME/spool`` when that is set)."""
    return Spool(os.path.join(state_path(), "spool"))
