"""PostgreSQL stopped while hooks keep firing, and a storage object in use across it.

On a PostgreSQL server of its own (stopping the session's shared server is left to
the restart tests), with two spool folders:

1. hooks fire while the server is up and are stored;
2. the server stops; a storage object opened before raises ``StorageConnectionError``
   (no password in the message), so does opening a new one; hook lanes (default mode
   and ``NETSKY_HOOK_FOREGROUND=1``) keep firing for a while: every hook exits 0 with
   no output, and every event is in a spool, none is stored; ``netsky spool replay``
   fails cleanly and leaves the spool as it was;
3. the server starts again: the old storage object works; in spool A, later hooks
   (default mode, so after the back-off) drain every waiting record; spool B is
   stored by ``netsky spool replay``, and replaying again stores nothing;
4. every event fired is stored exactly once and every session equals
   ``aggregate_events`` over its stored events.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

from netsky_core import (
    Event,
    EventSource,
    EventType,
    SessionQuery,
    StorageConnectionError,
    aggregate_events,
    iter_events,
    open_storage,
)
from netsky_core.hooks.spool import Spool
from tests.fix_postgres import ENV_REQUIRE, PostgresServer, ServerUnavailable, _start_server
from tests.ingest.conftest import NETSKY, drainer_running, isolated_env, spool_of

from .hooks import run_hook
from .recorder import record, scale

pytestmark = pytest.mark.postgres

OUTAGE_S = scale(12, 90)  # long enough for at least one retry after the 10 s back-off
LANES = scale(4, 8)  # per spool; the last lane of each spool runs in the foreground
MACHINE = "outage-machine"


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server this module may stop and start as it likes."""
    root = Path(tempfile.mkdtemp(prefix="netsky-outage-pg-"))
    try:
        server = _start_server(root)
    except (ServerUnavailable, OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        reason = f"no PostgreSQL server of its own for the outage test: {exc}"
        if os.environ.get(ENV_REQUIRE) == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


def hook_payload(key: str, n: int, session: str) -> dict[str, Any]:
    """Hook ``n`` of a lane, with a unique marker; every 3rd is keyed by a tool_use_id."""
    payload: dict[str, Any] = {
        "session_id": session,
        "cwd": "/nonexistent/outage",
        "hook_event_name": ("PreToolUse", "Notification", "UserPromptSubmit")[n % 3],
        "rel_key": key,
    }
    if n % 3 == 0:
        payload.update(tool_name="Bash", tool_use_id=f"toolu-{key}", tool_input={"c": key})
    elif n % 3 == 1:
        payload.update(message="needs you", notification_type="permission_prompt")
    else:
        payload["prompt"] = f"prompt {key}"
    return payload


@attrs.define
class Fired:
    keys: list[str] = attrs.field(factory=list)
    walls: list[float] = attrs.field(factory=list)  # default-mode hooks
    fg_walls: list[float] = attrs.field(factory=list)  # NETSKY_HOOK_FOREGROUND=1
    cpus: list[float] = attrs.field(factory=list)  # default-mode hooks
    problems: list[str] = attrs.field(factory=list)
    lock: threading.Lock = attrs.field(factory=threading.Lock)

    def fire(self, env: dict[str, str], key: str, n: int, session: str) -> None:
        code, output, wall, cpu = run_hook(env, hook_payload(key, n, session))
        with self.lock:
            self.keys.append(key)
            if env.get("NETSKY_HOOK_FOREGROUND"):
                self.fg_walls.append(wall)
            else:
                self.walls.append(wall)
                self.cpus.append(cpu)
            if code != 0 or output:
                self.problems.append(f"{key}: exit {code} {output[-300:]!r}")


def _lanes(envs: list[tuple[str, dict[str, str]]], seconds: float, fired: Fired) -> None:
    """Every lane fires hooks back to back for ``seconds``."""
    deadline = time.monotonic() + seconds

    def lane(name: str, env: dict[str, str]) -> None:
        i = 0
        while time.monotonic() < deadline:
            fired.fire(env, f"{name}-{i}", i, f"session-{name[:1]}{i % 3}")
            i += 1

    threads = [threading.Thread(target=lane, args=item) for item in envs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _drainer_done(spool: Spool) -> None:
    """Block until no drainer runs for this spool."""
    lock = spool.folder / ".drainer"
    if lock.exists():
        with open(lock, "rb") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            fcntl.flock(fh, fcntl.LOCK_UN)


def _spool_idle(spool: Spool) -> bool:
    lock = spool.folder / ".drainer"
    if spool.count():
        return False
    return not lock.exists() or not drainer_running(lock)


def _wait(condition: Any, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"timed out waiting for {what}"
        time.sleep(0.1)
    return time.monotonic() - started


def _event(i: int) -> Event:
    return Event(
        machine_id=MACHINE,
        session_id="direct",
        event_type=EventType.API_REQUEST,
        timestamp=datetime.now(UTC),
        uuid=f"direct-{i}",
        source=EventSource.API,
        tokens_input=i + 1,
    )


def test_hooks_spool_through_an_outage_and_are_stored_once(
    own_server: PostgresServer, tmp_path: Path
) -> None:
    server = own_server
    url = server.url("outage", connect_timeout="2")
    store = open_storage(url)
    store.insert(_event(0))

    homes: dict[str, dict[str, str]] = {}
    spools: dict[str, Spool] = {}
    for name in ("A", "B"):
        env = isolated_env(
            tmp_path / f"spool-{name}", NETSKY_DATABASE_URL=url, NETSKY_MACHINE_ID=MACHINE
        )
        homes[name] = env
        spools[name] = spool_of(env)
    lanes: list[tuple[str, dict[str, str]]] = []
    for name, env in homes.items():
        for i in range(LANES):
            foreground = i == LANES - 1
            lane_env = {**env, "NETSKY_HOOK_FOREGROUND": "1"} if foreground else env
            lanes.append((f"{name}{i}{'fg' if foreground else ''}", lane_env))

    # 1. Up: stored as usual.
    before = Fired()
    for name, env in lanes:
        for i in range(2):
            before.fire(env, f"{name}-up{i}", i, f"session-{name[:1]}0")
    _wait(lambda: all(_spool_idle(s) for s in spools.values()), 120, "the first drain")
    assert before.problems == []

    # 2. Down.
    server.stop("fast")
    outage_started = time.monotonic()
    store_errors: list[str] = []
    for attempt in (lambda: store.insert(_event(1)), lambda: open_storage(url).close()):
        with pytest.raises(StorageConnectionError) as caught:
            attempt()
        store_errors.append(str(caught.value))
    assert all(server.password not in message for message in store_errors)

    during = Fired()
    _lanes(lanes, OUTAGE_S, during)
    for spool in spools.values():
        _drainer_done(spool)
    spooled = {name: spool.count() for name, spool in spools.items()}
    failed_replay = subprocess.run(
        [str(NETSKY), "spool", "replay", "--json"], env=homes["B"], capture_output=True, check=False
    )
    spooled_after_failed_replay = spools["B"].count()
    logs = "".join(
        (Path(env["NETSKY_HOME"]) / "hook.log").read_text()
        for env in homes.values()
        if (Path(env["NETSKY_HOME"]) / "hook.log").exists()
    )
    failed_drains = logs.count("events stay spooled")
    outage_s = time.monotonic() - outage_started

    # 3. Up again.
    server.start()
    store.insert(_event(2))  # the storage object from before the outage works again
    after = Fired()
    i = 0

    def drained_by_a_hook() -> bool:
        nonlocal i
        if _spool_idle(spools["A"]):
            return True
        after.fire(homes["A"], f"A-after-{i}", i, "session-A0")  # default mode, not foreground
        i += 1
        return False

    seconds_to_drain = _wait(drained_by_a_hook, 120, "a later hook to drain spool A")
    replay = subprocess.run(
        [str(NETSKY), "spool", "replay", "--json"], env=homes["B"], capture_output=True, check=False
    )
    again = subprocess.run(
        [str(NETSKY), "spool", "replay", "--json"], env=homes["B"], capture_output=True, check=False
    )

    # 4. Everything once.
    fired = before.keys + during.keys + after.keys
    with open_storage(url) as check:
        events = [e for batch in iter_events(check) for e in batch]
        sessions = check.list_sessions(SessionQuery())
    hook_events = [e for e in events if e.source == "hook"]
    counts = Counter(json.loads(e.payload or "{}").get("rel_key") for e in hook_events)
    lost = sum(1 for k in fired if counts[k] == 0)
    duplicated = sum(n - 1 for n in counts.values() if n > 1) + sum(
        n for k, n in counts.items() if k not in set(fired)
    )
    per_session: dict[tuple[str, str], list[Event]] = {}
    for e in events:
        per_session.setdefault((e.machine_id, e.session_id), []).append(attrs.evolve(e, id=None))
    unlike = [
        s.session_id
        for s in sessions
        if s != aggregate_events(s.machine_id, s.session_id, per_session.get(s.key, []))
    ]
    replayed = json.loads(replay.stdout)["replayed"] if replay.returncode == 0 else -1
    replayed_again = json.loads(again.stdout)["replayed"] if again.returncode == 0 else -1
    walls = during.walls
    problems = before.problems + during.problems + after.problems
    ok = (
        not problems
        and lost == duplicated == 0
        and not unlike
        and spooled["A"] + spooled["B"] == len(during.keys)
        and replayed == spooled["B"]
        and replayed_again == 0
    )
    record(
        test="outage: PostgreSQL stopped while hooks fire",
        backend="postgres",
        load=(
            f"{len(lanes)} hook lanes, 2 spools: {len(before.keys)} hooks up, "
            f"{len(during.keys)} during a {outage_s:.0f} s outage, {len(after.keys)} after"
        ),
        faults="pg_ctl stop -m fast, then start",
        inputs="3 hook event types, default and foreground hooks",
        lost=lost,
        duplicated=duplicated,
        result="pass" if ok else "FAIL",
        worst_hook_ms_during_outage=round(max(walls) * 1000),
        median_hook_ms_during_outage=round(statistics.median(walls) * 1000),
        worst_hook_cpu_ms_during_outage=round(max(during.cpus) * 1000),
        worst_foreground_hook_ms_during_outage=round(max(during.fg_walls) * 1000),
        spooled=spooled["A"] + spooled["B"],
        failed_drain_attempts=failed_drains,
        drained_by_later_hook=spooled["A"],
        seconds_until_a_hook_drained=round(seconds_to_drain, 1),
        replayed=replayed,
        replayed_again=replayed_again,
    )
    record(
        test="outage: storage object across a PostgreSQL stop",
        backend="postgres",
        load="1 storage object, insert while down, insert after restart",
        faults="pg_ctl stop -m fast, then start",
        inputs="-",
        lost=sum(1 for i in (0, 2) if not any(e.uuid == f"direct-{i}" for e in events)),
        duplicated=sum(1 for e in events if e.uuid == "direct-1"),  # raised: must not be stored
        result="pass" if len(store_errors) == 2 else "FAIL",
        connection_errors_raised=len(store_errors),
        password_in_messages=sum(server.password in m for m in store_errors),
    )
    store.close()

    assert problems == []
    assert spooled["A"] + spooled["B"] == len(during.keys)  # all spooled, none stored
    assert failed_drains >= 1 and server.password not in logs
    assert "events stay spooled" in logs
    assert failed_replay.returncode != 0 and server.password.encode() not in failed_replay.stderr
    assert spooled_after_failed_replay == spooled["B"]
    assert replay.returncode == 0, replay.stderr
    assert (replayed, replayed_again) == (spooled["B"], 0)
    assert all(s.count() == 0 for s in spools.values())
    assert (lost, duplicated) == (0, 0)
    assert len(hook_events) == len(fired)
    assert sorted(e.uuid for e in events if e.source == "api") == ["direct-0", "direct-2"]
    assert unlike == []
