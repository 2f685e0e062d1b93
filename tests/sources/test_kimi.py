"""Kimi CLI: parity with ccusage 20.0.24 on the real ``wire.jsonl``. The model is the
fallback ``kimi-for-coding`` (real Kimi has ``config.toml``, not the ``config.json``
ccusage reads), priced as Moonshot's kimi-k2.5 before ccusage's 2026-04-20 cut-over and
as kimi-k2.6 after."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from netsky_core.ingest.pricing import Usage
from netsky_core.sources import kimi

from ._helpers import MACHINE, PRICES, api, assert_parity, parse_lines, read_source, sample_root


def test_parity_with_ccusage() -> None:
    events = read_source(kimi, [sample_root("kimi")])
    assert_parity(events, "kimi")
    assert {e.model for e in api(events)} == {"kimi-for-coding"}
    assert {json.loads(e.metadata)["priced_as"] for e in api(events)} == {"kimi-k2.5"}
    assert any(e.event_type == "UserPromptSubmit" for e in events)


def _wire(tmp_path: Path, ts: float, config: dict | None = None) -> list:
    root = tmp_path / "kimi"
    path = root / "sessions" / "g" / "sess" / "wire.jsonl"
    path.parent.mkdir(parents=True)
    if config is not None:
        (root / "config.json").write_text(json.dumps(config))
    line = {
        "timestamp": ts,
        "message": {
            "type": "StatusUpdate",
            "payload": {
                "message_id": "chatcmpl-1",
                "token_usage": {
                    "input_other": 1000,
                    "output": 100,
                    "input_cache_read": 5000,
                    "input_cache_creation": 0,
                },
            },
        },
    }
    path.write_text(
        json.dumps({"type": "metadata", "protocol_version": "1.3"}) + "\n" + json.dumps(line) + "\n"
    )
    assert kimi.discover([root]) == [path]
    return api(parse_lines(kimi.Parser, path)[0])


def test_kimi_for_coding_price_changes_at_the_cut_over(tmp_path: Path) -> None:
    usage = Usage(input=1000, output=100, cache_read=5000)
    cut = kimi.K2_6_FROM.timestamp()
    (before,) = _wire(tmp_path / "a", cut - 1)
    (after,) = _wire(tmp_path / "b", cut + 1)
    assert before.cost_usd == PRICES.cost("kimi-k2.5", usage)
    assert after.cost_usd == PRICES.cost("kimi-k2.6", usage)
    assert after.timestamp - before.timestamp == timedelta(seconds=2)


def test_model_from_config_json(tmp_path: Path) -> None:
    (event,) = _wire(tmp_path, 1772590689.2, {"model": "kimi-k2.6"})
    assert event.model == "kimi-k2.6" and event.cost_usd == PRICES.cost(
        "kimi-k2.6", Usage(input=1000, output=100, cache_read=5000)
    )
    assert MACHINE
