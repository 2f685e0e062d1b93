"""The memory backend against the conformance suite."""

from collections.abc import Callable

import pytest
from netsky_conformance import StorageConformance


class TestMemoryConformance(StorageConformance):
    @pytest.fixture
    def new_url(self) -> Callable[[], str]:
        return lambda: "memory://"
