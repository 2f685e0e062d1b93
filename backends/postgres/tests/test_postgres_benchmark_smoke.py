"""compare.py --quick runs end to end against the test server (CI smoke run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fix_postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.benchmark_smoke]

COMPARE = Path(__file__).resolve().parents[1] / "benchmarks" / "compare.py"


def test_compare_quick(postgres_server: PostgresServer) -> None:
    proc = subprocess.run(
        [sys.executable, str(COMPARE), "--quick", "--url", postgres_server.url()],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = proc.stdout.split("speed ours/raw", 1)[1]
    for measure in ("insert_many", "insert (one event", "list_sessions", "storage_stats", "gc 30%"):
        assert measure in table
    assert postgres_server.password not in proc.stdout + proc.stderr
