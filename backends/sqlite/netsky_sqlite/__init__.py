"""SQLite netsky store: the embedded default (``sqlite:///path.db``)."""

from ._store import SqliteStorage, open_sqlite
from ._url import sqlite_path

__all__ = ["SqliteStorage", "open_sqlite", "sqlite_path"]
