"""Where netsky keeps its files, per user, without importing anything heavy.

``NETSKY_HOME`` puts everything (data, config, cache, logs) under one folder;
otherwise the platform's conventions apply (XDG on Linux, ``~/Library`` on macOS,
``%LOCALAPPDATA%`` on Windows). The ``*_path`` functions return plain strings (the
hook's fast path avoids importing ``pathlib``); the others return ``Path`` objects.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "cache_dir",
    "config_dir",
    "data_dir",
    "ensure_private_dir",
    "replace_private_file",
    "state_dir",
    "state_path",
    "write_all",
]

APP = "netsky"


def _home() -> str:
    return os.path.expanduser("~")


def _override() -> str | None:
    value = os.environ.get("NETSKY_HOME")
    return os.path.expanduser(value) if value else None


def _xdg(var: str, fallback: str) -> str:
    value = os.environ.get(var)
    if value and os.path.isabs(value):
        return os.path.join(value, APP)
    return os.path.join(_home(), fallback, APP)


def _data() -> str:
    home = _override()
    if home is not None:
        return home
    if sys.platform == "darwin":
        return os.path.join(_home(), "Library", "Application Support", APP)
    if sys.platform == "win32":
        return os.path.join(os.environ.get("LOCALAPPDATA", _home()), APP)
    return _xdg("XDG_DATA_HOME", os.path.join(".local", "share"))


def _config() -> str:
    home = _override()
    if home is not None:
        return home
    if sys.platform == "darwin":
        return os.path.join(_home(), "Library", "Application Support", APP)
    if sys.platform == "win32":
        return os.path.join(os.environ.get("APPDATA", _home()), APP)
    return _xdg("XDG_CONFIG_HOME", ".config")


def _cache() -> str:
    home = _override()
    if home is not None:
        return os.path.join(home, "cache")
    if sys.platform == "darwin":
        return os.path.join(_home(), "Library", "Caches", APP)
    if sys.platform == "win32":
        return os.path.join(os.environ.get("LOCALAPPDATA", _home()), APP, "cache")
    return _xdg("XDG_CACHE_HOME", ".cache")


def state_path() -> str:
    """Logs and the hook spool live here (a string)."""
    home = _override()
    if home is not None:
        return home
    if sys.platform in ("darwin", "win32"):
        return _data()
    return _xdg("XDG_STATE_HOME", os.path.join(".local", "state"))


def _path(value: str) -> Path:
    from pathlib import Path

    return Path(value)


def data_dir() -> Path:
    """Default home of the SQLite store and the machine id."""
    return _path(_data())


def config_dir() -> Path:
    return _path(_config())


def cache_dir() -> Path:
    return _path(_cache())


def state_dir() -> Path:
    """Logs and the hook spool."""
    return _path(state_path())


def ensure_private_dir(path: str | os.PathLike[str]) -> str | os.PathLike[str]:
    """Create ``path`` (and parents) readable by the owner only (0700); returns it."""
    if not os.path.isdir(path):
        old = os.umask(0o077)
        try:
            os.makedirs(path, mode=0o700, exist_ok=True)
        finally:
            os.umask(old)
    return path


def write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written (a short count is not the end)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:  # pragma: no cover - regular files raise instead
            import errno

            raise OSError(errno.ENOSPC, f"no progress writing {fd}")
        view = view[n:]


def replace_private_file(
    path: str | os.PathLike[str], data: bytes, *, sync: bool = False, mode: int = 0o600
) -> None:
    """Make ``path`` hold ``data`` (with ``mode``) at once: written to a temporary file
    beside it, then renamed over it (``sync``: flushed to disk first). When that fails
    (a full disk) the temporary file is removed before the error is raised: a failure,
    repeated by every hook, leaves nothing behind, and ``path`` keeps what it held."""
    path = os.fspath(path)
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.netsky-tmp")
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(tmp, flags, 0o600)
        try:
            if mode != 0o600:
                os.fchmod(fd, mode)
            write_all(fd, data)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
