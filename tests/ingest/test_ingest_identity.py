"""Each response counts once per store, whatever machine id, file path or re-read it
comes under; gc never brings deleted history back; every report agrees after gc.

These run the netsky command as a user would, on copies of the real sample files.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from .conftest import isolated_env, run_netsky, samples_or_skip

SPOTTER = "-home-marco-projects-spotter"
SUBAGENT_FILE = "491e126e-1e71-469c-ade2-fcc8af567c74.jsonl"


def _json(args: list[str], env: dict[str, str]) -> Any:
    proc = run_netsky([*args, "--json"], env)
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout)


def _ok(args: list[str], env: dict[str, str]) -> None:
    proc = run_netsky(args, env)
    assert proc.returncode == 0, proc.stderr.decode()


def _claude_totals(env: dict[str, str]) -> tuple[int, int]:
    stats = _json(["stats", "--framework", "claude"], env)
    return stats["total_api_requests"], stats["total_tokens"]


def test_the_same_responses_under_two_machine_ids_count_once(tmp_path: Path) -> None:
    """A synced ~/.claude read on two machines into one shared store: ccusage counts
    each response once (26 requests, 757,690 tokens on the samples), so does netsky."""
    samples = samples_or_skip()
    db = f"sqlite:///{tmp_path}/shared.db"
    base = isolated_env(tmp_path, CLAUDE_CONFIG_DIR=str(samples / "claude"))
    for machine in ("laptop-a", "laptop-b"):
        env = {**base, "NETSKY_MACHINE_ID": machine}
        _ok(["--db", db, "ingest", "claude"], env)
        assert _claude_totals({**env, "NETSKY_DATABASE_URL": db}) == (26, 757_690)
    env = {**base, "NETSKY_DATABASE_URL": db}
    # both machines keep their sessions; the copies are filed as repeated, not billed
    sessions = _json(["sessions", "--limit", "0"], env)
    machines = {s["machine_id"] for s in sessions}
    assert machines == {"laptop-a", "laptop-b"}
    daily = _json(["report", "daily", "--timezone", "UTC", "--framework", "claude"], env)
    assert daily["totals"]["total_tokens"] == 757_690


def test_an_import_of_another_machines_export_counts_each_response_once(tmp_path: Path) -> None:
    samples = samples_or_skip()
    a, b = f"sqlite:///{tmp_path}/a.db", f"sqlite:///{tmp_path}/b.db"
    base = isolated_env(tmp_path, CLAUDE_CONFIG_DIR=str(samples / "claude"))
    _ok(["--db", a, "ingest", "claude"], {**base, "NETSKY_MACHINE_ID": "a"})
    _ok(["--db", b, "ingest", "claude"], {**base, "NETSKY_MACHINE_ID": "b"})
    _ok(["--db", a, "export", "-o", str(tmp_path / "a.jsonl")], base)
    _ok(["--db", b, "import", str(tmp_path / "a.jsonl")], base)
    assert _claude_totals({**base, "NETSKY_DATABASE_URL": b}) == (26, 757_690)


def _restamp(lines: list[bytes], start: datetime) -> list[bytes]:
    """The lines with their timestamps set 10 s apart from ``start``."""
    out = []
    for i, raw in enumerate(lines):
        record = json.loads(raw)
        if "timestamp" in record:
            stamp = start + timedelta(seconds=10 * i)
            record["timestamp"] = stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        out.append(json.dumps(record).encode() + b"\n")
    return out


def _everything(env: dict[str, str]) -> tuple[Any, ...]:
    """Every total the store answers with: stats, daily, session report, the view."""
    stats = _json(["stats"], env)
    daily = _json(["report", "daily", "--timezone", "UTC"], env)["totals"]
    by_session = _json(["report", "session", "--timezone", "UTC"], env)["totals"]
    proc = run_netsky(
        [
            "query",
            "--format",
            "json",
            "SELECT count(*) AS n, sum(total_tokens) AS t FROM api_requests",
        ],
        env,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    view = json.loads(proc.stdout)
    row = view["rows"][0] if isinstance(view, dict) else view[0]
    return (
        (stats["total_api_requests"], stats["total_tokens"]),
        (daily["requests"], daily["total_tokens"]),
        (by_session["requests"], by_session["total_tokens"]),
        (row["n"], row["t"] or 0),
    )


def _gc_setup(tmp_path: Path, kind: str) -> tuple[dict[str, str], Path, Path, list[bytes]]:
    """A copy of a sample history restamped so that its first minutes are older
    than 30 days, ingested; returns (env, home, file, lines)."""
    samples = samples_or_skip()
    start = datetime.now(UTC) - timedelta(days=30, minutes=5)
    if kind == "codex":
        (source,) = (samples / "codex" / "sessions").rglob("*.jsonl")
        home = tmp_path / "codex"
        folder = home / "sessions" / "2026" / "01" / "25"
        env = isolated_env(tmp_path, CODEX_HOME=str(home))
    else:
        source = samples / "claude" / "projects" / SPOTTER / SUBAGENT_FILE
        home = tmp_path / "claude"
        folder = home / "projects" / SPOTTER
        env = isolated_env(tmp_path, CLAUDE_CONFIG_DIR=str(home))
    folder.mkdir(parents=True)
    lines = _restamp(source.read_bytes().splitlines(keepends=True), start)
    path = folder / source.name
    path.write_bytes(b"".join(lines))
    env["NETSKY_DATABASE_URL"] = f"sqlite:///{tmp_path}/s.db"
    _ok(["ingest"], env)
    return env, home, path, lines


@pytest.mark.parametrize("kind", ["codex", "claude"])
def test_every_report_agrees_after_gc(tmp_path: Path, kind: str) -> None:
    """A session straddling the cutoff: stats, the daily and session reports and the
    api_requests view give the same totals after gc (the deleted events are taken
    out of sessions and usage buckets alike)."""
    env, _home, _path, _lines = _gc_setup(tmp_path, kind)
    before = _everything(env)
    _ok(["gc", "--retention", "30d", "--yes"], env)
    after = _everything(env)
    assert after[3][0] < before[3][0], "the test must gc some requests"
    assert len(set(after)) == 1, after


@pytest.mark.parametrize("kind", ["codex", "claude"])
def test_gc_never_brings_deleted_history_back(tmp_path: Path, kind: str) -> None:
    """Moved (Codex archives a rollout), renamed (a Claude project folder) or
    re-appended, a file read again brings back nothing gc deleted."""
    env, home, path, lines = _gc_setup(tmp_path, kind)
    _ok(["gc", "--retention", "30d", "--yes"], env)
    after_gc = _everything(env)
    if kind == "codex":
        moved = home / "archived_sessions" / path.name
    else:
        moved = home / "projects" / (SPOTTER + "-renamed") / path.name
    moved.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), moved)
    _ok(["ingest"], env)
    assert _everything(env) == after_gc
    with moved.open("ab") as fh:  # an old line appended again
        fh.write(lines[1])
    _ok(["ingest"], env)
    assert _everything(env) == after_gc
