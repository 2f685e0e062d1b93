"""OpenClaw: parity with ccusage 20.0.24 on the real session files (an archived
``.jsonl.deleted.<time>`` copy reports as its session; ``[openclaw] `` is display only).
Cost is the agent's ``usage.cost.total``."""

from __future__ import annotations

import json
from pathlib import Path

from netsky_core.ingest.pricing import Usage
from netsky_core.sources import openclaw

from ._helpers import MACHINE, PRICES, api, assert_parity, parse_lines, read_source, sample_root


def test_parity_with_ccusage() -> None:
    events = read_source(openclaw, [sample_root("openclaw")])
    _, sessions = assert_parity(events, "openclaw", model_name=lambda m: f"[openclaw] {m}")
    assert "32e11ee0-15e7-4850-9042-02612aed07d9" in sessions  # from the .deleted archive
    # the ollama error session: no usage, its events still count
    errored = [e for e in events if e.session_id == "00cf3368-0947-47f3-8126-82335a943532"]
    assert errored and not api(errored)


def test_discover_takes_archives_and_session_ids() -> None:
    names = [p.name for p in openclaw.discover([sample_root("openclaw")])]
    assert any(".jsonl.deleted." in n for n in names) and len(names) == 5
    assert openclaw.session_of("/x/abc.jsonl.reset.2026-01-01") == "abc"
    assert openclaw.is_session_file("a.jsonl") and not openclaw.is_session_file("a.json")


def test_model_comes_from_the_latest_change(tmp_path: Path) -> None:
    lines = [
        {"type": "session", "id": "s", "timestamp": "2026-01-01T00:00:00Z", "cwd": "/w"},
        {
            "type": "model_change",
            "id": "m",
            "timestamp": "2026-01-01T00:00:01Z",
            "provider": "moonshot",
            "modelId": "kimi-k2.5",
        },
        {
            "type": "message",
            "id": "a",
            "timestamp": "2026-01-01T00:00:02Z",
            "message": {
                "role": "assistant",
                "timestamp": 1767225603000,
                "usage": {"input": 100, "output": 10},
            },
        },
        {
            "type": "custom",
            "customType": "model-snapshot",
            "id": "c",
            "timestamp": "2026-01-01T00:00:04Z",
            "data": {"modelId": "gemini-2.5-pro"},
        },
        {
            "type": "message",
            "id": "b",
            "timestamp": "2026-01-01T00:00:05Z",
            "message": {
                "role": "assistant",
                "usage": {"input": 100, "output": 10, "cost": {"total": 0.5}},
            },
        },
    ]
    data = b"\n".join(json.dumps(r).encode() for r in lines)
    events, _ = parse_lines(openclaw.Parser, tmp_path / "s.jsonl", data=data)
    first, second = api(events)
    assert (first.model, second.model) == ("kimi-k2.5", "gemini-2.5-pro")
    assert first.timestamp.isoformat() == "2026-01-01T00:00:03+00:00"  # message.timestamp (ms)
    assert first.cost_usd == PRICES.cost("kimi-k2.5", Usage(input=100, output=10))
    assert second.cost_usd == 0.5 and first.cwd == "/w" and MACHINE


def test_total_beyond_the_parts_counts_but_is_not_priced(tmp_path: Path) -> None:
    """ccusage 20.0.24 (measured): a ``totalTokens`` above the parts adds to totalTokens
    (to output only when output is 0) but not to the cost."""
    usage = {"input": 100, "output": 10, "cacheRead": 0, "cacheWrite": 0, "totalTokens": 500}
    line = {
        "type": "message",
        "id": "x",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "message": {"role": "assistant", "model": "claude-sonnet-4-5-20250929", "usage": usage},
    }
    (event,) = api(
        parse_lines(openclaw.Parser, tmp_path / "s.jsonl", data=json.dumps(line).encode())[0]
    )
    assert event.total_tokens == 500 and event.tokens_reasoning == 390
    assert event.cost_usd == PRICES.cost("claude-sonnet-4-5-20250929", Usage(input=100, output=10))
