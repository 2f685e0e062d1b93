"""pytest-benchmark of the SQLite backend's hot paths.

.venv/bin/python -m pytest backends/sqlite/benchmarks -o python_files='bench_*.py' --benchmark-only
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from workload import make_events

from netsky_core import SessionQuery, StorageStatsQuery, open_storage

_seeds = itertools.count(100)


@pytest.fixture
def store(tmp_path: Path) -> Iterator:
    with open_storage(f"sqlite:///{tmp_path}/bench.db") as s:
        yield s


def test_insert_many_5000(benchmark, store) -> None:
    def setup():
        return (make_events(5000, seed=next(_seeds)),), {}

    benchmark.pedantic(store.insert_many, setup=setup, rounds=20)


def test_single_insert(benchmark, store) -> None:
    events = iter(make_events(20_000, seed=9))
    benchmark.pedantic(lambda: store.insert(next(events)), rounds=2000)


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Iterator:
    path = tmp_path_factory.mktemp("big") / "big.db"
    with open_storage(f"sqlite:///{path}") as s:
        for start in range(0, 200_000, 20_000):
            s.insert_many(make_events(20_000, start=start, seed=5, total=200_000))
        yield s


def test_list_sessions_50_of_200k_events(benchmark, big) -> None:
    result = benchmark(big.list_sessions, SessionQuery().with_limit(50))
    assert len(result) == 50


def test_storage_stats_200k_events(benchmark, big) -> None:
    stats = benchmark(big.storage_stats, StorageStatsQuery())
    assert stats.session_count > 0
