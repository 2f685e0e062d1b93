"""The base tables analytics reads from a store, and what a loader is asked for.

Three base tables mirror the records one to one: ``events`` (every ``Event`` field plus
``id``), ``sessions`` (every ``Session`` field) and ``positions`` (every
``FilePosition`` field). Column types follow the record fields: text ``VARCHAR``,
counts and ids ``BIGINT``, ``cost_usd`` ``DOUBLE``, ``is_sidechain`` ``BOOLEAN`` and
every timestamp ``TIMESTAMPTZ`` (UTC instants, microsecond precision). ``None`` is
``NULL``, never 0.

A loader (the generic Storage-protocol path or a backend's ``netsky_duckdb_attach``
hook) gets a :class:`TableRequest`: the base table names, plus the time range, event
types and event columns the query needs. A loader may honour those (load less) or
ignore them; the views filter again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from .._records import Event, FilePosition, Session

__all__ = [
    "BASE_TABLES",
    "RAW_SCHEMA",
    "Column",
    "TableRequest",
    "arrow_schema",
    "base_columns",
    "create_table",
    "create_table_from_batches",
    "request_schema",
]

RAW_SCHEMA = "netsky_raw"
"""The DuckDB schema holding the loaded base tables (the views live in ``main``)."""

BASE_TABLES: tuple[str, ...] = ("events", "sessions", "positions")

_DUCKDB_TYPES = {
    "text": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
}


@attrs.frozen
class Column:
    """One base-table column: its name and kind (text, int, float, bool, timestamp)."""

    name: str
    kind: str

    @property
    def duckdb_type(self) -> str:
        return _DUCKDB_TYPES[self.kind]

    def arrow_type(self) -> Any:
        import pyarrow as pa

        return {
            "text": pa.string(),
            "int": pa.int64(),
            "float": pa.float64(),
            "bool": pa.bool_(),
            "timestamp": pa.timestamp("us", tz="UTC"),
        }[self.kind]


def _kind(annotation: Any) -> str:
    text = str(annotation)
    if "datetime" in text:
        return "timestamp"
    if "bool" in text:
        return "bool"
    if "float" in text:
        return "float"
    if "int" in text.replace("SessionStatus", ""):
        return "int"
    return "text"


def _columns(record: type) -> tuple[Column, ...]:
    return tuple(Column(f.name, _kind(f.type)) for f in attrs.fields(record))


_EVENT_COLUMNS = (Column("id", "int"), *(c for c in _columns(Event) if c.name != "id"))
_COLUMNS: dict[str, tuple[Column, ...]] = {
    "events": _EVENT_COLUMNS,
    "sessions": _columns(Session),
    "positions": _columns(FilePosition),
}


def base_columns(table: str) -> tuple[Column, ...]:
    """The columns of base table ``table`` (``events``, ``sessions``, ``positions``)."""
    try:
        return _COLUMNS[table]
    except KeyError:
        raise ValueError(f"unknown base table {table!r}; known: {', '.join(BASE_TABLES)}") from None


def arrow_schema(table: str, columns: Iterable[str] | None = None) -> Any:
    """The Arrow schema of base table ``table`` (only ``columns``, in table order, if given)."""
    import pyarrow as pa

    wanted = None if columns is None else frozenset(columns)
    return pa.schema(
        [
            pa.field(c.name, c.arrow_type())
            for c in base_columns(table)
            if wanted is None or c.name in wanted
        ]
    )


def request_schema(table: str, request: Iterable[str]) -> Any:
    """The Arrow schema of the columns of ``table`` that ``request`` asks for: a
    :class:`TableRequest`'s ``columns(table)``, or every column for a plain set of names."""
    columns_of = getattr(request, "columns", None)
    return arrow_schema(table, tuple(columns_of(table)) if callable(columns_of) else None)


def create_table(connection: Any, name: str, data: Any) -> None:
    """``CREATE TABLE name`` in DuckDB from ``data`` (an Arrow table or a record-batch
    reader, streamed). ``name`` is used as written: quote it as needed."""
    stream = "netsky_arrow_stream"
    connection.register(stream, data)
    try:
        connection.execute(f"CREATE TABLE {name} AS SELECT * FROM {stream}")
    finally:
        connection.unregister(stream)


def create_table_from_batches(connection: Any, name: str, schema: Any, batches: Any) -> None:
    """``CREATE TABLE name`` from an iterator of Arrow record batches of ``schema``.

    An exception raised while producing a batch (a store error, Ctrl-C) is raised as
    itself: DuckDB would report it as its own error, with the traceback in the message.
    """
    import pyarrow as pa

    failure: list[BaseException] = []

    def guarded() -> Any:
        try:
            yield from batches
        except BaseException as exc:
            failure.append(exc)
            raise

    try:
        create_table(connection, name, pa.RecordBatchReader.from_batches(schema, guarded()))
    except BaseException:
        if failure:
            raise failure[0] from None
        raise


class TableRequest(frozenset[str]):
    """The base tables a query needs (a ``frozenset`` of names) and what of them.

    * ``since`` / ``until``: only events with ``since <= timestamp < until`` are needed
      (``None``: unbounded);
    * ``event_types``: only events of these types are needed (``None``: all);
    * ``event_columns``: only these ``events`` columns are read (``None``: all);
    * ``after_id``: only events with ``id > after_id`` are needed (``None``: all).

    Sessions and positions are always requested whole (the views filter sessions by
    the time range).
    """

    since: datetime | None
    until: datetime | None
    event_types: frozenset[str] | None
    event_columns: tuple[str, ...] | None
    after_id: int | None

    def __new__(
        cls,
        names: Iterable[str] = (),
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        event_types: Iterable[str] | None = None,
        event_columns: Iterable[str] | None = None,
        after_id: int | None = None,
    ) -> TableRequest:
        names = frozenset(names)
        unknown = names - frozenset(BASE_TABLES)
        if unknown:
            raise ValueError(f"unknown base table(s): {', '.join(sorted(unknown))}")
        self = super().__new__(cls, names)
        self.since = since
        self.until = until
        self.event_types = None if event_types is None else frozenset(event_types)
        self.after_id = after_id
        if event_columns is None:
            self.event_columns = None
        else:
            wanted = frozenset(event_columns) | {"id", "timestamp", "event_type"}
            self.event_columns = tuple(c.name for c in _EVENT_COLUMNS if c.name in wanted)
        return self

    def columns(self, table: str) -> tuple[str, ...]:
        """The columns of ``table`` this request needs, in table order."""
        if table == "events" and self.event_columns is not None:
            return self.event_columns
        return tuple(c.name for c in base_columns(table))

    def __repr__(self) -> str:
        return (
            f"TableRequest({sorted(self)}, since={self.since!r}, until={self.until!r}, "
            f"event_types={None if self.event_types is None else sorted(self.event_types)}, "
            f"event_columns={self.event_columns}, after_id={self.after_id})"
        )

    def __reduce__(self) -> Any:
        return (
            _rebuild,
            (
                tuple(self),
                self.since,
                self.until,
                self.event_types,
                self.event_columns,
                self.after_id,
            ),
        )


def _rebuild(
    names: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
    event_types: frozenset[str] | None,
    event_columns: tuple[str, ...] | None,
    after_id: int | None = None,
) -> TableRequest:
    return TableRequest(
        names,
        since=since,
        until=until,
        event_types=event_types,
        event_columns=event_columns,
        after_id=after_id,
    )
