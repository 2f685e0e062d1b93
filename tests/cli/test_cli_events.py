"""``netsky events`` and ``netsky tail [-f]``."""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from netsky_core import Event, EventType, open_storage

from .conftest import S1, S2, S3, SEED_EVENTS, Netsky, assert_one_line_error, at


def test_events_table(netsky: Netsky, seeded: str) -> None:
    lines = netsky.ok("--db", seeded, "events").stdout.splitlines()
    assert lines[0].split() == ["TIME", "SESSION", "TYPE", "TOOL/MODEL", "TOKENS", "COST"]
    assert len(lines) == 2 + SEED_EVENTS
    assert lines[2].startswith("2026-03-01 13:00:00") and "SessionEnd" in lines[2]  # newest first
    api = next(line for line in lines if "s1" not in line and "$0.50" in line)
    assert S1[:8] in api and "sonnet" in api and "1.0k" in api
    assert "claude-sonnet" not in api  # the short model name, as every table shows it
    unpriced = next(line for line in lines if "gpt-5-codex" in line)
    assert "unknown" in unpriced
    bash = [line for line in lines if "Bash" in line]
    assert len(bash) == 2


def test_events_json_and_filters(netsky: Netsky, seeded: str) -> None:
    def uuids(*args: str) -> list[str | None]:
        return [e["uuid"] for e in netsky.ok("--db", seeded, "events", "--json", *args).json()]

    full = netsky.ok("--db", seeded, "events", "--json", "--limit", "1").json()[0]
    assert full["uuid"] == "s2-end"
    assert full["id"] > 0 and full["timestamp"] == "2026-03-01T13:00:00+00:00"
    assert uuids("--session", S2, "--asc") == ["s2-p1", "s2-a1", "s2-end"]
    assert uuids("--machine", "desktop") == [None, "s3-a1", "s3-p1"]
    assert uuids("--type", "Stop", "--type", "SessionEnd") == ["s2-end", "s1-stop"]
    assert uuids("--tool", "Bash", "--asc") == ["s1-t1", "s1-t2"]
    assert uuids("--api-only", "--asc") == ["s1-a1", "s1-a2", "s2-a1", "s3-a1"]
    assert len(uuids("--no-api", "--limit", "0")) == SEED_EVENTS - 4
    assert uuids("--since", "2026-03-01T12:00:05Z", "--until", "2026-03-01T12:00:08Z", "--asc") == [
        "s1-a1",
        "s1-t1",
        "s1-t2",
    ]
    assert uuids("--limit", "2") == ["s2-end", None]
    assert len(uuids("--since", "2026-03-02")) == 0
    assert len(uuids("--until", "2026-03-01", "--limit", "0")) == 0
    assert len(uuids("--since", "2026-03-01", "--limit", "0")) == SEED_EVENTS
    assert "no events match" in netsky.ok("--db", seeded, "events", "--session", "nope").stdout


def test_dates_are_local_midnight(netsky: Netsky, seeded_sqlite: str) -> None:
    # In New York 2026-03-01 starts at 05:00 UTC and 2026-03-01T07:00 local is 12:00 UTC.
    env = {"TZ": "America/New_York"}
    since = netsky.ok(
        "--db", seeded_sqlite, "events", "--json", "--since", "2026-03-01T07:00:06", env=env
    )
    assert [e["uuid"] for e in since.json()][-1] == "s1-t1"
    until = netsky.ok("--db", seeded_sqlite, "events", "--json", "--until", "2026-03-01", env=env)
    assert until.json() == []


def test_durations_ago(netsky: Netsky, sqlite_url: str) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    with open_storage(sqlite_url) as store:
        store.insert_many(
            [
                Event(
                    machine_id="m",
                    session_id="s",
                    event_type="X",
                    timestamp=now - timedelta(hours=h),
                    uuid=f"h{h}",
                    source="hook",
                )
                for h in (1, 5, 30)
            ]
        )
    got = netsky.ok("--db", sqlite_url, "events", "--json", "--since", "2h").json()
    assert [e["uuid"] for e in got] == ["h1"]
    got = netsky.ok("--db", sqlite_url, "events", "--json", "--since", "1d", "--until", "2h").json()
    assert [e["uuid"] for e in got] == ["h5"]


def test_bad_event_arguments(netsky: Netsky, sqlite_url: str) -> None:
    for args in (
        ["--since", "yesterday-ish"],
        ["--until", "2026-02-30"],
        ["--since", "1mo"],
        ["--since", "0d"],
        ["--limit", "x"],
        ["--api-only", "--no-api"],
        ["--bogus"],
    ):
        assert_one_line_error(netsky("--db", sqlite_url, "events", *args), 2)


def test_tail_prints_the_last_events_in_stored_order(netsky: Netsky, seeded: str) -> None:
    out = netsky.ok("--db", seeded, "tail", "-n", "3").stdout.splitlines()
    assert len(out) == 3
    assert "UserPromptSubmit" in out[0] and S3[:8] in out[0]
    assert "ApiRequest" in out[1]
    assert "Notification" in out[2]
    lines = netsky.ok("--db", seeded, "tail", "-n", "2", "--json").stdout.splitlines()
    assert [orjson.loads(line)["uuid"] for line in lines] == ["s3-a1", None]
    only = netsky.ok("--db", seeded, "tail", "--type", "Stop", "--json").stdout.splitlines()
    assert [orjson.loads(line)["uuid"] for line in only] == ["s1-stop"]
    assert netsky.ok("--db", seeded, "tail", "-n", "0").stdout == ""


class _Lines:
    """The lines of a text pipe, read by a thread, with a timeout per line."""

    def __init__(self, stream: IO[str]) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)

    def next(self, timeout: float = 30) -> str:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("timed out waiting for a line from netsky tail -f") from None


@pytest.mark.parametrize("as_json", [False, True])
def test_tail_follow_prints_new_events_and_exits_0_on_ctrl_c(
    netsky: Netsky, seeded: str, as_json: bool
) -> None:
    args = ["--db", seeded, "tail", "-f", "-n", "1", "--interval", "0.1"] + (
        ["--json"] if as_json else []
    )
    proc = netsky.popen(*args)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        lines = _Lines(proc.stdout)
        first = lines.next()
        assert "Notification" in first or '"Notification"' in first
        with open_storage(seeded) as store:
            for n in range(3):
                store.insert(
                    Event(
                        machine_id="laptop",
                        session_id=S1,
                        event_type=EventType.PRE_TOOL_USE,
                        timestamp=at(-100 + n),
                        uuid=f"new{n}",
                        source="hook",
                        tool_name=f"Tool{n}",
                    )
                )
        seen = [lines.next() for _ in range(3)]
        for n, line in enumerate(seen):
            if as_json:
                assert orjson.loads(line)["uuid"] == f"new{n}"
            else:
                assert f"Tool{n}" in line
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.postgres
def test_tail_follow_prints_an_event_that_commits_after_a_later_one(
    netsky: Netsky, postgres_url: Callable[..., str], postgres_server: Any
) -> None:
    """PostgreSQL hands out ids at insert, not at commit: a slow writer's event (id n)
    becomes visible after a quick writer's (id n+1). ``tail -f`` still prints it."""
    url = postgres_url()
    schema = parse_qs(urlsplit(url).query)["schema"][0]

    def event(uuid: str) -> Event:
        return Event(
            machine_id="laptop",
            session_id=S1,
            event_type=EventType.PRE_TOOL_USE,
            timestamp=at(0),
            uuid=uuid,
            source="hook",
        )

    with open_storage(url) as store:
        store.insert(event("before"))
        proc = netsky.popen("--db", url, "tail", "-f", "-n", "0", "--interval", "0.1", "--json")
        try:
            assert proc.stdout is not None
            lines = _Lines(proc.stdout)
            for n in range(60):  # until the follow loop runs (it prints a new event)
                store.insert(event(f"ready-{n}"))
                try:
                    lines.next(timeout=1)
                    break
                except AssertionError:
                    continue
            store.insert(event("sync"))
            while orjson.loads(lines.next())["uuid"] != "sync":
                pass
            with postgres_server.admin(dbname=postgres_server.dbname) as slow, slow.transaction():
                late_id = slow.execute(
                    f'INSERT INTO "{schema}".events (machine_id, session_id, event_type, '
                    '"timestamp", uuid, source) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id',
                    ("laptop", S1, EventType.PRE_TOOL_USE, at(1), "late", "hook"),
                ).fetchone()[0]
                quick_id = store.insert(event("quick"))
                assert quick_id > late_id
                assert orjson.loads(lines.next())["uuid"] == "quick"
                time.sleep(0.5)  # a few polls past the quick one before the commit
            assert orjson.loads(lines.next())["uuid"] == "late"
            store.insert(event("after"))
            assert orjson.loads(lines.next())["uuid"] == "after"  # nothing printed twice
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()


def test_session_options_take_the_ids_the_tables_print(netsky: Netsky, seeded: str) -> None:
    """`events --session` and `tail --session` accept a unique prefix (the 8
    characters the tables print), as `netsky session` does."""

    def uuids(*args: str) -> list[str | None]:
        return [e["uuid"] for e in netsky.ok("--db", seeded, *args, "--json").json()]

    assert uuids("events", "--session", S2[:8], "--asc") == ["s2-p1", "s2-a1", "s2-end"]
    assert uuids("events", "--session", S2[:8], "--asc") == uuids(
        "events", "--session", S2, "--asc"
    )
    tail = netsky.ok("--db", seeded, "tail", "--session", S2[:8], "--json").stdout
    assert [orjson.loads(line)["uuid"] for line in tail.splitlines()] == [
        "s2-p1",
        "s2-a1",
        "s2-end",
    ]
    ambiguous = netsky("--db", seeded, "events", "--session", "aaaa")
    assert_one_line_error(ambiguous, 2, "matches 2 sessions")
    # a session not stored yet is still a filter (for `tail -f` before it starts)
    assert "no events match" in netsky.ok("--db", seeded, "events", "--session", "cccc").stdout
