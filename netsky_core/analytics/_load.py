"""Loading a store's base tables into DuckDB: a backend's native path, else the generic one.

Native path: each plugin implementing ``netsky_duckdb_attach(storage, connection,
tables)`` is asked in pluggy's call order. ``tables`` is a :class:`TableRequest`. While
the hook runs, the connection's current schema is ``netsky_raw``: the hook creates a
table or view named after each requested base table it can load there (unqualified
``CREATE TABLE events AS ...``), with at least the requested columns, named and typed
as the record fields (see ``_tables``: timestamps ``TIMESTAMPTZ``), and returns True.
It may load more rows than asked (the views filter again) and leave tables out: those
take the generic path. A hook that raises, or whose tables miss columns, is reported
with a warning and the generic path is used instead.

Generic path (every backend, third-party ones included): events stream through
``Storage.query`` pages (``iter_events``, by id) into Arrow record batches that DuckDB
reads as a stream, so memory stays bounded by one batch on the Python side; sessions
come from ``list_sessions`` and positions from ``query_transcript_positions``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable, Iterator
from operator import attrgetter
from typing import Any

import attrs

from .._queries import EventQuery, SessionQuery
from ..storage.protocol import Storage, iter_events
from ._tables import (
    RAW_SCHEMA,
    TableRequest,
    arrow_schema,
    base_columns,
    create_table_from_batches,
)

__all__ = ["LoadInfo", "load_tables"]

DEFAULT_BATCH_SIZE = 10_000
_NOT_CREATED = "not created"


@attrs.frozen
class LoadInfo:
    """How one base table was loaded: ``method`` is ``generic`` or ``native:<plugin>``."""

    table: str
    method: str
    rows: int
    seconds: float


def load_tables(
    storage: Storage,
    connection: Any,
    request: TableRequest,
    *,
    native: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> list[LoadInfo]:
    """Create ``netsky_raw.<table>`` for each table in ``request``; report how."""
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    if not request:
        return []
    infos: list[LoadInfo] = []
    missing = set(request)
    failures: list[str] = []
    if native:
        started = time.perf_counter()
        plugin = _native(storage, connection, request, failures)
        if plugin is not None:
            seconds = time.perf_counter() - started
            bad = _invalid_tables(connection, request)
            for table in sorted(bad):
                if bad[table] == _NOT_CREATED:  # left to the generic path
                    continue
                warnings.warn(
                    f"netsky: plugin {plugin!r} gave DuckDB an unusable {table!r} table "
                    f"({bad[table]}); reading it through the Storage protocol instead",
                    RuntimeWarning,
                    stacklevel=3,
                )
                _drop(connection, table)
            for table in sorted(set(request) - set(bad)):
                rows = connection.execute(
                    f'SELECT count(*) FROM {RAW_SCHEMA}."{table}"'
                ).fetchall()[0][0]
                infos.append(LoadInfo(table, f"native:{plugin}", int(rows), seconds))
                missing.discard(table)
    for table in sorted(missing):
        started = time.perf_counter()
        rows = _generic(storage, connection, request, table, batch_size)
        infos.append(LoadInfo(table, "generic", rows, time.perf_counter() - started))
    # a plugin's failure is worth a warning only once the generic path did better (when
    # the store itself is broken, the generic path's error says it alone)
    for message in failures:
        warnings.warn(message, RuntimeWarning, stacklevel=2)
    return infos


# -- native -------------------------------------------------------------------------


def _native(
    storage: Storage, connection: Any, request: TableRequest, failures: list[str]
) -> str | None:
    """Ask each ``netsky_duckdb_attach`` implementation in turn; the plugin that did it.
    Each failure's warning is added to ``failures``."""
    from ..plugins._registry import default_registry, plugin_failure

    pm = default_registry().plugin_manager
    impls = list(reversed(pm.hook.netsky_duckdb_attach.get_hookimpls()))
    if not impls:
        return None
    args = {"storage": storage, "connection": connection, "tables": request}
    for impl in impls:
        connection.execute(f"USE {RAW_SCHEMA}")
        try:
            result = impl.function(**{name: args[name] for name in impl.argnames})
        except BaseException as exc:  # a plugin's sys.exit() too, never the user's Ctrl-C
            if not plugin_failure(exc):
                raise
            failures.append(
                f"netsky: plugin {impl.plugin_name!r} failed to attach its store to DuckDB "
                f"({type(exc).__name__}: {exc}); reading it through the Storage protocol"
            )
            result = None
        finally:
            connection.execute("USE main")
        if result:
            return str(impl.plugin_name)
        for table in request:
            _drop(connection, table)
    return None


def _invalid_tables(connection: Any, request: TableRequest) -> dict[str, str]:
    rows = connection.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = ?",
        [RAW_SCHEMA],
    ).fetchall()
    present: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        present.setdefault(table, {})[column] = str(data_type).upper()
    bad: dict[str, str] = {}
    for table in request:
        columns = present.get(table)
        if columns is None:
            bad[table] = _NOT_CREATED
            continue
        kinds = {c.name: c for c in base_columns(table)}
        lacking = [name for name in request.columns(table) if name not in columns]
        if lacking:
            bad[table] = "missing columns " + ", ".join(lacking)
            continue
        wrong = [
            name
            for name in request.columns(table)
            if kinds[name].kind == "timestamp" and columns[name] != "TIMESTAMP WITH TIME ZONE"
        ]
        if wrong:
            bad[table] = "not TIMESTAMPTZ: " + ", ".join(wrong)
    return bad


def _drop(connection: Any, table: str) -> None:
    rows = connection.execute(
        "SELECT table_type FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?",
        [RAW_SCHEMA, table],
    ).fetchall()
    if rows:
        row = rows[0]
        kind = "VIEW" if "VIEW" in str(row[0]).upper() else "TABLE"
        connection.execute(f'DROP {kind} {RAW_SCHEMA}."{table}"')


# -- generic ------------------------------------------------------------------------


def _generic(
    storage: Storage, connection: Any, request: TableRequest, table: str, batch_size: int
) -> int:
    columns = request.columns(table)
    schema = arrow_schema(table, columns)
    if table == "events":
        batches = _event_batches(storage, request, schema, batch_size)
    elif table == "sessions":
        batches = _record_batches(storage.list_sessions(SessionQuery()), schema, batch_size)
    else:
        batches = _record_batches(storage.query_transcript_positions(), schema, batch_size)
    counted = _Counted(batches)
    create_table_from_batches(connection, f'{RAW_SCHEMA}."{table}"', schema, iter(counted))
    return counted.rows


class _Counted:
    def __init__(self, batches: Iterator[Any]) -> None:
        self._batches = batches
        self.rows = 0

    def __iter__(self) -> Iterator[Any]:
        for batch in self._batches:
            self.rows += batch.num_rows
            yield batch


def _event_batches(
    storage: Storage, request: TableRequest, schema: Any, batch_size: int
) -> Iterator[Any]:
    query = EventQuery().with_time_range(request.since, request.until)
    if request.after_id is not None:
        query = query.with_after_id(request.after_id)
    if request.event_types is not None:
        query = query.with_event_types(sorted(request.event_types))
    for events in iter_events(storage, query, batch_size=batch_size):
        yield _to_batch(events, schema)


def _record_batches(records: Iterable[Any], schema: Any, batch_size: int) -> Iterator[Any]:
    chunk: list[Any] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= batch_size:
            yield _to_batch(chunk, schema)
            chunk = []
    if chunk:
        yield _to_batch(chunk, schema)


def _to_batch(records: list[Any], schema: Any) -> Any:
    import pyarrow as pa

    arrays = []
    for field in schema:
        get = attrgetter(field.name)
        values = [get(r) for r in records]
        if field.name == "status":  # SessionStatus (a StrEnum) -> its value
            values = [None if v is None else str(v) for v in values]
        arrays.append(pa.array(values, type=field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
