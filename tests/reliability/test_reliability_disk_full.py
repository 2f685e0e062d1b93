"""A full disk, for real: the store (or netsky's home) on a small tmpfs mounted for the
test, filled by `netsky ingest` or full before `netsky hook` runs.

* ingest: one error line naming the full disk, exit 1; what was stored passes SQLite's
  integrity check and is whole (events with their file positions); once the disk has
  room the next run ends with a store equal to a clean ingest of the same files;
* hook: exit 0 (the agent is never stopped), one line saying the event is lost and why;
  nothing left behind (no temporary files piling up, one per hook); once the disk has
  room the next hook's event is stored.

Mounting needs root (and a kernel that lets the sandbox mount tmpfs); elsewhere these
tests skip, saying so. (A full state folder under a healthy store is loss path 3, in
``tests/ingest/test_hook_loss.py``.)
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import apsw
import pytest

from tests.disks import fill, resize, small_tmpfs
from tests.history import generate
from tests.ingest.conftest import NETSKY, isolated_env

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "hooks"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "disk", "6m") as disk:
        yield disk


def _netsky(env: dict[str, str], *args: str, stdin: str | None = None):
    return subprocess.run(
        [str(NETSKY), *args], env=env, input=stdin, capture_output=True, text=True, timeout=300
    )


def _contents(db: Path) -> tuple[list[tuple], list[tuple], list[tuple]]:
    conn = apsw.Connection(str(db), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        events = sorted(
            conn.execute(
                "SELECT machine_id, session_id, uuid, event_type, timestamp, tokens_input, "
                "tokens_output, cost_usd FROM events"
            ).fetchall(),
            key=repr,
        )
        sessions = sorted(
            conn.execute(
                "SELECT machine_id, session_id, event_count, tokens_input, cost_picousd "
                "FROM sessions"
            ).fetchall(),
            key=repr,
        )
        positions = sorted(conn.execute("SELECT path, offset FROM positions").fetchall())
        return events, sessions, positions
    finally:
        conn.close()


def test_ingest_filling_the_disk_keeps_what_it_stored_whole(
    tmp_path: Path, small_disk: Path
) -> None:
    history = tmp_path / "history"
    generate(history, target_bytes=10_000_000)
    env = isolated_env(
        tmp_path, CLAUDE_CONFIG_DIR=str(history / "claude"), CODEX_HOME=str(history / "codex")
    )
    clean = tmp_path / "clean.db"
    assert _netsky(env, "--db", f"sqlite:///{clean}", "ingest").returncode == 0
    want_events, want_sessions, want_positions = _contents(clean)

    db = small_disk / "store.db"
    full = _netsky(env, "--db", f"sqlite:///{db}", "ingest")
    assert full.returncode == 1, full
    lines = full.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in full.stderr, full
    assert lines[0].startswith(f"netsky: error: the disk holding {db} is full"), lines
    events, _sessions, positions = _contents(db)
    assert 0 < len(events) < len(want_events)  # the disk filled in the middle
    # every file position stored came with its events: the files it names are whole
    done = {path for path, _ in positions}
    assert set(positions) <= set(want_positions)
    assert {e for e in want_events if e in set(events)} == set(events)

    resize(small_disk, "64m")
    again = _netsky(env, "--db", f"sqlite:///{db}", "ingest")
    assert again.returncode == 0, again
    assert _contents(db) == (want_events, want_sessions, want_positions)
    assert done <= {path for path, _ in want_positions}


def _payload() -> str:
    path = SAMPLES / "pragma-web-2026-04" / "pre_tool_use.json"
    if not path.exists():
        pytest.skip(f"no hook samples at {path}")
    record = json.loads(path.read_text())[0]
    record["tool_use_id"] = f"toolu_{uuid.uuid4().hex}"
    return json.dumps(record)


def test_a_hook_on_a_full_disk_says_its_event_is_lost_and_leaves_nothing_behind(
    tmp_path: Path, small_disk: Path
) -> None:
    env = isolated_env(tmp_path, NETSKY_HOME=str(small_disk / "netsky-home"))
    filler = fill(small_disk)
    seen: list[list[Path]] = []
    for _ in range(3):
        lost = _netsky(env, "hook", stdin=_payload())
        assert lost.returncode == 0, lost  # the agent goes on
        lines = lost.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in lost.stderr, lost
        assert "LOST" in lines[0] and "No space left on device" in lines[0], lost
        seen.append(sorted(p.relative_to(small_disk) for p in small_disk.rglob("*")))
    assert seen[0] == seen[1] == seen[2], seen  # nothing piles up, hook after hook
    assert not [p for p in seen[-1] if p.name.endswith("netsky-tmp")], seen[-1]

    filler.unlink()
    stored = _netsky(env, "hook", stdin=_payload())
    assert stored.returncode == 0 and stored.stderr == "", stored
    db = small_disk / "netsky-home" / "netsky.db"
    deadline = time.monotonic() + 30  # the detached drainer stores it
    while True:
        try:
            events, _sessions, _positions = _contents(db)
        except apsw.SQLError:  # not made yet
            events = []
        if events or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(events) == 1
