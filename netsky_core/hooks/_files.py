"""Settings files written safely: errors, backups, atomic replacement."""

import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .._errors import NetskyError
from .._paths import replace_private_file

SCOPES: tuple[str, ...] = ("user", "project", "local")
BACKUP_MARK = ".netsky-backup-"
_ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_EXECUTABLE_NAMES = frozenset({"netsky", "netsky.exe"})


class SettingsFileError(NetskyError):
    """A settings file netsky will not edit (unreadable or malformed); it is left as is."""


# -- writing ------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteResult:
    """Where a plan was written, and the backup of the previous file (if any)."""

    path: Path
    written: bool
    created: bool
    backup: Path | None
    backup_reused: bool = False


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _backup(target: Path, raw: bytes, now: datetime) -> tuple[Path, bool]:
    """Copy of the current file beside it (an identical earlier backup is reused),
    then netsky's other backups of that file are removed: one backup is kept, the
    file as it was before netsky's latest change."""
    existing = sorted(target.parent.glob(f"{_glob_escape(target.name)}{BACKUP_MARK}*"))
    backup: Path | None = None
    for old in reversed(existing):
        try:
            if old.is_file() and old.read_bytes() == raw:
                backup = old
                break
        except OSError:
            continue
    reused = backup is not None
    if backup is None:
        stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        backup = target.with_name(f"{target.name}{BACKUP_MARK}{stamp}")
        n = 1
        while backup.exists():
            backup = target.with_name(f"{target.name}{BACKUP_MARK}{stamp}-{n}")
            n += 1
        shutil.copy2(target, backup)
    for old in existing:
        if old != backup and old.is_file() and not old.is_symlink():
            try:
                old.unlink()
            except OSError:
                pass
    return backup, reused


def _glob_escape(name: str) -> str:
    """``name`` with glob wildcards escaped."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def _atomic_write(target: Path, text: str, mode: int) -> None:
    replace_private_file(target, text.encode("utf-8"), sync=True, mode=mode)
    try:
        dir_fd = os.open(target.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
