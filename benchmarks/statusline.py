"""``netsky statusline`` as a cold process vs a bare interpreter and ``ccusage statusline``.

    .venv/bin/python benchmarks/statusline.py              # 1,000,000-event store
    .venv/bin/python benchmarks/statusline.py --quick      # CI smoke (20 MB history)

A generated agent history (ending today, so today and the 5-hour block hold usage) is
ingested into a SQLite store, which is then filled with older generated events up to
``--events``. Interleaved, each timed ``--runs`` times as a fresh process with the same
statusline JSON on stdin:

1. ``python -c pass`` of the same venv (the floor every Python command pays),
2. ``netsky statusline`` on the store,
3. ``ccusage statusline --offline --no-cache`` on the history's transcripts (its
   output cache off: a statusline that is asked after new usage pays this).

Prints medians and the ratios ours / bare interpreter (goal: at most 2.5) and ours /
ccusage; ``--json PATH`` writes the medians (ms), the store's size and the lines too
(``benchmarks/run`` reads them for its table).
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
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "backends" / "sqlite" / "benchmarks"))
from tests.ccusage import find_ccusage  # noqa: E402
from tests.history import generate, parse_size  # noqa: E402

GOAL = 2.5


def run(cmd: list[str], env: dict[str, str], stdin: bytes = b"") -> tuple[float, bytes]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, input=stdin, capture_output=True, check=False)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed, proc.stdout


def build_store(db: Path, history: Path, events: int, env: dict[str, str]) -> tuple[int, str, str]:
    """Ingest ``history`` into ``db`` and fill it with older events up to ``events``.
    Returns (events stored, id and transcript of the most recently active Claude
    session)."""
    from workload import make_events

    from netsky_core import EventQuery, SessionQuery, open_storage

    url = f"sqlite:///{db}"
    done = db.with_suffix(".ready")
    if not done.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        netsky = str(ROOT / ".venv" / "bin" / "netsky")
        print("ingesting the history ...", flush=True)
        subprocess.run(
            [netsky, "--db", url, "ingest", "--json"], env=env, check=True, capture_output=True
        )
        with open_storage(url) as store:
            have = store.count(EventQuery())
            missing = events - have
            batch = 20_000
            if missing > 0:
                print(f"adding {missing:,} older events ...", flush=True)
            for start in range(0, max(missing, 0), batch):
                n = min(batch, missing - start)
                store.insert_many(make_events(n, start=start, total=missing, seed=7))
        done.write_text("ready\n")
    with open_storage(url) as store:
        count = store.count(EventQuery())
        recent = store.list_sessions(
            SessionQuery().with_framework("claude").order_by("last_activity").with_limit(1)
        )
    if not recent:
        raise SystemExit("the generated history holds no Claude session")
    return count, recent[0].session_id, recent[0].transcript_path or ""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", default="200M", help="generated history size (e.g. 200M, 1G)")
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the store")
    parser.add_argument("--runs", type=int, default=25, help="cold processes timed per side")
    parser.add_argument(
        "--work", default=str(Path(tempfile.gettempdir()) / "netsky-bench-statusline")
    )
    parser.add_argument("--quick", action="store_true", help="CI smoke: 20 MB, 50,000 events")
    parser.add_argument("--json", type=Path, help="also write the medians as JSON to this file")
    args = parser.parse_args()
    if args.quick:
        args.size, args.events, args.runs = "20M", 50_000, 6
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    days = 7
    start = date.today() - timedelta(days=days - 1)
    history = work / f"history-{args.size}-{start}"
    if not (history / "manifest.json").exists():
        shutil.rmtree(history, ignore_errors=True)
        print(f"generating {args.size} of agent history in {history} ...", flush=True)
        generate(history, target_bytes=parse_size(args.size), seed=0, start=start, days=days)
    home = work / "home"
    home.mkdir(exist_ok=True)
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("NETSKY_", "CLAUDE_", "CODEX_"))
        },
        "HOME": str(home),
        "NETSKY_HOME": str(work / "netsky-home"),
        "NETSKY_MACHINE_ID": "bench",
        "CLAUDE_CONFIG_DIR": str(history / "claude"),
        "CODEX_HOME": str(history / "codex"),
    }
    env.pop("NO_COLOR", None)
    db = work / f"store-{args.size}-{args.events}-{start}.db"
    count, session_id, transcript = build_store(db, history, args.events, env)
    env["NETSKY_DATABASE_URL"] = f"sqlite:///{db}"
    payload = json.dumps(
        {
            "session_id": session_id,
            "transcript_path": transcript,
            "cwd": str(ROOT),
            "model": {"id": "claude-sonnet-4-5", "display_name": "Sonnet 4.5"},
            "workspace": {"current_dir": str(ROOT), "project_dir": str(ROOT)},
            "version": "2.1.0",
            "cost": {"total_cost_usd": 1.0, "total_duration_ms": 1000},
        }
    ).encode()
    python = str(ROOT / ".venv" / "bin" / "python")
    # byte-compiled, as an installed package is (PYTHONDONTWRITEBYTECODE may be set)
    subprocess.run(
        [python, "-m", "compileall", "-q", str(ROOT / "netsky_core"), str(ROOT / "backends")],
        capture_output=True,
    )
    netsky = str(ROOT / ".venv" / "bin" / "netsky")
    ccusage = find_ccusage()
    sides: dict[str, list[str]] = {
        "python -c pass": [python, "-c", "pass"],
        "netsky": [netsky, "statusline"],
    }
    if ccusage:
        sides["ccusage"] = [ccusage, "statusline", "--offline", "--no-cache"]
    print(f"store: {count:,} events ({db.stat().st_size / 2**20:,.0f} MiB); session {session_id}")
    _, line = run(sides["netsky"], env, payload)
    print("netsky line: " + line.decode().strip())
    if ccusage:
        _, line = run(sides["ccusage"], env, payload)
        print("ccusage line: " + line.decode().strip())
    times: dict[str, list[float]] = {k: [] for k in sides}
    for i in range(args.runs + 2):
        for name, cmd in sides.items():
            t, _ = run(cmd, env, payload)
            if i >= 2:  # the first rounds warm the page cache
                times[name].append(t)
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    for name, value in med.items():
        print(f"{name:16s} median {value:8.1f} ms over {len(times[name])} runs")
    ratio = med["netsky"] / med["python -c pass"]
    verdict = "within" if ratio <= GOAL else "ABOVE"
    print(f"netsky / python -c pass: {ratio:.2f} ({verdict} the goal of {GOAL})")
    if ccusage:
        print(
            f"netsky / ccusage statusline: {med['netsky'] / med['ccusage']:.3f} "
            f"(ccusage takes {med['ccusage'] / med['netsky']:.1f}x as long)"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "median_ms": med,
                    "runs": args.runs,
                    "events": count,
                    "history": args.size,
                    "goal": GOAL,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
