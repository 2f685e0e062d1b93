"""The SQLite backend against the conformance suite (real files)."""

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from netsky_conformance import StorageConformance


class TestSqliteConformance(StorageConformance):
    @pytest.fixture
    def new_url(self, tmp_path: Path) -> Callable[[], str]:
        counter = itertools.count()
        return lambda: f"sqlite:///{tmp_path}/store-{next(counter)}.db"
