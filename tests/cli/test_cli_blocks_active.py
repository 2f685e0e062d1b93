"""``report blocks --active`` lists the active block only: no gap rows of blocks left
out, totals of what is listed, a block in the future is never active, and a store
with usage but no active block says so."""

from __future__ import annotations

import select
import signal
import time
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


def test_active_card_shows_elapsed_usage_burn_rate_projection(
    netsky: Netsky, tmp_path: Path
) -> None:
    url = _store(tmp_path, [-3000, -40, -10])
    text = netsky.ok("--db", url, "report", "blocks", "--active").stdout
    for label in ("elapsed", "remaining", "usage", "burn rate", "projection"):
        assert f"  {label}" in text, text
    assert "2,000 tokens" in text and "2 requests" in text
    card = netsky.ok("--db", url, "report", "blocks", "--active", "--json").json()["card"]
    assert card["total_tokens"] == 2000 and card["requests"] == 2
    assert 0 < card["remaining_seconds"] <= 5 * 3600
    # 2,000 tokens over the 30 minutes between the two responses
    assert card["burn_rate"]["tokens_per_minute"] == 2000 / 30
    assert card["projection"]["total_tokens"] > 2000


def test_token_limit_shares_and_max(netsky: Netsky, tmp_path: Path) -> None:
    # an earlier block of 3 responses (3,000 tokens), the active one of 2 (2,000)
    url = _store(tmp_path, [-3000, -2990, -2980, -40, -10])
    card = netsky.ok(
        "--db", url, "report", "blocks", "--active", "--token-limit", "4000", "--json"
    ).json()["card"]
    limit = card["token_limit"]
    assert limit["tokens"] == 4000 and limit["used_percent"] == 50.0
    assert limit["remaining_tokens"] == 2000
    assert limit["projected_percent"] == card["projection"]["total_tokens"] / 4000 * 100
    most = netsky.ok(
        "--db", url, "report", "blocks", "--active", "--token-limit", "max", "--json"
    ).json()["card"]["token_limit"]
    assert most["tokens"] == 3000
    text = netsky.ok("--db", url, "report", "blocks", "--active", "--token-limit", "1500").stdout
    assert "133.3% used" in text and "[EXCEEDED]" in text
    bad = netsky("--db", url, "report", "blocks", "--token-limit", "lots")
    assert bad.returncode == 2 and "not a number of tokens" in bad.stderr
    daily = netsky("--db", url, "report", "daily", "--token-limit", "10")
    assert daily.returncode == 2 and "applies to `netsky report blocks` only" in daily.stderr


def test_live_redraws_the_card_until_ctrl_c(netsky: Netsky, tmp_path: Path) -> None:
    url = _store(tmp_path, [-40, -10])
    proc = netsky.popen("--db", url, "report", "blocks", "--live", "--refresh", "0.5")
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + 90  # a loaded machine starts slowly
    while seen.count(True) < 2 and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 5)
        if ready:
            seen.append(proc.stdout.readline().startswith("ACTIVE 5-hour block"))
    assert seen.count(True) == 2, seen
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
