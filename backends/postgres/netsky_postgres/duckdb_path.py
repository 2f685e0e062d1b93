"""Native analytics path: the ``events`` table streamed by COPY into DuckDB.

``COPY (SELECT ...) TO STDOUT (FORMAT csv)`` of only the requested columns and rows
(event types and time range filtered by PostgreSQL, on its indexes) feeds pyarrow's
streaming CSV reader, whose record batches DuckDB reads as a stream: no ``Event``
objects are built and memory stays bounded by a few batches. Timestamps travel as
integer microseconds since the epoch and booleans as 0/1, so nothing is lost; text
fields travel CSV-quoted, with NULL as an unquoted empty field and the empty string as
a quoted one, so the two stay apart.

Only ``events`` is loaded here: sessions and positions are small and their rows need
the backend's own conversion, so they take the generic path. The COPY runs on a
connection of the store's own pool, which for ``netsky query`` is opened read-only.

Registered by the PostgreSQL plugin module (``netsky_postgres.plugin``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from netsky_core.plugins.hookspecs import hookimpl

__all__ = ["netsky_duckdb_attach"]

_BLOCK_BYTES = 1 << 22


@hookimpl
def netsky_duckdb_attach(storage: Any, connection: Any, tables: Any) -> bool | None:
    """Create ``events`` in ``connection`` from a PostgreSQL store, when it is asked for."""
    from ._engine import PostgresEngine

    engine = getattr(storage, "engine", None)
    if not isinstance(engine, PostgresEngine) or "events" not in tables:
        return None
    engine.run(lambda conn: _copy_events(conn, engine.target, connection, tables))
    return True


def _select(target: Any, schema: Any, request: Any) -> tuple[str, list[Any]]:
    """The SELECT of the requested columns and rows, with its parameters."""
    from ._target import quote_ident

    exprs = []
    for field in schema:
        name = quote_ident(field.name)
        kind = str(field.type)
        if kind.startswith("timestamp"):
            exprs.append(f"(EXTRACT(EPOCH FROM {name}) * 1000000)::bigint")
        elif kind == "bool":
            exprs.append(f"{name}::int")
        else:
            exprs.append(name)
    where: list[str] = []
    params: list[Any] = []
    types = getattr(request, "event_types", None)
    if types is not None:
        where.append("event_type = ANY(%s)")
        params.append(sorted(types))
    for bound, op in (("since", ">="), ("until", "<")):
        value = getattr(request, bound, None)
        if value is not None:
            where.append(f'"timestamp" {op} %s')
            params.append(value)
    after_id = getattr(request, "after_id", None)
    if after_id is not None:
        where.append("id > %s")
        params.append(int(after_id))
    sql = f"SELECT {', '.join(exprs)} FROM {target.table('events')}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql, params


class _CopyFile:
    """A read-only file object over the chunks of a running COPY (for pyarrow)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        parts = [self._buffer] if self._buffer else []
        have = len(self._buffer)
        while size < 0 or have < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            parts.append(chunk)
            have += len(chunk)
        data = b"".join(parts)
        if 0 <= size < len(data):
            data, self._buffer = data[:size], data[size:]
        else:
            self._buffer = b""
        return data

    def close(self) -> None:
        self.closed = True


def _copy_events(conn: Any, target: Any, connection: Any, request: Any) -> None:
    import psycopg
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from netsky_core.analytics import create_table, request_schema

    schema = request_schema("events", request)
    # CSV carries timestamps and booleans as integers; cast after parsing.
    wire = pa.schema(
        [
            pa.field(
                f.name, pa.int64() if str(f.type).startswith(("timestamp", "bool")) else f.type
            )
            for f in schema
        ]
    )
    sql, params = _select(target, schema, request)
    query = psycopg.ClientCursor(conn).mogrify(sql, params)
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY ({query}) TO STDOUT (FORMAT csv, ENCODING 'UTF8')") as copy,
    ):
        chunks = (bytes(data) for data in copy)
        first = next(chunks, None)
        if first is None:  # no rows: an empty table of the right shape
            create_table(connection, "events", schema.empty_table())
            return
        reader = pacsv.open_csv(
            # pyarrow reads any object with read(); its stubs ask for IO
            _CopyFile(itertools.chain([first], chunks)),  # type: ignore[arg-type]
            read_options=pacsv.ReadOptions(
                column_names=[f.name for f in wire], block_size=_BLOCK_BYTES, use_threads=False
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=wire,
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                null_values=[""],
            ),
        )

        def batches() -> Iterator[Any]:
            for batch in reader:
                arrays = [
                    column if column.type == field.type else column.cast(field.type)
                    for column, field in zip(batch.columns, schema, strict=True)
                ]
                yield pa.RecordBatch.from_arrays(arrays, schema=schema)

        create_table(connection, "events", pa.RecordBatchReader.from_batches(schema, batches()))
