"""``sessions --active`` is truthful: a session whose agent process exited, or that
was idle past ``[sessions] idle_timeout``, shows as ended."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from netsky_core import Event, EventSource, EventType, open_storage
from netsky_core._process import proc_stat, process_state
from tests.netsky_cli import Netsky

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def start_event(session: str, pid: int, start: int | None, when: datetime, machine: str) -> Event:
    return Event(
        machine_id=machine,
        session_id=session,
        event_type=EventType.USER_PROMPT_SUBMIT,
        timestamp=when,
        uuid=f"prompt:{session}",
        framework="claude",
        source=EventSource.HOOK,
        pid=pid,
        process_start_time=start,
    )


@contextmanager
def agent_process() -> Iterator[tuple[int, int]]:
    """A real child process standing in for an agent: its pid and start time; it exits
    when the block ends."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        info = proc_stat(child.pid)
        assert info is not None
        yield child.pid, info[2]
    finally:
        child.communicate(b"")  # the agent exits


def active_ids(netsky: Netsky, url: str, *extra: str) -> list[str]:
    r = netsky.ok("--db", url, "sessions", "--active", "--json", *extra)
    return sorted(s["session_id"] for s in r.json())


def test_a_session_ends_when_its_agent_process_exits(tmp_path: Path) -> None:
    netsky = Netsky(tmp_path)
    url = f"sqlite:///{tmp_path / 'n.db'}"
    with agent_process() as (pid, started):
        now = datetime.now(UTC)
        with open_storage(url) as store:
            store.insert_many(
                [
                    start_event("alive", pid, started, now, "test-machine"),
                    # the same pid with another start time: a reused pid, not that agent
                    start_event("reused", pid, started - 1, now, "test-machine"),
                    # another machine's pid says nothing about this machine's processes
                    start_event("elsewhere", 1 << 22, None, now, "other-machine"),
                    start_event("stale", pid, started, now - timedelta(hours=13), "test-machine"),
                ]
            )
        assert process_state(pid, started) == "running"
        assert active_ids(netsky, url) == ["alive", "elsewhere"]
        assert active_ids(netsky, url, "--limit", "1") in (["alive"], ["elsewhere"])
    assert process_state(pid, started) == "gone"
    assert active_ids(netsky, url) == ["elsewhere"]
    listing = netsky.ok("--db", url, "sessions", "--json").json()
    assert {s["session_id"]: s["status"] for s in listing} == {
        "alive": "Done",
        "reused": "Done",
        "elsewhere": "Busy",
        "stale": "Done",
    }
    one = netsky.ok("--db", url, "session", "alive", "--json").json()
    assert one["session"]["status"] == "Done"


def test_the_idle_timeout_is_configurable(tmp_path: Path) -> None:
    netsky = Netsky(tmp_path)
    url = f"sqlite:///{tmp_path / 'n.db'}"
    with open_storage(url) as store:
        store.insert(
            start_event("quiet", 1 << 22, None, datetime.now(UTC) - timedelta(hours=2), "m2")
        )
    assert active_ids(netsky, url) == ["quiet"]
    config = tmp_path / "c.toml"
    config.write_text('[sessions]\nidle_timeout = "1h"\n')
    assert active_ids(netsky, url, "--config", str(config)) == []
    config.write_text('[sessions]\nidle_timeout = "soon"\n')
    r = netsky("--db", url, "sessions", "--config", str(config))
    assert r.returncode != 0 and "[sessions].idle_timeout" in r.stderr, r


def api_event(session: str, when: datetime, machine: str, tokens: int, cost: float) -> Event:
    return Event(
        machine_id=machine,
        session_id=session,
        event_type=EventType.API_REQUEST,
        timestamp=when,
        uuid=f"api:{session}",
        framework="claude",
        source=EventSource.TRANSCRIPT,
        model="claude-sonnet-4-5",
        tokens_input=tokens,
        tokens_output=0,
        cost_usd=cost,
    )


def test_stats_active_counts_only_sessions_still_going(tmp_path: Path) -> None:
    netsky = Netsky(tmp_path)
    url = f"sqlite:///{tmp_path / 'n.db'}"
    with agent_process() as (pid, started):
        now = datetime.now(UTC)
        with open_storage(url) as store:
            store.insert_many(
                [
                    start_event("alive", pid, started, now, "test-machine"),
                    api_event("alive", now, "test-machine", 100, 1.0),
                    start_event("elsewhere", 1 << 22, None, now, "other-machine"),
                    api_event("elsewhere", now, "other-machine", 20, 0.25),
                    start_event("stale", 1 << 22, None, now - timedelta(hours=13), "m3"),
                    api_event("stale", now - timedelta(hours=13), "m3", 3, 0.5),
                ]
            )
        going = netsky.ok("--db", url, "stats", "--active", "--json").json()
        assert (going["session_count"], going["active_session_count"]) == (2, 2)
        assert (going["total_tokens"], going["total_cost_usd"]) == (120, 1.25)
        assert going["total_api_requests"] == 2
    assert process_state(pid, started) == "gone"
    going = netsky.ok("--db", url, "stats", "--active", "--json").json()
    assert (going["session_count"], going["active_session_count"]) == (1, 1)
    assert (going["total_tokens"], going["total_cost_usd"]) == (20, 0.25)
    every = netsky.ok("--db", url, "stats", "--json").json()
    assert (every["session_count"], every["active_session_count"]) == (3, 1)
    assert every["total_tokens"] == 123
    assert "3 (1 active)" in netsky.ok("--db", url, "stats").stdout
    assert (
        netsky.ok("--db", url, "stats", "--active", "--machine", "m3", "--json").json()[
            "session_count"
        ]
        == 0
    )
