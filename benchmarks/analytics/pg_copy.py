"""A COPY-based native analytics path for PostgreSQL, and its measurement.

    python benchmarks/analytics/pg_copy.py --events 1000000      # vs the generic path
    python benchmarks/analytics/pg_copy.py --quick               # 20,000 events

``copy_tables`` streams ``COPY (SELECT ...) TO STDOUT (FORMAT csv)`` of the requested
columns and rows (event types and time range filtered in PostgreSQL) into pyarrow's
multithreaded CSV reader and from there into DuckDB, without building Event objects.
Timestamps travel as integer microseconds, so nothing is lost. A
``netsky_duckdb_attach`` implementation in ``netsky_postgres`` would call it with the
store's connection info and schema (see the README); here a stand-in hook registered by
this script does, for a store this script filled.

Without ``--url`` (or ``NETSKY_TEST_POSTGRES_URL``) it starts a throwaway server the
way the test suite does.
"""

from __future__ import annotations

import argparse
import itertools
import os
import queue
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from netsky_core.hookspecs import hookimpl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

_EPOCH_US = "(EXTRACT(EPOCH FROM {c}) * 1000000)::bigint"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _select(schema: str, table: str, request: Any) -> tuple[str, list[Any]]:
    from netsky_core.analytics import arrow_schema

    columns_of = getattr(request, "columns", None)
    fields = list(arrow_schema(table, columns_of(table) if callable(columns_of) else None))
    exprs = []
    for f in fields:
        name = _quote(f.name)
        if str(f.type).startswith("timestamp"):
            exprs.append(_EPOCH_US.format(c=name))
        elif str(f.type) == "bool":
            exprs.append(f"{name}::int")
        else:
            exprs.append(name)
    where, params = [], []
    if table == "events":
        types = getattr(request, "event_types", None)
        if types is not None:
            where.append("event_type = ANY(%s)")
            params.append(sorted(types))
        for bound, op in (("since", ">="), ("until", "<")):
            value = getattr(request, bound, None)
            if value is not None:
                where.append(f'"timestamp" {op} %s')
                params.append(value)
    sql = f"SELECT {', '.join(exprs)} FROM {_quote(schema)}.{_quote(table)}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql, params


class _Pipe:
    """A file-like object over the chunks a COPY produces (read by pyarrow's reader)."""

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


def copy_tables(conninfo: str, schema: str, connection: Any, tables: Any) -> dict[str, int]:
    """Create each requested base table in ``connection`` (current schema) from PostgreSQL,
    all read in one REPEATABLE READ transaction (one snapshot)."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=False) as pg:
        pg.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        counts = {
            table: _copy_table(pg, schema, connection, table, tables) for table in sorted(tables)
        }
        pg.rollback()
    return counts


def _create(connection: Any, table: str, data: Any) -> None:
    connection.register("netsky_pg_stream", data)
    try:
        connection.execute(f"CREATE TABLE {table} AS SELECT * FROM netsky_pg_stream")
    finally:
        connection.unregister("netsky_pg_stream")


def _copy_table(pg: Any, schema: str, connection: Any, table: str, request: Any) -> int:
    import psycopg
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from netsky_core.analytics import arrow_schema

    columns_of = getattr(request, "columns", None)
    target = arrow_schema(table, columns_of(table) if callable(columns_of) else None)
    wire = pa.schema(
        [
            pa.field(
                f.name, pa.int64() if str(f.type).startswith(("timestamp", "bool")) else f.type
            )
            for f in target
        ]
    )
    sql, params = _select(schema, table, request)
    query = psycopg.ClientCursor(pg).mogrify(sql, params)
    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=64)

    def produce() -> None:
        try:
            with pg.cursor() as cur, cur.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)") as copy:
                for data in copy:
                    chunks.put(bytes(data))
        finally:
            chunks.put(None)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    first = chunks.get()
    if first is None:  # no rows: an empty table of the right shape
        thread.join()
        _create(connection, table, target.empty_table())
        return 0
    reader = pacsv.open_csv(
        _Pipe(itertools.chain([first], iter(chunks.get, None))),
        read_options=pacsv.ReadOptions(column_names=[f.name for f in wire], block_size=1 << 22),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=wire,
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            null_values=[""],
        ),
    )
    rows = 0

    def batches() -> Iterator[Any]:
        nonlocal rows
        for batch in reader:
            rows += batch.num_rows
            arrays = [
                batch.column(i) if f.type == wire.field(i).type else batch.column(i).cast(f.type)
                for i, f in enumerate(target)
            ]
            yield pa.RecordBatch.from_arrays(arrays, schema=target)

    _create(connection, table, pa.RecordBatchReader.from_batches(target, batches()))
    thread.join()
    return rows


class StandInHook:
    """What ``netsky_postgres`` would register (here bound to one known store)."""

    def __init__(self, conninfo: str, schema: str) -> None:
        self.conninfo, self.schema = conninfo, schema

    @hookimpl
    def netsky_duckdb_attach(self, storage: Any, connection: Any, tables: Any) -> Any:
        if type(storage).__name__ != "PostgresStorage":
            return None
        copy_tables(self.conninfo, self.schema, connection, tables)
        return True


def _events(n: int) -> Iterator[list[Any]]:
    import random

    from netsky_core import Event, EventSource, EventType

    rng = random.Random(0)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    kinds = [
        EventType.PRE_TOOL_USE,
        EventType.POST_TOOL_USE,
        EventType.API_REQUEST,
        EventType.USER_PROMPT_SUBMIT,
    ]
    batch = []
    for i in range(n):
        kind = kinds[i % 4]
        api = kind == EventType.API_REQUEST
        batch.append(
            Event(
                machine_id="m",
                session_id=f"s{i // 500}",
                event_type=kind,
                timestamp=t0 + timedelta(seconds=i * 3),
                uuid=f"u{i}",
                framework="claude",
                source=EventSource.TRANSCRIPT,
                tool_name=None if api else "Bash",
                tool_use_id=None if api else f"t{i // 2}",
                model="claude-opus-4-6" if api else None,
                tokens_input=rng.randrange(1, 500) if api else None,
                tokens_output=rng.randrange(1, 3000) if api else None,
                tokens_cache_read=rng.randrange(0, 90000) if api else None,
                tokens_cache_write=rng.randrange(0, 9000) if api else None,
                cost_usd=rng.random() if api else None,
                payload=None
                if api
                else '{"tool_input": {"command": "ls -la \\"x\\"\\n"}, "k": "é"}',
                metadata='{"message_id": "m1"}' if api else None,
            )
        )
        if len(batch) == 5000:
            yield batch
            batch = []
    if batch:
        yield batch


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--url", help="postgresql:// URL (default: a throwaway server)")
    ap.add_argument("--quick", action="store_true", help="20,000 events, 2 rounds")
    args = ap.parse_args(argv)
    if args.quick:
        args.events, args.runs = 20_000, 2
    sys.path.insert(0, str(ROOT))
    import psycopg

    from netsky_core import open_storage
    from netsky_core._plugins import default_registry
    from netsky_core.analytics import open_analytics, run_query

    url = args.url or os.environ.get("NETSKY_TEST_POSTGRES_URL")
    stop = None
    if not url:
        from tests.fix_postgres import _start_server

        root = Path(tempfile.mkdtemp(prefix="netsky-bench-pg-"))
        server = _start_server(root)
        url = server.url()

        def stop() -> None:
            import shutil

            server.stop("immediate")
            shutil.rmtree(root, ignore_errors=True)

    schema = f"bench_{secrets.token_hex(3)}"
    store_url = url + ("&" if "?" in url else "?") + f"schema={schema}"
    conninfo = url.split("?")[0]
    try:
        started = time.perf_counter()
        with open_storage(store_url) as store:
            for batch in _events(args.events):
                store.insert_many(batch)
        print(f"{args.events:,} events stored in {time.perf_counter() - started:.0f}s")
        pm = default_registry().plugin_manager
        hook = StandInHook(conninfo, schema)
        checks = {}
        queries = {
            "api_requests (daily report rows)": (
                ["api_requests"],
                "SELECT count(*), sum(total_tokens) FROM api_requests",
            ),
            "all events, every column": (["events"], "SELECT count(*), count(payload) FROM events"),
        }
        times: dict[str, dict[str, list[float]]] = {q: {"copy": [], "generic": []} for q in queries}
        for round_ in range(args.runs):
            for name, (tables, sql) in queries.items():
                order = ("copy", "generic") if round_ % 2 == 0 else ("generic", "copy")
                for method in order:
                    if method == "copy":
                        pm.register(hook, name="pg-copy-bench")
                    try:
                        started = time.perf_counter()
                        con = open_analytics(
                            store_url, tables, native=method == "copy", timezone="UTC"
                        )
                        result = run_query(con, sql).rows()
                        elapsed = time.perf_counter() - started
                        loads = run_query(
                            con, "SELECT DISTINCT method FROM netsky_raw.loads"
                        ).rows()
                        con.close()
                    finally:
                        if method == "copy":
                            pm.unregister(hook)
                    assert (method == "copy") == any(m.startswith("native") for (m,) in loads), (
                        loads
                    )
                    checks.setdefault(name, result)
                    assert checks[name] == result, (name, method, result, checks[name])
                    times[name][method].append(elapsed)
        print(f"{'load':<36} {'COPY s':>8} {'generic s':>10} {'ratio':>7}")
        for name, t in times.items():
            c, g = statistics.median(t["copy"]), statistics.median(t["generic"])
            print(f"{name:<36} {c:8.3f} {g:10.3f} {g / c:7.2f}")
        print("ratio = generic / COPY (medians); results checked equal")
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        if stop is not None:
            stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
