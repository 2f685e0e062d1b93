"""The main job (``netsky demo``, what ``scripts/main`` runs) on a history with no usage
today shows the latest week with data, that month, the biggest sessions and the store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import Netsky

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "samples" / "claude"


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="needs ../shared/samples/claude")
def test_the_main_job_shows_the_latest_usage_not_an_empty_today(netsky: Netsky) -> None:
    home = netsky.root / "home"
    shutil.copytree(SAMPLES / "projects", home / ".claude" / "projects")
    out = netsky.ok("demo").stdout
    assert "no API usage in this period" not in out
    assert "Usage, the 7 days up to 2026-02-10, the latest with data" in out
    assert "Usage, February 2026" in out
    biggest = out.split("Biggest sessions")[1]
    assert "491e126e" in biggest.splitlines()[3]  # the costliest session first
    assert "$0.93" in out
    assert out.rstrip().splitlines()[-1].startswith("Store: sqlite:///")
