"""SQLite netsky store: the embedded default (``sqlite:///path.db``).

Names are imported on first use, so ``netsky_sqlite.live`` (the statusline's reader)
does not pay for the engine.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._engine import SqliteEngine, open_sqlite
    from ._url import sqlite_path

__all__ = ["SqliteEngine", "open_sqlite", "sqlite_path"]

_EXPORTS = {"SqliteEngine": "._engine", "open_sqlite": "._engine", "sqlite_path": "._url"}


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
