"""OpenCode: parity with ccusage 20.0.24 on the real JSON message files, the same
messages in ``opencode.db`` (dedup by message id across the database, the JSON files and
roots), a message file rewritten in place, and a live database."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from netsky_core.ingest.pricing import Usage
from netsky_core.sources import opencode

from ._helpers import (
    MACHINE,
    PRICES,
    api,
    assert_parity,
    by_uuid,
    dedup,
    exercise_live_database,
    read_source,
    reasoning,
    sample_root,
)

SESSION = "ses_53993b312ffeefelTsBlbUVXV8"


def read_db(db: Path):
    return opencode.read_database(str(db), machine_id=MACHINE, prices=PRICES).events


def test_parity_with_ccusage() -> None:
    events = read_source(opencode, [sample_root("opencode")])
    assert_parity(events, "opencode")
    assert sum(e.event_type == "message/user" for e in events) == 3


def make_db(root: Path, messages: list[Path], name: str = "opencode.db") -> Path:
    """An OpenCode-schema database holding the sample's messages."""
    root.mkdir(parents=True, exist_ok=True)
    db = root / name
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE message (id TEXT PRIMARY KEY, session_id TEXT, time_created INTEGER, "
        "time_updated INTEGER, data TEXT)"
    )
    conn.execute(
        "CREATE TABLE part (id TEXT PRIMARY KEY, message_id TEXT, session_id TEXT, "
        "time_created INTEGER, time_updated INTEGER, data TEXT)"
    )
    conn.execute(
        "CREATE TABLE session (id TEXT PRIMARY KEY, directory TEXT, title TEXT, time_created INTEGER)"
    )
    for path in messages:
        value = json.loads(path.read_bytes())
        mid, sid = value.pop("id"), value.pop("sessionID")
        created = value["time"]["created"]
        conn.execute(
            "INSERT INTO message VALUES (?, ?, ?, ?, ?)",
            (mid, sid, created, created, json.dumps(value)),
        )
        if value["role"] == "user":
            conn.execute(
                "INSERT INTO part VALUES (?, ?, ?, ?, ?, ?)",
                (
                    f"prt_{mid}",
                    mid,
                    sid,
                    created,
                    created,
                    json.dumps({"type": "text", "text": "do it"}),
                ),
            )
    conn.execute("INSERT INTO session VALUES (?, '/work', 'title', 1764265577000)", (SESSION,))
    conn.commit()
    conn.close()
    return db


def _messages() -> list[Path]:
    return sorted((sample_root("opencode") / "storage" / "message").rglob("*.json"))


def test_database_and_json_files_dedup_by_message_id(tmp_path: Path) -> None:
    db_root = tmp_path / "db-root"
    db = make_db(db_root, _messages())
    both = tmp_path / "both"
    shutil.copytree(sample_root("opencode"), both)
    make_db(both, _messages(), name="opencode-beta.db")
    assert opencode.discover([both])[0].name == "opencode-beta.db"  # the database first
    from_db = api(read_db(db))
    from_json = api(read_source(opencode, [sample_root("opencode")]))
    assert {e.uuid for e in from_db} == {e.uuid for e in from_json}
    everything = read_source(opencode, [db_root, both, sample_root("opencode")])
    assert_parity(everything, "opencode")  # three copies of each message count once
    kinds = {e.event_type for e in read_db(db)}
    assert {"SessionStart", "UserPromptSubmit", "ApiRequest"} <= kinds
    assert opencode.database_path(db_root) == db


def test_rewritten_message_keeps_its_uuid(tmp_path: Path) -> None:
    path = next(p for p in _messages() if json.loads(p.read_bytes())["role"] == "assistant")
    value = json.loads(path.read_bytes())
    before = opencode.read_document(
        path.read_bytes(), path=str(path), machine_id=MACHINE, prices=PRICES
    )
    value["tokens"]["output"] += 500
    value["tokens"]["reasoning"] = 40
    value["tokens"]["total"] = 999_999
    after = opencode.read_document(
        json.dumps(value, indent=2).encode(), path=str(path), machine_id=MACHINE, prices=PRICES
    )
    (old,), (new,) = api(before.events), api(after.events)
    assert old.uuid == new.uuid == f"api:opencode:{value['id']}"
    assert new.total_tokens > old.total_tokens and reasoning(new) > 40  # total fills reasoning
    assert dedup([old, new]) == [new]
    assert new.cwd == value["path"]["cwd"]


def test_own_cost_and_aliases(tmp_path: Path) -> None:
    base = {
        "id": "msg_x",
        "sessionID": "ses_x",
        "role": "assistant",
        "time": {"created": 1764265577715},
        "providerID": "google",
        "tokens": {"input": 1000, "output": 100, "reasoning": 50, "cache": {"read": 0, "write": 0}},
    }
    cases = [
        ({"modelID": "claude-sonnet-4-5-20250929", "cost": 0.5}, 0.5),
        (
            {"modelID": "gemini-2.5-pro", "cost": 0},
            PRICES.cost("gemini-2.5-pro", Usage(input=1000, output=150)),
        ),
        ({"modelID": "k2p6", "cost": 0}, PRICES.cost("kimi-k2.6", Usage(input=1000, output=150))),
        ({"modelID": "no-such-model", "cost": 0}, None),
    ]
    for extra, expected in cases:
        result = opencode.read_document(
            json.dumps({**base, **extra}).encode(),
            path="/m.json",
            machine_id=MACHINE,
            prices=PRICES,
        )
        (event,) = api(result.events)
        assert event.cost_usd == expected, extra
        assert bool(result.unknown_models) == (expected is None)
    no_provider = {**base, "modelID": "gemini-2.5-pro"}
    del no_provider["providerID"]
    result = opencode.read_document(
        json.dumps(no_provider).encode(), path="/m.json", machine_id=MACHINE, prices=PRICES
    )
    assert not api(result.events)  # ccusage needs the provider


def _add(conn: sqlite3.Connection, i: int) -> None:
    data = {
        "role": "assistant",
        "time": {"created": 1764265600000 + i},
        "modelID": "claude-sonnet-4-5-20250929",
        "providerID": "anthropic",
        "tokens": {"input": 1, "output": 2, "reasoning": 0, "cache": {"read": 3, "write": 4}},
    }
    conn.execute(
        "INSERT INTO message VALUES (?, ?, ?, ?, ?)",
        (f"msg_new_{i}", SESSION, 1, 1, json.dumps(data)),
    )


def test_live_database_is_never_blocked(tmp_path: Path) -> None:
    db = make_db(tmp_path / "src", _messages())
    exercise_live_database(read_db, db, tmp_path, _add)
    assert by_uuid(read_db(tmp_path / "live" / "opencode.db"))
