"""Ingest and hook speed, ours vs the peers, in one run.

    .venv/bin/python benchmarks/ingest/compare.py --size 1G     # the issue's figures
    .venv/bin/python benchmarks/ingest/compare.py --quick       # CI smoke (20 MB)

1. cold ``netsky ingest`` of a generated history into a fresh SQLite store vs
   ``ccusage daily --json --offline`` on the same files (and their token totals, which
   must agree);
2. a second ``netsky ingest`` with nothing new;
3. ``netsky hook`` as a cold process (payload on stdin, one event stored) vs
   ``python -c`` that opens sqlite3 and inserts one row, both with the same
   interpreter of a regular (non-editable, byte-compiled) install.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.history import Manifest, generate, parse_size  # noqa: E402

ONE_ROW = (
    "import sqlite3,sys; d=sys.stdin.read(); c=sqlite3.connect(sys.argv[1]); "
    "c.execute('create table if not exists t(a,b)'); c.execute('insert into t values (?,?)',(1,d)); c.commit()"
)


def find_ccusage(install: bool) -> str | None:
    for candidate in (
        os.environ.get("NETSKY_CCUSAGE"),
        "/tmp/ccu/node_modules/.bin/ccusage",
        shutil.which("ccusage"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    if install and shutil.which("npm"):
        subprocess.run(
            ["npm", "install", "--prefix", "/tmp/ccu", "ccusage@20.0.24"],
            check=True,
            capture_output=True,
        )
        return "/tmp/ccu/node_modules/.bin/ccusage"
    return None


def regular_install(folder: Path) -> Path:
    """A venv with netsky installed from wheels (not editable) and byte-compiled."""
    venv = folder / "venv"
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    packages = [str(ROOT), str(ROOT / "backends" / "memory"), str(ROOT / "backends" / "sqlite")]
    if not (venv / "bin" / "netsky").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([*pip, *packages], check=True, capture_output=True)
    else:  # the venv is cached; the checkout's code may have changed since
        subprocess.run(
            [*pip, "--no-deps", "--force-reinstall", *packages], check=True, capture_output=True
        )
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "compileall", "-q", str(venv / "lib")],
        capture_output=True,
    )
    return venv


def wall(
    cmd: list[str], env: dict[str, str], stdin: bytes | None = None
) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, input=stdin, capture_output=True, check=False)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.decode()[-2000:]}")
    return elapsed, proc


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", default="1G", help="generated history size (e.g. 200M, 1G, 2G)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the ingest comparison")
    parser.add_argument("--hooks", type=int, default=30, help="hook processes timed per side")
    parser.add_argument(
        "--work",
        default=str(Path(tempfile.gettempdir()) / "netsky-bench"),
        help="cache folder (history, venv)",
    )
    parser.add_argument(
        "--install-ccusage", action="store_true", help="npm install ccusage 20.0.24 if missing"
    )
    parser.add_argument("--quick", action="store_true", help="CI smoke: 20 MB, 1 round, 8 hooks")
    args = parser.parse_args()
    if args.quick:
        args.size, args.rounds, args.hooks = "20M", 1, 8
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    size = parse_size(args.size)
    history = work / f"history-{args.size}-{args.seed}"
    if (history / "manifest.json").exists():
        manifest = Manifest.load(history)
    else:  # nothing, or what an interrupted run left
        shutil.rmtree(history, ignore_errors=True)
        print(f"generating {args.size} of agent history in {history} ...", flush=True)
        manifest = generate(history, target_bytes=size, seed=args.seed)
    total_bytes = manifest.bytes
    total_files = sum(f.files for f in manifest.files.values())
    venv = regular_install(work)
    netsky = str(venv / "bin" / "netsky")
    python = str(venv / "bin" / "python")
    empty_home = work / "empty-home"
    empty_home.mkdir(exist_ok=True)
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("NETSKY_", "CLAUDE_", "CODEX_"))
        },
        "HOME": str(empty_home),
        "NETSKY_HOME": str(work / "netsky-home"),
        "NETSKY_MACHINE_ID": "bench",
        "CLAUDE_CONFIG_DIR": str(history / "claude"),
        "CODEX_HOME": str(history / "codex"),
        "TZ": "UTC",
    }
    ccusage = find_ccusage(args.install_ccusage)
    print(
        f"history: {total_bytes / 1e6:,.0f} MB in {total_files:,} files; ccusage: {ccusage or 'not found (skipped)'}"
    )

    cold, second, peer = [], [], []
    for r in range(args.rounds):
        db = work / f"bench-{r}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        t, proc = wall([netsky, "--db", f"sqlite:///{db}", "ingest", "--json"], env)
        cold.append(t)
        summary = json.loads(proc.stdout)
        t, _ = wall([netsky, "--db", f"sqlite:///{db}", "ingest", "--json"], env)
        second.append(t)
        if ccusage:
            t, proc = wall([ccusage, "daily", "--json", "--offline"], env)
            peer.append(t)
            theirs = json.loads(proc.stdout)["totals"]
            _, mine = wall([netsky, "--db", f"sqlite:///{db}", "stats", "--json"], env)
            ours = json.loads(mine.stdout)
            agree = ours["total_tokens"] == theirs.get("totalTokens")
            print(
                f"round {r + 1}: netsky {cold[-1]:.1f}s ({summary['inserted']:,} events), ccusage {peer[-1]:.1f}s; "
                f"total tokens netsky {ours['total_tokens']:,} ccusage {theirs.get('totalTokens', 0):,} "
                f"({'equal' if agree else 'DIFFERENT'})",
                flush=True,
            )
    mb = total_bytes / 1e6
    print(
        f"cold ingest        netsky {statistics.median(cold):8.2f} s ({mb / statistics.median(cold):,.0f} MB/s)",
        end="",
    )
    if peer:
        print(
            f"   ccusage daily {statistics.median(peer):8.2f} s   netsky/ccusage {statistics.median(cold) / statistics.median(peer):.2f}"
        )
    else:
        print()
    print(
        f"second ingest      netsky {statistics.median(second):8.2f} s (nothing new; cold/second {statistics.median(cold) / statistics.median(second):,.0f}x)"
    )

    payload = json.dumps(
        {
            "session_id": "bench",
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_use_id": "toolu_x",
            "tool_input": {"command": "ls"},
            "cwd": str(ROOT),
        }
    ).encode()
    hook_env = {**env, "NETSKY_DATABASE_URL": f"sqlite:///{work}/hook.db"}
    raw_db = str(work / "raw-one-row.db")
    ours_t, raw_t = [], []
    for i in range(args.hooks + 2):
        data = payload.replace(b"toolu_x", f"toolu_{i}_{time.time_ns()}".encode())
        t, _ = wall([netsky, "hook"], hook_env, stdin=data)
        t2, _ = wall([python, "-c", ONE_ROW, raw_db], hook_env, stdin=data)
        if i >= 2:  # warm the page cache first
            ours_t.append(t)
            raw_t.append(t2)
    o, r = statistics.median(ours_t) * 1000, statistics.median(raw_t) * 1000
    print(
        f"hook cold process  netsky {o:8.1f} ms   python one-row insert {r:8.1f} ms   ratio {o / r:.2f}"
    )


if __name__ == "__main__":
    main()
