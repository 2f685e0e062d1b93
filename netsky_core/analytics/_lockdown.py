"""Keeping SQL on a DuckDB connection to the data loaded into it."""

from __future__ import annotations

from typing import Any

__all__ = ["lock_down"]


def lock_down(connection: Any, *, allow_files: bool = False) -> None:
    """Keep SQL on ``connection`` to the data loaded into it: no extension is loaded or
    installed, no file or network read unless ``allow_files``; the configuration is then
    locked, so SQL cannot undo it (``SET`` fails). Apply it after the store is loaded."""
    settings = ["autoload_known_extensions = false", "autoinstall_known_extensions = false"]
    if not allow_files:
        settings.append("enable_external_access = false")
    for setting in [*settings, "lock_configuration = true"]:
        connection.execute(f"SET {setting}")
