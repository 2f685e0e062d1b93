"""The drainer a hook starts when none runs is started before the hook spools its
record: its imports and the opening of the store overlap the hook's own work, and it
drains once the hook has spooled it."""

from __future__ import annotations

import fcntl
import json
import subprocess
import time
from pathlib import Path

from netsky_core import open_storage
from netsky_core._paths import ensure_private_dir

from .conftest import NETSKY, isolated_env, spool_of, wait_for_drainers


def _payload() -> bytes:
    return json.dumps(
        {
            "session_id": "s-early",
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_use_id": "toolu_early",
            "tool_input": {"command": "ls"},
        }
    ).encode()


def test_the_drainer_opens_the_store_while_the_hook_spools(tmp_path: Path) -> None:
    db_file = tmp_path / "s.db"
    db = f"sqlite:///{db_file}"
    env = isolated_env(tmp_path, NETSKY_DATABASE_URL=db)
    spool = spool_of(env)
    ensure_private_dir(spool.folder)
    with open(spool.folder / ".lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the spool's append lock: the hook waits for it
        hook = subprocess.Popen(
            [str(NETSKY), "hook"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        try:
            assert hook.stdin is not None
            hook.stdin.write(_payload())
            hook.stdin.close()
            deadline = time.monotonic() + 30
            # (spool.drainer_running reads /proc/locks: it takes no lock a hook would miss)
            while not (db_file.exists() and spool.drainer_running()):
                assert time.monotonic() < deadline, "no drainer opened the store"
                assert hook.poll() is None, hook.stderr.read() if hook.stderr else b""
                time.sleep(0.02)
            assert hook.poll() is None  # the hook still waits to spool its record
            assert not spool.pending()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
        assert hook.wait(60) == 0
    wait_for_drainers(Path(env["NETSKY_HOME"]))
    with open_storage(db, read_only=True) as store:
        assert store.count() == 1
    assert not spool.pending()


_HOOK_THAT_SPOOLS_NOTHING = """
import os, sys
from netsky_core.hooks import run
from netsky_core.hooks.spool import hook_spool
early = run._start_drainer(hook_spool(None, None))
print(len(early), flush=True)
sys.stdin.readline()  # another hook runs meanwhile
for fd in early:  # this hook spooled nothing (it stored its event itself, or failed)
    os.close(fd)
"""


def test_a_record_spooled_while_the_early_drainer_waits_is_stored(tmp_path: Path) -> None:
    """A hook that started the drainer early and then spooled nothing still leaves a
    drainer that stores what another hook spooled meanwhile (that hook found it
    running, so it started none)."""
    db_file = tmp_path / "s.db"
    db = f"sqlite:///{db_file}"
    env = isolated_env(tmp_path, NETSKY_DATABASE_URL=db)
    first = subprocess.Popen(
        [str(NETSKY.parent / "python"), "-c", _HOOK_THAT_SPOOLS_NOTHING],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert first.stdin is not None and first.stdout is not None
    try:
        assert first.stdout.readline().strip() == "1"  # the early drainer started
        second = subprocess.run(
            [str(NETSKY), "hook"], input=_payload(), capture_output=True, env=env, timeout=60
        )
        assert second.returncode == 0, second.stderr
        assert spool_of(env).pending()  # left to the drainer that runs
        first.stdin.write("go\n")
        first.stdin.flush()
        assert first.wait(60) == 0
    finally:
        if first.poll() is None:
            first.kill()
    wait_for_drainers(Path(env["NETSKY_HOME"]))
    with open_storage(db, read_only=True) as store:
        assert store.count() == 1
    assert not spool_of(env).pending()
