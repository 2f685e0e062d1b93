"""Entry point of the PostgreSQL backend (group ``netsky``, names ``postgresql`` and
``postgres``). Importing it is cheap: psycopg is imported when a store is opened."""

from __future__ import annotations

from typing import Any

from netsky_core.plugins.hookspecs import hookimpl

from .duckdb_path import netsky_duckdb_attach  # noqa: F401  (the DuckDB native analytics path)


def _open(url: str, **options: Any) -> Any:
    from ._engine import open_postgres

    return open_postgres(url, **options)


@hookimpl
def netsky_register_backends(register: Any) -> None:
    register(
        name="postgres",
        schemes=["postgresql", "postgres"],
        factory=_open,
        description="PostgreSQL server shared by many machines (postgresql://user@host/db)",
    )
