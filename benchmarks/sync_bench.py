"""`netsky sync --to PG` vs `netsky copy SQLITE PG` of the same store, as a ratio.

    benchmarks/sync_bench.py --url postgresql://me@localhost/bench [--events N] [--quick]

Builds a SQLite store of N generated events (default 1,000,000; 20,000 with --quick),
then runs both commands as subprocesses into two fresh schemas of the PostgreSQL
database at --url, and prints one table row: seconds, events/s and sync/copy.
"""

from __future__ import annotations

import argparse
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from netsky_core import Event, open_storage

NETSKY = Path(sys.executable).with_name("netsky")
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _events(start: int, stop: int, machine: str = "bench") -> list[Event]:
    out = []
    for i in range(start, stop):
        api = i % 4 == 0
        out.append(
            Event(
                machine_id=machine,
                session_id=f"s{i // 500}",
                event_type="ApiRequest" if api else "PreToolUse",
                timestamp=T0 + timedelta(seconds=i),
                uuid=f"api:m{i}:r{i}" if api else f"e{i}",
                source="transcript" if api else "hook",
                tool_name=None if api else "Bash",
                tokens_input=100 if api else None,
                tokens_output=200 if api else None,
                model="claude-sonnet-4-5" if api else None,
            )
        )
    return out


def _schema(url: str, name: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, f"schema={name}") if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _run(args: list[str], home: Path) -> float:
    start = time.perf_counter()
    env = {"NETSKY_HOME": str(home), "NETSKY_MACHINE_ID": "bench", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([str(NETSKY), *args], capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"netsky {args[0]} failed: {proc.stderr.strip()[-500:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a PostgreSQL database URL")
    parser.add_argument("--events", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="20,000 events")
    args = parser.parse_args()
    n = args.events or (20_000 if args.quick else 1_000_000)
    sync_s, copy_s = measure(args.url, n)
    print("| what | sync | copy | sync/copy |")
    print("| --- | --- | --- | --- |")
    print(
        f"| {n:,} events SQLite -> PostgreSQL | {sync_s:.1f} s ({n / sync_s:,.0f} events/s) "
        f"| {copy_s:.1f} s ({n / copy_s:,.0f} events/s) | {sync_s / copy_s:.2f} |"
    )
    return 0


def measure(url: str, n: int) -> tuple[float, float]:
    """(seconds of `netsky sync --to`, seconds of `netsky copy`) of one store of ``n``
    generated events into two fresh schemas of the database at ``url``."""
    with tempfile.TemporaryDirectory(prefix="netsky-sync-bench-") as tmp:
        root = Path(tmp)
        src = f"sqlite:///{root / 'local.db'}"
        with open_storage(src) as store:
            for i in range(0, n, 50_000):
                store.insert_many(_events(i, min(n, i + 50_000)))
        tag = secrets.token_hex(3)
        copy_s = _run(["copy", src, _schema(url, f"bench_copy_{tag}")], root)
        sync_s = _run(["--db", src, "sync", "--to", _schema(url, f"bench_sync_{tag}")], root)
    return sync_s, copy_s


if __name__ == "__main__":
    raise SystemExit(main())
