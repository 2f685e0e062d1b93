"""netsky-postgres vs raw psycopg, measured in one run against one server.

    python backends/postgres/benchmarks/compare.py                 # 1,000,000 events
    python backends/postgres/benchmarks/compare.py --quick         # ~20,000 (CI smoke)
    python backends/postgres/benchmarks/compare.py --url postgresql://u:p@host/db

Without ``--url`` (or ``NETSKY_TEST_POSTGRES_URL``) it starts a throwaway server the
way the test suite does. Ours and raw run interleaved (alternating which goes first)
and medians are reported; "speed" is raw time / our time (1.00 = as fast as raw).

* insert_many: batches of ``--batch`` events; raw = binary COPY of the same rows
  into an identical ``events`` table (no dedup, no session summaries).
* insert: one event per call into an existing session; raw = one autocommit INSERT.
* list_sessions(limit=50) and storage_stats() over the loaded store; raw = the
  equivalent SQL through psycopg, rows left as tuples.
* gc of 30% of the events (and the sessions idle since); raw = two DELETE statements
  on an identical copy of the data.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[2]))  # the repository root, for tests.fix_postgres

import psycopg  # noqa: E402
from netsky_postgres._sql import EVENT_COPY_TYPES, EVENT_WRITE_FIELDS, event_params  # noqa: E402
from netsky_postgres._target import quote_ident  # noqa: E402
from pg_bench_data import SPAN, T0, event, make_events  # noqa: E402

from netsky_core import SessionQuery, StorageStatsQuery, open_storage  # noqa: E402

COLS = ", ".join(quote_ident(c) for c in EVENT_WRITE_FIELDS)


def _server_url(args: argparse.Namespace) -> tuple[str, Callable[[], None]]:
    url = args.url or os.environ.get("NETSKY_TEST_POSTGRES_URL")
    if url:
        return url, lambda: None
    from tests.fix_postgres import _start_server

    root = Path(tempfile.mkdtemp(prefix="netsky-bench-pg-"))
    server = _start_server(root)

    def stop() -> None:
        import shutil

        server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)

    return server.url(), stop


def _with_schema(url: str, schema: str) -> str:
    return url + ("&" if "?" in url else "?") + f"schema={schema}"


CREATED: list[str] = []


def _fresh_schema(url: str, prefix: str) -> str:
    """Create an empty netsky schema (through the backend) and return its name."""
    name = f"{prefix}_{secrets.token_hex(3)}"
    open_storage(_with_schema(url, name)).close()
    CREATED.append(name)
    return name


def _drop_schemas(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for name in CREATED:
            conn.execute(f"DROP SCHEMA IF EXISTS {quote_ident(name)} CASCADE")


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, name: str, ours: str, raw: str, speed: float) -> None:
        self.rows.append((name, ours, raw, f"{speed:.2f}"))
        print(f"  {name}: ours {ours} | raw {raw} | speed {speed:.2f}", flush=True)

    def print(self) -> None:
        head = ("measure", "ours (median)", "raw (median)", "speed ours/raw")
        widths = [max(len(r[i]) for r in [head, *self.rows]) for i in range(4)]
        line = "  ".join(f"{{:<{w}}}" for w in widths)
        print()
        print(line.format(*head))
        print(line.format(*("-" * w for w in widths)))
        for r in self.rows:
            print(line.format(*r))


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def bench_insert_many(url: str, n: int, batch: int, table: Table) -> tuple[str, str]:
    """Load ``n`` events through both paths; returns (ours schema, raw schema)."""
    ours_schema = _fresh_schema(url, "bench_ours")
    raw_schema = _fresh_schema(url, "bench_raw")
    store = open_storage(_with_schema(url, ours_schema))
    raw = psycopg.connect(url, autocommit=True)
    copy_sql = f"COPY {quote_ident(raw_schema)}.events ({COLS}) FROM STDIN (FORMAT BINARY)"
    ours_t: list[float] = []
    raw_t: list[float] = []
    started = time.perf_counter()
    for b, start in enumerate(range(0, n, batch)):
        events = make_events(start, min(n, start + batch), n)
        rows = [event_params(e) for e in events]

        def ours(events: list = events) -> float:
            t = time.perf_counter()
            store.insert_many(events)
            return time.perf_counter() - t

        def raw_copy(rows: list = rows) -> float:
            t = time.perf_counter()
            with raw.transaction(), raw.cursor().copy(copy_sql) as copy:
                copy.set_types(EVENT_COPY_TYPES[1:])
                for row in rows:
                    copy.write_row(row)
            return time.perf_counter() - t

        if b % 2:
            raw_t.append(raw_copy())
            ours_t.append(ours())
        else:
            ours_t.append(ours())
            raw_t.append(raw_copy())
        if b % 20 == 19:
            done = min(n, start + batch)
            print(
                f"  ... {done:,} events loaded ({time.perf_counter() - started:.0f}s)", flush=True
            )
    sizes = [min(batch, n - s) for s in range(0, n, batch)]
    ours_rate = statistics.median(k / t for k, t in zip(sizes, ours_t))
    raw_rate = statistics.median(k / t for k, t in zip(sizes, raw_t))
    table.add(
        f"insert_many ({batch:,}/batch, {n:,} events), events/s",
        f"{ours_rate:,.0f}",
        f"{raw_rate:,.0f}",
        ours_rate / raw_rate,
    )
    total_ours, total_raw = sum(ours_t), sum(raw_t)
    table.add(
        "insert_many, whole load (s)",
        f"{total_ours:.1f} s",
        f"{total_raw:.1f} s",
        total_raw / total_ours,
    )
    store.close()
    # The raw copy gets the same session rows, so gc deletes the same things.
    raw.execute(
        f"INSERT INTO {quote_ident(raw_schema)}.sessions "
        f"SELECT * FROM {quote_ident(ours_schema)}.sessions"
    )
    raw.execute(f"VACUUM ANALYZE {quote_ident(raw_schema)}.events")
    raw.execute(f"VACUUM ANALYZE {quote_ident(raw_schema)}.sessions")
    raw.close()
    return ours_schema, raw_schema


def bench_single_insert(url: str, count: int, table: Table) -> None:
    ours_schema = _fresh_schema(url, "bench_one")
    raw_schema = _fresh_schema(url, "bench_one_raw")
    store = open_storage(_with_schema(url, ours_schema))
    raw = psycopg.connect(url, autocommit=True)
    sql = (
        f"INSERT INTO {quote_ident(raw_schema)}.events ({COLS}) "
        f"VALUES ({', '.join(['%s'] * len(EVENT_WRITE_FIELDS))})"
    )
    # 20 sessions of `count // 20` events each, as hooks would write them
    events = [event(i, count, tag="one") for i in range(count)]
    for e in events[:20]:  # warm up: sessions exist, statements prepared
        store.insert(e)
        raw.execute(sql, event_params(e))
    ours_t: list[float] = []
    raw_t: list[float] = []
    for i, e in enumerate(events[20:]):
        params = event_params(e)
        first_ours = i % 2 == 0
        for which in (0, 1):
            t = time.perf_counter()
            if (which == 0) == first_ours:
                store.insert(e)
                ours_t.append(time.perf_counter() - t)
            else:
                raw.execute(sql, params)
                raw_t.append(time.perf_counter() - t)
    o, r = statistics.median(ours_t), statistics.median(raw_t)
    table.add(f"insert (one event, {len(ours_t):,} calls), latency", _ms(o), _ms(r), r / o)
    store.close()
    raw.close()


def _interleave(
    repeats: int, ours: Callable[[], object], raw: Callable[[], object]
) -> tuple[float, float]:
    ours_t: list[float] = []
    raw_t: list[float] = []
    ours()
    raw()
    for i in range(repeats):
        order = [(ours, ours_t), (raw, raw_t)]
        if i % 2:
            order.reverse()
        for fn, out in order:
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
    return statistics.median(ours_t), statistics.median(raw_t)


def bench_reads(url: str, schema: str, repeats: int, table: Table) -> None:
    store = open_storage(_with_schema(url, schema))
    raw = psycopg.connect(url, autocommit=True)
    s = quote_ident(schema)
    query = SessionQuery().with_limit(50)
    list_sql = (
        f"SELECT * FROM {s}.sessions WHERE last_activity IS NOT NULL "
        "ORDER BY last_activity DESC, machine_id DESC, session_id DESC LIMIT 50"
    )
    o, r = _interleave(
        repeats,
        lambda: store.list_sessions(query),
        lambda: raw.execute(list_sql).fetchall(),
    )
    table.add("list_sessions(limit=50)", _ms(o), _ms(r), r / o)
    stats_sql = (
        "SELECT count(*), count(*) FILTER (WHERE status IS NOT NULL AND status <> 'Done'), "
        "sum(tokens_input), sum(tokens_output), sum(tokens_cache_read), "
        f"sum(tokens_cache_write), sum(cost_picousd), sum(api_request_count) FROM {s}.sessions"
    )
    o, r = _interleave(
        repeats,
        lambda: store.storage_stats(StorageStatsQuery()),
        lambda: raw.execute(stats_sql).fetchall(),
    )
    table.add("storage_stats()", _ms(o), _ms(r), r / o)
    store.close()
    raw.close()


def bench_gc(url: str, ours_schema: str, raw_schema: str, n: int, table: Table) -> None:
    cutoff = T0 + SPAN * 0.3
    retention = timedelta(days=30)
    now = cutoff + retention
    store = open_storage(_with_schema(url, ours_schema))
    raw = psycopg.connect(url, autocommit=True)
    s = quote_ident(raw_schema)
    t = time.perf_counter()
    raw.execute(f'DELETE FROM {s}.events WHERE "timestamp" < %s', (cutoff,))
    raw.execute(f"DELETE FROM {s}.sessions WHERE last_activity < %s", (cutoff,))
    raw_time = time.perf_counter() - t
    t = time.perf_counter()
    result = store.gc(retention, now=now)
    ours_time = time.perf_counter() - t
    table.add(
        f"gc 30% ({result.deleted_events:,} of {n:,} events, {result.deleted_sessions:,} sessions)",
        f"{ours_time:.2f} s",
        f"{raw_time:.2f} s",
        raw_time / ours_time,
    )
    store.close()
    raw.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="PostgreSQL URL (default: a throwaway server)")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--singles", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="~20,000 events (CI smoke run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.singles, args.repeats = 20_000, 400, 20
    url, stop = _server_url(args)
    table = Table()
    try:
        print(f"loading {args.events:,} events (ours and raw interleaved)...", flush=True)
        ours_schema, raw_schema = bench_insert_many(url, args.events, args.batch, table)
        print("single inserts...", flush=True)
        bench_single_insert(url, args.singles, table)
        print("reads...", flush=True)
        bench_reads(url, ours_schema, args.repeats, table)
        print("gc...", flush=True)
        bench_gc(url, ours_schema, raw_schema, args.events, table)
        _drop_schemas(url)
    finally:
        stop()
    table.print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
