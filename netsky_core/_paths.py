"""Where netsky keeps its files, per user, without importing anything heavy.

``NETSKY_HOME`` puts everything (data, config, cache, logs) under one folder;
otherwise the platform's conventions apply (XDG on Linux, ``~/Library`` on macOS,
``%LOCALAPPDATA%`` on Windows).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["cache_dir", "config_dir", "data_dir", "ensure_private_dir", "state_dir"]

APP = "netsky"


def _home_override() -> Path | None:
    value = os.environ.get("NETSKY_HOME")
    return Path(value).expanduser() if value else None


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var)
    if value and os.path.isabs(value):
        return Path(value) / APP
    return Path.home() / fallback / APP


def data_dir() -> Path:
    """Default home of the SQLite store, the spool and the machine id."""
    home = _home_override()
    if home is not None:
        return home
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / APP
    return _xdg("XDG_DATA_HOME", ".local/share")


def config_dir() -> Path:
    home = _home_override()
    if home is not None:
        return home
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home())) / APP
    return _xdg("XDG_CONFIG_HOME", ".config")


def cache_dir() -> Path:
    home = _home_override()
    if home is not None:
        return home / "cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / APP
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / APP / "cache"
    return _xdg("XDG_CACHE_HOME", ".cache")


def state_dir() -> Path:
    """Logs and the hook spool."""
    home = _home_override()
    if home is not None:
        return home
    if sys.platform in ("darwin", "win32"):
        return data_dir()
    return _xdg("XDG_STATE_HOME", ".local/state")


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by the owner only (0700)."""
    if not path.is_dir():
        old = os.umask(0o077)
        try:
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        finally:
            os.umask(old)
    return path
