"""``report blocks --active`` lists the active block only: no gap rows of blocks left
out, totals of what is listed, a block in the future is never active, and a store
with usage but no active block says so."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from netsky_core import open_storage

from .conftest import T0, Netsky, make_api


def _store(tmp_path: Path, offsets_min: list[float]) -> str:
    url = f"sqlite:///{tmp_path}/blocks.db"
    now_s = (datetime.now(UTC) - T0).total_seconds()
    with open_storage(url) as store:
        store.insert_many(
            [make_api(now_s + m * 60, "s1", f"u{i}", 0.5) for i, m in enumerate(offsets_min)]
        )
    return url


def test_active_lists_one_block_with_its_own_totals(netsky: Netsky, tmp_path: Path) -> None:
    # two old blocks (gaps between them), the active one, one event in the future
    url = _store(tmp_path, [-3000, -2000, -20, -10, 24 * 60])
    out = netsky.ok("--db", url, "report", "blocks", "--active", "--json").json()
    (block,) = out["blocks"]
    assert block["is_active"] is True
    assert out["totals"]["requests"] == 2
    assert out["totals"]["total_tokens"] == block["total_tokens"] == 2 * 1000
    text = netsky.ok("--db", url, "report", "blocks", "--active").stdout
    assert "gap" not in text and text.count("ACTIVE") == 1
    everything = netsky.ok("--db", url, "report", "blocks", "--json").json()["blocks"]
    assert [b["is_active"] for b in everything].count(True) == 1  # not the future one


def test_usage_but_no_active_block_says_so(netsky: Netsky, tmp_path: Path) -> None:
    url = _store(tmp_path, [-3000, -2000])
    text = netsky.ok("--db", url, "report", "blocks", "--active").stdout
    assert text.startswith("no active block: the latest usage was at ")
    assert "no API usage" not in text
