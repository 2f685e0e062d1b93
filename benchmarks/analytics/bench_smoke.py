"""Short runs of the analytics benchmarks (seconds), for CI.

    .venv/bin/python -m pytest benchmarks/analytics/bench_smoke.py -m benchmark_smoke

They check that the benchmark scripts still run and that their answers agree (netsky
vs ccusage when ccusage is installed, COPY vs generic path); the real numbers come
from the full runs (see the module docstrings of ``compare.py`` and ``pg_copy.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import compare  # noqa: E402
import pg_copy  # noqa: E402

pytestmark = pytest.mark.benchmark_smoke


def test_compare_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert compare.main(["--smoke", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "query group-by (CLI vs DuckDB+Parquet)" in out
    assert "load api_requests (native vs generic)" in out
    if "report daily --json (vs ccusage)" in out:
        line = next(x for x in out.splitlines() if x.startswith("report daily vs ccusage"))
        same, _, total = line.split(": ", 1)[1].split(" ")[:3]
        assert same == total, line


@pytest.mark.postgres
def test_postgres_copy_smoke(postgres_server: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert pg_copy.main(["--quick", "--url", postgres_server.url()]) == 0  # type: ignore[attr-defined]
    out = capsys.readouterr().out
    assert "all events, every column" in out
