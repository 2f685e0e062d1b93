"""SQLite backend vs the raw stdlib driver, measured interleaved in one run.

    .venv/bin/python backends/sqlite/benchmarks/compare.py            # full: 1,000,000 events
    .venv/bin/python backends/sqlite/benchmarks/compare.py --quick    # CI smoke: 50,000

Prints medians and ours/raw ratios for: insert_many vs ``sqlite3.executemany`` of the
same rows into the same table; single ``insert`` vs one-row insert+commit;
``list_sessions(limit=50)`` and ``storage_stats()`` vs the equivalent raw SQL; and gc of
30% of the events vs one raw ``DELETE``.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from netsky_sqlite._rows import EVENT_WRITE_COLUMNS, event_row
from workload import T0, make_events

from netsky_core import SessionQuery, StorageStatsQuery, open_storage
from netsky_core.backend import to_us

RAW_INSERT = (
    "INSERT INTO events ("
    + ", ".join(EVENT_WRITE_COLUMNS)
    + ") VALUES ("
    + ", ".join("?" * len(EVENT_WRITE_COLUMNS))
    + ")"
)


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def fresh(folder: Path, name: str) -> str:
    path = folder / name
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    with open_storage(f"sqlite:///{path}"):
        pass  # schema, indexes, WAL: the same table for both sides
    return str(path)


def bench_insert_many(folder: Path, events: list, batch: int, repeat: int) -> tuple[float, float]:
    rows = [event_row(e) for e in events]
    ours, raw = [], []
    for _ in range(repeat):
        path = fresh(folder, "ours.db")
        with open_storage(f"sqlite:///{path}") as store:
            t = time.perf_counter()
            for i in range(0, len(events), batch):
                store.insert_many(events[i : i + batch])
            ours.append(len(events) / (time.perf_counter() - t))
        path = fresh(folder, "raw.db")
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA synchronous = NORMAL")
        t = time.perf_counter()
        for i in range(0, len(rows), batch):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(RAW_INSERT, rows[i : i + batch])
            conn.execute("COMMIT")
        raw.append(len(rows) / (time.perf_counter() - t))
        conn.close()
    return median(ours), median(raw)


def bench_single(folder: Path, events: list, n: int) -> tuple[float, float]:
    path = fresh(folder, "single.db")
    ours, raw = [], []
    store = open_storage(f"sqlite:///{path}")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")
    for i in range(n):
        e = events[i]
        t = time.perf_counter()
        store.insert(e)
        ours.append(time.perf_counter() - t)
        row = event_row(events[n + i])
        t = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(RAW_INSERT, row)
        conn.execute("COMMIT")
        raw.append(time.perf_counter() - t)
    store.close()
    conn.close()
    return median(ours) * 1e6, median(raw) * 1e6


def build_big(folder: Path, n: int, batch: int) -> str:
    path = fresh(folder, "big.db")
    with open_storage(f"sqlite:///{path}") as store:
        chunk = 100_000
        for start in range(0, n, chunk):
            evs = make_events(min(chunk, n - start), sessions=2000, start=start, seed=7, total=n)
            for i in range(0, len(evs), batch):
                store.insert_many(evs[i : i + batch])
    return path


def timed(fn, repeat: int) -> float:
    xs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        xs.append(time.perf_counter() - t)
    return median(xs) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="size of the big store")
    parser.add_argument(
        "--insert-events", type=int, default=200_000, help="events per insert_many round"
    )
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="CI smoke sizes")
    args = parser.parse_args()
    if args.quick:
        args.events, args.insert_events, args.repeat = 50_000, 20_000, 3
    folder = Path(tempfile.mkdtemp(prefix="netsky-bench-"))
    try:
        events = make_events(args.insert_events, seed=3)
        ours, raw = bench_insert_many(folder, events, args.batch, args.repeat)
        print(
            f"insert_many        ours {ours:>10,.0f} ev/s   raw executemany {raw:>10,.0f} rows/s   ratio {ours / raw:.2f}"
        )
        single_ours, single_raw = bench_single(
            folder, make_events(4000, seed=4), 2000 if not args.quick else 300
        )
        print(
            f"single insert      ours {single_ours:>10,.0f} us     raw one-row txn {single_raw:>10,.0f} us     ratio {single_ours / single_raw:.2f}"
        )
        path = build_big(folder, args.events, args.batch)
        store = open_storage(f"sqlite:///{path}")
        conn = sqlite3.connect(path)
        q = SessionQuery().with_limit(50)
        ours_ls = timed(lambda: store.list_sessions(q), args.repeat * 4)
        raw_ls = timed(
            lambda: conn.execute(
                "SELECT * FROM sessions ORDER BY last_activity DESC, machine_id DESC, session_id DESC LIMIT 50"
            ).fetchall(),
            args.repeat * 4,
        )
        print(
            f"list_sessions(50)  ours {ours_ls:>10.2f} ms     raw SELECT      {raw_ls:>10.2f} ms     ratio {ours_ls / raw_ls:.2f}   ({args.events:,} events)"
        )
        ours_st = timed(lambda: store.storage_stats(StorageStatsQuery()), args.repeat * 4)
        raw_st = timed(
            lambda: conn.execute(
                "SELECT count(*), sum(tokens_input), sum(tokens_output), sum(tokens_cache_read), "
                "sum(tokens_cache_write), sum(api_request_count), sum(cost_picousd) FROM sessions"
            ).fetchone(),
            args.repeat * 4,
        )
        print(
            f"storage_stats()    ours {ours_st:>10.2f} ms     raw SELECT      {raw_st:>10.2f} ms     ratio {ours_st / raw_st:.2f}"
        )
        store.close()
        conn.close()
        # gc of 30%: the workload spreads 60 days evenly; cut at day 18
        days = 60
        cutoff = T0 + timedelta(days=days * 0.3)
        now = cutoff + timedelta(days=30)
        copy = folder / "gc-raw.db"
        shutil.copy(path, copy)
        with open_storage(f"sqlite:///{path}") as store:
            expired = store.count_expired(timedelta(days=30), now=now)
            t = time.perf_counter()
            result = store.gc(timedelta(days=30), now=now)
            ours_gc = time.perf_counter() - t
        conn = sqlite3.connect(copy, isolation_level=None)
        t = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "DELETE FROM events WHERE timestamp < ?",
            (to_us(cutoff),),
        )
        conn.execute("COMMIT")
        raw_gc = time.perf_counter() - t
        conn.close()
        share = expired / args.events
        print(
            f"gc {share:.0%} of events   ours {ours_gc:>10.2f} s      raw one DELETE  {raw_gc:>10.2f} s      ratio {ours_gc / raw_gc:.2f}"
            f"   ({result.deleted_events:,} events, {result.deleted_sessions:,} sessions; ours commits every 2,000)"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
