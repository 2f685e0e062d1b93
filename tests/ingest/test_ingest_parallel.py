"""Parsing in a second process stores exactly what parsing in the storing one does."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import attrs
import pytest

from netsky_core import open_storage
from netsky_core.ingest import scan
from netsky_core.ingest.scan import ParseProcessError, discover, ingest
from tests.history import generate

from .test_ingest_incremental import normalized, snapshot

pytestmark = pytest.mark.skipif(not scan._can_fork(), reason="needs fork and two CPUs")


def _history(tmp: Path, size: int = 1_500_000) -> dict[str, str]:
    generate(tmp / "h", target_bytes=size, seed=5, days=4)
    return {"CLAUDE_CONFIG_DIR": str(tmp / "h" / "claude"), "CODEX_HOME": str(tmp / "h" / "codex")}


class PidLog:
    """A redactor that notes which processes parsed (it runs where lines are parsed)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, text: str) -> str:
        with open(self.path, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        return text

    def pids(self) -> set[int]:
        return {int(x) for x in self.path.read_text().split()}


def _positions(store) -> list:
    return [attrs.evolve(p, updated_at=None) for p in store.query_transcript_positions()]


def _summary(summary) -> dict:
    return {**attrs.asdict(summary), "seconds": None}


@pytest.mark.parametrize("batch_size", [1, 37, 100_000])
def test_a_parsing_process_stores_what_one_process_stores(tmp_path: Path, batch_size) -> None:
    sources = discover(environ=_history(tmp_path))
    results = []
    for parallel in (False, True):
        log = PidLog(tmp_path / f"pids-{parallel}")
        with open_storage(f"sqlite:///{tmp_path}/{parallel}.db") as store:
            summary = ingest(
                store,
                sources,
                machine_id="m",
                batch_size=batch_size,
                redact=log,
                parallel=parallel,
            )
            results.append((normalized(snapshot(store)), _positions(store), _summary(summary)))
        assert (log.pids() == {os.getpid()}) is not parallel
    assert results[0][2]["inserted"] > 0
    assert results[1] == results[0]


def test_the_size_to_read_decides_and_a_second_run_reads_nothing(
    tmp_path: Path, monkeypatch
) -> None:
    sources = discover(environ=_history(tmp_path))
    log = PidLog(tmp_path / "pids")
    monkeypatch.setattr(scan, "PARALLEL_BYTES", 1)
    with open_storage(f"sqlite:///{tmp_path}/s.db") as store:
        first = ingest(store, sources, machine_id="m", redact=log)
        assert first.inserted > 0 and log.pids() - {os.getpid()}
        again = ingest(store, sources, machine_id="m", redact=log, parallel=True)
        assert again.files_unchanged == len(sources) and again.inserted == 0
    monkeypatch.setattr(scan, "PARALLEL_BYTES", 1 << 40)
    log = PidLog(tmp_path / "pids-2")
    with open_storage(f"sqlite:///{tmp_path}/t.db") as store:
        ingest(store, sources, machine_id="m", redact=log)
    assert log.pids() == {os.getpid()}


class Killer:
    """A redactor that kills its own (parsing) process at the ``n``-th call."""

    def __init__(self, n: int, parent: int) -> None:
        self.n, self.parent = n, parent

    def __call__(self, text: str) -> str:
        self.n -= 1
        if self.n == 0 and os.getpid() != self.parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return text


def test_a_killed_parsing_process_fails_the_run_and_a_rerun_converges(tmp_path: Path) -> None:
    sources = discover(environ=_history(tmp_path))
    with open_storage(f"sqlite:///{tmp_path}/clean.db") as store:
        ingest(store, sources, machine_id="m", parallel=False)
        expected = normalized(snapshot(store)), _positions(store)
    with open_storage(f"sqlite:///{tmp_path}/s.db") as store:
        with pytest.raises(ParseProcessError, match="ended early"):
            ingest(
                store,
                sources,
                machine_id="m",
                batch_size=50,
                redact=Killer(500, os.getpid()),
                parallel=True,
            )
        assert store.count() > 0
        ingest(store, sources, machine_id="m", parallel=True)
        assert (normalized(snapshot(store)), _positions(store)) == expected


def test_an_error_in_the_parsing_process_is_raised_here(tmp_path: Path) -> None:
    sources = discover(environ=_history(tmp_path, 300_000))

    def broken(text: str) -> str:
        raise LookupError("redactor broke")

    with (
        open_storage(f"sqlite:///{tmp_path}/s.db") as store,
        pytest.raises(LookupError, match="redactor broke"),
    ):
        ingest(store, sources, machine_id="m", redact=broken, parallel=True)


def test_a_parsing_process_killed_in_the_middle_of_a_message_fails_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import struct

    def torn_send(self: object) -> None:  # (runs in the forked parsing process)
        conn = self.conn  # type: ignore[attr-defined]
        os.write(conn.fileno(), struct.pack("!i", 1000) + b"\x80" * 10)  # 10 of 1,000 bytes
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(scan._Outbox, "_send", torn_send)
    sources = discover(environ=_history(tmp_path, 300_000))
    with (
        open_storage(f"sqlite:///{tmp_path}/s.db") as store,
        pytest.raises(ParseProcessError, match="ended early"),
    ):
        ingest(store, sources, machine_id="m", parallel=True)
