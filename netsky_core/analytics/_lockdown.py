"""Keeping SQL on a DuckDB connection to the data loaded into it."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

__all__ = ["lock_down", "scratch_connection"]


def lock_down(
    connection: Any, *, allow_files: bool = False, allowed_paths: Sequence[str] = ()
) -> None:
    """Keep SQL on ``connection`` to the data loaded into it: no extension is loaded or
    installed, no file or network read unless ``allow_files`` (``allowed_paths`` stay
    usable: a file netsky itself writes); the configuration is then locked, so SQL
    cannot undo it (``SET`` fails). Apply it after the store is loaded."""
    settings = ["autoload_known_extensions = false", "autoinstall_known_extensions = false"]
    if allowed_paths:
        quoted = ", ".join("'" + path.replace("'", "''") + "'" for path in allowed_paths)
        settings.append(f"allowed_paths = [{quoted}]")
    if not allow_files:
        settings.append("enable_external_access = false")
    for setting in [*settings, "lock_configuration = true"]:
        connection.execute(f"SET {setting}")


_scratch = threading.local()


def scratch_connection() -> Any:
    """This thread's locked-down, empty in-memory DuckDB connection, for parsing and
    binding SQL before anything is loaded (one per thread: each new DuckDB database
    costs about 15 ms)."""
    connection = getattr(_scratch, "connection", None)
    if connection is None:
        import duckdb

        connection = _scratch.connection = duckdb.connect()
        lock_down(connection)
    return connection
