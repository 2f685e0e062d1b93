"""Entry point of the PostgreSQL backend (group ``netsky``, names ``postgresql`` and
``postgres``). Importing it is cheap: psycopg is imported when a store is opened."""

from __future__ import annotations

from typing import Any

import attrs

from netsky_core.plugins.hookspecs import backend

from .duckdb_path import netsky_duckdb_attach  # noqa: F401  (the DuckDB native analytics path)


def _positive(_instance: Any, attribute: Any, value: float | None) -> None:
    if value is not None and not 0 < value < float("inf"):
        raise ValueError(f"'{attribute.name}' must be a positive number of seconds: {value!r}")


@attrs.frozen
class PostgresOptions:
    """What ``[storage.postgresql]`` may set (besides the standard options)."""

    pool_min: int = attrs.field(default=1, validator=attrs.validators.ge(0))
    pool_max: int = attrs.field(default=4, validator=attrs.validators.ge(1))
    connect_timeout: float | None = attrs.field(default=None, validator=_positive)
    pool_timeout: float | None = attrs.field(default=None, validator=_positive)


netsky_register_backends = backend(
    "postgres",
    ["postgresql", "postgres"],
    "netsky_postgres._engine:open_postgres",
    "PostgreSQL server shared by many machines (postgresql://user@host/db)",
    options=PostgresOptions,
)
