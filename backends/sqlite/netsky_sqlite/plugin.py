"""Entry point of the SQLite backend (group ``netsky``, name ``sqlite``)."""

from __future__ import annotations

from typing import Any

import attrs

from netsky_core.plugins.hookspecs import backend

from .duckdb_path import netsky_duckdb_attach  # noqa: F401  (the DuckDB native analytics path)

SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


def _synchronous(_instance: Any, attribute: Any, value: str) -> None:
    if value.upper() not in SYNCHRONOUS:
        raise ValueError(f"'{attribute.name}' must be one of {', '.join(SYNCHRONOUS)}: {value!r}")


@attrs.frozen
class SqliteOptions:
    """What ``[storage.sqlite]`` may set (besides the standard options)."""

    synchronous: str = attrs.field(default="NORMAL", validator=_synchronous)
    busy_timeout_ms: int = attrs.field(default=5000, validator=attrs.validators.ge(0))
    lock_timeout_s: float = attrs.field(default=60.0, validator=attrs.validators.gt(0))


netsky_register_backends = backend(
    "sqlite",
    ["sqlite"],
    "netsky_sqlite._engine:open_sqlite",
    "Embedded SQLite file (the default store); safe for many concurrent hook processes",
    options=SqliteOptions,
)
