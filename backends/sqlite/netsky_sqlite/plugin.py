"""Entry point of the SQLite backend (group ``netsky``, name ``sqlite``)."""

from __future__ import annotations

from typing import Any

from netsky_core.plugins.hookspecs import hookimpl

from .duckdb_path import netsky_duckdb_attach  # noqa: F401  (the DuckDB native analytics path)


def _open(url: str, **options: Any) -> Any:
    from ._engine import open_sqlite

    return open_sqlite(url, **options)


@hookimpl
def netsky_register_backends(register: Any) -> None:
    register(
        name="sqlite",
        schemes=["sqlite"],
        factory=_open,
        description="Embedded SQLite file (the default store); safe for many concurrent hook processes",
    )
