"""storage_stats: totals, filters, unknown cost."""

from __future__ import annotations

from netsky_core import EventType, GitContext, Storage, StorageStats, StorageStatsQuery

from .base import StorageFixtures
from .builders import api, at, ev


class StatsConformance(StorageFixtures):
    def test_empty_store(self, storage: Storage) -> None:
        assert storage.storage_stats(StorageStatsQuery()) == StorageStats()

    def _seed_stats(self, storage: Storage) -> None:
        storage.insert_many(
            [
                ev(EventType.SESSION_START, 0, session_id="a", framework="claude"),
                api(1, session_id="a", tokens=(1, 2, 3, 4), cost=0.1, framework="claude"),
                api(2, session_id="a", tokens=(10, 20, 30, 40), cost=0.2, framework="claude"),
                api(3, session_id="b", tokens=(100, 0, 0, None), cost=None, framework="codex"),
                ev(EventType.SESSION_END, 4, session_id="b", framework="codex"),
                api(50, session_id="c", machine_id="m2", tokens=(5, 5, 5, 5), cost=1e-7),
            ]
        )

    def test_totals(self, storage: Storage) -> None:
        self._seed_stats(storage)
        stats = storage.storage_stats(StorageStatsQuery())
        assert stats.session_count == 3
        assert stats.active_session_count == 1
        assert (stats.tokens_input, stats.tokens_output) == (116, 27)
        assert (stats.tokens_cache_read, stats.tokens_cache_write) == (38, 49)
        assert stats.total_tokens == 116 + 27 + 38 + 49
        assert stats.total_api_requests == 4
        assert stats.total_cost_usd == (round(0.1e12) + round(0.2e12) + round(1e-7 * 1e12)) / 1e12

    def test_filters(self, storage: Storage) -> None:
        self._seed_stats(storage)
        q = StorageStatsQuery()
        assert storage.storage_stats(q.active_only()).session_count == 1
        assert storage.storage_stats(q.with_framework("codex")).tokens_input == 100
        assert storage.storage_stats(q.with_framework("codex")).total_cost_usd is None
        assert storage.storage_stats(q.with_machine("m2")).session_count == 1
        assert storage.storage_stats(q.with_since(at(4))).session_count == 2
        assert storage.storage_stats(q.with_since(at(51))) == StorageStats()

    def test_sessions_without_events_count(self, storage: Storage) -> None:
        storage.upsert_session_git_context("m1", "bare", GitContext(github_repo="o/r"), at=at(0))
        stats = storage.storage_stats(StorageStatsQuery())
        assert stats.session_count == 1 and stats.total_tokens == 0
        assert stats.total_cost_usd is None
