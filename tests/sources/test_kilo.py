"""Kilo: parity with ccusage 20.0.24 on the real database (most rows are in its WAL), and
reading a database another program keeps writing."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from netsky_core.ingest.pricing import Usage
from netsky_core.sources import kilo

from ._helpers import (
    MACHINE,
    PRICES,
    api,
    assert_parity,
    exercise_live_database,
    exercise_read_only_folder,
    read_source,
    sample_root,
)


def read(db: Path):
    return kilo.read_database(str(db), machine_id=MACHINE, prices=PRICES).events


def test_parity_with_ccusage() -> None:
    events = read_source(kilo, [sample_root("kilo")])
    assert_parity(events, "kilo")
    # the one model is not in LiteLLM: ccusage says cost 0 (missingPricing), netsky None
    assert {e.cost_usd for e in api(events)} == {None}
    assert all(e.tokens_cache_write == 0 and e.tokens_cache_read == 0 for e in api(events))
    kinds = {e.event_type for e in events}
    assert {"SessionStart", "UserPromptSubmit", "PreToolUse"} <= kinds


def test_the_wal_is_read() -> None:
    root = sample_root("kilo")
    wal = root / "kilo.db-wal"
    assert wal.stat().st_size > 1_000_000  # the sample keeps most rows there
    assert len(api(read(root / "kilo.db"))) == 95


def test_same_message_in_two_data_dirs_collides(tmp_path: Path) -> None:
    root = sample_root("kilo")
    from ._helpers import wal_copy

    a = wal_copy(root / "kilo.db", tmp_path / "a")
    b = wal_copy(root / "kilo.db", tmp_path / "b")
    assert kilo.discover([a.parent, b.parent]) == [a, b]
    ua = {e.uuid for e in api(read(a))}
    assert ua == {e.uuid for e in api(read(b))}
    assert all(u.startswith("api:kilo:msg_") for u in ua)


def _add_message(conn: sqlite3.Connection, i: int) -> None:
    data = {
        "role": "assistant",
        "time": {"created": 1773300000000 + i},
        "modelID": "claude-sonnet-4-5-20250929",
        "providerID": "kilo",
        "cost": 0,
        "tokens": {"input": 10, "output": 5, "reasoning": 2, "cache": {"read": 1, "write": 0}},
    }
    conn.execute(
        "INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?)",
        (f"msg_test_{i}", "ses_test", 1773300000000 + i, 1773300000000 + i, json.dumps(data)),
    )


def test_live_database_is_never_blocked(tmp_path: Path) -> None:
    exercise_live_database(read, sample_root("kilo") / "kilo.db", tmp_path, _add_message)


def test_read_only_folder_is_read_from_a_copy(tmp_path: Path) -> None:
    exercise_read_only_folder(read, sample_root("kilo") / "kilo.db", tmp_path)


def test_reasoning_and_total_rules(tmp_path: Path) -> None:
    db = tmp_path / "kilo.db"
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE message (id TEXT, session_id TEXT, time_created INTEGER, time_updated INTEGER, data TEXT)"
    )
    rows = {
        "m1": {
            "role": "assistant",
            "time": {"created": 1773300000000},
            "modelID": "claude-sonnet-4-5-20250929",
            "tokens": {
                "input": 100,
                "output": 10,
                "reasoning": 7,
                "cache": {"read": 5, "write": 3},
            },
        },
        "m2": {
            "role": "assistant",
            "time": {"created": 1773300000001},
            "modelID": "x-model",
            "tokens": {"total": 50, "input": 20, "output": 0},
        },
        "m3": {
            "role": "user",
            "time": {"created": 1773300000002},
            "modelID": "x",
            "tokens": {"input": 9},
        },
        "m4": {"role": "assistant", "modelID": "x", "tokens": {"input": 9}},  # no time
    }
    for mid, data in rows.items():
        conn.execute("INSERT INTO message VALUES (?, 's', NULL, NULL, ?)", (mid, json.dumps(data)))
    conn.commit()
    conn.close()
    events = {e.uuid: e for e in api(read(db))}
    assert set(events) == {"api:kilo:m1", "api:kilo:m2"}
    m1 = events["api:kilo:m1"]
    assert json.loads(m1.metadata)["tokens_reasoning"] == 7
    assert m1.cost_usd == PRICES.cost(
        "claude-sonnet-4-5-20250929",
        Usage(input=100, output=17, cache_read=5, cache_write=3),
    )
    assert events["api:kilo:m2"].tokens_output == 30  # total fills in a missing output
