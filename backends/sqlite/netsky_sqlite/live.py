"""The SQLite store's live reader (entry point group ``netsky.live``): usage buckets
and session rows read with the standard ``sqlite3`` module only, so the statusline
and the hook's budget check stay fast however large the store grows.

``windows`` returns ``(start_us, requests, priced_requests, tokens, cost_picousd)``
per 15-minute window; ``project_totals(starts)`` per project and branch the sums
``(requests, priced_requests, tokens, cost_picousd)`` since each start; ``buckets`` the
usage buckets themselves (the daily, weekly, monthly and model reports); ``session`` a
dict of ``netsky_core.live.reader.SESSION_FIELDS``.
"""

from __future__ import annotations

import os
import sqlite3

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["SqliteLiveReader", "open_live"]

_SUMS = (
    "sum(requests), sum(priced_requests), "
    "sum(tokens_input + tokens_output + tokens_cache_read + tokens_cache_write "
    "+ tokens_reasoning), sum(cost_picousd)"
)
_BUCKET = (
    "requests, unpriced_requests, priced_requests, tokens_input, tokens_output, "
    "tokens_cache_read, tokens_cache_write, tokens_reasoning, cost_picousd"
)
_SESSION = (
    "framework, model, cwd, git_branch, status, pid, process_start_time, last_activity, "
    "usage_event_count, tokens_input, tokens_output, tokens_cache_read, tokens_cache_write, "
    "tokens_reasoning, priced_event_count, cost_picousd"
)


def open_live(url: str) -> SqliteLiveReader | None:
    """A reader of the store ``url`` names, or None when this one cannot answer (no
    such file, a schema version other than this netsky's, options it does not know)."""
    from ._url import sqlite_file
    from ._version import LATEST

    path, params = sqlite_file(url)
    if set(params) - {"synchronous", "busy_timeout_ms", "lock_timeout_s", "mode"}:
        return None
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        return None
    try:
        conn = sqlite3.connect(
            f"file:{_uri_path(path)}?mode=ro", uri=True, timeout=2.0, isolation_level=None
        )
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error:
        return None
    if version != LATEST:
        conn.close()
        return None
    return SqliteLiveReader(conn)


def _uri_path(path: str) -> str:
    """``path`` as the path of a SQLite ``file:`` URI (``%``, ``?`` and ``#`` escaped)."""
    return path.replace("%", "%25").replace("?", "%3f").replace("#", "%23")


class SqliteLiveReader:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def windows(self, since_us: int, framework: str | None = None) -> list[tuple[int, ...]]:
        where = "start >= ?"
        args: list[Any] = [since_us]
        if framework is not None:
            where += " AND framework = ?"
            args.append(framework)
        rows = self._conn.execute(
            f"SELECT start, {_SUMS} FROM usage WHERE {where} GROUP BY start ORDER BY start", args
        ).fetchall()
        return rows

    def project_totals(self, starts: list[int]) -> list[tuple[Any, ...]]:
        sums = ", ".join(
            f"sum(CASE WHEN start >= ? THEN {c} ELSE 0 END)"
            for _ in starts
            for c in ("requests", "priced_requests", "tokens", "cost_picousd")
        )
        args = [s for s in starts for _ in range(4)]
        return self._conn.execute(
            f"SELECT project, branch, {sums} FROM project_usage WHERE start >= ? "
            "GROUP BY project, branch",
            [*args, min(starts)],
        ).fetchall()

    def buckets(
        self, since_us: int | None, until_us: int | None, framework: str | None = None
    ) -> list[tuple[Any, ...]]:
        """The usage buckets starting in ``[since_us, until_us)`` (None: open), as
        ``netsky_core.live.reader.BUCKET_FIELDS`` tuples (model None where unknown)."""
        clauses: list[str] = []
        args: list[Any] = []
        for clause, value in (("start >= ?", since_us), ("start < ?", until_us)):
            if value is not None:
                clauses.append(clause)
                args.append(value)
        if framework is not None:
            clauses.append("framework = ?")
            args.append(framework)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return self._conn.execute(
            f"SELECT start, NULLIF(model, ''), {_BUCKET} FROM usage{where} "
            "ORDER BY start, machine_id, framework, model",
            args,
        ).fetchall()

    def session(self, machine_id: str, session_id: str) -> dict[str, Any] | None:
        r = self._conn.execute(
            f"SELECT {_SESSION} FROM sessions WHERE machine_id = ? AND session_id = ?",
            (machine_id, session_id),
        ).fetchone()
        if r is None:
            return None
        used = r[8]
        return {
            "framework": r[0],
            "model": r[1],
            "cwd": r[2],
            "git_branch": r[3],
            "status": r[4],
            "pid": r[5],
            "process_start_time": r[6],
            "last_activity_us": r[7],
            "usage_event_count": used,
            "tokens": None if not used else sum(v or 0 for v in r[9:14]),
            "priced_event_count": r[14],
            "cost_picousd": r[15],
        }

    def close(self) -> None:
        self._conn.close()
