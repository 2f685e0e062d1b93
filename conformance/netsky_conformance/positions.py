"""Transcript positions: round trip, upsert, machine scoping."""

from __future__ import annotations

import attrs
import pytest

from netsky_core import FilePosition, RecordError, Storage

from .base import StorageFixtures
from .builders import at


def pos(path: str = "/t/a.jsonl", machine_id: str = "m1", **fields: object) -> FilePosition:
    values: dict[str, object] = dict(
        offset=1234,
        line_number=17,
        last_uuid="uuid-17",
        size=5000,
        mtime_ns=1_700_000_000_123_456_789,
        inode=987654321,
        state='{"cumulative": [1, 2, 3]}',
        updated_at=at(1),
    )
    values.update(fields)
    return FilePosition(machine_id=machine_id, path=path, **values)  # type: ignore[arg-type]


class PositionsConformance(StorageFixtures):
    def test_position_round_trips(self, storage: Storage) -> None:
        position = pos()
        storage.set_transcript_position(position)
        assert storage.get_transcript_position("m1", "/t/a.jsonl") == position

    def test_missing_position_is_none(self, storage: Storage) -> None:
        assert storage.get_transcript_position("m1", "/nope") is None

    def test_set_replaces(self, storage: Storage) -> None:
        storage.set_transcript_position(pos())
        newer = pos(offset=9999, line_number=80, last_uuid=None, state=None, updated_at=at(2))
        storage.set_transcript_position(newer)
        assert storage.get_transcript_position("m1", "/t/a.jsonl") == newer

    def test_positions_are_scoped_by_machine(self, storage: Storage) -> None:
        storage.set_transcript_position(pos(machine_id="m1", offset=1))
        storage.set_transcript_position(pos(machine_id="m2", offset=2))
        a = storage.get_transcript_position("m1", "/t/a.jsonl")
        b = storage.get_transcript_position("m2", "/t/a.jsonl")
        assert a is not None and b is not None and (a.offset, b.offset) == (1, 2)

    def test_query_positions(self, storage: Storage) -> None:
        for machine, path in [("m2", "/b"), ("m1", "/z"), ("m1", "/a")]:
            storage.set_transcript_position(pos(path=path, machine_id=machine))
        all_positions = storage.query_transcript_positions()
        assert [(p.machine_id, p.path) for p in all_positions] == [
            ("m1", "/a"),
            ("m1", "/z"),
            ("m2", "/b"),
        ]
        assert [p.path for p in storage.query_transcript_positions("m1")] == ["/a", "/z"]
        assert storage.query_transcript_positions("m3") == []

    def test_missing_updated_at_is_stamped(self, storage: Storage) -> None:
        storage.set_transcript_position(pos(updated_at=None))
        stored = storage.get_transcript_position("m1", "/t/a.jsonl")
        assert stored is not None and stored.updated_at is not None
        assert attrs.evolve(stored, updated_at=None) == pos(updated_at=None)

    def test_minimal_position(self, storage: Storage) -> None:
        minimal = FilePosition(machine_id="m1", path="/min", updated_at=at(0))
        storage.set_transcript_position(minimal)
        assert storage.get_transcript_position("m1", "/min") == minimal

    def test_invalid_position_is_refused(self, storage: Storage) -> None:
        with pytest.raises(RecordError):
            storage.set_transcript_position("not a position")  # type: ignore[arg-type]

    def test_sync_marks_round_trip(self, storage: Storage) -> None:
        assert storage.sync_marks() == {}
        storage.set_sync_mark("target-a", '{"after_id": 5}')
        storage.set_sync_mark("target-b", "x")
        storage.set_sync_mark("target-a", '{"after_id": 9}')
        assert storage.sync_marks() == {"target-a": '{"after_id": 9}', "target-b": "x"}
        storage.set_sync_mark("target-b", None)
        assert storage.sync_marks() == {"target-a": '{"after_id": 9}'}

    def test_sync_marks_are_not_events(self, storage: Storage) -> None:
        storage.set_sync_mark("target-a", "1")
        assert storage.count() == 0
        assert storage.query_transcript_positions() == []
