"""Which ``events`` columns and event types one SQL statement reads, from DuckDB's plan.

The statement is planned (``EXPLAIN``, not run) against empty base tables with the
real schema and the real views, with statistics-based pruning off (empty tables would
otherwise let the optimizer drop every scan). Every scan of ``netsky_raw.events`` in the
physical plan lists the columns it projects and the filters pushed into it: their union
is what the statement needs; when every scan filters ``event_type`` to a list of
values, only those event types are needed. Anything unexpected gives up (None): the
caller then loads what the views declare.

A binding error (unknown column, wrong function) surfaces here, before anything is
loaded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson

from ._errors import QueryError, one_line
from ._lockdown import lock_down
from ._tables import BASE_TABLES, RAW_SCHEMA, base_columns
from ._views import VIEWS, render_view

__all__ = ["EventNeeds", "plan_event_needs"]

_EQ = re.compile(r"^\(?event_type = '((?:[^']|'')*)'\)?$")
_IN = re.compile(r"^\(?event_type IN \(((?:'(?:[^']|'')*'(?:, )?)+)\)\)?$")
_ITEM = re.compile(r"'((?:[^']|'')*)'")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EVENT_COLUMNS = frozenset(c.name for c in base_columns("events"))

EventNeeds = tuple[frozenset[str], frozenset[str] | None]
"""(columns read, event types read or None for all)."""


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in value.split("\n") if v.strip()]
    return [str(v) for v in value]


def _types(filters: list[str]) -> frozenset[str] | None:
    for text in filters:
        text = text.removeprefix("optional: ").strip()
        match = _EQ.match(text)
        if match:
            return frozenset({match[1].replace("''", "'")})
        match = _IN.match(text)
        if match:
            return frozenset(m.replace("''", "'") for m in _ITEM.findall(match[1]))
    return None


def plan_event_needs(
    sql: str,
    views: Iterable[str],
    since: datetime | None,
    until: datetime | None,
    *,
    allow_files: bool = True,
) -> EventNeeds | None:
    """What the single statement ``sql`` reads of ``events`` (None: could not tell).

    Planning binds table functions (``read_csv`` reads a file to learn its columns):
    without ``allow_files`` the scratch connection is locked down first.
    """
    import duckdb

    with duckdb.connect() as scratch:
        scratch.execute("SET disabled_optimizers = 'statistics_propagation'")
        scratch.execute(f"CREATE SCHEMA {RAW_SCHEMA}")
        for table in BASE_TABLES:
            ddl = ", ".join(f'"{c.name}" {c.duckdb_type}' for c in base_columns(table))
            scratch.execute(f"CREATE TABLE {RAW_SCHEMA}.{table} ({ddl})")
        scratch.execute(
            f"CREATE TABLE {RAW_SCHEMA}.loads (table_name VARCHAR, method VARCHAR, "
            "row_count BIGINT, seconds DOUBLE)"
        )
        for name in views:
            scratch.execute(render_view(VIEWS[name], since, until))
        lock_down(scratch, allow_files=allow_files)
        statements = scratch.extract_statements(sql)
        if len(statements) != 1:
            return None
        try:
            rows = scratch.execute("EXPLAIN (FORMAT json) " + statements[0].query).fetchall()
        except duckdb.BinderException as exc:
            raise QueryError(one_line(exc)) from None
        except duckdb.Error:
            return None
    columns: set[str] = set()
    types: set[str] | None = set()
    scans = 0
    try:
        nodes = [n for row in rows for n in orjson.loads(row[1])]
    except (orjson.JSONDecodeError, IndexError, TypeError):
        return None
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            return None
        stack.extend(node.get("children") or [])
        extra = node.get("extra_info") or {}
        if not isinstance(extra, dict):
            continue
        table = str(extra.get("Table", ""))
        if not table.endswith(f"{RAW_SCHEMA}.events"):
            continue
        scans += 1
        for name in _as_list(extra.get("Projections")):
            name = name.strip().strip('"')
            if name not in _EVENT_COLUMNS:
                return None
            columns.add(name)
        filters = _as_list(extra.get("Filters"))
        for text in filters:
            columns.update(w for w in _WORD.findall(text) if w in _EVENT_COLUMNS)
        scan_types = _types(filters)
        if scan_types is None or types is None:
            types = None
        else:
            types |= scan_types
    if scans == 0:
        return frozenset(), frozenset()
    return frozenset(columns), None if types is None else frozenset(types)
