"""Project usage on PostgreSQL: the ``project_usage`` table (schema version 4), its
backfill from the stored responses (the core's rule), and the reader and writer
primitives (mixed into ``PgReader`` / ``PgWriter``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from netsky_core import ProjectUsage
from netsky_core.backend import PROJECT_BACKFILL_COLUMNS, PROJECT_USAGE_SUMS, project_backfill

from ._target import Target

__all__ = ["MIGRATION", "ProjectUsageReads", "ProjectUsageWrites"]

COLUMNS = ("project", "branch", "start", *PROJECT_USAGE_SUMS)
_COLS = ", ".join(COLUMNS)


def _add_sql(table: str) -> str:
    # Rows are shared by sessions and machines, so writers add their deltas atomically
    # (rows in key order: concurrent writers lock them in the same order).
    return (
        f"INSERT INTO {table} ({_COLS}) VALUES ({', '.join(['%s'] * len(COLUMNS))}) "
        "ON CONFLICT (project, branch, start) DO UPDATE SET "
        + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in PROJECT_USAGE_SUMS)
    )


def _drop_empty_sql(table: str) -> str:
    return (
        f"DELETE FROM {table} WHERE (project, branch, start) IN "
        "(SELECT * FROM unnest(%s::text[], %s::text[], %s::timestamptz[])) AND requests <= 0"
    )


def _rows(deltas: Mapping[tuple[Any, ...], Sequence[int]]) -> list[tuple[Any, ...]]:
    """Rows in key order (None project / branch as '')."""
    return sorted((k[0] or "", k[1] or "", k[2], *d) for k, d in deltas.items())


def _backfill(conn: Any, target: Target) -> None:
    """Fill the table from the stored responses, by the core's rule."""
    columns = ", ".join(f'"{c}"' for c in PROJECT_BACKFILL_COLUMNS)
    rows = conn.execute(
        f"SELECT {columns} FROM {target.table('events')} WHERE event_type = 'ApiRequest'", ()
    ).fetchall()
    values = _rows(project_backfill(rows))
    if values:
        with conn.cursor() as cur:
            cur.executemany(_add_sql(target.table("project_usage")), values)


MIGRATION: list[Any] = [
    """
    CREATE TABLE {s}.project_usage (
        project text COLLATE "C" NOT NULL,
        branch text COLLATE "C" NOT NULL,
        start timestamptz NOT NULL,
        requests bigint NOT NULL,
        priced_requests bigint NOT NULL,
        tokens bigint NOT NULL,
        cost_picousd bigint NOT NULL,
        PRIMARY KEY (project, branch, start)
    )
    """,
    "CREATE INDEX project_usage_start ON {s}.project_usage (start)",
    _backfill,
]
"""The steps from version 3 to 4."""


class ProjectUsageReads:
    target: Target
    if TYPE_CHECKING:

        def _all(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]: ...

    def project_usage(self, since: datetime | None) -> list[ProjectUsage]:
        table = self.target.table("project_usage")
        where, params = ("", []) if since is None else (" WHERE start >= %s", [since])
        sql = f"SELECT {_COLS} FROM {table}{where} ORDER BY start, project, branch"
        rows = self._all(sql, params)
        return [
            ProjectUsage(
                project=p or None,
                branch=b or None,
                start=start,
                requests=int(n),
                priced_requests=int(priced),
                tokens=int(tokens),
                cost_picousd=int(cost),
            )
            for p, b, start, n, priced, tokens, cost in rows
        ]


class ProjectUsageWrites:
    target: Target
    _queue: list[Any]
    if TYPE_CHECKING:

        def _queue_many(self, sql: str, rows: list[Any], raw: bool = False) -> None: ...

    def add_project_usage(self, deltas: Mapping[tuple[Any, ...], Sequence[int]]) -> None:
        rows = _rows(deltas)
        if not rows:
            return
        table = self.target.table("project_usage")
        self._queue_many(_add_sql(table), rows)
        if any(r[3] < 0 for r in rows):
            sql = _drop_empty_sql(table)
            params = tuple([r[i] for r in rows] for i in range(3))
            self._queue.append(lambda c: c.execute(sql, params))

    def delete_project_usage(self, before: datetime) -> None:
        sql = f"DELETE FROM {self.target.table('project_usage')} WHERE start < %s"
        self._queue.append(lambda c: c.execute(sql, (before,)))
