"""Export a view or a query's result as Parquet or CSV (DuckDB writes the file).

    >>> from netsky_core.analytics.export import export
    >>> export("sqlite:////home/me/netsky.db", "events.parquet")            # the events view
    >>> export(store, "usage.csv", format="csv", view="daily_usage", timezone="UTC")
    >>> export(store, "-", format="csv", query="SELECT model, sum(cost_usd) FROM api_requests GROUP BY 1")

Parquet keeps the column types (``TIMESTAMPTZ`` as UTC instants, lists and structs
nested); CSV has a header line, timestamps with their UTC offset in the export's time
zone, and empty fields for NULL. A file appears only once it is complete (written
beside the target, then renamed); ``-`` or a binary stream receives the bytes.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import attrs

from .._config import Config
from ..storage.protocol import Storage
from ._connect import open_analytics
from ._errors import AnalyticsError, QueryError, one_line
from ._lockdown import lock_down
from ._query import check_read_only
from ._views import VIEWS

__all__ = ["EXPORT_FORMATS", "ExportResult", "export"]

EXPORT_FORMATS = ("parquet", "csv")

_COPY_OPTIONS = {
    "parquet": "FORMAT parquet, COMPRESSION zstd, USE_TMP_FILE false",
    "csv": "FORMAT csv, HEADER true, USE_TMP_FILE false",
}  # no DuckDB temporary file: netsky writes a temporary file of its own, the one allowed


@attrs.frozen
class ExportResult:
    """What was written: rows, format, where (None for a stream) and which columns."""

    rows: int
    format: str
    output: str | None
    columns: tuple[str, ...]


def export(
    source: Storage | str | None,
    output: str | Path | IO[bytes],
    *,
    format: str = "parquet",
    view: str | None = None,
    query: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    timezone: str | None = None,
    config: Config | None = None,
    connection: Any = None,
) -> ExportResult:
    """Write ``view`` (default ``events``) or the result of read-only ``query`` to
    ``output`` (a path, ``-`` for standard output, or a binary stream).

    ``source`` is a Storage, a URL or None (the configured store); pass an open
    analytics ``connection`` instead to reuse one. ``since`` / ``until`` limit the
    events loaded; ``timezone`` decides days (``daily_usage``) and CSV timestamp offsets.
    """
    fmt = format.lower()
    if fmt not in _COPY_OPTIONS:
        raise AnalyticsError(
            f"unknown export format {format!r}", hint=f"formats: {', '.join(EXPORT_FORMATS)}"
        )
    if view is not None and query is not None:
        raise AnalyticsError("give a view or a query, not both")
    if query is None:
        name = (view or "events").lower()
        if name not in VIEWS:
            raise AnalyticsError(f"unknown view {view!r}", hint=f"views: {', '.join(VIEWS)}")
        sql = f'SELECT * FROM "{name}"'
    else:
        sql = query.strip().rstrip(";")
    own = connection is None
    if own:
        import duckdb

        with duckdb.connect() as scratch:
            statements = check_read_only(scratch, sql)
        if len(statements) != 1:
            raise QueryError("export takes exactly one SELECT statement")
        connection = open_analytics(
            source,
            sql=sql,
            since=since,
            until=until,
            timezone=timezone,
            config=config,
            prune=True,
            allow_files=False,
        )
    else:
        statements = check_read_only(connection, sql)
        if len(statements) != 1:
            raise QueryError("export takes exactly one SELECT statement")
    try:
        return _write(connection, sql, output, fmt, lock=own)
    finally:
        if own:
            connection.close()


def _write(
    connection: Any, sql: str, output: str | Path | IO[bytes], fmt: str, *, lock: bool
) -> ExportResult:
    import duckdb

    target = Path(output) if isinstance(output, (str, Path)) and str(output) != "-" else None
    folder = Path(tempfile.gettempdir()) if target is None else target.parent
    if target is not None and not folder.is_dir():
        raise AnalyticsError(f"cannot write {target}: no folder {folder}")
    fd, tmp_name = tempfile.mkstemp(prefix=".netsky-export-", suffix=f".{fmt}", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if lock:  # a connection of our own: the SQL reads the store and writes only tmp
            lock_down(connection, allowed_paths=[str(tmp)])
        try:
            columns = tuple(connection.sql(sql).columns)
            quoted = str(tmp).replace("'", "''")
            rows = connection.execute(
                f"COPY ({sql}) TO '{quoted}' ({_COPY_OPTIONS[fmt]})"
            ).fetchall()[0][0]
        except duckdb.Error as exc:
            raise QueryError(one_line(exc)) from None
        os.chmod(tmp, 0o600)  # prompts and payloads: the owner's only, as JSONL exports
        if target is None:
            stream = (
                output
                if not isinstance(output, (str, Path)) and hasattr(output, "write")
                else sys.stdout.buffer
            )
            with tmp.open("rb") as fh:
                shutil.copyfileobj(fh, stream)
            stream.flush()
        else:
            os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return ExportResult(
        rows=int(rows), format=fmt, output=None if target is None else str(target), columns=columns
    )
