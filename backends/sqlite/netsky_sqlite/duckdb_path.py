"""Native analytics path: SQLite columns straight into DuckDB, without Event objects.

DuckDB's own SQLite reader is an extension downloaded on first use, which an offline
machine cannot do. This path reads the store file with its own read-only connection,
in one read transaction (a consistent snapshot even while hooks write), fetches only the
requested columns and rows (``event_type`` / time range filters run in SQLite, on its
indexes) and hands DuckDB a stream of Arrow record batches (integer microseconds become
``TIMESTAMPTZ`` by a zero-copy cast). Memory on the Python side stays bounded by one
batch.

Two readers, the faster one that is installed (``NETSKY_SQLITE_READER=apsw|adbc``
forces one):

* ``adbc``: the ADBC SQLite driver (``pip install adbc-driver-sqlite``) builds the Arrow
  batches in C. Its column types are inferred from the first rows, so a first row of
  the right types (a sentinel, dropped) leads every query; anything unexpected falls
  back to the apsw reader.
* ``apsw``: rows from apsw, turned into Arrow arrays column by column.

Registered by the SQLite plugin module (``netsky_sqlite.plugin``).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from netsky_core.plugins.hookspecs import hookimpl

__all__ = ["attach_sqlite", "netsky_duckdb_attach"]

CHUNK_ROWS = 50_000
WIDE_CHUNK_ROWS = 4_000
"""Rows per batch when ``payload`` (large text) is read: memory stays small."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_SENTINEL_INT = -(2**63)
_SENTINEL_TEXT = "\x01netsky"


@hookimpl
def netsky_duckdb_attach(storage: Any, connection: Any, tables: Any) -> bool | None:
    """Load the requested base tables of a SQLite store into ``connection``."""
    from ._engine import SqliteEngine

    engine = getattr(storage, "engine", None)
    if not isinstance(engine, SqliteEngine):
        return None
    attach_sqlite(engine.path, connection, tables)
    return True


def attach_sqlite(
    path: str | Path,
    connection: Any,
    tables: Iterable[str],
    *,
    chunk_rows: int = CHUNK_ROWS,
    reader: str | None = None,
) -> dict[str, int]:
    """Create each of ``tables`` (unqualified, in the current schema) from the SQLite
    store at ``path``; returns the rows loaded per table.

    ``tables`` may carry ``since``, ``until``, ``event_types`` and ``columns(table)``
    (see ``netsky_core.analytics.TableRequest``); a plain set of names loads everything.
    ``reader`` is ``adbc``, ``apsw`` or None (``NETSKY_SQLITE_READER``, else the
    fastest installed).
    """
    names = sorted(set(tables))
    choice = (reader or os.environ.get("NETSKY_SQLITE_READER") or "auto").lower()
    if choice in ("auto", "adbc"):
        try:
            return _attach_adbc(Path(path), connection, names, tables, chunk_rows)
        except ImportError:
            if choice == "adbc":
                raise
        except Exception:
            if choice == "adbc":
                raise
            for table in names:  # start again from a clean slate
                connection.execute(f'DROP TABLE IF EXISTS "{table}"')
    return _attach_apsw(Path(path), connection, names, tables, chunk_rows)


# -- the SQL ------------------------------------------------------------------------------


def _us(value: datetime) -> int:
    return (value - _EPOCH) // _US


def _select(table: str, request: Any, schema: Any) -> tuple[str, list[Any]]:
    """SELECT of the requested columns and rows (parameters as ``?``)."""
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
        after_id = getattr(request, "after_id", None)
        if after_id is not None:
            where.append("id > ?")
            params.append(int(after_id))
    sql = "SELECT " + ", ".join(f'"{f.name}"' for f in schema) + f' FROM "{table}"'
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql, params


def _chunk(schema: Any, chunk_rows: int) -> int:
    return min(chunk_rows, WIDE_CHUNK_ROWS) if "payload" in schema.names else chunk_rows


def _cast(array: Any, target: Any) -> Any:
    import pyarrow as pa

    if array.type == target:
        return array
    if pa.types.is_timestamp(target) and not pa.types.is_integer(array.type):
        array = array.cast(pa.int64())
    if pa.types.is_boolean(target) and not pa.types.is_integer(array.type):
        array = array.cast(pa.int64())
    return array.cast(target)


# -- apsw -----------------------------------------------------------------------------------


def _attach_apsw(
    path: Path, connection: Any, names: list[str], request: Any, chunk_rows: int
) -> dict[str, int]:
    import apsw

    from ._rows import one_row

    db = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        db.set_busy_timeout(10_000)
        db.execute("BEGIN")
        _check_store(one_row(db.execute("PRAGMA application_id"))[0], path)
        counts = {table: _load_apsw(db, connection, table, request, chunk_rows) for table in names}
        db.execute("COMMIT")
    finally:
        db.close()
    return counts


def _check_store(app_id: int, path: Path) -> None:
    from ._schema import APPLICATION_ID

    if app_id != APPLICATION_ID:
        raise ValueError(f"{path} is not a netsky SQLite store")


def _load_apsw(db: Any, connection: Any, table: str, request: Any, chunk_rows: int) -> int:
    import pyarrow as pa

    from netsky_core.analytics import create_table, request_schema

    schema = request_schema(table, request)
    chunk_rows = _chunk(schema, chunk_rows)
    sql, params = _select(table, request, schema)
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

    create_table(connection, f'"{table}"', pa.RecordBatchReader.from_batches(schema, batches()))
    return rows_loaded


def _converter(arrow_type: Any) -> Any:
    import pyarrow as pa

    if pa.types.is_timestamp(arrow_type) or pa.types.is_boolean(arrow_type):

        def via_int64(values: tuple[Any, ...]) -> Any:
            return pa.array(values, type=pa.int64()).cast(arrow_type)

        return via_int64

    def plain(values: tuple[Any, ...]) -> Any:
        return pa.array(values, type=arrow_type)

    return plain


# -- adbc -----------------------------------------------------------------------------------


def _literal(value: Any) -> str:
    if isinstance(value, int):
        return str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


def _sentinel(field: Any) -> str:
    import pyarrow as pa

    if pa.types.is_string(field.type):
        return _literal(_SENTINEL_TEXT)
    if pa.types.is_floating(field.type):
        return "0.5"
    return str(_SENTINEL_INT)


def _attach_adbc(
    path: Path, connection: Any, names: list[str], request: Any, chunk_rows: int
) -> dict[str, int]:
    import adbc_driver_sqlite.dbapi as adbc

    uri = path.resolve().as_uri() + "?mode=ro"
    with adbc.connect(uri) as db, db.cursor() as cur:
        cur.execute("PRAGMA application_id")
        _check_store(int(cur.fetchone()[0]), path)
        counts = {}
        for table in names:
            counts[table] = _load_adbc(cur, connection, table, request, chunk_rows)
        db.rollback()
    return counts


def _load_adbc(cur: Any, connection: Any, table: str, request: Any, chunk_rows: int) -> int:
    import pyarrow as pa

    from netsky_core.analytics import create_table, request_schema

    schema = request_schema(table, request)
    chunk_rows = _chunk(schema, chunk_rows)

    def inline(sql: str, params: list[Any]) -> str:
        for param in params:  # the (int / text) parameters as literals
            sql = sql.replace("?", _literal(param), 1)
        return sql

    sql, params = _select(table, request, schema)
    sql = inline(sql, params)
    # a first row of the right types steers the driver's type inference; dropped below
    sentinel = "SELECT " + ", ".join(_sentinel(f) for f in schema)
    cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(chunk_rows)})
    cur.execute(f"{sentinel} UNION ALL {sql}")
    reader = cur.fetch_record_batch()
    rows_loaded = 0

    def batches() -> Iterator[Any]:
        nonlocal rows_loaded
        first = True
        for batch in reader:
            if first:
                first = False
                marker = batch.column(0)[0].as_py() if batch.num_rows else None
                if marker not in (_SENTINEL_INT, _SENTINEL_TEXT):
                    raise ValueError("the ADBC reader lost the sentinel row")
                batch = batch.slice(1)
            if not batch.num_rows:
                continue
            rows_loaded += batch.num_rows
            arrays = [_cast(batch.column(i), f.type) for i, f in enumerate(schema)]
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    create_table(connection, f'"{table}"', pa.RecordBatchReader.from_batches(schema, batches()))
    return rows_loaded
