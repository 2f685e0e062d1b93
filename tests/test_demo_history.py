"""The demo history looks like a real one: in the past, clean, priced, deterministic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from netsky_core import EventQuery, StorageStatsQuery, open_storage
from netsky_core.demo.history import write_demo_history
from netsky_core.ingest.scan import discover, ingest

NOW = datetime(2026, 6, 10, 9, 30, tzinfo=UTC)


def _ingest(root: Path) -> tuple:
    sources = discover(
        environ={"CLAUDE_CONFIG_DIR": str(root / "claude"), "CODEX_HOME": str(root / "codex")}
    )
    store = open_storage("memory://")
    return store, ingest(store, sources, machine_id="demo")


def test_the_demo_history_is_clean_priced_and_in_the_past(tmp_path: Path) -> None:
    counts = write_demo_history(tmp_path, now=NOW)
    assert counts["claude_sessions"] >= 5 and counts["codex_sessions"] >= 1
    store, summary = _ingest(tmp_path)
    with store:
        assert summary.files_failed == 0 and summary.errors == []
        assert (summary.malformed_lines, summary.partial_lines) == (0, 0)
        assert summary.unknown_models == {}
        events = store.query(EventQuery())
        assert max(e.timestamp for e in events) < NOW
        assert min(e.timestamp for e in events) >= NOW - timedelta(days=15)
        requests = [e for e in events if e.event_type == "ApiRequest"]
        assert requests and all(e.cost_usd is not None for e in requests)
        stats = store.storage_stats(StorageStatsQuery())
        assert stats.total_api_requests == len(requests)
        assert {e.framework for e in events} == {"claude", "codex"}


def test_the_demo_history_is_the_same_for_the_same_seed_and_day(tmp_path: Path) -> None:
    write_demo_history(tmp_path / "a", now=NOW)
    write_demo_history(tmp_path / "b", now=NOW)
    a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.jsonl"))
    b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.jsonl"))
    assert a == b
    for rel in a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
