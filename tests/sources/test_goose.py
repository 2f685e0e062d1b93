"""Goose: the real database (schema 5, no ``model_config_json``) gives no usage in
ccusage 20.0.24 and none here, but its session is an event; a current schema with
``model_config_json`` and the ``accumulated_*`` columns gives one ApiRequest per session."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from netsky_core.ingest.pricing import Usage
from netsky_core.sources import goose

from ._helpers import (
    MACHINE,
    PRICES,
    api,
    assert_parity,
    ccusage,
    exercise_live_database,
    exercise_read_only_folder,
    read_source,
    sample_root,
)


def read(db: Path):
    return goose.read_database(str(db), machine_id=MACHINE, prices=PRICES).events


def test_sample_has_no_usage_but_its_session() -> None:
    events = read_source(goose, [sample_root("goose")])
    assert_parity(events, "goose")
    assert ccusage("goose", "daily")["daily"] == []
    (start,) = events
    assert start.event_type == "SessionStart" and start.session_id == "20251202_1"
    assert start.cwd == "/Users/jpresley/workspace/tmp/vsl"
    assert start.timestamp.isoformat() == "2025-12-02T16:58:55+00:00"


def modern(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, name TEXT, working_dir TEXT, created_at TEXT, "
        "model_config_json TEXT, provider_name TEXT, total_tokens INTEGER, input_tokens INTEGER, "
        "output_tokens INTEGER, accumulated_total_tokens INTEGER, accumulated_input_tokens INTEGER, "
        "accumulated_output_tokens INTEGER)"
    )
    conn.execute(
        "CREATE TABLE messages (id INTEGER PRIMARY KEY, session_id TEXT, role TEXT, content_json TEXT, "
        "created_timestamp INTEGER, timestamp TEXT)"
    )
    rows = [
        (
            "s1",
            "a",
            "/w",
            "2026-05-01 01:02:03",
            json.dumps({"model_name": "claude-sonnet-4-5-20250929"}),
            "anthropic",
            10,
            5,
            5,
            1200,
            1000,
            150,
        ),
        (
            "s2",
            "b",
            "/w",
            "1777597323",
            json.dumps({"model_name": "no-such-model"}),
            "x",
            30,
            20,
            10,
            None,
            None,
            None,
        ),
        ("s3", "c", "/w", "2026-05-01", None, None, 99, 90, 9, None, None, None),
    ]
    conn.executemany("INSERT INTO sessions VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    content = [{"type": "text", "text": "hello"}]
    tool = [
        {
            "type": "toolRequest",
            "id": "t1",
            "toolCall": {"value": {"name": "shell", "arguments": {"cmd": "ls"}}},
        }
    ]
    conn.execute(
        "INSERT INTO messages VALUES (1, 's1', 'user', ?, 1777597324, NULL)", (json.dumps(content),)
    )
    conn.execute(
        "INSERT INTO messages VALUES (2, 's1', 'assistant', ?, 1777597325, NULL)",
        (json.dumps(tool),),
    )
    conn.commit()
    conn.close()
    return path


def test_current_schema_gives_usage(tmp_path: Path) -> None:
    events = read(modern(tmp_path / "sessions.db"))
    usage = {e.session_id: e for e in api(events)}
    assert set(usage) == {"s1", "s2"}  # s3 has no model_config_json
    s1 = usage["s1"]
    assert (s1.tokens_input, s1.tokens_output, s1.tokens_cache_read) == (1000, 150, None)
    assert json.loads(s1.metadata)["tokens_reasoning"] == 50  # total beyond input + output
    assert s1.cost_usd == PRICES.cost("claude-sonnet-4-5-20250929", Usage(input=1000, output=200))
    assert usage["s2"].cost_usd is None and usage["s2"].timestamp.year == 2026
    kinds = [e.event_type for e in events]
    assert (
        kinds.count("SessionStart") == 3 and "UserPromptSubmit" in kinds and "PreToolUse" in kinds
    )


def _add(conn: sqlite3.Connection, i: int) -> None:
    conn.execute(
        "INSERT INTO sessions (id, working_dir, created_at, model_config_json, input_tokens, output_tokens) "
        "VALUES (?, '/w', '2026-05-02 00:00:00', ?, 10, 1)",
        (f"n{i}", json.dumps({"model_name": "gpt-5"})),
    )


def test_live_and_read_only(tmp_path: Path) -> None:
    src = modern(tmp_path / "src.db")
    exercise_live_database(read, src, tmp_path, _add)
    exercise_read_only_folder(
        read, sample_root("goose") / "data" / "sessions" / "sessions.db", tmp_path
    )
