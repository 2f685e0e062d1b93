"""Entry point of the DuckDB backend (group ``netsky``, name ``duckdb``).

Cheap to import: duckdb itself is imported only when a ``duckdb:`` URL is opened.
"""

from __future__ import annotations

from typing import Any

from netsky_core.plugins.hookspecs import hookimpl


def _open(url: str, **options: Any) -> Any:
    from ._engine import open_duckdb

    return open_duckdb(url, **options)


@hookimpl
def netsky_register_backends(register: Any) -> None:
    register(
        name="duckdb",
        schemes=["duckdb"],
        factory=_open,
        description="One DuckDB database file, written by one process at a time (an example)",
    )
