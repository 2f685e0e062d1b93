"""``open_analytics``: a DuckDB connection with netsky's views over any store."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from .._config import Config
from .._records import _utc
from ..storage.protocol import Storage
from ._errors import QueryError, TimezoneError, one_line
from ._load import DEFAULT_BATCH_SIZE, LoadInfo, load_tables
from ._lockdown import scratch_connection
from ._mirror import mirror_enabled
from ._tables import RAW_SCHEMA, TableRequest, base_columns
from ._views import VIEWS, needed_views, render_view

__all__ = [
    "LOAD_LOG",
    "connect",
    "default_timezone",
    "new_connection",
    "open_analytics",
    "set_timezone",
    "timezone_of",
    "views_in_sql",
]

LOAD_LOG = f"{RAW_SCHEMA}.loads"
"""Table recording how each base table was loaded (table, method, rows, seconds)."""

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def views_in_sql(sql: str) -> frozenset[str]:
    """The netsky views ``sql`` refers to (a superset when unsure).

    A syntax error is raised as :class:`QueryError` before anything is loaded.
    """
    import duckdb

    try:
        # binding names table functions' files and extensions: on a locked-down scratch
        # connection (DuckDB's default one would download an extension it lacks)
        names: Iterable[str] = scratch_connection().get_table_names(sql)
    except duckdb.ParserException as exc:
        raise QueryError(one_line(exc)) from None
    except duckdb.Error:
        # parsed but not bindable without the tables: fall back to every word
        names = _WORD.findall(sql)
    return frozenset(n.lower() for n in names) & frozenset(VIEWS)


def default_timezone() -> str:
    """The time zone DuckDB (and netsky's day boundaries) use by default: the system's."""
    import duckdb

    with duckdb.connect() as con:
        return timezone_of(con)


def set_timezone(connection: Any, timezone: str) -> None:
    """``SET TimeZone`` after checking the name (IANA, e.g. ``Europe/Berlin``, ``UTC``)."""
    import duckdb

    from ._timezones import zone

    zone(timezone)  # raises TimezoneError for an unknown name
    try:
        connection.execute(f"SET TimeZone = '{timezone}'")
    except duckdb.Error as exc:
        raise TimezoneError(
            f"DuckDB does not know the time zone {timezone!r}: {one_line(exc)}"
        ) from None


def _time(value: datetime | None, name: str) -> datetime | None:
    return None if value is None else _utc(value, name).astimezone(UTC)


def open_analytics(
    store: Storage | str | None = None,
    tables: Iterable[str] | str | None = None,
    *,
    sql: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    timezone: str | None = None,
    config: Config | None = None,
    native: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
    threads: int | None = None,
    prune: bool = False,
    allow_files: bool = True,
    mirror: bool | str | os.PathLike[str] = True,
) -> Any:
    """A DuckDB connection with netsky's views over ``store``.

    ``store`` is a ``Storage``, a URL (opened read-only where the backend supports it,
    and closed once loaded) or None for the configured store. ``tables`` names the
    views wanted (``events``, ``sessions``, ``api_requests``, ``tool_calls``,
    ``file_changes``, ``prompts``, ``daily_usage``, ``positions``); with ``sql``, the
    views that SQL refers to are added. Without either, every view is created. Only the
    base data those views need is read.

    ``since <= timestamp < until`` limits the events loaded (sessions: those active in
    the range). ``timezone`` (IANA name) sets DuckDB's ``TimeZone``, which decides
    calendar days (``daily_usage``) and how timestamps print; default: the system zone.

    ``prune=True`` (with ``sql``: what ``netsky query`` does) reads only the ``events``
    columns and event types DuckDB's plan of ``sql`` uses; the other columns read as
    NULL, so such a connection is only good for that statement. ``allow_files=False``
    keeps that planning from touching files the SQL names (see :func:`lock_down`, which
    the caller applies to the connection itself once it is open).

    ``mirror``: read the events from the store's analytics mirror (brought up to date
    first; see ``netsky_core.analytics.Mirror``), a path for a mirror file of one's
    own, False to load them from the store. ``NETSKY_MIRROR=0`` and ``[analytics]
    mirror = false`` turn it off too.

    The data is copied into an in-memory DuckDB database (the mirror is attached
    read-only): nothing done with the connection reaches the store. Fetching ``TIMESTAMPTZ`` values as Python objects
    with ``fetchall()`` needs DuckDB's optional ``pytz`` dependency; Arrow results
    (``.arrow()``, ``to_arrow_table()``) and :func:`run_query` do not.
    """
    since = _time(since, "since")
    until = _time(until, "until")
    if isinstance(tables, str):
        tables = [tables]
    if tables is None and sql is None:
        wanted: set[str] = set(VIEWS)
    else:
        wanted = {t.lower() for t in (tables or ())}
        unknown = wanted - set(VIEWS)
        if unknown:
            raise QueryError(
                f"unknown view(s): {', '.join(sorted(unknown))}",
                hint=f"views: {', '.join(VIEWS)}",
            )
        if sql is not None:
            wanted |= views_in_sql(sql)
    order = needed_views(sorted(wanted))
    request = _request(order, since, until)
    with _opened(store, config) as storage:
        pruned = False
        # the mirror holds every column: pruning would only cost the planning
        if (
            prune
            and sql is not None
            and "events" in request
            and _mirror_of(storage, config, mirror) is None
        ):
            from ._prune import plan_event_needs

            needs = plan_event_needs(sql, order, since, until, allow_files=allow_files)
            if needs is not None:
                columns, types = needs
                request = TableRequest(
                    request, since=since, until=until, event_types=types, event_columns=columns
                )
                pruned = True
        connection = connect(
            storage,
            request,
            timezone=timezone,
            config=config,
            native=native,
            batch_size=batch_size,
            threads=threads,
            mirror=mirror,
        )
    try:
        if pruned:
            _null_fill_events(connection)
        for name in order:
            connection.execute(render_view(VIEWS[name], since, until))
    except BaseException:
        connection.close()
        raise
    return connection


def connect(
    store: Storage | str | None,
    request: TableRequest,
    *,
    timezone: str | None = None,
    config: Config | None = None,
    native: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
    threads: int | None = None,
    connection: Any = None,
    mirror: bool | str | os.PathLike[str] = True,
) -> Any:
    """A DuckDB connection holding the base tables ``request`` asks for (no views).

    With ``connection`` (from :func:`new_connection`), that one is filled. ``mirror``:
    as for :func:`open_analytics`.
    """
    if connection is None:
        connection = new_connection(timezone, threads=threads)
    try:
        with _opened(store, config) as storage:
            infos: list[LoadInfo] = []
            target = _mirror_of(storage, config, mirror) if "events" in request else None
            if target is not None:
                info = _from_mirror(storage, connection, target, native)
                if info is not None:
                    infos.append(info)
                    request = TableRequest(set(request) - {"events"})
            infos += load_tables(storage, connection, request, native=native, batch_size=batch_size)
        _log(connection, infos)
    except BaseException:
        connection.close()
        raise
    return connection


def _mirror_of(storage: Storage, config: Config | None, mirror: Any) -> Any:
    """The mirror the events will come from (unless it fails), or None."""
    from ._mirror import mirror_for

    if mirror is False or not mirror_enabled(config):
        return None
    return mirror_for(storage, None if mirror is True else mirror)


def _from_mirror(storage: Storage, connection: Any, target: Any, native: bool) -> LoadInfo | None:
    """Put ``netsky_raw.events`` over ``storage``'s mirror ``target``, refreshed; None
    (after a one-line warning when something went wrong) to load the events from the
    store."""
    import duckdb

    from ._mirror import MirrorUnavailable

    started = time.perf_counter()
    progress = _progress if sys.stderr.isatty() else None
    try:
        with target.locked():
            done, rows = target.attach_current(
                storage, connection, native=native, progress=progress
            )
    except (MirrorUnavailable, OSError, duckdb.Error) as exc:
        sys.stderr.write(
            f"netsky: warning: the analytics mirror {target.path} is not used "
            f"({one_line(exc)}); reading the events from the store\n"
        )
        return None
    return LoadInfo("events", f"mirror:{done.action}", rows, time.perf_counter() - started)


def _progress(message: str) -> None:
    sys.stderr.write(f"netsky: {message}\n")
    sys.stderr.flush()


def new_connection(timezone: str | None = None, *, threads: int | None = None) -> Any:
    """An empty in-memory DuckDB connection (no extension downloads), in ``timezone``."""
    import duckdb

    config_options: dict[str, Any] = {"autoinstall_known_extensions": False}
    if threads is not None:
        config_options["threads"] = threads
    connection = duckdb.connect(":memory:", config=config_options)
    try:
        if timezone is not None:
            set_timezone(connection, timezone)
    except BaseException:
        connection.close()
        raise
    return connection


def timezone_of(connection: Any) -> str:
    """The connection's ``TimeZone`` setting."""
    return str(connection.execute("SELECT current_setting('TimeZone')").fetchall()[0][0])


def _null_fill_events(connection: Any) -> None:
    """Put the full ``events`` column set over a table loaded with some columns only."""
    present = {
        row[0]
        for row in connection.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = 'events'",
            [RAW_SCHEMA],
        ).fetchall()
    }
    columns = base_columns("events")
    if all(c.name in present for c in columns):
        return
    kind = connection.execute(
        "SELECT table_type FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = 'events'",
        [RAW_SCHEMA],
    ).fetchall()[0][0]
    what = "VIEW" if "VIEW" in str(kind).upper() else "TABLE"
    connection.execute(f"ALTER {what} {RAW_SCHEMA}.events RENAME TO events_loaded")
    select = ", ".join(
        f'"{c.name}"' if c.name in present else f'CAST(NULL AS {c.duckdb_type}) AS "{c.name}"'
        for c in columns
    )
    connection.execute(
        f"CREATE VIEW {RAW_SCHEMA}.events AS SELECT {select} FROM {RAW_SCHEMA}.events_loaded"
    )


def _request(order: list[str], since: datetime | None, until: datetime | None) -> TableRequest:
    bases = {VIEWS[name].base for name in order}
    types: set[str] | None = set()
    columns: set[str] | None = set()
    for name in order:
        view = VIEWS[name]
        if view.base != "events":
            continue
        if view.event_types is None or types is None:
            types = None
        else:
            types |= view.event_types
        if view.event_columns is None or columns is None:
            columns = None
        else:
            columns |= set(view.event_columns)
    if "events" not in bases:
        types = columns = None
    return TableRequest(bases, since=since, until=until, event_types=types, event_columns=columns)


def _log(connection: Any, infos: list[LoadInfo]) -> None:
    connection.execute(
        f"CREATE TABLE {LOAD_LOG} (table_name VARCHAR, method VARCHAR, "
        "row_count BIGINT, seconds DOUBLE)"
    )
    for info in infos:
        connection.execute(
            f"INSERT INTO {LOAD_LOG} VALUES (?, ?, ?, ?)",
            [info.table, info.method, info.rows, info.seconds],
        )


@contextmanager
def _opened(store: Storage | str | None, config: Config | None) -> Iterator[Storage]:
    if store is not None and not isinstance(store, str):
        yield store
        return
    storage = open_read_only(store, config)
    try:
        yield storage
    finally:
        storage.close()


def open_read_only(url: str | None, config: Config | None = None) -> Storage:
    """Open ``url`` read-only where the backend supports it (see ``open_for_reading``)."""
    from .._open import open_for_reading

    return open_for_reading(url, config=config)
