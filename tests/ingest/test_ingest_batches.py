"""A big ingest stores events and file positions in few, shared transactions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import apsw
import attrs
import pytest

from netsky_core import Event, EventType, FilePosition, RecordError, open_storage
from netsky_core.ingest import scan
from netsky_core.ingest.scan import discover, ingest
from tests.history import generate

from .test_ingest_incremental import normalized, snapshot


class Counting:
    """A store that counts the write transactions ingest asks for."""

    def __init__(self, store) -> None:
        self.store, self.inserts, self.positions = store, 0, 0

    def insert_many(self, events, **kw):
        self.inserts += 1
        return self.store.insert_many(events, **kw)

    def set_transcript_position(self, position):
        self.positions += 1
        return self.store.set_transcript_position(position)

    def __getattr__(self, name):
        return getattr(self.store, name)


def _history(tmp: Path) -> dict[str, str]:
    generate(tmp / "h", target_bytes=1_500_000, seed=3, days=4)
    return {"CLAUDE_CONFIG_DIR": str(tmp / "h" / "claude"), "CODEX_HOME": str(tmp / "h" / "codex")}


def test_positions_ride_in_the_batches_and_the_result_equals_small_batches(tmp_path: Path) -> None:
    env = _history(tmp_path)
    sources = discover(environ=env)
    assert len(sources) > 20
    with open_storage(f"sqlite:///{tmp_path}/small.db") as store:
        ingest(store, sources, machine_id="m", batch_size=1)
        expected = normalized(snapshot(store))
        expected_positions = store.query_transcript_positions()
    with open_storage(f"sqlite:///{tmp_path}/big.db") as store:
        counting = Counting(store)
        summary = ingest(counting, sources, machine_id="m", batch_size=100_000)
        assert summary.files_read == len(sources) and summary.inserted > 0
        assert counting.inserts == 1 and counting.positions == 0
        assert normalized(snapshot(store)) == expected
        got = store.query_transcript_positions()
        drop = {"updated_at": None}
        assert [attrs.evolve(p, **drop) for p in got] == [
            attrs.evolve(p, **drop) for p in expected_positions
        ]
        again = ingest(counting, sources, machine_id="m")
        assert again.files_unchanged == len(sources) and counting.inserts == 1


def test_a_rejected_batch_stores_neither_its_events_nor_its_positions(tmp_path: Path) -> None:
    event = Event(
        machine_id="m",
        session_id="s",
        event_type=EventType.USER_PROMPT_SUBMIT,
        timestamp=datetime(2026, 1, 1, tzinfo=UTC),
        uuid="u1",
    )
    position = FilePosition(machine_id="m", path="/x.jsonl", offset=10, line_number=1)
    with open_storage(f"sqlite:///{tmp_path}/s.db") as store:
        with pytest.raises(RecordError):
            store.insert_many([event], positions=[position, "not a position"])  # type: ignore[list-item]
        assert store.count() == 0 and store.query_transcript_positions() == []
        store.insert_many([event], positions=[position])
        assert store.count() == 1
        assert [p.offset for p in store.query_transcript_positions()] == [10]
        store.insert_many([], positions=[attrs.evolve(position, offset=20)])
        assert [p.offset for p in store.query_transcript_positions()] == [20]


def test_bulk_load_checkpoints_seldom_and_leaves_other_connections_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """During a big load the WAL is checkpointed every ``BULK_CHECKPOINT_BYTES``
    (here made small), so it is reused instead of growing to the size of the load."""
    from netsky_sqlite import _engine, _schema

    pages = 16
    threshold = pages * _schema.PAGE_SIZE
    monkeypatch.setattr(_engine, "BULK_CHECKPOINT_BYTES", threshold)
    db = tmp_path / "s.db"
    wal = tmp_path / "s.db-wal"
    env = _history(tmp_path)
    with open_storage(f"sqlite:///{db}") as store, open_storage(f"sqlite:///{db}") as other:
        conn = store.engine._conn
        before = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        with store.bulk_load():
            assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == pages
            assert other.engine._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == before
            ingest(store, discover(environ=env), machine_id="m", batch_size=50)
            assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == pages
            # the WAL stays near the threshold (plus a transaction); the database holds the rest
            assert wal.stat().st_size < 4 * threshold < db.stat().st_size
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == before
        assert other.count() == store.count() > 0
    check = apsw.Connection(str(db))
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_ingest_turns_bulk_mode_on_past_the_threshold(tmp_path: Path, monkeypatch) -> None:
    env = _history(tmp_path)
    entered: list[int] = []
    with open_storage(f"sqlite:///{tmp_path}/s.db") as store:
        real = store.bulk_load

        def spy():
            entered.append(store.count())
            return real()

        monkeypatch.setattr(store, "bulk_load", spy)
        monkeypatch.setattr(scan, "BULK_BYTES", 1)
        ingest(store, discover(environ=env), machine_id="m")
        assert len(entered) == 1
        entered.clear()
        monkeypatch.setattr(scan, "BULK_BYTES", 1 << 40)
        ingest(store, discover(environ=env), machine_id="m", rescan=True)
        assert entered == []
