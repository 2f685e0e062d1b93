"""Entry point of the DuckDB backend (group ``netsky``, name ``duckdb``).

Cheap to import: duckdb itself is imported only when a ``duckdb:`` URL is opened.
"""

from __future__ import annotations

from netsky_core.plugins.hookspecs import backend

netsky_register_backends = backend(
    "duckdb",
    ["duckdb"],
    "netsky_duckdb._engine:open_duckdb",
    "One DuckDB database file, written by one process at a time (an example)",
)
