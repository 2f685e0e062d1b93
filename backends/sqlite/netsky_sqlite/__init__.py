"""SQLite netsky store: the embedded default (``sqlite:///path.db``)."""

from ._engine import SqliteEngine, open_sqlite
from ._url import sqlite_path

__all__ = ["SqliteEngine", "open_sqlite", "sqlite_path"]
