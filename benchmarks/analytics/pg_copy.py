"""The PostgreSQL backend's native analytics path (COPY) vs the generic path.

    python benchmarks/analytics/pg_copy.py --events 1000000
    python benchmarks/analytics/pg_copy.py --quick               # 20,000 events

The native path (``netsky_postgres.duckdb_path``) streams ``COPY (SELECT ...) TO STDOUT
(FORMAT csv)`` of the requested events columns and rows into pyarrow's CSV reader and
from there into DuckDB, without building Event objects; the generic path pages events
through the Storage protocol. Both run interleaved on the same store, and their
results are checked equal.

Without ``--url`` (or ``NETSKY_TEST_POSTGRES_URL``) it starts a throwaway server the
way the test suite does.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


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
                    started = time.perf_counter()
                    con = open_analytics(
                        store_url, tables, native=method == "copy", timezone="UTC", mirror=False
                    )
                    result = run_query(con, sql).rows()
                    elapsed = time.perf_counter() - started
                    loads = run_query(
                        con, "SELECT method FROM netsky_raw.loads WHERE table_name = 'events'"
                    ).rows()
                    con.close()
                    assert (method == "copy") == loads[0][0].startswith("native:"), loads
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
