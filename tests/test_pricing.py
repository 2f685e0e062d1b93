"""Pricing: the cost rule, name resolution, overrides, the shipped table and its script.

Every expected cost below was printed by ccusage 20.0.24 (npm), offline, with ``HOME``
pointed at an empty folder:

    CLAUDE_CONFIG_DIR=DIR ccusage claude session --json --offline --breakdown
    CODEX_HOME=DIR ccusage codex session --json --offline [--speed fast]

either on the shared samples or on synthetic transcripts holding one assistant line
(Claude) or one ``token_count`` event (Codex) per session, so a session's cost is the
cost of that one response. Claude figures are reproduced to the last bit; Codex ones to
an ulp or so (ccusage adds Codex terms in another order, after summing a session).

Deliberate differences from ccusage: names are case-insensitive (ccusage leaves
``Claude-Opus-4-6`` unpriced), unknown models cost ``None`` (ccusage: 0), and a Vertex
spelling (``claude-sonnet-4-5@20250929``) gets the 200k tiers of the model it names.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from netsky_core.ingest.pricing import PriceOverrideError, Prices, PriceTable, Usage, cost

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples"
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"shared sample transcripts not present at {SAMPLES}"
)

S45 = "claude-sonnet-4-5-20250929"  # the model with 200k tiers
O46 = "claude-opus-4-6"


# --- the two reference figures -------------------------------------------------------


def test_tiny_opus_session_matches_ccusage() -> None:
    usage = Usage(
        input=3,
        output=13,
        cache_read=11515,
        cache_write=13835,
        cache_write_5m=0,
        cache_write_1h=13835,
    )
    assert cost(O46, usage) == 0.1444475


def test_codex_sample_matches_ccusage() -> None:
    usage = Usage.from_codex(
        {"input_tokens": 47257, "cached_input_tokens": 44160, "output_tokens": 300}
    )
    assert usage == Usage(input=3097, output=300, cache_read=44160)
    assert cost("gpt-5.2-codex", usage) == 0.01734775


# --- the rule, case by case, against ccusage -------------------------------------------

# (model, Usage(input, output, cache_read, cache_write, 5m, 1h, speed), ccusage cost)
CCUSAGE_CLAUDE = [
    # no 5m/1h split: all of cache_creation_input_tokens at the 5m write price
    (S45, Usage(0, 0, 0, 1000), 0.0037500000000000003),
    (S45, Usage(0, 0, 0, 1000, 1000, 0), 0.0037500000000000003),
    # 1h writes at 2 x input
    (S45, Usage(0, 0, 0, 1000, 0, 1000), 0.006),
    # with a split only the split counts are priced, whatever the total says
    (S45, Usage(0, 0, 0, 1000, 300, 500), 0.004125),
    (S45, Usage(0, 0, 0, 1000, 800, 500), 0.006),
    # 200k tier: per kind of token, only the part beyond 200,000
    (S45, Usage(200_000, 0, 0, 0), 0.6),
    (S45, Usage(250_000, 0, 0, 0), 0.8999999999999999),
    (S45, Usage(0, 250_000, 0, 0), 4.125),
    (S45, Usage(0, 0, 250_000, 0), 0.09),
    (S45, Usage(0, 0, 0, 250_000, 250_000, 0), 1.125),
    (S45, Usage(0, 0, 0, 250_000), 1.125),
    (S45, Usage(0, 0, 0, 250_000, 0, 250_000), 1.7999999999999998),
    (S45, Usage(100_000, 0, 150_000, 0), 0.345),  # kinds are not added up
    (S45, Usage(100_000, 1000, 150_000, 0), 0.36),
    (O46, Usage(250_000, 0, 0, 0), 1.25),  # no tier listed: flat
    # fast mode multiplies the total; 6x for opus-4-6/4-7, 2x for opus-4-8, none for sonnet
    (O46, Usage(1000, 1000, 1000, 1000, 0, 1000, "standard"), 0.0405),
    (O46, Usage(1000, 1000, 1000, 1000, 0, 1000, "fast"), 0.243),
    ("claude-opus-4-6-20260205", Usage(1000, 1000, 1000, 1000, 0, 1000, "fast"), 0.243),
    ("claude-opus-4-7", Usage(1000, 1000, 1000, 1000, 0, 1000, "fast"), 0.243),
    ("claude-opus-4-8", Usage(1000, 1000, 1000, 1000, 0, 1000, "fast"), 0.081),
    (S45, Usage(1000, 1000, 1000, 1000, 0, 1000, "fast"), 0.024300000000000002),
    (S45, Usage(250_000, 0, 0, 0, None, None, "fast"), 0.8999999999999999),
    # random mixes (tiers, splits, fast), equal to the last bit
    ("claude-haiku-4-5-20251001", Usage(0, 0, 0, 2817, 0, 2817, "standard"), 0.005634),
    ("claude-opus-4-8", Usage(0, 0, 302569, 0, 0, 0, "fast"), 0.302569),
    ("claude-opus-4-8", Usage(15257, 5925, 0, 2683, 0, 2683, None), 0.25124),
    ("claude-opus-4-8", Usage(22372, 0, 0, 396, 0, 396, "fast"), 0.23164000000000004),
    (O46, Usage(23653, 7589, 0, 0, 0, 0, "fast"), 1.84794),
    (S45, Usage(111558, 0, 307462, 285398, None, None, "standard"), 1.8496362000000002),
    (S45, Usage(0, 16189, 357739, 0, 0, 0, None), 0.3974784),
    (S45, Usage(327916, 0, 0, 199692, 199692, 0, "standard"), 2.1163410000000002),
    (S45, Usage(116100, 0, 326945, 254308, 0, 254308, "standard"), 2.336163),
    (S45, Usage(183972, 41620, 321668, 75274, None, None, None), 1.5914943),
    (S45, Usage(0, 0, 329218, 49886, None, None, None), 0.32460330000000004),
    # other spellings ccusage prices the same way (1000 input, 1000 output, 1000 read)
    ("claude-sonnet-4", Usage(1000, 1000, 1000), 0.018300000000000004),
    ("claude-sonnet-4-20250514", Usage(1000, 1000, 1000), 0.018300000000000004),
    ("anthropic/claude-sonnet-4-5-20250929", Usage(1000, 1000, 1000), 0.018300000000000004),
    ("claude-opus-4-6-20991231", Usage(1000, 1000, 1000), 0.030500000000000003),
    ("claude-opus-4.6", Usage(1000, 1000, 1000), 0.030500000000000003),
    ("claude-opus-4-6[1m]", Usage(1000, 1000, 1000), 0.030500000000000003),
    ("claude-3-5-haiku-20241022", Usage(1000, 1000, 1000), 0.004880000000000001),
    ("claude-opus-4-1-20250805", Usage(1000, 1000, 1000), 0.0915),
    ("claude-opus-4", Usage(1000, 1000, 1000), 0.0915),
    ("claude-4-opus", Usage(1000, 1000, 1000), 0.0915),
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", Usage(1000, 1000, 1000), 0.018300000000000004),
]


@pytest.mark.parametrize(("model", "usage", "expected"), CCUSAGE_CLAUDE)
def test_claude_cost_matches_ccusage(model: str, usage: Usage, expected: float) -> None:
    assert cost(model, usage) == expected


# (model, Usage.from_codex(100,000 input of which 40,000 cached, 1,000 output), std, fast)
CCUSAGE_CODEX = [
    ("gpt-5.2-codex", 0.126, 0.126),
    ("gpt-5.3-codex", 0.126, 0.252),
    ("gpt-5.4", 0.17500000000000004, 0.3500000000000001),
    ("gpt-5.5", 0.3500000000000001, 0.8750000000000002),
    ("gpt-5.6-sol", 0.276, 0.552),
]


@pytest.mark.parametrize(("model", "standard", "fast"), CCUSAGE_CODEX)
def test_codex_cost_matches_ccusage(model: str, standard: float, fast: float) -> None:
    raw = {"input_tokens": 100_000, "cached_input_tokens": 40_000, "output_tokens": 1000}
    # ccusage adds input + cache read + output, netsky input + output + cache read:
    # the same up to the last bit or two.
    assert math.isclose(cost(model, Usage.from_codex(raw)), standard, rel_tol=1e-15)
    assert math.isclose(cost(model, Usage.from_codex(raw, "fast")), fast, rel_tol=1e-15)


# (model, input_tokens incl. cached, cached, output, ccusage cost): above 272k input
# tokens in one request, every token of it uses the *_above_272k prices
CCUSAGE_CODEX_CONTEXT_TIER = [
    ("gpt-5.4", 272_000, 0, 1000, 0.6950000000000001),
    ("gpt-5.4", 272_001, 0, 1000, 1.382505),
    ("gpt-5.4", 272_001, 72_001, 1000, 1.0585005),  # cached tokens count
    ("gpt-5.4", 271_000, 0, 2000, 0.7075000000000001),  # output does not
    ("gpt-5.4-2026-03-05", 300_000, 0, 1000, 1.5225000000000002),
    ("gpt-5.5", 300_000, 100_000, 1000, 2.145),
    ("gpt-5.6-sol", 300_000, 100_000, 1000, 1.71),
    ("gpt-5.2-codex", 300_000, 100_000, 1000, 0.3815),  # no tier listed
]


@pytest.mark.parametrize(
    ("model", "input_tokens", "cached", "output", "expected"), CCUSAGE_CODEX_CONTEXT_TIER
)
def test_codex_context_tier_matches_ccusage(
    model: str, input_tokens: int, cached: int, output: int, expected: float
) -> None:
    raw = {"input_tokens": input_tokens, "cached_input_tokens": cached, "output_tokens": output}
    assert math.isclose(cost(model, Usage.from_codex(raw)), expected, rel_tol=1e-15)


def test_codex_context_tier_is_per_request() -> None:
    # ccusage: a session of a 300k request and a 1k one costs 1.5251500000000002,
    # and two 150k requests stay below the tier (0.7800000000000001)
    big = Usage.from_codex({"input_tokens": 300_000, "output_tokens": 1000})
    small = Usage.from_codex({"input_tokens": 1000, "output_tokens": 10})
    half = Usage.from_codex({"input_tokens": 150_000, "output_tokens": 1000})
    assert math.isclose(cost("gpt-5.4", big) + cost("gpt-5.4", small), 1.52515, rel_tol=1e-15)
    assert math.isclose(2 * cost("gpt-5.4", half), 0.78, rel_tol=1e-15)


def test_codex_model_without_cache_price_prices_cached_tokens_as_input() -> None:
    raw = {"input_tokens": 100_000, "cached_input_tokens": 40_000, "output_tokens": 1000}
    value = cost("gpt-5.2-pro", Usage.from_codex(raw))
    assert math.isclose(value, 2.2680000000000002, rel_tol=1e-15)  # ccusage


# --- the rule, by hand ---------------------------------------------------------------


def test_missing_split_prices_total_at_5m_rate() -> None:
    p = PriceTable.load().get(O46)
    assert p is not None
    assert cost(O46, Usage(cache_write=1000)) == 1000 * 6.25e-6
    assert cost(O46, Usage(cache_write=1000, cache_write_5m=0, cache_write_1h=1000)) == 1000 * 1e-5
    # one side of the split given: the other side is 0
    assert cost(O46, Usage(cache_write=1000, cache_write_1h=400)) == 400 * (2 * p.input)


def test_tier_applies_beyond_threshold_only() -> None:
    assert cost(S45, Usage(input=200_000)) == 200_000 * 3e-6
    assert cost(S45, Usage(input=200_001)) == 1 * 6e-6 + 200_000 * 3e-6
    assert cost(S45, Usage(output=300_000)) == 100_000 * 2.25e-5 + 200_000 * 1.5e-5


def test_fast_only_for_fast_speed_and_listed_models() -> None:
    usage = Usage(input=1000, output=1000)
    base = cost(O46, usage)
    assert base is not None
    assert cost(O46, usage._replace(speed="fast")) == base * 6.0
    assert cost(O46, usage._replace(speed="standard")) == base
    assert cost("claude-haiku-4-5", usage._replace(speed="fast")) == cost("claude-haiku-4-5", usage)


def test_zero_usage_costs_zero() -> None:
    assert cost(O46, Usage()) == 0.0


def test_unknown_and_synthetic_models_have_no_cost() -> None:
    usage = Usage(input=10, output=10)
    for model in ("<synthetic>", "totally-unknown-model", "claude-opus-9-9", "", None):
        assert cost(model, usage) is None
    assert PriceTable.load().get("<synthetic>") is None


# --- Usage from raw records ----------------------------------------------------------


def test_usage_from_claude_record() -> None:
    raw: dict[str, Any] = {
        "input_tokens": 3,
        "output_tokens": 13,
        "cache_read_input_tokens": 11515,
        "cache_creation_input_tokens": 13835,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 13835},
        "service_tier": "standard",
        "speed": "fast",
    }
    assert Usage.from_claude(raw) == Usage(3, 13, 11515, 13835, 0, 13835, "fast")
    raw.pop("cache_creation")
    raw.pop("speed")
    assert Usage.from_claude(raw) == Usage(3, 13, 11515, 13835, None, None, None)
    assert Usage.from_claude({**raw, "cache_creation": None}).cache_write_5m is None
    assert Usage.from_claude({**raw, "cache_creation": {}})[4:6] == (0, 0)


# --- name resolution -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "entry"),
    [
        ("claude-opus-4-6", "claude-opus-4-6"),
        ("claude-opus-4-6-20260205", "claude-opus-4-6-20260205"),
        ("claude-opus-4-6-20991231", "claude-opus-4-6"),  # unknown date: undated id
        ("claude-sonnet-4-5", "claude-sonnet-4-5"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929"),
        ("claude-sonnet-4", "claude-sonnet-4-20250514"),  # undated: newest dated id
        ("anthropic/claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929"),
        ("openrouter/anthropic/claude-opus-4.6", "claude-opus-4-6"),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5-20250929"),
        ("global.anthropic.claude-opus-4-6-v1", "claude-opus-4-6"),
        ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5-20250929"),
        ("claude-opus-4-6[1m]", "claude-opus-4-6"),
        ("claude-sonnet-4-5-latest", "claude-sonnet-4-5"),
        ("Claude-Opus-4-6", "claude-opus-4-6"),  # ccusage: unpriced; netsky ignores case
        ("  claude-opus-4-6 ", "claude-opus-4-6"),
        ("claude-3-5-haiku-20241022", "claude-3-5-haiku-20241022"),
        ("gpt-5.2-codex", "gpt-5.2-codex"),
        ("openai/gpt-5.2-codex", "gpt-5.2-codex"),
        ("GPT-5.2-Codex", "gpt-5.2-codex"),
        ("gpt-5.4-2026-03-05", "gpt-5.4-2026-03-05"),
        ("gpt-5.4-2099-01-01", "gpt-5.4"),
        ("<synthetic>", None),
        ("claude-opus-9-9", None),
        ("kimi-k2.5", "kimi-k2.5"),  # other agents' families are kept (moonshot/ prefix dropped)
        ("deepseek-ai/DeepSeek-V4-Pro", "deepseek-v4-pro"),
        ("gemma-4-31b-it", None),  # LiteLLM lists Gemma only at $0 (free tier): not kept
    ],
)
def test_resolve(name: str, entry: str | None) -> None:
    assert PriceTable.load().resolve(name) == entry


# --- overrides -----------------------------------------------------------------------


def test_override_in_dollars_per_million_is_exact() -> None:
    same = {"input": 5, "output": 25, "cache_write": 6.25, "cache_read": 0.5}
    table = PriceTable.load({O46: same})
    usage = Usage(3, 13, 11515, 13835, 0, 13835)
    assert table.cost(O46, usage) == 0.1444475
    assert table.get(O46) == PriceTable.load().get(O46)


def test_override_changes_only_given_keys_and_covers_dated_ids() -> None:
    table = PriceTable.load({O46: {"output": 50, "cache_write_1h": 20}})
    p = table.get("claude-opus-4-6-20260205")
    assert p is not None
    assert (p.input, p.output, p.cache_write_1h, p.fast_multiplier) == (5e-6, 5e-5, 2e-5, 6.0)
    assert table.cost(O46, Usage(cache_write=10, cache_write_1h=10)) == 10 * 2e-5
    assert PriceTable.load().get(O46).output == 2.5e-5  # the shipped table is untouched


@pytest.mark.parametrize("spelling", ["claude-sonnet-4", "Anthropic/Claude-Sonnet-4-20250514"])
def test_override_spelling_is_resolved_like_model_names(spelling: str) -> None:
    table = PriceTable.load({spelling: {"input": 1}})
    assert table.get("claude-sonnet-4-20250514").input == 1e-6
    assert table.get("claude-sonnet-4").input == 1e-6
    assert table.get("claude-sonnet-4-5").input == 3e-6


def test_override_of_one_dated_id_leaves_the_others() -> None:
    table = PriceTable.load({"claude-opus-4-6-20991231": {"input": 1}})
    assert table.get("claude-opus-4-6-20991231").input == 1e-6
    assert table.get("claude-opus-4-6").input == 5e-6
    assert table.get("claude-opus-4-6-20991231").output == 2.5e-5  # rest from opus-4-6


def test_override_adds_a_model() -> None:
    table = PriceTable.load({"My-Local-Model": {"input": 1, "output": 2.0}})
    assert table.get("my-local-model") == Prices(input=1e-6, output=2e-6)
    assert table.cost("my-local-model", Usage(input=1000, cache_read=1000)) == 2000 * 1e-6
    assert table.cost("unknown", Usage(input=1)) is None


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({O46: {"input": "5"}}, 'pricing.models."claude-opus-4-6".input'),
        ({O46: {"output": -1}}, 'pricing.models."claude-opus-4-6".output'),
        ({O46: {"cache_read": True}}, 'pricing.models."claude-opus-4-6".cache_read'),
        ({O46: {"cache_write": math.nan}}, 'pricing.models."claude-opus-4-6".cache_write'),
        ({O46: {"input_cost": 5}}, "unknown key 'input_cost'"),
        ({O46: 5}, 'pricing.models."claude-opus-4-6" must be a table'),
        ({"new-model": {"input": 1}}, 'pricing.models."new-model": output required'),
    ],
)
def test_bad_override_names_the_key(overrides: dict[str, Any], named: str) -> None:
    with pytest.raises(PriceOverrideError, match=r"pricing\.models") as info:
        PriceTable.load(overrides)
    assert isinstance(info.value, ValueError)
    assert named in str(info.value)


# --- the shipped table ---------------------------------------------------------------


def test_shipped_table_has_the_example_prices() -> None:
    table = PriceTable.load()
    assert table is PriceTable.load()  # read once
    p = table.get(O46)
    assert p is not None
    per_million = [round(x * 1e6, 9) for x in (p.input, p.output, p.cache_write, p.cache_read)]
    assert per_million == [5, 25, 6.25, 0.5]
    assert 2 * p.input * 1e6 == 10  # 1h cache writes
    assert table.litellm_version and table.retrieved


def test_shipped_json_is_documented_and_sorted() -> None:
    text = (ROOT / "netsky_core" / "data" / "prices.json").read_text(encoding="utf-8")
    data = json.loads(text)
    assert {"about", "source", "litellm_version", "retrieved", "models"} <= set(data)
    assert list(data["models"]) == sorted(data["models"])
    fields = set(Prices._fields) - {"cache_write_1h"}
    for name, record in data["models"].items():
        assert set(record) <= fields, name
        assert {"input", "output"} <= set(record), name
    assert len(text) < 64_000


def test_import_reads_nothing() -> None:
    code = "import netsky_core.ingest.pricing as p; print(len(p._TABLES))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


# --- the sample transcripts against ccusage's reports ----------------------------------

# ccusage claude daily --json --offline --breakdown on shared/samples/claude
CCUSAGE_DAILY = {
    ("2025-10-10", "claude-sonnet-4-5-20250929"): 0.1114917,
    ("2026-02-10", "claude-opus-4-6"): 0.8906860000000001,
    ("2026-02-10", "claude-haiku-4-5-20251001"): 0.0381633,
}
# ccusage claude session --json --offline --breakdown (file name prefix -> cost)
CCUSAGE_SESSIONS = {
    "0e26ec2f": 0.0142866,
    "609efeca": 0.0972051,
    "491e126e": 0.5195930000000001,  # ccusage leaves the haiku subagent out of sessions
    "55604662": 0.1444475,
    "d6e0bada": 0.2266455,
}


def _claude_responses(root: Path) -> list[tuple[str, str, str, Usage]]:
    """(file, UTC day, model, usage) per API response, deduplicated as in formats.md."""
    best: dict[tuple[Any, ...], tuple[int, bool, str, str, str, Usage]] = {}
    for path in sorted(root.glob("projects/*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            data = record.get("data") or {}
            if record.get("type") == "progress" and data.get("type") == "agent_progress":
                record = data.get("message") or {}
            message = record.get("message") or {}
            if record.get("type") != "assistant" or "usage" not in message:
                continue
            key = (message.get("id"), record.get("requestId"))
            usage = Usage.from_claude(message["usage"])
            size = usage.input + usage.output + usage.cache_write + usage.cache_read
            row = (
                size,
                not record.get("isSidechain"),
                path.name,
                record["timestamp"][:10],
                message["model"],
                usage,
            )
            if key not in best or row[:2] > best[key][:2]:
                best[key] = row
    return [row[2:] for row in best.values()]


@needs_samples
def test_sample_claude_costs_match_ccusage() -> None:
    daily: dict[tuple[str, str], float] = defaultdict(float)
    sessions: dict[str, float] = defaultdict(float)
    for file, day, model, usage in _claude_responses(SAMPLES / "claude"):
        if model == "<synthetic>":
            assert cost(model, usage) is None
            continue
        value = cost(model, usage)
        assert value is not None
        daily[day, model] += value
        if model != "claude-haiku-4-5-20251001":
            sessions[file[:8]] += value
    # summed in file order, as ccusage does: equal to the last bit
    assert dict(daily) == CCUSAGE_DAILY
    assert dict(sessions) == CCUSAGE_SESSIONS


@needs_samples
def test_sample_codex_cost_matches_ccusage() -> None:
    (rollout,) = (SAMPLES / "codex" / "sessions").rglob("rollout-*.jsonl")
    model, previous, total = None, {}, 0.0
    for line in rollout.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        payload = record["payload"]
        if record["type"] == "turn_context":
            model = payload["model"]
        info = payload.get("info") if payload.get("type") == "token_count" else None
        if info:
            current = info["total_token_usage"]
            delta = {key: value - previous.get(key, 0) for key, value in current.items()}
            previous = current
            if any(delta.values()):
                total += cost(model, Usage.from_codex(delta))
    assert total == 0.01734775


# --- scripts/update_prices.py --------------------------------------------------------


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "update_prices", ROOT / "scripts" / "update_prices.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _entry(provider: str, i: float, o: float, **more: Any) -> dict[str, Any]:
    return {
        "litellm_provider": provider,
        "mode": "chat",
        "input_cost_per_token": i,
        "output_cost_per_token": o,
        **more,
    }


def test_update_script_filters_merges_and_renders(tmp_path: Path) -> None:
    script = _script()
    tier = {"input_cost_per_token_above_200k_tokens": 6e-6}
    old = {
        "claude-old-1": _entry("anthropic", 1e-6, 2e-6),
        "claude-long-1": _entry("anthropic", 3e-6, 1.5e-5, **tier),
    }
    new = {
        "claude-long-1": _entry("anthropic", 3e-6, 1.5e-5),  # tier dropped: kept
        "claude-opus-4-6": _entry(
            "anthropic", 5e-6, 2.5e-5, cache_creation_input_token_cost=6.25e-6
        ),
        "claude-next-1": _entry("anthropic", 5e-6, 2.5e-5, provider_specific_entry={"fast": 2}),
        "gpt-5.4": _entry("openai", 2.5e-6, 1.5e-5, cache_read_input_token_cost=2.5e-7),
        "anthropic.claude-3-5-haiku-20241022-v1:0": _entry("bedrock", 8e-7, 4e-6, **tier),
        "us.anthropic.claude-opus-4-6-v1": _entry("bedrock", 5.5e-6, 2.75e-5),
        "azure/gpt-5.4": _entry("azure", 1, 1),
        "gpt-4o-audio-preview": _entry("openai", 1, 1),
        "text-embedding-3-small": {**_entry("openai", 1, 0), "mode": "embedding"},
        "gpt-image-1": {**_entry("openai", 1, 1), "mode": "image_generation"},
    }
    sources = [script.Source(old, "1.0", "old"), script.Source(new, "2.0", "new")]
    models, origin, provided = script.merge({}, {}, sources)
    assert sorted(models) == [
        "claude-3-5-haiku-20241022",
        "claude-long-1",
        "claude-next-1",
        "claude-old-1",
        "claude-opus-4-6",
        "gpt-5.4",
    ]
    assert models["claude-long-1"]["input_above_200k"] == 6e-6
    assert models["claude-3-5-haiku-20241022"] == {"input": 8e-7, "output": 4e-6}
    assert models["claude-next-1"]["fast_multiplier"] == 2.0
    assert models["claude-opus-4-6"]["fast_multiplier"] == 6.0  # not in LiteLLM
    assert models["gpt-5.4"] == {
        "input": 2.5e-6,
        "output": 1.5e-5,
        "cache_read": 2.5e-7,
        "fast_multiplier": 2.0,
    }
    assert origin["claude-old-1"] == "1.0" and "claude-old-1" not in provided
    assert origin["claude-3-5-haiku-20241022"] == "2.0 (bedrock)"

    source = tmp_path / "litellm.json"
    source.write_text(json.dumps(new), encoding="utf-8")
    out = tmp_path / "prices.json"
    assert script.main([str(source), "--output", str(out), "--fresh"]) == 0
    table = PriceTable.load(path=str(out))
    assert table.cost("claude-opus-4-6", Usage(input=1, cache_write=1)) == 5e-6 + 6.25e-6
    assert table.resolve("claude-old-1") is None
    rendered = json.loads(out.read_text(encoding="utf-8"))
    assert rendered["retained"] == {"claude-3-5-haiku-20241022": "litellm.json (bedrock)"}
    assert rendered["litellm_version"] is None  # a bare JSON file carries no version
    # a second run over the same output keeps models the new source lacks
    source.write_text(json.dumps({"gpt-5.4": new["gpt-5.4"]}), encoding="utf-8")
    assert script.main([str(source), "--output", str(out)]) == 0
    rendered = json.loads(out.read_text(encoding="utf-8"))
    assert "claude-opus-4-6" in rendered["models"]
    assert "claude-opus-4-6" in rendered["retained"]
