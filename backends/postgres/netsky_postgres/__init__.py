"""PostgreSQL netsky store: ``postgresql://user:pass@host:5432/db?schema=netsky``.

Names are imported lazily so that importing the package (and its plugin module)
does not import psycopg.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["PostgresEngine", "open_postgres"]

if TYPE_CHECKING:
    from ._engine import PostgresEngine, open_postgres


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import _engine

        return getattr(_engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
