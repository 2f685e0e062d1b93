"""pi: parity with ccusage 20.0.24 on the real session files (``PI_AGENT_DIR`` is the
sessions folder). Cost is pi's own ``usage.cost.total``, even when 0; ccusage's
``[pi] `` model prefix is display only."""

from __future__ import annotations

import json
from pathlib import Path

from netsky_core.ingest.pricing import Usage
from netsky_core.sources import pi

from ._helpers import MACHINE, PRICES, api, assert_parity, parse_lines, read_source, sample_root


def test_parity_with_ccusage() -> None:
    sample_root("pi")
    events = read_source(pi, [sample_root("pi", "sessions")])
    assert_parity(events, "pi", model_name=lambda m: f"[pi] {m}")
    free = [e for e in api(events) if e.model == "deepseek-v4-flash-free"]
    assert free and {e.cost_usd for e in free} == {0.0}  # pi's own 0 is a cost, not unknown
    assert not any(e.metadata and "tokens_reasoning" in json.loads(e.metadata) for e in api(events))


def test_aborted_session_without_usage_still_has_events() -> None:
    root = sample_root("pi", "sessions")
    path = next(root.rglob("*019f2f47-aada-789d-a8f3-308c54c3785a.jsonl"))
    events, parser = parse_lines(pi.Parser, path)
    assert events and not api(events) and parser.malformed == 0
    assert {e.session_id for e in events} == {"019f2f47-aada-789d-a8f3-308c54c3785a"}
    assert any(e.event_type == "SessionStart" and e.cwd for e in events)


def test_usage_rules_and_content_dedup(tmp_path: Path) -> None:
    line = {
        "type": "message",
        "id": "a1",
        "timestamp": "2026-05-07T13:54:33.714Z",
        "message": {
            "role": "assistant",
            "model": "deepseek-ai/DeepSeek-V4-Pro",
            "usage": {"input": 10, "output": 0, "cacheRead": 5, "cacheWrite": 0, "totalTokens": 40},
        },
    }
    again = dict(line, id="a2")  # the same response logged twice: ccusage counts it once
    data = b"\n".join(json.dumps(r).encode() for r in (line, again))
    events, _ = parse_lines(
        pi.Parser, tmp_path / "--p--" / "2026-05-07T13-49-54-044Z_sess.jsonl", data=data
    )
    a, b = api(events)
    assert a.uuid == b.uuid and a.session_id == "sess"
    assert a.tokens_output == 25  # totalTokens fills in a missing output
    # no own cost: priced from the table, the provider prefix resolved as ccusage does
    assert a.cost_usd == PRICES.cost("deepseek-v4-pro", Usage(input=10, output=25, cache_read=5))
    assert a.cost_usd is not None and MACHINE


# ccusage 20.0.24's prices for pi models when a line has no ``cost`` (measured with its
# binary, $ per million input / output / cache read / cache write). ccusage resolves a
# name by the longest LiteLLM key that contains it, which is often a reseller's entry:
# ``deepseek-ai/DeepSeek-V4-Pro`` -> ``together_ai/deepseek-ai/DeepSeek-V4-Pro-0813``.
# netsky resolves it to the maker's own id (``deepseek-v4-pro``, DeepSeek's API price):
# input and output agree, cache prices differ; local names such as ``mistral`` (an
# ollama model, priced by ccusage as a $8/$24 Mistral Large entry) stay unknown here.
CCUSAGE_FALLBACK = {
    "deepseek-ai/DeepSeek-V4-Pro": (1.32, 3.96, 0.13, 1.65),
    "mistral": (8, 24, 0.8, 10),
}


def test_fallback_prices_resolve_to_the_makers_id() -> None:
    assert PRICES.resolve("deepseek-ai/DeepSeek-V4-Pro") == "deepseek-v4-pro"
    p = PRICES.get("deepseek-ai/DeepSeek-V4-Pro")
    theirs = CCUSAGE_FALLBACK["deepseek-ai/DeepSeek-V4-Pro"]
    assert (round(p.input * 1e6, 6), round(p.output * 1e6, 6)) == theirs[:2]
    assert round(p.cache_read * 1e6, 6) == 0.044 != theirs[2]
    assert PRICES.resolve("mistral") is None and PRICES.resolve("deepseek-v4-flash-free") is None
