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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .._paths import ensure_private_dir, state_dir

__all__ = ["Spool", "default_spool"]

SPOOL_NAME = "hooks.jsonl"
LOCK_NAME = ".lock"
REJECTED = "rejected.jsonl"


def _lock(fd: int, exclusive: bool) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: appends are still line-atomic
        return
    fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)


def _open_private(path: Path, flags: int) -> int:
    return os.open(path, flags | os.O_CREAT, 0o600)


class Spool:
    """A spool folder (created 0700, files 0600)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def path(self) -> Path:
        return self.folder / SPOOL_NAME

    @contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        ensure_private_dir(self.folder)
        fd = _open_private(self.folder / LOCK_NAME, os.O_RDWR)
        try:
            _lock(fd, exclusive)
            yield
        finally:
            os.close(fd)

    def append(self, record: dict[str, Any]) -> None:
        """Durably append one record (one line, fsync'd)."""
        line = (json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n").encode(
            "utf-8", "surrogatepass"
        )
        with self._locked(exclusive=False):
            fd = _open_private(self.path, os.O_WRONLY | os.O_APPEND)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)

    def pending(self) -> bool:
        """Whether anything waits to be replayed (cheap: two stats, no lock)."""
        try:
            if self.path.stat().st_size > 0:
                return True
        except FileNotFoundError:
            pass
        try:
            return any(p.suffix == ".replay" for p in self.folder.iterdir())
        except FileNotFoundError:
            return False

    def _claim(self) -> list[Path]:
        """Move the live spool aside (under the exclusive lock); all files to replay."""
        with self._locked(exclusive=True):
            if self.path.exists() and self.path.stat().st_size > 0:
                target = self.folder / f"hooks.{os.getpid()}.{os.urandom(4).hex()}.replay"
                os.replace(self.path, target)
        return sorted(p for p in self.folder.iterdir() if p.suffix == ".replay")

    def replay(self, store_records: Callable[[list[dict[str, Any]]], None]) -> tuple[int, int]:
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


def default_spool(folder: str | None = None) -> Spool:
    return Spool(Path(folder).expanduser() if folder else state_dir() / "spool")
