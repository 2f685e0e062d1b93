"""``netsky hook`` as the agent runs it: a fresh process per event, payload on stdin."""

from __future__ import annotations

import json
import stat
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from netsky_core import EventQuery, EventType, SessionQuery, open_storage

from .conftest import (
    isolated_env,
    make_repo,
    run_netsky,
    samples_or_skip,
    spool_of,
    wait_for_drainers,
)


def sample_payloads() -> list[dict]:
    root = samples_or_skip() / "hooks"
    payloads = []
    for path in sorted(root.glob("*/*.json")):
        payloads.extend(json.loads(path.read_text()))
    return payloads


def fire(env: dict[str, str], payloads: list[dict], *args: str) -> list:
    def one(payload: dict):
        return run_netsky(["hook", *args], env, stdin=json.dumps(payload).encode())

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, payloads))


def test_every_sample_payload_is_stored_once_with_git_context(tmp_path: Path) -> None:
    payloads = sample_payloads()
    repo = make_repo(tmp_path / "repo")
    for p in payloads:
        p["cwd"] = str(repo)
    db = tmp_path / "store.db"
    env = isolated_env(tmp_path, NETSKY_DATABASE_URL=f"sqlite:///{db}", NETSKY_HOOK_FOREGROUND="1")
    results = fire(env, payloads)
    assert [r.returncode for r in results] == [0] * len(payloads)
    assert [r.stderr for r in results if r.stderr] == []
    wait_for_drainers(Path(env["NETSKY_HOME"]))
    with open_storage(f"sqlite:///{db}") as store:
        assert store.count() == len(payloads)
        stored = Counter(e.event_type for e in store.query(EventQuery()))
        assert stored == Counter(p["hook_event_name"] for p in payloads)
        sessions = store.list_sessions(SessionQuery())
        assert {s.session_id for s in sessions} == {p["session_id"] for p in payloads}
        for s in sessions:
            assert (s.github_repo, s.git_branch, s.github_issue) == (
                "acme/widgets",
                "fix/42-login",
                42,
            )
            assert s.local_git_dir == str((repo / ".git").resolve())
            assert s.hook_event_count == s.event_count > 0
        tool = store.query(EventQuery().with_event_type(EventType.PRE_TOOL_USE).with_limit(1))[0]
        assert tool.uuid == f"tool_use:{tool.tool_use_id}" and tool.source == "hook"
        assert tool.git_branch == "fix/42-login" and tool.framework == "claude"


def test_a_dead_store_spools_and_replay_stores_each_event_once(tmp_path: Path) -> None:
    payloads = [p for p in sample_payloads()[::25]]
    dead = "postgresql://netsky:hunter2secret@127.0.0.1:1/netsky?connect_timeout=2"
    env = isolated_env(tmp_path, NETSKY_DATABASE_URL=dead)
    results = fire(env, payloads)
    assert [r.returncode for r in results] == [0] * len(payloads)
    assert all(not r.stdout and not r.stderr for r in results)
    home = Path(env["NETSKY_HOME"])
    wait_for_drainers(home)
    log = (home / "hook.log").read_text()
    assert "stay spooled" in log and "hunter2secret" not in log
    spool = spool_of(env)
    assert len(spool.path.read_bytes().splitlines()) == len(payloads)
    target = spool.folder / "target.json"
    assert json.loads(target.read_text())["db"] == dead  # the full target, in a 0600 file
    assert "hunter2secret" not in spool.key and "hunter2secret" not in spool.path.read_text()
    for path in (home / "spool", spool.folder, spool.path, target, home / "hook.log"):
        want = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == want, path

    db = f"sqlite:///{tmp_path}/recovered.db"
    status = json.loads(run_netsky(["spool", "status", "--json"], env).stdout)
    assert status["pending"] == len(payloads)
    assert [(t["key"], t["pending"]) for t in status["targets"]] == [(spool.key, len(payloads))]
    assert "hunter2secret" not in json.dumps(status)
    # into another store: the dead store's spool, named by its key
    first = run_netsky(["--db", db, "spool", "replay", "--target", spool.key, "--json"], env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["replayed"] == len(payloads)
    again = run_netsky(["--db", db, "spool", "replay", "--target", spool.key, "--json"], env)
    assert json.loads(again.stdout)["replayed"] == 0
    with open_storage(db) as store:
        assert store.count() == len(payloads)
        kinds = Counter(e.event_type for e in store.query(EventQuery()))
        assert kinds == Counter(p["hook_event_name"] for p in payloads)


def test_a_spooled_event_replayed_twice_is_stored_once(tmp_path: Path) -> None:
    payload = sample_payloads()[0]
    env = isolated_env(
        tmp_path,
        NETSKY_DATABASE_URL="postgresql://127.0.0.1:1/x?connect_timeout=1",
        NETSKY_HOOK_FOREGROUND="1",
    )
    assert run_netsky(["hook"], env, stdin=json.dumps(payload).encode()).returncode == 0
    spool = spool_of(env)
    spooled = spool.path.read_bytes()
    db = f"sqlite:///{tmp_path}/s.db"
    run_netsky(["--db", db, "spool", "replay", "--target", spool.key], env)
    spool.path.write_bytes(spooled)  # as after a crash mid-replay
    run_netsky(["--db", db, "spool", "replay", "--target", spool.key], env)
    with open_storage(db) as store:
        assert store.count() == 1


def test_the_next_successful_hook_drains_the_spool(tmp_path: Path) -> None:
    payloads = sample_payloads()[:6]
    blocker = tmp_path / "not-yet"
    blocker.write_text("a file where the store's folder will be")
    db = f"sqlite:///{blocker}/s.db"
    env = isolated_env(tmp_path, NETSKY_DATABASE_URL=db)
    for p in payloads[:5]:
        assert run_netsky(["hook"], env, stdin=json.dumps(p).encode()).returncode == 0
    wait_for_drainers(Path(env["NETSKY_HOME"]))
    assert spool_of(env).count() == 5
    blocker.unlink()
    blocker.mkdir()  # the store is back
    live = {**env, "NETSKY_HOOK_FOREGROUND": "1"}
    assert run_netsky(["hook"], live, stdin=json.dumps(payloads[5]).encode()).returncode == 0
    with open_storage(db) as store:
        assert store.count() == 6
    assert json.loads(run_netsky(["spool", "status", "--json"], live).stdout)["pending"] == 0


@pytest.mark.parametrize(
    "stdin",
    [
        b"",
        b"not json",
        b'{"truncated": ',
        b"\xff\xfe\x00garbage",
        b"[1, 2, 3]",
        b'{"hook_event_name": "Stop"}',
        b'{"session_id": "s"}',
    ],
)
def test_bad_input_exits_zero_and_stores_nothing(tmp_path: Path, stdin: bytes) -> None:
    env = isolated_env(
        tmp_path, NETSKY_DATABASE_URL=f"sqlite:///{tmp_path}/s.db", NETSKY_HOOK_FOREGROUND="1"
    )
    result = run_netsky(["hook"], env, stdin=stdin)
    assert result.returncode == 0 and not result.stdout
    if stdin.strip():
        assert "rejected" in (Path(env["NETSKY_HOME"]) / "hook.log").read_text()
    with open_storage(f"sqlite:///{tmp_path}/s.db") as store:
        assert store.count() == 0


def test_unknown_event_names_are_stored_as_given(tmp_path: Path) -> None:
    env = isolated_env(
        tmp_path, NETSKY_DATABASE_URL=f"sqlite:///{tmp_path}/s.db", NETSKY_HOOK_FOREGROUND="1"
    )
    payload = {
        "session_id": "s1",
        "hook_event_name": "TaskCreated",
        "cwd": str(tmp_path),
        "extra": {"x": [1]},
    }
    assert run_netsky(["hook"], env, stdin=json.dumps(payload).encode()).returncode == 0
    with open_storage(f"sqlite:///{tmp_path}/s.db") as store:
        (event,) = store.query(EventQuery())
        assert event.event_type == "TaskCreated"
        assert json.loads(event.payload or "") == payload


def test_stop_ingests_the_transcript_in_the_background(tmp_path: Path) -> None:
    sample = next((samples_or_skip() / "claude" / "projects").glob("-home-marco*/55604662*.jsonl"))
    transcript = tmp_path / "t.jsonl"
    transcript.write_bytes(sample.read_bytes())
    db = f"sqlite:///{tmp_path}/s.db"
    env = isolated_env(tmp_path, NETSKY_DATABASE_URL=db)
    stop = {
        "session_id": "55604662-cf2a-4331-851a-ec234028f8ca",
        "transcript_path": str(transcript),
        "cwd": str(tmp_path),
        "hook_event_name": "Stop",
        "stop_hook_active": False,
    }
    result = run_netsky(["hook"], env, stdin=json.dumps(stop).encode())
    assert result.returncode == 0
    deadline = time.monotonic() + 60
    api = []
    while time.monotonic() < deadline:
        with open_storage(db) as store:
            api = store.query(EventQuery().api_requests_only())
        if api:
            break
        time.sleep(0.2)
    assert len(api) == 1 and api[0].tokens_output == 13
    with open_storage(db) as store:
        session = store.get_session("55604662-cf2a-4331-851a-ec234028f8ca")
        assert session is not None and session.tokens_cache_write == 13835
        assert session.status is not None  # the hook's Stop gives the live status


def test_codex_notify_payload_as_an_argument(tmp_path: Path) -> None:
    env = isolated_env(
        tmp_path, NETSKY_DATABASE_URL=f"sqlite:///{tmp_path}/s.db", NETSKY_HOOK_FOREGROUND="1"
    )
    payload = {
        "type": "agent-turn-complete",
        "thread-id": "019bf4b5-e7b0",
        "turn-id": "7",
        "cwd": str(tmp_path),
        "last-assistant-message": "done",
    }
    result = run_netsky(
        ["hook", "--framework", "codex", "--no-transcript", json.dumps(payload)], env
    )
    assert result.returncode == 0, result.stderr
    with open_storage(f"sqlite:///{tmp_path}/s.db") as store:
        (event,) = store.query(EventQuery())
        assert (event.event_type, event.session_id, event.framework) == (
            "Stop",
            "019bf4b5-e7b0",
            "codex",
        )


def test_hook_usage_errors(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    result = run_netsky(["hook", "--bogus"], env, stdin=b"{}")
    # never 2: Claude Code would read it as "block the tool call"
    assert result.returncode == 0 and b"unknown hook option" in result.stderr
    assert run_netsky(["hook", "--help"], env).returncode == 0


def test_the_agent_waits_only_for_the_fast_path(tmp_path: Path) -> None:
    """The hook process itself imports no netsky records, drivers or parsers; a
    detached drainer stores the event a moment later."""
    code = (
        "import sys, json, io, os\n"
        "from netsky_core.cli import main\n"
        "sys.stdin = io.TextIOWrapper(io.BytesIO(json.dumps({'session_id': 's', 'hook_event_name': 'Stop', 'cwd': os.getcwd()}).encode()))\n"
        "main(['hook', '--no-transcript'])\n"
        "heavy = [m for m in ('attrs', 'argparse', 'cattrs', 'duckdb', 'rich', 'psycopg', 'pluggy', 'apsw', 'msgspec',"
        " 'orjson', 'importlib.metadata', 'pyarrow', 'netsky_core._records') if m in sys.modules]\n"
        "print(json.dumps(heavy))\n"
    )
    import subprocess
    import sys

    db = f"sqlite:///{tmp_path}/s.db"
    env = isolated_env(tmp_path, NETSKY_DATABASE_URL=db)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, check=True, cwd=tmp_path
    )
    assert json.loads(out.stdout) == []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (tmp_path / "s.db").exists():
            with open_storage(db) as store:
                if store.count() == 1:
                    break
        time.sleep(0.1)
    with open_storage(db) as store:
        (event,) = store.query(EventQuery())
        assert (event.event_type, event.session_id, event.source) == ("Stop", "s", "hook")


def test_the_fast_path_imports_no_json_nor_re(tmp_path: Path) -> None:
    """``json`` imports ``re`` (and ``enum``, ``functools``): a third of a bare start-up.
    The hook reads and spools a PreToolUse without either (nor typing, pathlib, datetime)."""
    payload = {
        "session_id": "s",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_use_id": "toolu_1",
        "tool_input": {"command": "ls -l \u00e9"},
        "cwd": str(tmp_path),
    }
    code = (
        "import sys, io\n"
        "from netsky_core.cli import main\n"
        f"sys.stdin = io.TextIOWrapper(io.BytesIO({json.dumps(payload).encode()!r}))\n"
        "main(['hook'])\n"
        "print([m for m in ('json', 're', 'enum', 'typing', 'pathlib', 'datetime', 'importlib')"
        " if m in sys.modules])\n"
    )
    import subprocess
    import sys

    db = f"sqlite:///{tmp_path}/s.db"
    env = isolated_env(tmp_path, NETSKY_DATABASE_URL=db)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, check=True, cwd=tmp_path
    )
    assert out.stdout.decode().strip() == "[]", out.stderr.decode()[-2000:]
    wait_for_drainers(Path(env["NETSKY_HOME"]))
    with open_storage(db) as store:
        (event,) = store.query(EventQuery())
    assert (event.uuid, event.tool_name, json.loads(event.payload or "")) == (
        "tool_use:toolu_1",
        "Bash",
        payload,
    )


def test_a_burst_of_background_hooks_is_stored_by_one_drainer(tmp_path: Path) -> None:
    payloads = sample_payloads()[:40]
    db = f"sqlite:///{tmp_path}/s.db"
    env = isolated_env(tmp_path, NETSKY_DATABASE_URL=db)
    results = fire(env, payloads)
    assert [r.returncode for r in results] == [0] * len(payloads)
    deadline = time.monotonic() + 120
    count = 0
    while time.monotonic() < deadline:
        if (tmp_path / "s.db").exists():
            with open_storage(db) as store:
                count = store.count()
            if count == len(payloads):
                break
        time.sleep(0.2)
    assert count == len(payloads)
    assert json.loads(run_netsky(["spool", "status", "--json"], env).stdout)["pending"] == 0


def test_credentials_are_redacted_when_configured(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[ingest]\nredact = true\n")
    db = f"sqlite:///{tmp_path}/s.db"
    env = isolated_env(
        tmp_path, NETSKY_DATABASE_URL=db, NETSKY_CONFIG=str(config), NETSKY_HOOK_FOREGROUND="1"
    )
    secret = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
    payload = {
        "session_id": "s",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_use_id": "toolu_1",
        "tool_input": {"command": f"ANTHROPIC_API_KEY={secret} claude -p hi"},
    }
    assert run_netsky(["hook"], env, stdin=json.dumps(payload).encode()).returncode == 0
    line = (
        '{"type":"user","timestamp":"2026-03-01T10:00:00Z","sessionId":"s","uuid":"u1",'
        f'"message":{{"content":"use this key {secret} please"}}}}\n'
    )
    transcript = tmp_path / "projects" / "p" / "s.jsonl"
    transcript.parent.mkdir(parents=True)
    transcript.write_text(line)
    env_ingest = {**env, "CLAUDE_CONFIG_DIR": str(tmp_path)}
    assert run_netsky(["ingest"], env_ingest).returncode == 0
    with open_storage(db) as store:
        events = store.query(EventQuery())
        assert len(events) == 2
        for event in events:
            assert secret not in (event.payload or "")
            assert "[REDACTED:anthropic-key]" in (event.payload or "")
            json.loads(event.payload or "")
        session = store.get_session("s")
        assert session is not None and secret not in (session.first_user_message or "")
