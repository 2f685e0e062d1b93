"""``netsky reprice``: after a price change, a store equals a fresh ingest with the
new prices (events, sessions, usage buckets), and a second run changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from netsky_core import EventQuery, SessionQuery, UsageQuery, open_storage
from tests.netsky_cli import Netsky

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "samples"

NEW_PRICES = """
[pricing.models."claude-opus-4-6"]
input = 11.0
output = 57.0
cache_write = 13.0
cache_read = 1.7

[pricing.models."claude-sonnet-4-5-20250929"]
input = 4.0
output = 21.0

[pricing.models."gpt-5.2-codex"]
input = 2.5
output = 19.0
cache_read = 0.2
"""


def snapshot(url: str) -> tuple[list[object], list[object], list[object]]:
    with open_storage(url) as store:
        events = sorted(
            (e.machine_id, e.session_id, e.uuid, e.cost_usd)
            for e in store.query(EventQuery().with_event_type("ApiRequest"))
        )
        sessions = sorted(
            (s.key, s.cost_picousd, s.priced_event_count, s.unpriced_request_count)
            for s in store.list_sessions(SessionQuery())
        )
        usage = [
            (b.key, b.requests, b.priced_requests, b.cost_picousd)
            for b in store.usage(UsageQuery())
        ]
    return events, sessions, usage


def test_reprice_equals_a_fresh_ingest_with_the_new_prices(tmp_path: Path) -> None:
    if not (SAMPLES / "claude" / "projects").is_dir():
        pytest.skip(f"no samples under {SAMPLES}")
    netsky = Netsky(
        tmp_path,
        extra_env={
            "CLAUDE_CONFIG_DIR": str(SAMPLES / "claude"),
            "CODEX_HOME": str(SAMPLES / "codex"),
        },
    )
    config = tmp_path / "new-prices.toml"
    config.write_text(NEW_PRICES)
    old = f"sqlite:///{tmp_path / 'old.db'}"
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    netsky.ok("--db", old, "ingest")
    netsky.ok("--db", fresh, "--config", str(config), "ingest")
    before = snapshot(old)
    assert before != snapshot(fresh)  # the prices do change the costs

    r = netsky.ok("--db", old, "--config", str(config), "reprice", "--json").json()
    assert r["changed"] > 0
    assert {m["model"] for m in r["models"]} >= {"claude-opus-4-6", "gpt-5.2-codex"}
    assert snapshot(old) == snapshot(fresh)
    # idempotent
    assert (
        netsky.ok("--db", old, "--config", str(config), "reprice", "--json").json()["changed"] == 0
    )
    # and back: the shipped prices give the first ingest's costs again
    text = netsky.ok("--db", old, "reprice").stdout
    assert "responses repriced" in text and "claude-opus-4-6" in text
    assert snapshot(old) == before
    report = netsky.ok("--db", old, "report", "daily", "--json").json()
    assert report  # reports read the repriced buckets without complaint


def test_since_limits_what_is_repriced(tmp_path: Path) -> None:
    if not (SAMPLES / "claude" / "projects").is_dir():
        pytest.skip(f"no samples under {SAMPLES}")
    netsky = Netsky(
        tmp_path,
        extra_env={
            "CLAUDE_CONFIG_DIR": str(SAMPLES / "claude"),
            "CODEX_HOME": str(SAMPLES / "codex"),
        },
    )
    config = tmp_path / "new-prices.toml"
    config.write_text(NEW_PRICES)
    db = f"sqlite:///{tmp_path / 'old.db'}"
    netsky.ok("--db", db, "ingest")
    r = netsky.ok("--db", db, "--config", str(config), "reprice", "--since", "2099-01-01", "--json")
    assert r.json() == {"changed": 0, "models": []}


def test_small_batches_give_the_same_result(tmp_path: Path) -> None:
    if not (SAMPLES / "claude" / "projects").is_dir():
        pytest.skip(f"no samples under {SAMPLES}")
    from netsky_core import load_config
    from netsky_core.ingest.options import ingest_options
    from netsky_core.ingest.reprice import repricer

    netsky = Netsky(
        tmp_path,
        extra_env={
            "CLAUDE_CONFIG_DIR": str(SAMPLES / "claude"),
            "CODEX_HOME": str(SAMPLES / "codex"),
        },
    )
    config = tmp_path / "new-prices.toml"
    config.write_text(NEW_PRICES)
    old = f"sqlite:///{tmp_path / 'old.db'}"
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    netsky.ok("--db", old, "ingest")
    netsky.ok("--db", fresh, "--config", str(config), "ingest")
    prices = ingest_options(load_config(config_path=config))["prices"]
    with open_storage(old) as store:
        changed = store.recost(repricer(prices), batch_size=3)
        assert len({new.id for _, new in changed}) == len(changed) > 3
        assert store.recost(repricer(prices), batch_size=3) == []
    assert snapshot(old) == snapshot(fresh)
