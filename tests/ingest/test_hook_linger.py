"""A lingering drainer: after the spool is empty the detached drainer waits
(``[hooks] drainer_linger``, 30 s by default) for the next hook, which finds it
running and wakes it through the spool's FIFO, so its event is stored without a new
process importing netsky."""

from __future__ import annotations

import json
import os
import select
import signal
import stat
import time
from pathlib import Path

from netsky_core import EventQuery, open_storage

from .conftest import drainer_running, isolated_env, run_netsky, spool_of, wait_for_drainers


def _payload(n: int) -> bytes:
    return json.dumps(
        {
            "session_id": "s-linger",
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_use_id": f"toolu_{n}",
            "tool_input": {"command": f"echo {n}"},
        }
    ).encode()


def _wait_stored(db: str, n: int, seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    count = 0
    while time.monotonic() < deadline:
        try:
            with open_storage(db, read_only=True) as store:
                count = store.count()
        except Exception:  # not created yet
            count = 0
        if count >= n:
            return count
        time.sleep(0.02)
    return count


def _holder(lock: Path) -> int:
    """The one other process with this drainer lock open (the drainer: a hook that
    finds one running closes the file before it exits)."""
    target = str(lock.resolve())
    found = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if any(os.readlink(fd) == target for fd in (proc / "fd").iterdir()):
                found.add(int(proc.name))
        except OSError:  # gone, or not ours to read
            continue
    assert len(found) == 1, found
    return found.pop()


def test_the_next_hook_is_stored_by_the_lingering_drainer(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/s.db"
    env = isolated_env(tmp_path, NETSKY_DATABASE_URL=db, NETSKY_DRAINER_LINGER="20s")
    assert run_netsky(["hook"], env, stdin=_payload(1)).returncode == 0
    assert _wait_stored(db, 1) == 1
    spool = spool_of(env)
    lock = spool.folder / ".drainer"
    assert drainer_running(lock)  # stored, and still running: lingering
    drainer = _holder(lock)
    # `spool status` tells, without taking the lock (a hook would then leave its event)
    (shown,) = json.loads(run_netsky(["spool", "status", "--json"], env).stdout)["targets"]
    assert shown["drainer_running"] is True
    table = run_netsky(["spool", "status"], env).stdout.decode()
    assert "drainer" in table and "running" in table
    assert _holder(lock) == drainer
    wake = spool.folder / ".wake"
    assert stat.S_ISFIFO(wake.lstat().st_mode) and stat.S_IMODE(wake.lstat().st_mode) == 0o600
    for n in (2, 3, 4):
        assert run_netsky(["hook"], env, stdin=_payload(n)).returncode == 0
        assert _wait_stored(db, n) == n
        assert _holder(lock) == drainer  # the same process stored it: no new drainer
    os.kill(drainer, signal.SIGTERM)
    wait_for_drainers(Path(env["NETSKY_HOME"]))
    with open_storage(db) as store:
        assert store.count() == 4
    status = json.loads(run_netsky(["spool", "status", "--json"], env).stdout)
    assert status["pending"] == 0 and status["targets"][0]["drainer_running"] is False


def test_a_killed_lingering_drainer_loses_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/s.db"
    env = isolated_env(tmp_path, NETSKY_DATABASE_URL=db, NETSKY_DRAINER_LINGER="20s")
    assert run_netsky(["hook"], env, stdin=_payload(1)).returncode == 0
    assert _wait_stored(db, 1) == 1
    lock = spool_of(env).folder / ".drainer"
    first = _holder(lock)
    os.kill(first, signal.SIGKILL)
    wait_for_drainers(Path(env["NETSKY_HOME"]))
    # the FIFO is still there, with no reader: the next hook starts a drainer of its own
    assert run_netsky(["hook"], env, stdin=_payload(2)).returncode == 0
    assert _wait_stored(db, 2) == 2
    second = _holder(lock)
    assert second != first
    os.kill(second, signal.SIGTERM)
    wait_for_drainers(Path(env["NETSKY_HOME"]))


def test_the_drainer_exits_when_the_linger_is_over(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/s.db"
    config = tmp_path / "config.toml"
    config.write_text('[hooks]\ndrainer_linger = "1s"\n')
    env = isolated_env(tmp_path, NETSKY_DATABASE_URL=db, NETSKY_CONFIG=str(config))
    assert run_netsky(["hook"], env, stdin=_payload(1)).returncode == 0
    assert _wait_stored(db, 1) == 1
    wait_for_drainers(Path(env["NETSKY_HOME"]))  # returns once the drainer has exited
    assert not drainer_running(spool_of(env, config=str(config)).folder / ".drainer")


def test_a_bad_linger_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[hooks]\ndrainer_linger = "soon"\n')
    env = isolated_env(tmp_path, NETSKY_CONFIG=str(config))
    out = run_netsky(["config", "--check"], env)
    assert out.returncode != 0
    assert b"drainer_linger" in out.stderr + out.stdout


def test_a_wake_reaches_the_reader_and_never_blocks_without_one(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    spool = spool_of(env)
    spool.folder.mkdir(parents=True)
    spool.wake_drainer()  # no FIFO yet: nothing happens
    fd = spool.open_wake()
    assert fd is not None
    try:
        assert select.select([fd], [], [], 0)[0] == []  # nothing to read, not at EOF
        for _ in range(100_000):  # far past the pipe's buffer: never blocks
            spool_of(env).wake_drainer()
        assert select.select([fd], [], [], 0)[0] == [fd]
        assert not spool.wait_for_records(fd, 0.05)  # a wake without a record is no record
    finally:
        os.close(fd)
    started = time.monotonic()
    spool.wake_drainer()  # FIFO without a reader (ENXIO): returns at once
    assert time.monotonic() - started < 5


def test_a_lingering_drainer_reads_a_changed_config(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/s.db"
    config = tmp_path / "config.toml"
    config.write_text("[ingest]\nredact = false\n")
    env = isolated_env(
        tmp_path, NETSKY_DATABASE_URL=db, NETSKY_CONFIG=str(config), NETSKY_DRAINER_LINGER="20s"
    )
    secret = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"

    def hook(n: int) -> None:
        payload = json.loads(_payload(n))
        payload["tool_input"]["command"] = f"ANTHROPIC_API_KEY={secret} run {n}"
        assert run_netsky(["hook"], env, stdin=json.dumps(payload).encode()).returncode == 0

    hook(1)
    assert _wait_stored(db, 1) == 1
    lock = spool_of(env, config=str(config)).folder / ".drainer"
    drainer = _holder(lock)
    config.write_text("[ingest]\nredact = true\n")
    hook(2)
    assert _wait_stored(db, 2) == 2
    assert _holder(lock) == drainer
    config.write_text("[ingest]\nredact = 7\n")  # broken: the event waits in the spool
    hook(3)
    wait_for_drainers(Path(env["NETSKY_HOME"]))  # the drainer gave up and exited
    with open_storage(db) as store:
        by_id = {e.tool_use_id: e.payload or "" for e in store.query(EventQuery())}
    assert secret in by_id["toolu_1"]
    assert secret not in by_id["toolu_2"] and "[REDACTED" in by_id["toolu_2"]
    assert "toolu_3" not in by_id
    assert json.loads(run_netsky(["spool", "status", "--json"], env).stdout)["pending"] == 1
