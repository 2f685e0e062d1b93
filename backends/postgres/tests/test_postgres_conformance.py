"""The PostgreSQL backend against the conformance suite (a fresh schema per store)."""

from collections.abc import Callable

import pytest
from netsky_conformance import StorageConformance

pytestmark = pytest.mark.postgres


class TestPostgresConformance(StorageConformance):
    @pytest.fixture
    def new_url(self, postgres_url: Callable[..., str]) -> Callable[[], str]:
        return postgres_url
