"""The SQLite engine's optional fast primitives agree with the required ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from netsky_core import Event, EventType, open_storage

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def response(session: str, uuid: str, minute: int) -> Event:
    return Event(
        machine_id="m1",
        session_id=session,
        event_type=EventType.API_REQUEST,
        timestamp=T0 + timedelta(minutes=minute),
        uuid=uuid,
        tokens_output=10,
    )


def test_billing_keys_held_agrees_with_count_billing_keys(tmp_path: Path) -> None:
    store = open_storage(f"sqlite:///{tmp_path / 'p.db'}")
    # a key held once, one held by two sessions, one by three, and one never stored
    store.insert_many([response("s1", "api:msg_1:req_1", 0), response("s1", "api:msg_2:req_2", 1)])
    store.insert_many([response("s2", "api:msg_2:req_2", 2), response("s2", "u-3", 3)])
    store.insert_many([response("s3", "api:msg_2:req_2", 4), response("s3", "u-3", 5)])
    keys = ["request:req_1", "request:req_2", "u-3", "request:never"]
    engine = store.engine
    counts = engine.read(lambda r: r.count_billing_keys(keys))
    assert counts == {"request:req_1": 1, "request:req_2": 3, "u-3": 2}
    for least in (1, 2, 3, 4):
        held = engine.read(lambda r, least=least: r.billing_keys_held(keys, least))
        assert held == sorted(k for k, n in counts.items() if n >= least)
    many = [f"k{i}" for i in range(1000)] + ["u-3"]  # more than one statement's worth
    assert engine.read(lambda r: r.billing_keys_held(many, 2)) == ["u-3"]
    store.close()
