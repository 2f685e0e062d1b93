"""PostgreSQL netsky store: ``postgresql://user:pass@host:5432/db?schema=netsky``.

Names are imported lazily so that importing the package (and its plugin module)
does not import psycopg.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["PostgresStorage", "open_postgres"]

if TYPE_CHECKING:
    from ._store import PostgresStorage, open_postgres


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import _store

        return getattr(_store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
