"""benchmarks/sync_bench.py --quick runs end to end against the test server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.benchmark_smoke]

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "sync_bench.py"


def test_sync_bench_quick(postgres_server) -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--url", postgres_server.url()],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "sync/copy" in proc.stdout and "20,000 events" in proc.stdout
    assert postgres_server.password not in proc.stdout + proc.stderr
