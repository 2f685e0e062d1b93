"""GitHub Copilot CLI: parity with ccusage 20.0.24 on the real ``events.jsonl`` files.

Cost: netsky uses Copilot's own ``totalNanoAiu / 1e9 * $0.01``. ccusage 20.0.24 prices
the tokens with LiteLLM instead (measured with its binary: doubling ``totalNanoAiu``
leaves its cost unchanged). On every sample the AIU cost equals the LiteLLM list price
of the same tokens to the last digit (47.58 + 7.43 + 28.37 AIU = $0.8338), so the two
agree here; the test asserts both.

**Documented correction (resumed sessions):** Copilot resets ``modelMetrics`` for each
process, so the shutdowns of one file add up. ccusage 20.0.24 takes them as cumulative
snapshots and counts only the growth of their running maximum (measured: shutdowns with
100 then 300 input tokens give ccusage 300, netsky 400). No sample has two token-bearing
shutdowns (the one real file that had them was dropped for a leaked key).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netsky_core.ingest.pricing import Usage
from netsky_core.sources import copilot

from ._helpers import (
    PRICES,
    api,
    assert_parity,
    close,
    parse_lines,
    read_source,
    reasoning,
    sample_root,
)


def test_parity_with_ccusage_and_aiu_equals_list_price() -> None:
    events = read_source(copilot, [sample_root("copilot")])
    _, sessions = assert_parity(events, "copilot")
    for event in api(events):
        meta = json.loads(event.metadata)
        assert meta["cost_basis"] == "aiu"
        list_price = PRICES.cost(
            event.model,
            Usage(
                input=event.tokens_input,
                output=event.tokens_output,
                cache_read=event.tokens_cache_read,
                cache_write=event.tokens_cache_write,
            ),
        )
        assert close(event.cost_usd, list_price)
        assert reasoning(event) == 0 and meta.get("reasoning_in_output", 0) >= 0
    expected = {
        "3cc3555e-5462-44f9-95de-c67b1cb220b9": 16,
        "9a493a94-a307-489e-8bc7-d16f4afcd992": 1,
    }
    for event in api(events):
        if event.session_id in expected:
            assert json.loads(event.metadata)["message_count"] == expected[event.session_id]
    # the VS Code session: two shutdowns with empty modelMetrics give no usage, but events
    vscode = [e for e in events if e.session_id == "3fc55392-3e98-4470-8d46-86557601b171"]
    assert vscode and not api(vscode)
    assert sum(e.event_type == "SessionEnd" for e in vscode) == 2
    assert "3fc55392-3e98-4470-8d46-86557601b171" not in sessions


def _shutdown(eid: str, ts: str, metrics: dict, **top: object) -> bytes:
    return json.dumps(
        {
            "type": "session.shutdown",
            "id": eid,
            "timestamp": ts,
            "data": {"modelMetrics": metrics, **top},
        }
    ).encode()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "session-state" / "sess-1" / "events.jsonl"


def test_resumed_session_adds_its_shutdowns_and_gemini_reasoning_is_apart(path: Path) -> None:
    usage = {
        "inputTokens": 1000,
        "outputTokens": 100,
        "cacheReadTokens": 300,
        "cacheWriteTokens": 200,
        "reasoningTokens": 40,
    }
    lines = [
        _shutdown(
            "e1",
            "2026-06-01T00:00:00Z",
            {"claude-sonnet-4.6": {"usage": usage, "requests": {"count": 2, "cost": 1}}},
        ),
        _shutdown(
            "e2",
            "2026-06-02T00:00:00Z",
            {
                "gemini-2.5-pro": {
                    "usage": usage,
                    "requests": {"count": 1, "cost": 1},
                    "totalNanoAiu": 5e9,
                }
            },
        ),
        _shutdown(
            "e3",
            "2026-06-03T00:00:00Z",
            {"gpt-5": {"usage": usage, "requests": {"count": 1, "cost": 0}}},
        ),
    ]
    events, parser = parse_lines(copilot.Parser, path, data=b"\n".join(lines))
    api_events = {e.model: e for e in api(events)}
    assert len(api_events) == 3 and parser.malformed == 0
    claude, gem, gpt = (
        api_events["claude-sonnet-4.6"],
        api_events["gemini-2.5-pro"],
        api_events["gpt-5"],
    )
    assert claude.tokens_input == 500  # inputTokens includes both cache counts
    assert reasoning(claude) == 0 and json.loads(claude.metadata)["reasoning_in_output"] == 40
    assert claude.cost_usd == pytest.approx(0.04)  # one premium request
    assert reasoning(gem) == 40 and gem.cost_usd == pytest.approx(0.05)  # 5 AIU
    assert gpt.cost_usd == PRICES.cost(
        "gpt-5", Usage(input=500, output=100, cache_read=300, cache_write=200)
    )
    assert len({e.uuid for e in api(events)}) == 3


def test_prompts_and_tools_are_events() -> None:
    path = (
        sample_root("copilot") / "session-state/9a493a94-a307-489e-8bc7-d16f4afcd992/events.jsonl"
    )
    events, _ = parse_lines(copilot.Parser, path)
    prompts = [e for e in events if e.event_type == "UserPromptSubmit"]
    assert [json.loads(e.payload)["prompt"] for e in prompts] == ["hi"]
    start = next(e for e in events if e.event_type == "SessionStart")
    assert (start.cwd, start.git_branch) == ("/Users/thatpong/.dotfiles/.config", "main")


def test_shutdowns_of_a_resumed_session_add_up(path: Path) -> None:
    """netsky: sum of the shutdowns; ccusage 20.0.24: the running maximum's growth."""

    def one(eid: str, ts: str, tokens: int) -> bytes:
        usage = {
            "inputTokens": tokens,
            "outputTokens": 10,
            "cacheReadTokens": 0,
            "cacheWriteTokens": 0,
        }
        return _shutdown(eid, ts, {"claude-sonnet-4.6": {"usage": usage, "requests": {"count": 1}}})

    measured = [  # (input tokens per shutdown, ccusage 20.0.24's input total, measured)
        ([100, 100], 100),
        ([100, 300], 300),
        ([300, 100], 300),
    ]
    for tokens, ccusage_total in measured:
        lines = [one(f"e{i}", f"2026-06-0{i + 1}T00:00:00Z", t) for i, t in enumerate(tokens)]
        events, _ = parse_lines(copilot.Parser, path, data=b"\n".join(lines))
        ours = sum(e.tokens_input for e in api(events))
        assert ours == sum(tokens)
        assert ccusage_total == max(tokens)  # what ccusage counts instead
