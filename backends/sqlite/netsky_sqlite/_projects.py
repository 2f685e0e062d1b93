"""Project usage on SQLite: the ``project_usage`` table (schema version 4), its
backfill from the stored responses (the core's rule), and the reader and writer
primitives (mixed into ``SqliteReader`` / ``SqliteWriter``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from netsky_core.backend import PROJECT_USAGE_SUMS

if TYPE_CHECKING:
    from netsky_core import ProjectUsage

__all__ = ["MIGRATION", "ProjectUsageReads", "ProjectUsageWrites"]

_TABLE = """
CREATE TABLE project_usage (
    project TEXT NOT NULL,
    branch TEXT NOT NULL,
    start INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    priced_requests INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    cost_picousd INTEGER NOT NULL,
    PRIMARY KEY (start, project, branch)
) WITHOUT ROWID"""
# Clustered by start: a budget check reads the rows since a period start in one range.
COLUMNS = ("project", "branch", "start", *PROJECT_USAGE_SUMS)
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM project_usage"
_ADD = (
    f"INSERT INTO project_usage ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    "ON CONFLICT (start, project, branch) DO UPDATE SET "
    + ", ".join(f"{c} = {c} + excluded.{c}" for c in PROJECT_USAGE_SUMS)
)
_DROP_EMPTY = (
    "DELETE FROM project_usage WHERE project = ? AND branch = ? AND start = ? AND requests <= 0"
)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def _us(value: datetime) -> int:
    return (value - _EPOCH) // _US


def _key_row(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """A key as stored (None project / branch as '')."""
    return (key[0] or "", key[1] or "", _us(key[2]))


def _backfill(conn: Any) -> None:
    """Fill the table from the stored responses, by the core's rule."""
    from netsky_core.backend import PROJECT_BACKFILL_COLUMNS, project_backfill

    from ._rows import dt

    rows = conn.execute(
        f"SELECT {', '.join(PROJECT_BACKFILL_COLUMNS)} FROM events WHERE event_type = 'ApiRequest'"
    )
    deltas = project_backfill((dt(r[0]), *r[1:]) for r in rows)
    conn.executemany(_ADD, [(*_key_row(k), *d) for k, d in deltas.items()])


MIGRATION: tuple[Any, ...] = (_TABLE, _backfill)
"""The steps from version 3 to 4."""


class ProjectUsageReads:
    c: Any

    def project_usage(self, since: datetime | None) -> list[ProjectUsage]:
        from netsky_core import ProjectUsage
        from netsky_core.backend import from_us

        where, args = ("", []) if since is None else (" WHERE start >= ?", [_us(since)])
        rows = self.c.execute(f"{_SELECT}{where} ORDER BY start, project, branch", args)
        return [
            ProjectUsage(
                project=p or None,
                branch=b or None,
                start=from_us(start),
                requests=n,
                priced_requests=priced,
                tokens=tokens,
                cost_picousd=cost,
            )
            for p, b, start, n, priced, tokens, cost in rows
        ]


class ProjectUsageWrites:
    c: Any

    def add_project_usage(self, deltas: Mapping[tuple[Any, ...], Sequence[int]]) -> None:
        keys = sorted(_key_row(k) for k in deltas)
        self.c.executemany(_ADD, [(*_key_row(k), *d) for k, d in deltas.items()])
        self.c.executemany(_DROP_EMPTY, keys)

    def delete_project_usage(self, before: datetime) -> None:
        self.c.execute("DELETE FROM project_usage WHERE start < ?", (_us(before),))
