"""Fixtures: real stores (memory and SQLite) and a real receiver on an ephemeral port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from netsky_core import open_storage
from netsky_core.ingest.pricing import PriceTable
from netsky_core.otel import OtlpServer

MACHINE = "otel-test-machine"
SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "samples"


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/t.db"
    s = open_storage(url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="session")
def prices() -> PriceTable:
    return PriceTable.load()


@pytest.fixture
def receiver(store: object, prices: PriceTable) -> Iterator[OtlpServer]:
    with OtlpServer(store.insert_many, machine_id=MACHINE, prices=prices, port=0) as server:
        yield server
