"""kill -9 of ``netsky ingest`` at random moments, then a re-run: nothing lost or doubled."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import attrs

from netsky_core import EventQuery, SessionQuery, StorageStatsQuery, open_storage
from tests.history import generate

from .conftest import NETSKY, isolated_env

TRIALS = 20


def snapshot(url: str) -> tuple:
    with open_storage(url) as store:
        events = sorted(
            (attrs.evolve(e, id=None) for e in store.query(EventQuery())),
            key=lambda e: (e.session_id, e.uuid or "", e.event_type, e.timestamp),
        )
        positions = [
            (p.path, p.offset, p.line_number, p.size) for p in store.query_transcript_positions()
        ]
        return (
            events,
            store.list_sessions(SessionQuery()),
            store.storage_stats(StorageStatsQuery()),
            positions,
        )


def test_killed_ingests_resume_to_the_clean_result(tmp_path: Path) -> None:
    history = tmp_path / "history"
    generate(history, target_bytes=6_000_000, seed=11, days=10)
    env = isolated_env(
        tmp_path, CLAUDE_CONFIG_DIR=str(history / "claude"), CODEX_HOME=str(history / "codex")
    )
    clean = f"sqlite:///{tmp_path}/clean.db"
    start = time.monotonic()
    done = subprocess.run(
        [str(NETSKY), "--db", clean, "ingest", "--batch-size", "20"],
        env=env,
        capture_output=True,
        check=False,
    )
    duration = time.monotonic() - start
    assert done.returncode == 0, done.stderr
    expected = snapshot(clean)
    assert expected[2].total_tokens > 0

    rng = random.Random(20261122)
    killed = 0
    for trial in range(TRIALS):
        url = f"sqlite:///{tmp_path}/crash-{trial}.db"
        proc = subprocess.Popen(
            [str(NETSKY), "--db", url, "ingest", "--batch-size", "20"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.0, duration))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait()
        rerun = subprocess.run(
            [str(NETSKY), "--db", url, "ingest"], env=env, capture_output=True, check=False
        )
        assert rerun.returncode == 0, rerun.stderr
        with open_storage(url) as store:
            assert store.engine.integrity_check() == ["ok"]
        got = snapshot(url)
        assert got[0] == expected[0], f"trial {trial}: events differ"
        assert got[1] == expected[1], f"trial {trial}: sessions differ"
        assert got[2] == expected[2]
        assert got[3] == expected[3]
        (tmp_path / f"crash-{trial}.db").unlink()
    print(
        f"\n{killed} of {TRIALS} ingests killed mid-run (clean run {duration:.2f}s); every re-run equals the clean store"
    )
    assert killed >= TRIALS // 2
    shutil.rmtree(history)
