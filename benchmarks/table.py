"""The performance table: netsky vs a reference for each measurement, from one run.

    benchmarks/run                 # 1 GB history, 1,000,000 events (minutes)
    benchmarks/run --quick         # a few MB and 20,000 events (seconds; CI)
    benchmarks/run --json out.json # the table as JSON too

Every row runs ours and the reference alternately (which goes first alternates every
round) and reports medians. Processes are timed from the outside; peak RSS comes from
``/usr/bin/time -v``.

* cold ingest: ``netsky ingest`` into a fresh SQLite store vs ``ccusage daily --json
  --offline`` on the same generated Claude Code files; afterwards the day-by-day
  tokens and cost of ``netsky report daily --json`` and ccusage are compared.
* query group-by: ``netsky query`` over every event vs DuckDB over a Parquet export of
  the same rows (both fresh processes).
* report daily: ``netsky report daily --json`` on the warm store vs ccusage.
* hook: ``netsky hook`` with a real PreToolUse payload (``../shared/samples/hooks``)
  until it exits, and until its row is queryable, vs ``python -c`` inserting one row
  with ``sqlite3``; the detached drainer is waited for before the reference runs.
* SQLite ``insert_many`` vs apsw ``executemany`` of the same rows (same apsw, same
  SQLite, same table), batches of 5,000.
* PostgreSQL ``insert_many`` vs binary COPY of the same rows (when a server can be
  started or ``NETSKY_TEST_POSTGRES_URL`` names one).
* statusline: ``netsky statusline`` as a cold process on a store of ``--events``
  events vs ``python -c pass`` of the same venv (goal: at most 2.5x) and vs ``ccusage
  statusline --offline --no-cache`` on the same history (``benchmarks/statusline.py``,
  run as its own process: its history ends today, so today and the block hold usage).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.ccusage import find_ccusage  # noqa: E402

GROUP_BY = (
    "SELECT event_type, framework, count(*) AS events, sum(tokens_input) AS input, "
    "sum(tokens_output) AS output FROM events GROUP BY ALL ORDER BY ALL"
)
ONE_ROW = (
    "import sqlite3,sys; d=sys.stdin.read(); c=sqlite3.connect(sys.argv[1]); "
    "c.execute('create table if not exists t(a,b)'); "
    "c.execute('insert into t values (?,?)',(sys.argv[2],d)); c.commit()"
)
DUCKDB = (
    "import sys, duckdb; duckdb.sql(sys.argv[1].replace('FROM events', "
    "\"FROM read_parquet('\" + sys.argv[2] + \"')\")).write_csv('/dev/stdout')"
)
SAMPLES = ROOT.parent / "shared" / "samples"
_RSS = re.compile(rb"Maximum resident set size \(kbytes\): (\d+)")


class Row:
    """One line of the table."""

    def __init__(
        self, name: str, ours: str, ref_name: str, ref: str, ratio: float, goal: str, met: bool
    ) -> None:
        self.name, self.ours, self.ref_name, self.ref = name, ours, ref_name, ref
        self.ratio, self.goal, self.met = ratio, goal, met

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def run(
    cmd: list[str], env: dict[str, str], stdin: bytes | None = None, rss: bool = False
) -> tuple[float, int | None, bytes]:
    """(seconds, peak RSS in KiB or None, stdout) of one process; exits on failure."""
    rss = rss and os.path.exists("/usr/bin/time")  # GNU time (Debian package 'time')
    full = ["/usr/bin/time", "-v", *cmd] if rss else cmd
    started = time.perf_counter()
    proc = subprocess.run(full, env=env, input=stdin, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd[:4])}\n{proc.stderr.decode()[-2000:]}")
    peak = None
    if rss:
        found = _RSS.search(proc.stderr)
        peak = int(found.group(1)) if found else None
    return elapsed, peak, proc.stdout


def interleave(rounds: int, ours: Callable[[], Any], ref: Callable[[], Any]) -> tuple[list, list]:
    """Results of ``rounds`` calls of each, alternating which goes first."""
    a, b = [], []
    for r in range(rounds):
        if r % 2 == 0:
            a.append(ours())
            b.append(ref())
        else:
            b.append(ref())
            a.append(ours())
    return a, b


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def fresh_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def _mib(kib: list[int | None]) -> str:
    values = [k for k in kib if k is not None]
    return f"{med(values) / 1024:,.0f} MiB" if values else "?"


# -- rows -------------------------------------------------------------------------------


def agreement(ours_json: bytes, peer_json: bytes) -> str:
    """Days on which netsky's and ccusage's daily tokens (and cost, to 1e-6 USD) agree."""
    ours = {d["date"]: d for d in json.loads(ours_json)["daily"]}
    peer = {d.get("period") or d["date"]: d for d in json.loads(peer_json)["daily"]}
    tokens = cost = 0
    worst = 0.0
    for day, d in ours.items():
        p = peer.get(day)
        if p is None:
            continue
        if (
            d["input_tokens"],
            d["output_tokens"],
            d["cache_creation_tokens"],
            d["cache_read_tokens"],
        ) == (p["inputTokens"], p["outputTokens"], p["cacheCreationTokens"], p["cacheReadTokens"]):
            tokens += 1
        diff = abs((d.get("cost_usd") or 0.0) - (p.get("totalCost") or 0.0))
        worst = max(worst, diff)
        if diff <= 1e-6:
            cost += 1
    return (
        f"{tokens} of {len(ours)} days equal in tokens, {cost} in cost "
        f"(largest difference ${worst:.6f}); ccusage has {len(peer)} days"
    )


def bench_ingest(
    ctx: dict[str, Any], rounds: int, rows: list[Row], notes: list[str]
) -> tuple[str, int]:
    """Cold ingest vs ccusage; returns the store URL of the last ingest and its events."""
    netsky, env, work, ccusage = ctx["netsky"], ctx["env"], ctx["work"], ctx["ccusage"]
    mb = ctx["bytes"] / 1e6
    db = work / "ingest.db"
    url = f"sqlite:///{db}"
    summary: dict[str, Any] = {}

    def ours() -> tuple[float, int | None]:
        fresh_db(db)
        t, peak, out = run([netsky, "--db", url, "ingest", "--json"], env, rss=True)
        summary.update(json.loads(out))
        return t, peak

    def ref() -> tuple[float, int | None]:
        t, peak, _ = run([ccusage, "daily", "--json", "--offline"], env, rss=True)
        return t, peak

    if ccusage is None:
        a = [ours() for _ in range(rounds)]
        b: list[tuple[float, int | None]] = []
    else:
        a, b = interleave(rounds, ours, ref)
    t_ours = med([x[0] for x in a])
    name = f"cold `netsky ingest`, {mb:,.0f} MB ({ctx['lines']:,} lines)"
    if b:
        t_ref = med([x[0] for x in b])
        rows.append(
            Row(
                name,
                f"{t_ours:.2f} s, {_mib([x[1] for x in a])}",
                "`ccusage daily --json --offline`",
                f"{t_ref:.2f} s, {_mib([x[1] for x in b])}",
                t_ours / t_ref,
                "≤ 2x (RSS ≤ 400 MiB)",
                t_ours / t_ref <= 2.0,
            )
        )
        _, _, mine = run(
            [netsky, "--db", url, "report", "daily", "--json", "--timezone", "UTC"], env
        )
        _, _, theirs = run([ccusage, "daily", "--json", "--offline"], env)
        notes.append("day by day: " + agreement(mine, theirs))
    else:
        notes.append("ccusage not found: the ingest and report rows have no reference")
    notes.append(
        f"ingest: {summary.get('inserted', 0):,} events stored, "
        f"{summary.get('files_read', 0):,} files, {mb / t_ours:,.0f} MB/s"
    )
    return url, int(summary.get("inserted", 0))


def bench_query(
    ctx: dict[str, Any], url: str, events: int, rounds: int, rows: list[Row], notes: list[str]
) -> None:
    from netsky_core.analytics.export import export

    netsky, env, work = ctx["netsky"], ctx["env"], ctx["work"]
    # the mirror is built once (the first query after an ingest does it); measured apart
    t_build, peak_build, _ = run([netsky, "--db", url, "db", "mirror", "rebuild"], env, rss=True)
    parquet = work / "events.parquet"
    parquet.unlink(missing_ok=True)
    export(url, parquet, view="events", timezone="UTC")
    ours_cmd = [netsky, "--db", url, "query", GROUP_BY, "--format", "csv"]
    t_load, peak_load, _ = run(ours_cmd, {**env, "NETSKY_MIRROR": "0"}, rss=True)
    notes.append(
        f"query: the analytics mirror of {events:,} events built once in {t_build:.1f} s "
        f"({_mib([peak_build])}); the same query loading from the store (NETSKY_MIRROR=0), "
        f"one run: {t_load:.2f} s ({_mib([peak_load])})"
    )
    ref_cmd = [ctx["duckdb_python"], "-c", DUCKDB, GROUP_BY, str(parquet)]
    outputs: dict[str, bytes] = {}

    def ours() -> tuple[float, int | None]:
        t, peak, out = run(ours_cmd, env, rss=True)
        outputs["ours"] = out
        return t, peak

    def ref() -> tuple[float, int | None]:
        t, peak, out = run(ref_cmd, env, rss=True)
        outputs["ref"] = out
        return t, peak

    a, b = interleave(rounds, ours, ref)
    t_ours, t_ref = med([x[0] for x in a]), med([x[0] for x in b])
    same = _csv_rows(outputs["ours"]) == _csv_rows(outputs["ref"])
    rows.append(
        Row(
            f"`netsky query` group-by over {events:,} events"
            + ("" if same else " (RESULTS DIFFER)"),
            f"{t_ours:.3f} s, {_mib([x[1] for x in a])}",
            "DuckDB over a Parquet export",
            f"{t_ref:.3f} s, {_mib([x[1] for x in b])}",
            t_ours / t_ref,
            "≤ 2x (RSS ≤ 300 MiB)",
            t_ours / t_ref <= 2.0,
        )
    )


def _csv_rows(data: bytes) -> list[list[str]]:
    lines = data.decode().strip().splitlines()
    return sorted(line.split(",") for line in lines[1:])


def bench_report(ctx: dict[str, Any], url: str, rounds: int, rows: list[Row]) -> None:
    netsky, env, ccusage = ctx["netsky"], ctx["env"], ctx["ccusage"]
    if ccusage is None:
        return
    ours_cmd = [netsky, "--db", url, "report", "daily", "--json", "--timezone", "UTC"]
    ref_cmd = [ccusage, "daily", "--json", "--offline"]
    a, b = interleave(rounds, lambda: run(ours_cmd, env)[0], lambda: run(ref_cmd, env)[0])
    t_ours, t_ref = med(a), med(b)
    rows.append(
        Row(
            "`report daily --json`, warm store",
            f"{t_ours:.3f} s",
            "ccusage",
            f"{t_ref:.3f} s",
            t_ref / t_ours,
            "≥ 20x faster",
            t_ref / t_ours >= 20,
        )
    )


def _hook_payload() -> bytes:
    path = SAMPLES / "hooks" / "pragma-web-2026-04" / "pre_tool_use.json"
    if path.exists():
        return json.dumps(json.loads(path.read_text())[0]).encode()
    return json.dumps(  # a plain clone without the samples: the same fields
        {
            "session_id": "b075c3f4-1009-484f-9b59-2754b974b39f",
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": "ls", "description": "List files"},
            "tool_use_id": "toolu_01JG2G5YcLWJr3aJhS9LWtMz",
            "cwd": "/tmp",
            "permission_mode": "acceptEdits",
        }
    ).encode()


def _wait_drainers(spool_root: Path, timeout: float = 30.0) -> None:
    """Until no drainer holds its lock under ``spool_root`` (the hook's child is done)."""
    import fcntl

    deadline = time.monotonic() + timeout
    for lock in spool_root.rglob(".drainer"):
        while True:
            fd = os.open(lock, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"the hook's drainer still runs after {timeout}s") from None
                time.sleep(0.002)
            finally:
                os.close(fd)


def _drainer_pids(spool_root: Path) -> set[int]:
    """The processes holding a drainer lock open under ``spool_root`` (lingering ones)."""
    locks = {str(p.resolve()) for p in spool_root.rglob(".drainer")}
    found: set[int] = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if any(os.readlink(fd) in locks for fd in (proc / "fd").iterdir()):
                found.add(int(proc.name))
        except OSError:
            continue
    return found


def bench_hook(ctx: dict[str, Any], count: int, rows: list[Row], notes: list[str]) -> None:
    """Three sides, interleaved: the hook with the default lingering drainer (the one
    of the previous hook waits, idle, and stores the next event), the hook when no
    drainer runs (``NETSKY_DRAINER_LINGER=0s``: each hook's drainer starts, imports,
    stores and exits, and is reaped before the next side runs), and the reference."""
    import signal
    import sqlite3

    netsky, python, work = ctx["netsky"], ctx["python"], ctx["work"]
    sides: dict[str, dict[str, Any]] = {}
    for side, linger in (("warm", "10m"), ("cold", "0s")):
        home = work / f"hook-home-{side}"
        shutil.rmtree(home, ignore_errors=True)
        db = work / f"hook-{side}.db"
        fresh_db(db)
        env = {
            **ctx["env"],
            "NETSKY_HOME": str(home),
            "NETSKY_DATABASE_URL": f"sqlite:///{db}",
            "NETSKY_DRAINER_LINGER": linger,
        }
        sides[side] = {"home": home, "db": db, "env": env, "watcher": None}
    raw_db = work / "hook-raw.db"
    fresh_db(raw_db)
    template = json.loads(_hook_payload())

    def queryable(side: dict[str, Any], tool_use_id: str, started: float) -> float:
        deadline = started + 30
        while time.perf_counter() < deadline:
            if side["watcher"] is None and side["db"].exists():
                try:
                    side["watcher"] = sqlite3.connect(f"file:{side['db']}?mode=ro", uri=True)
                except sqlite3.Error:
                    side["watcher"] = None
            if side["watcher"] is not None:
                try:
                    row = (
                        side["watcher"]
                        .execute("SELECT 1 FROM events WHERE tool_use_id = ?", (tool_use_id,))
                        .fetchone()
                    )
                except sqlite3.Error:
                    row = None
                if row is not None:
                    return time.perf_counter() - started
            time.sleep(0.001)
        raise SystemExit(f"the hook's row {tool_use_id} was not stored within 30 s")

    def ours(name: str, i: int) -> tuple[float, float]:
        side = sides[name]
        tool_use_id = f"toolu_bench_{name}_{i}_{time.time_ns()}"
        data = json.dumps({**template, "tool_use_id": tool_use_id}).encode()
        started = time.perf_counter()
        proc = subprocess.run([netsky, "hook"], env=side["env"], input=data, capture_output=True)
        exited = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(f"netsky hook exited {proc.returncode}: {proc.stderr[-500:]!r}")
        stored = queryable(side, tool_use_id, started)
        if name == "cold":
            _wait_drainers(side["home"] / "spool")
        return exited, stored

    def ref(i: int) -> float:
        data = json.dumps({**template, "tool_use_id": f"toolu_raw_{i}"}).encode()
        t, _, _ = run([python, "-c", ONE_ROW, str(raw_db), str(i)], env_ref, stdin=data)
        return t

    env_ref = ctx["env"]
    for i in (-1, -2):  # warm the page cache, create the stores, start the lingering drainer
        ours("warm", i), ours("cold", i), ref(i)
    warm: list[tuple[float, float]] = []
    cold: list[tuple[float, float]] = []
    b: list[float] = []
    try:
        for i in range(count):
            order = ["warm", "cold", "ref"]
            for name in order[i % 3 :] + order[: i % 3]:  # each side first in turn
                if name == "ref":
                    b.append(ref(i))
                else:
                    (warm if name == "warm" else cold).append(ours(name, i))
        lingering = _drainer_pids(sides["warm"]["home"] / "spool")
    finally:
        for pid in _drainer_pids(sides["warm"]["home"] / "spool"):
            os.kill(pid, signal.SIGTERM)
        for side in sides.values():
            if side["watcher"] is not None:
                side["watcher"].close()
    ref_ms = med(b) * 1000
    exit_ms = med([x[0] for x in warm]) * 1000
    cold_exit_ms = med([x[0] for x in cold]) * 1000
    stored_ms = med([x[1] for x in warm]) * 1000
    cold_ms = med([x[1] for x in cold]) * 1000
    rows.append(
        Row(
            "`netsky hook` exit, real PreToolUse payload",
            f"{exit_ms:.1f} ms",
            "`python -c` one-row sqlite3 insert",
            f"{ref_ms:.1f} ms",
            exit_ms / ref_ms,
            "≤ 1.3x",
            exit_ms / ref_ms <= 1.3,
        )
    )
    rows.append(
        Row(
            "hook start → row queryable (drainer lingering, the default)",
            f"{stored_ms:.1f} ms",
            "the same insert",
            f"{ref_ms:.1f} ms",
            stored_ms / ref_ms,
            "≤ 2x",
            stored_ms / ref_ms <= 2.0,
        )
    )
    rows.append(
        Row(
            "hook start → row queryable (no drainer running)",
            f"{cold_ms:.1f} ms",
            "the same insert",
            f"{ref_ms:.1f} ms",
            cold_ms / ref_ms,
            "≤ 2x",
            cold_ms / ref_ms <= 2.0,
        )
    )
    notes.append(
        f"hook: {count} runs per side (after 2 warm-up runs), interleaved; one lingering "
        f"drainer served every default-side run ({len(lingering)} running at the end); "
        f"with no drainer running the hook exits in {cold_exit_ms:.1f} ms"
    )


def bench_sqlite_insert(n: int, batch: int, rows: list[Row], notes: list[str]) -> None:
    import apsw
    from netsky_sqlite._rows import EVENT_WRITE_COLUMNS, event_row

    from netsky_core import open_storage

    workload = _load(ROOT / "backends" / "sqlite" / "benchmarks" / "workload.py", "nb_workload")
    insert = (
        f"INSERT INTO events ({', '.join(EVENT_WRITE_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(EVENT_WRITE_COLUMNS))})"
    )
    folder = Path(tempfile.mkdtemp(prefix="netsky-bench-insert-"))
    try:
        ours_db, raw_db = folder / "ours.db", folder / "raw.db"
        for db in (ours_db, raw_db):
            open_storage(f"sqlite:///{db}").close()  # same schema, indexes, WAL
        store = open_storage(f"sqlite:///{ours_db}")
        raw = apsw.Connection(str(raw_db))
        raw.execute("PRAGMA synchronous = NORMAL")
        t_ours = t_raw = 0.0
        chunk = 100_000
        b = 0
        for start in range(0, n, chunk):
            events = workload.make_events(min(chunk, n - start), start=start, seed=7, total=n)
            data = [event_row(e) for e in events]
            for i in range(0, len(events), batch):
                part, part_rows = events[i : i + batch], data[i : i + batch]

                def ours(part: list[Any] = part) -> float:
                    t = time.perf_counter()
                    store.insert_many(part)
                    return time.perf_counter() - t

                def ref(part_rows: list[Any] = part_rows) -> float:
                    t = time.perf_counter()
                    with raw:  # one transaction
                        raw.executemany(insert, part_rows)
                    return time.perf_counter() - t

                if b % 2 == 0:
                    t_ours += ours()
                    t_raw += ref()
                else:
                    t_raw += ref()
                    t_ours += ours()
                b += 1
        store.close()
        raw.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ours_rate, raw_rate = n / t_ours, n / t_raw
    rows.append(
        Row(
            f"SQLite `insert_many`, {n:,} events",
            f"{ours_rate / 1000:,.1f}k ev/s",
            "apsw `executemany` of the same rows",
            f"{raw_rate / 1000:,.1f}k",
            ours_rate / raw_rate,
            "≥ 0.8",
            ours_rate / raw_rate >= 0.8,
        )
    )
    notes.append(
        f"SQLite: apsw {apsw.apswversion()}, SQLite {apsw.sqlite_lib_version()} on both sides, "
        f"batches of {batch:,}"
    )


def bench_postgres(n: int, batch: int, rows: list[Row], notes: list[str]) -> None:
    if not (os.environ.get("NETSKY_TEST_POSTGRES_URL") or shutil.which("initdb")):
        notes.append("PostgreSQL: no server (NETSKY_TEST_POSTGRES_URL or initdb): row skipped")
        return
    try:
        pg = _load(ROOT / "backends" / "postgres" / "benchmarks" / "compare.py", "nb_pg_compare")
    except ImportError as exc:
        notes.append(f"PostgreSQL: {exc}: row skipped")
        return
    url, stop = pg._server_url(argparse.Namespace(url=None))
    table = pg.Table()
    try:
        pg.bench_insert_many(url, n, batch, table)
        pg._drop_schemas(url)
        sync = _load(ROOT / "benchmarks" / "sync_bench.py", "nb_sync_bench")
        sync_s, copy_s = sync.measure(url, n)
        pg._drop_schemas(url)
    finally:
        stop()
    rows.append(
        Row(
            f"`netsky sync --to` PostgreSQL, {n:,}-event SQLite store",
            f"{sync_s:.1f} s",
            "`netsky copy` of the same store",
            f"{copy_s:.1f} s",
            sync_s / copy_s,
            "≤ 1.2",
            sync_s / copy_s <= 1.2,
        )
    )
    _name, ours, raw, speed = table.rows[0]
    ratio = float(speed)
    rows.append(
        Row(
            f"PostgreSQL `insert_many`, {n:,} events",
            f"{float(ours.replace(',', '')) / 1000:,.1f}k ev/s",
            "binary COPY of the same rows",
            f"{float(raw.replace(',', '')) / 1000:,.1f}k",
            ratio,
            "≥ 0.85",
            ratio >= 0.85,
        )
    )


# -- main -------------------------------------------------------------------------------


def print_table(rows: list[Row], notes: list[str]) -> None:
    head = ["measurement", "netsky", "reference", "", "ratio", "goal", "met"]
    body = [
        [r.name, r.ours, r.ref_name, r.ref, f"{r.ratio:.2f}", r.goal, "yes" if r.met else "no"]
        for r in rows
    ]
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for line in body:
        print("| " + " | ".join(line) + " |")
    print()
    for note in notes:
        print(f"- {note}")


def bench_statusline(
    work: Path, events: int, runs: int, quick: bool, rows: list[Row], notes: list[str]
) -> None:
    out = work / "statusline.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, str(ROOT / "benchmarks" / "statusline.py"), "--json", str(out)]
    cmd += ["--work", str(work / "statusline"), "--runs", str(runs)]
    cmd += ["--quick"] if quick else ["--events", str(events)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not out.exists():
        notes.append(f"statusline benchmark failed: {proc.stderr.strip()[-300:]}")
        return
    data = json.loads(out.read_text())
    ms = data["median_ms"]
    ours = ms["netsky"]
    label = f"`netsky statusline`, cold process, {data['events']:,}-event store"
    ratio = ours / ms["python -c pass"]
    rows.append(
        Row(
            label,
            f"{ours:.1f} ms",
            "`python -c pass`",
            f"{ms['python -c pass']:.1f} ms",
            ratio,
            f"≤ {data['goal']}x",
            ratio <= data["goal"],
        )
    )
    if "ccusage" in ms:
        rows.append(
            Row(
                label,
                f"{ours:.1f} ms",
                "`ccusage statusline --offline --no-cache`",
                f"{ms['ccusage']:.1f} ms",
                ours / ms["ccusage"],
                "< 1x",
                ms["ccusage"] > ours,
            )
        )
    else:
        notes.append("ccusage not found: the statusline row has no ccusage reference")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--size", default="1G", help="generated history (default 1G)")
    ap.add_argument("--events", type=int, default=1_000_000, help="insert_many rows (1M)")
    ap.add_argument("--rounds", type=int, default=3, help="ingest rounds per side (3)")
    ap.add_argument("--runs", type=int, default=5, help="query / report runs per side (5)")
    ap.add_argument("--hooks", type=int, default=21, help="hook runs per side (21)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "netsky-bench-run",
        help="cache folder (history, venv, stores)",
    )
    ap.add_argument(
        "--only",
        help=(
            "comma-separated rows: ingest,query,report,hook,sqlite,postgres (insert_many and "
            "sync),statusline"
        ),
    )
    ap.add_argument("--quick", action="store_true", help="smoke run: a few MB, seconds")
    ap.add_argument("--json", type=Path, help="also write the table as JSON to this file")
    args = ap.parse_args(argv)
    if args.quick:
        args.size, args.events, args.rounds, args.runs, args.hooks = "4M", 20_000, 1, 1, 3
        args.days = 5
    from tests.history import generate, parse_size

    only = set((args.only or "ingest,query,report,hook,sqlite,postgres,statusline").split(","))
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    history = work / f"history-{args.size}-{args.seed}-{args.days}"
    if not (history / "manifest.json").exists():
        shutil.rmtree(history, ignore_errors=True)
        print(f"generating {args.size} of Claude Code history in {history} ...", flush=True)
        generate(
            history,
            target_bytes=parse_size(args.size),
            seed=args.seed,
            days=args.days,
            claude_share=1.0,
        )
    files = list((history / "claude").rglob("*.jsonl"))
    total = sum(f.stat().st_size for f in files)
    lines = 0
    for f in files:
        with f.open("rb") as fh:
            lines += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    if args.quick:  # the checkout's own install: seconds, not a pip install
        bin_dir = Path(sys.executable).parent
    else:
        print("installing netsky (regular, byte-compiled) ...", flush=True)
        ingest_bench = _load(ROOT / "benchmarks" / "ingest" / "compare.py", "nb_ingest_compare")
        bin_dir = ingest_bench.regular_install(work) / "bin"
    empty = work / "empty-home"
    empty.mkdir(exist_ok=True)
    (work / "no-codex").mkdir(exist_ok=True)
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("NETSKY_", "CLAUDE_", "CODEX_"))
        },
        "HOME": str(empty),
        "TZ": "UTC",
        "NETSKY_HOME": str(work / "netsky-home"),
        "NETSKY_MACHINE_ID": "bench",
        "CLAUDE_CONFIG_DIR": str(history / "claude"),
        "CODEX_HOME": str(work / "no-codex"),
    }
    python = str(bin_dir / "python")
    has_duckdb = subprocess.run([python, "-c", "import duckdb"], capture_output=True).returncode
    ctx: dict[str, Any] = {
        "netsky": str(bin_dir / "netsky"),
        "python": python,
        "duckdb_python": python if has_duckdb == 0 else sys.executable,
        "env": env,
        "work": work,
        "ccusage": find_ccusage(),
        "bytes": total,
        "lines": lines,
    }
    print(
        f"history: {total / 1e6:,.0f} MB, {len(files):,} files, {lines:,} lines; "
        f"ccusage: {ctx['ccusage'] or 'not found'}; load: {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    rows: list[Row] = []
    notes: list[str] = []
    url, events = f"sqlite:///{work / 'ingest.db'}", 0
    if "ingest" in only:
        print("cold ingest vs ccusage ...", flush=True)
        url, events = bench_ingest(ctx, args.rounds, rows, notes)
    elif (work / "ingest.db").exists():
        from netsky_core import open_storage

        with open_storage(url, read_only=True) as store:
            events = store.count()
    if not events and only & {"query", "report"}:
        notes.append(
            f"query, report: no store at {work / 'ingest.db'} yet: rows skipped "
            "(run with `--only ingest,query,report` once)"
        )
    if "query" in only and events:
        print("query group-by vs DuckDB ...", flush=True)
        bench_query(ctx, url, events, args.runs, rows, notes)
    if "report" in only and events:
        print("report daily vs ccusage ...", flush=True)
        bench_report(ctx, url, args.runs, rows)
    if "hook" in only:
        print("hook vs a one-row insert ...", flush=True)
        bench_hook(ctx, args.hooks, rows, notes)
    if "sqlite" in only:
        print(f"SQLite insert_many vs apsw, {args.events:,} events ...", flush=True)
        bench_sqlite_insert(args.events, 5000, rows, notes)
    if "postgres" in only:
        print(f"PostgreSQL insert_many vs COPY, {args.events:,} events ...", flush=True)
        bench_postgres(args.events, 5000, rows, notes)
    if "statusline" in only:
        print(f"statusline vs python -c pass and ccusage, {args.events:,} events ...", flush=True)
        bench_statusline(work, args.events, max(args.hooks, 3), args.quick, rows, notes)
    notes.append(f"load average at the end: {os.getloadavg()[0]:.2f} (2 cores)")
    print_table(rows, notes)
    if args.json:
        args.json.write_text(
            json.dumps({"rows": [r.as_dict() for r in rows], "notes": notes}, indent=2)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
