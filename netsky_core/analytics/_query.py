"""Running user SQL on an analytics connection: read-only check, results as values.

Only reading statements run (``SELECT`` in all its forms: ``WITH``, ``FROM``,
``VALUES``, ``DESCRIBE``, ``SHOW``, ``SUMMARIZE``; and ``EXPLAIN``). Everything else
(``INSERT``, ``CREATE``, ``COPY``, ``ATTACH``, ``INSTALL``, ...) is refused before
anything runs: the connection holds a copy, and a statement that could reach the
store itself (``ATTACH`` of its file) must never run.
"""

from __future__ import annotations

import base64
import decimal
import math
import uuid
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import attrs
import orjson

from ._errors import QueryError, ReadOnlyQueryError, one_line
from ._stream import BATCH_ROWS, QueryStream, stream_relation

__all__ = [
    "READ_STATEMENTS",
    "QueryResult",
    "batch_records",
    "batch_rows",
    "batch_text_rows",
    "check_read_only",
    "refuse_writes",
    "run_query",
    "stream_query",
]

READ_STATEMENTS = frozenset({"SELECT", "EXPLAIN"})


def check_read_only(connection: Any, sql: str) -> list[Any]:
    """The statements of ``sql``, after refusing any that is not a read."""
    import duckdb

    try:
        statements = connection.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(one_line(exc)) from None
    if not statements:
        raise QueryError("no SQL statement given")
    for statement in statements:
        kind = getattr(statement.type, "name", str(statement.type)).upper()
        if kind not in READ_STATEMENTS:
            raise ReadOnlyQueryError(
                f"{kind} statements are refused: analytics SQL is read-only",
                hint="use SELECT; queries run on a read-only copy of the store",
            )
    return list(statements)


def refuse_writes(sql: str) -> None:
    """Raise :class:`ReadOnlyQueryError` (or :class:`QueryError` for bad syntax) unless
    every statement of ``sql`` only reads; nothing is loaded or run."""
    from ._lockdown import scratch_connection

    check_read_only(scratch_connection(), sql)


def _arrow(result: Any) -> Any:
    to_table = getattr(result, "to_arrow_table", None)
    if to_table is None:  # duckdb < 1.4
        to_table = result.fetch_arrow_table
    return to_table()


@attrs.frozen
class QueryResult:
    """Columns, DuckDB type names and the Arrow table of a query's result."""

    columns: tuple[str, ...]
    types: tuple[str, ...]
    table: Any

    @property
    def row_count(self) -> int:
        return int(self.table.num_rows)

    def rows(self) -> list[tuple[Any, ...]]:
        """Rows of Python values (timestamps are aware datetimes in the connection's zone)."""
        return batch_rows(self.table)

    def records(self) -> list[dict[str, Any]]:
        """Rows as JSON-ready dicts (ISO timestamps, ints for integral decimals)."""
        return batch_records(self.table, self.columns)

    def text_rows(self, null: str = "NULL") -> list[list[str]]:
        """Rows as display strings (``null`` for NULL)."""
        return batch_text_rows(self.table, null)


def batch_rows(batch: Any) -> list[tuple[Any, ...]]:
    """The rows of an Arrow table or record batch as tuples of Python values."""
    columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
    return list(zip(*columns)) if columns else []


def batch_records(batch: Any, columns: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of ``batch`` as JSON-ready dicts keyed by ``columns``."""
    return [{name: json_value(v) for name, v in zip(columns, row)} for row in batch_rows(batch)]


def batch_text_rows(batch: Any, null: str = "NULL") -> list[list[str]]:
    """The rows of ``batch`` as display strings (``null`` for NULL)."""
    return [[text_value(v, null) for v in row] for row in batch_rows(batch)]


def run_query(connection: Any, sql: str) -> QueryResult:
    """Run read-only ``sql`` (several statements: the last one's result) on ``connection``.

    Ctrl-C while it runs raises ``KeyboardInterrupt`` (and stops the query).
    """
    import pyarrow as pa

    stream = stream_query(connection, sql)
    if stream is None:
        return QueryResult(columns=(), types=(), table=pa.table({}))
    batches = list(stream.batches)
    table = pa.Table.from_batches(batches) if batches else stream.schema.empty_table()
    return QueryResult(columns=stream.columns, types=stream.types, table=table)


def stream_query(connection: Any, sql: str, batch_rows: int = BATCH_ROWS) -> QueryStream | None:
    """Run read-only ``sql`` like :func:`run_query`, its result as a :class:`QueryStream`
    of Arrow record batches (None when the last statement returns nothing).

    Memory stays bounded by a few batches; close ``batches`` (or read it to the end)
    before closing the connection.
    """
    import duckdb

    statements = check_read_only(connection, sql)
    try:
        for statement in statements[:-1]:
            connection.execute(statement.query)
        relation = connection.sql(statements[-1].query)
    except duckdb.Error as exc:
        raise QueryError(one_line(exc)) from None
    if relation is None:
        return None
    return stream_relation(connection, relation, batch_rows)


# -- values ---------------------------------------------------------------------------


def _interval(value: Any) -> str:
    months, days, nanos = value.months, value.days, value.nanoseconds
    parts = []
    if months:
        years, months = divmod(months, 12)
        if years:
            parts.append(f"{years} year{'s' if abs(years) != 1 else ''}")
        if months:
            parts.append(f"{months} month{'s' if abs(months) != 1 else ''}")
    if days:
        parts.append(f"{days} day{'s' if abs(days) != 1 else ''}")
    if nanos or not parts:
        sign = "-" if nanos < 0 else ""
        micros = abs(nanos) // 1000
        seconds, micros = divmod(micros, 1_000_000)
        minutes, seconds = divmod(seconds, 60)
        hours, minutes = divmod(minutes, 60)
        clock = f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}"
        if micros:
            clock += f".{micros:06d}".rstrip("0")
        parts.append(clock)
    return " ".join(parts)


def _timestamp(value: datetime, sep: str) -> str:
    text = value.isoformat(sep=sep)
    if value.microsecond and "." in text:
        head, _, tail = text.partition(".")
        digits = tail[:6].rstrip("0")
        text = f"{head}.{digits}{tail[6:]}"
    return text


def json_value(value: Any) -> Any:
    """A result value as JSON data."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return _timestamp(value, "T")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        if value == value.to_integral_value():
            return int(value)
        return float(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "nanoseconds") and hasattr(value, "months"):  # a MonthDayNano tuple
        return _interval(value)
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], tuple) and len(value[0]) == 2 and _is_map(value):
            return {str(k): json_value(v) for k, v in value}
        return [json_value(v) for v in value]
    return str(value)


def _is_map(value: Sequence[Any]) -> bool:
    return all(isinstance(item, tuple) and len(item) == 2 for item in value)


def text_value(value: Any, null: str = "NULL") -> str:
    """A result value as display text."""
    if value is None:
        return null
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _timestamp(value, " ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(json_value(value))
    if isinstance(value, float):
        return repr(value)
    if hasattr(value, "nanoseconds") and hasattr(value, "months"):
        return _interval(value)
    if isinstance(value, (dict, list, tuple)):
        return orjson.dumps(json_value(value)).decode()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    return str(value)
