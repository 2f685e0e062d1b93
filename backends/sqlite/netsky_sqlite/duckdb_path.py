"""Native analytics path: SQLite columns straight into DuckDB, without Event objects.

DuckDB's own SQLite reader is an extension downloaded on first use, which an offline
machine cannot do. This path reads the store file with its own read-only apsw
connection, in one read transaction (a consistent snapshot even while hooks write),
fetches only the requested columns and rows (``event_type`` / time range filters run in
SQLite, on its indexes), turns each chunk of rows into Arrow arrays column by column
(integer microseconds become ``TIMESTAMPTZ`` by a zero-copy cast) and lets DuckDB read
the chunks as a stream. Memory on the Python side stays bounded by one chunk.

Registered by the SQLite plugin module (``netsky_sqlite.plugin``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from netsky_core.hookspecs import hookimpl

__all__ = ["attach_sqlite", "netsky_duckdb_attach"]

CHUNK_ROWS = 50_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_STREAM = "netsky_sqlite_stream"


@hookimpl
def netsky_duckdb_attach(storage: Any, connection: Any, tables: Any) -> bool | None:
    """Load the requested base tables of a SQLite store into ``connection``."""
    from ._store import SqliteStorage

    if not isinstance(storage, SqliteStorage):
        return None
    attach_sqlite(storage.path, connection, tables)
    return True


def _us(value: datetime) -> int:
    return (value - _EPOCH) // _US


def attach_sqlite(
    path: str | Path, connection: Any, tables: Iterable[str], *, chunk_rows: int = CHUNK_ROWS
) -> dict[str, int]:
    """Create each of ``tables`` (unqualified, in the current schema) from the SQLite
    store at ``path``; returns the rows loaded per table.

    ``tables`` may carry ``since``, ``until``, ``event_types`` and ``columns(table)``
    (see ``netsky_core.analytics.TableRequest``); a plain set of names loads everything.
    """
    import apsw

    from ._schema import APPLICATION_ID

    names = sorted(set(tables))
    db = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        db.set_busy_timeout(10_000)
        db.execute("BEGIN")
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        if app_id != APPLICATION_ID:
            raise ValueError(f"{path} is not a netsky SQLite store")
        counts = {}
        for table in names:
            counts[table] = _load(db, connection, table, tables, chunk_rows)
        db.execute("COMMIT")
    finally:
        db.close()
    return counts


def _load(db: Any, connection: Any, table: str, request: Any, chunk_rows: int) -> int:
    import pyarrow as pa

    from netsky_core.analytics import arrow_schema

    columns_of = getattr(request, "columns", None)
    columns = tuple(columns_of(table)) if callable(columns_of) else None
    schema = arrow_schema(table, columns)
    names = [f.name for f in schema]
    where: list[str] = []
    params: list[Any] = []
    if table == "events":
        types = getattr(request, "event_types", None)
        if types is not None:
            types = sorted(types)
            if not types:
                where.append("0")
            else:
                where.append(f"event_type IN ({', '.join('?' * len(types))})")
                params.extend(types)
        since = getattr(request, "since", None)
        until = getattr(request, "until", None)
        if since is not None:
            where.append("timestamp >= ?")
            params.append(_us(since))
        if until is not None:
            where.append("timestamp < ?")
            params.append(_us(until))
    sql = "SELECT " + ", ".join(f'"{n}"' for n in names) + f' FROM "{table}"'
    if where:
        sql += " WHERE " + " AND ".join(where)
    cursor = db.execute(sql, params)
    converters = [_converter(f.type) for f in schema]
    rows_loaded = 0

    def batches() -> Iterator[Any]:
        nonlocal rows_loaded
        while True:
            rows = list(itertools.islice(cursor, chunk_rows))
            if not rows:
                return
            rows_loaded += len(rows)
            arrays = [convert(column) for convert, column in zip(converters, zip(*rows))]
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    reader = pa.RecordBatchReader.from_batches(schema, batches())
    connection.register(_STREAM, reader)
    try:
        connection.execute(f'CREATE TABLE "{table}" AS SELECT * FROM {_STREAM}')
    finally:
        connection.unregister(_STREAM)
    return rows_loaded


def _converter(arrow_type: Any) -> Any:
    import pyarrow as pa

    if pa.types.is_timestamp(arrow_type):

        def timestamps(values: tuple[Any, ...]) -> Any:
            return pa.array(values, type=pa.int64()).cast(arrow_type)

        return timestamps
    if pa.types.is_boolean(arrow_type):

        def booleans(values: tuple[Any, ...]) -> Any:
            return pa.array(values, type=pa.int64()).cast(pa.bool_())

        return booleans

    def plain(values: tuple[Any, ...]) -> Any:
        return pa.array(values, type=arrow_type)

    return plain
