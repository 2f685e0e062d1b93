"""netsky analytics vs its peers, measured in one run on the same data.

    python benchmarks/analytics/compare.py                 # 2.6 GB history, >= 1M events
    python benchmarks/analytics/compare.py --smoke         # a few MB: seconds (CI)
    python benchmarks/analytics/compare.py --size 1.2G --runs 7 --dir /var/tmp/nb

The history is generated once (``tests.history``, Claude Code
transcripts only, so both sides read exactly the same source files) and ingested
once into a SQLite store, both cached under ``--dir``. Then, interleaved (the order
alternates every round, the machine has 2 noisy cores) and as medians:

* ``report daily``: ``netsky report daily --json`` (a fresh process, native SQLite
  path) vs ``ccusage daily --json --offline`` on the transcripts (HOME pointed at an
  empty folder). The per-day token counts of both are compared too.
* ``query group-by``: ``netsky query`` of a group-by over every event (a fresh
  process) vs a fresh Python process running the same SQL with DuckDB over a Parquet
  export of the same rows (``netsky_core.analytics.export``, written once).
* ``load``: ``open_analytics`` in-process, native path vs the generic Storage-protocol
  path, for the report's rows and for every event.

"ratio" is peer time / our time for the first two (above 1: netsky is faster), and
generic / native for the load rows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))  # the history generator lives in tests/history.py
NETSKY = str(Path(sys.executable).with_name("netsky"))
GROUP_BY = (
    "SELECT event_type, framework, count(*) AS events, sum(tokens_input) AS input, "
    "sum(tokens_output) AS output FROM events GROUP BY ALL ORDER BY ALL"
)
CCUSAGE_CANDIDATES = ("/tmp/ccu/node_modules/.bin/ccusage",)


def _size(text: str) -> int:
    from tests.history import parse_size

    return parse_size(text)


def prepare(folder: Path, size: int, seed: int, days: int) -> tuple[Path, str, Path, int]:
    """(history, store URL, parquet file, events) for ``size`` bytes, cached in ``folder``."""
    from netsky_core import open_storage
    from netsky_core.analytics.export import export
    from netsky_core.ingest.scan import discover, ingest
    from tests.history import generate

    tag = f"{size}-{seed}-{days}"
    history = folder / f"history-{tag}"
    db = folder / f"store-{tag}.db"
    done = folder / f"store-{tag}.done"
    parquet = folder / f"events-{tag}.parquet"
    folder.mkdir(parents=True, exist_ok=True)
    if not (history / "manifest.json").exists():
        shutil.rmtree(history, ignore_errors=True)
        started = time.perf_counter()
        generate(history, target_bytes=size, seed=seed, days=days, claude_share=1.0)
        print(
            f"generated {size / 1e9:.2f} GB in {time.perf_counter() - started:.0f}s",
            file=sys.stderr,
        )
    url = f"sqlite:///{db}"
    if not done.exists():
        db.unlink(missing_ok=True)
        started = time.perf_counter()
        env = {
            "CLAUDE_CONFIG_DIR": str(history / "claude"),
            "CODEX_HOME": str(folder / "no-codex"),
            "HOME": "/nonexistent",
        }
        with open_storage(url) as store:
            ingest(store, discover(environ=env), machine_id="bench")
        done.write_text("ok")
        print(f"ingested in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    if not parquet.exists():
        export(url, parquet, view="events", timezone="UTC")
    with open_storage(url, read_only=True) as store:
        events = store.count()
    return history, url, parquet, events


def _ccusage(path: str | None) -> str | None:
    for candidate in (
        path,
        os.environ.get("CCUSAGE"),
        *CCUSAGE_CANDIDATES,
        shutil.which("ccusage"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def _time(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{command[:3]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def interleaved(
    pairs: dict[str, tuple[Callable[[], object], Callable[[], object]]], runs: int
) -> dict[str, tuple[list[float], list[float]]]:
    """Run ours / peer alternately (which goes first alternates too); all times."""
    times: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in pairs}
    for round_ in range(runs):
        for name, (ours, peer) in pairs.items():
            order = [(0, ours), (1, peer)] if round_ % 2 == 0 else [(1, peer), (0, ours)]
            for slot, fn in order:
                started = time.perf_counter()
                fn()
                times[name][slot].append(time.perf_counter() - started)
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="2.6G", help="history size (default 2.6G: >= 1M events)")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--runs", type=int, default=5, help="timed rounds (default 5)")
    ap.add_argument(
        "--dir", type=Path, default=Path(tempfile.gettempdir()) / "netsky-analytics-bench"
    )
    ap.add_argument("--ccusage", help="ccusage executable (default: $CCUSAGE, /tmp/ccu, PATH)")
    ap.add_argument("--smoke", "--quick", action="store_true", help="3 MB history, 2 rounds")
    ap.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = ap.parse_args(argv)
    if args.smoke:
        args.size, args.runs, args.days = "3M", 2, 5
    from netsky_core.analytics import open_analytics, run_query

    history, url, parquet, events = prepare(args.dir, _size(args.size), args.seed, args.days)
    empty = args.dir / "empty-home"
    empty.mkdir(exist_ok=True)
    (args.dir / "no-codex").mkdir(exist_ok=True)
    base_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("NETSKY_", "CLAUDE_", "CODEX_"))
    }
    env = {
        **base_env,
        "TZ": "UTC",
        "HOME": str(empty),
        "NETSKY_HOME": str(args.dir / "netsky-home"),
    }
    mb = sum(f.stat().st_size for f in (history / "claude").rglob("*.jsonl")) / 1e6
    print(f"data: {mb:,.0f} MB of Claude Code transcripts, {events:,} events in {url}")

    ours_report = [
        NETSKY,
        "--db",
        url,
        "report",
        "daily",
        "--json",
        "--timezone",
        "UTC",
    ]
    ours_query = [NETSKY, "--db", url, "query", GROUP_BY, "--format", "csv"]
    peer_query = [
        sys.executable,
        "-c",
        "import sys, duckdb; duckdb.sql(sys.argv[1].replace('FROM events', "
        "\"FROM read_parquet('\" + sys.argv[2] + \"')\")).write_csv('/dev/stdout')",
        GROUP_BY,
        str(parquet),
    ]
    pairs: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "query group-by (CLI vs DuckDB+Parquet)": (
            lambda: _time(ours_query, env),
            lambda: _time(peer_query, env),
        ),
    }
    ccusage = _ccusage(args.ccusage)
    agreement = None
    if ccusage:
        ccusage_env = {
            **env,
            "CLAUDE_CONFIG_DIR": str(history / "claude"),
            "CODEX_HOME": str(args.dir / "no-codex"),
        }
        peer_report = [ccusage, "daily", "--json", "--offline"]
        pairs["report daily --json (vs ccusage)"] = (
            lambda: _time(ours_report, env),
            lambda: _time(peer_report, ccusage_env),
        )
        ours_days = {d["date"]: d for d in json.loads(_time(ours_report, env)[1])["daily"]}
        peer_days = {
            d["period"]: d for d in json.loads(_time(peer_report, ccusage_env)[1])["daily"]
        }
        same = sum(
            1
            for day, d in ours_days.items()
            if day in peer_days
            and (
                d["input_tokens"],
                d["output_tokens"],
                d["cache_creation_tokens"],
                d["cache_read_tokens"],
            )
            == (
                peer_days[day]["inputTokens"],
                peer_days[day]["outputTokens"],
                peer_days[day]["cacheCreationTokens"],
                peer_days[day]["cacheReadTokens"],
            )
        )
        agreement = (same, len(ours_days), len(peer_days))
    else:
        print("ccusage not found (--ccusage PATH or $CCUSAGE): report comparison skipped")

    def load(tables: list[str] | None, sql: str | None, native: bool) -> Callable[[], object]:
        def run() -> None:
            con = open_analytics(  # the load paths themselves: no mirror
                url,
                tables,
                sql=sql,
                native=native,
                prune=sql is not None,
                timezone="UTC",
                mirror=False,
            )
            if sql is not None:
                run_query(con, sql)
            con.close()

        return run

    loads = {
        "load api_requests (native vs generic)": (
            load(["api_requests"], None, True),
            load(["api_requests"], None, False),
        ),
        "group-by over all events in-process (native vs generic)": (
            load(None, GROUP_BY, True),
            load(None, GROUP_BY, False),
        ),
    }
    results = interleaved(pairs, args.runs)
    load_results = interleaved(loads, max(1, min(args.runs, 3)))

    rows = []
    for name, (ours, peer) in results.items():
        rows.append((name, statistics.median(ours), statistics.median(peer)))
    for name, (native, generic) in load_results.items():
        rows.append((name, statistics.median(native), statistics.median(generic)))
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'netsky s':>9}  {'peer s':>9}  {'ratio':>7}")
    for name, ours, peer in rows:
        print(f"{name:<{width}}  {ours:9.3f}  {peer:9.3f}  {peer / ours:7.2f}")
    print("ratio = peer (or generic) median / netsky (or native) median; > 1: netsky faster")
    if agreement is not None:
        same, n_ours, n_peer = agreement
        print(
            f"report daily vs ccusage: {same} of {n_ours} days equal token for token ({n_peer} days in ccusage)"
        )
    if args.json:
        print(json.dumps({"rows": rows, "agreement": agreement, "events": events, "megabytes": mb}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
