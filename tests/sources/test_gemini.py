"""Gemini CLI: parity with ccusage 20.0.24 on the real samples, and the document rules.

ccusage's rules (see ``netsky_core.sources.gemini``): input = ``input - cached + tool``,
cache read = ``cached``, output = ``output``, thoughts apart (in totalTokens, priced as
output); no dedup across files; a 200k per-request tier for Gemini prices.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netsky_core.ingest.pricing import Usage
from netsky_core.sources import gemini

from ._helpers import MACHINE, PRICES, assert_parity, by_uuid, read_source, reasoning, sample_root


def read(data: bytes, path: str = "/x/chats/session-1-abc.json"):
    return gemini.read_document(data, path=path, machine_id=MACHINE, prices=PRICES)


def test_parity_with_ccusage() -> None:
    events = read_source(gemini, [sample_root("gemini")])
    days, sessions = assert_parity(events, "gemini")
    # thoughts are reasoning apart from output: ccusage's totalTokens has them
    assert sum(r["reasoning"] for r in days.values()) == 3957464 - (721530 + 17820 + 3155814)
    # the two files of session 5b6234f8 merge into one session with two models
    assert sessions["5b6234f8-0315-4733-a3be-ee67d6712014"]["models"] == {
        "gemini-2.5-pro",
        "gemini-2.5-flash",
    }
    assert "tl63m8" in sessions  # the subagent file's own sessionId


def test_discover_reads_json_and_jsonl_at_any_depth() -> None:
    root = sample_root("gemini")
    found = gemini.discover([root, root])  # a root given twice is read once
    assert len(found) == 8
    assert any(p.name == "tl63m8.json" for p in found)


# ccusage 20.0.24's own costs for single messages (measured with its binary): Gemini's
# 200k tier is per request: past 200k input + cache read tokens, every token of the
# request (output too) uses the *_above_200k prices.
CCUSAGE_COSTS = [
    ("gemini-2.5-pro", Usage(input=200_000), 0.25),
    ("gemini-2.5-pro", Usage(input=200_001), 0.5000025),
    ("gemini-2.5-pro", Usage(input=250_000), 0.625),
    ("gemini-2.5-pro", Usage(input=150_000, cache_read=100_000), 0.4),
    ("gemini-2.5-pro", Usage(input=150_000, output=100_000), 1.1875),
    ("gemini-2.5-pro", Usage(input=250_000, output=100_000), 2.125),
    ("gemini-2.5-pro", Usage(output=250_000), 2.5),
    ("gemini-2.5-pro", Usage(cache_read=250_000), 0.0625),
    ("gemini-2.5-pro", Usage(input=150_000, cache_read=150_000), 0.4125),
    ("gemini-3.1-pro-preview", Usage(input=250_000), 1.0),
    ("gemini-3.1-pro-preview", Usage(input=150_000, cache_read=100_000), 0.64),
    ("gemini-3.1-pro-preview", Usage(input=250_000, output=100_000), 2.8),
    ("gemini-3.1-pro-preview", Usage(input=150_000, cache_read=150_000), 0.66),
    ("gemini-2.5-flash", Usage(input=1_000_000, cache_read=1_000_000), 0.33),
    ("gemini-3-flash-preview", Usage(input=1_000_000, output=1_000_000), 3.5),
    ("gemini-flash-lite-latest", Usage(input=1_000_000, output=1_000_000), 2.8),
]


@pytest.mark.parametrize(("model", "usage", "expected"), CCUSAGE_COSTS)
def test_gemini_prices_match_ccusage(model: str, usage: Usage, expected: float) -> None:
    assert PRICES.cost(model, usage) == pytest.approx(expected, rel=1e-12)


def _doc(messages: list[dict], session: str = "sess-1") -> bytes:
    return json.dumps(
        {"sessionId": session, "startTime": "2026-01-02T00:00:00.000Z", "messages": messages},
        indent=2,
    ).encode()


def _msg(mid: str, ts: str, **tokens: int) -> dict:
    tok = {"input": 0, "output": 0, "cached": 0, "thoughts": 0, "tool": 0, **tokens}
    tok.setdefault("total", tok["input"] + tok["output"] + tok["thoughts"] + tok["tool"])
    return {
        "id": mid,
        "timestamp": ts,
        "type": "gemini",
        "content": "x",
        "model": "gemini-2.5-pro",
        "tokens": tok,
    }


def test_rewritten_document_keeps_uuids_and_grows_tokens() -> None:
    first = [
        {
            "id": "u1",
            "timestamp": "2026-01-02T00:00:01Z",
            "type": "user",
            "content": [{"text": "hi"}],
        },
        _msg("g1", "2026-01-02T00:00:02Z", input=100, output=10, cached=40, thoughts=5),
    ]
    before = read(_doc(first)).events
    grown = [
        first[0],
        _msg("g1", "2026-01-02T00:00:02Z", input=150, output=30, cached=40, thoughts=9),
    ]
    grown.append(_msg("g2", "2026-01-02T00:00:03Z", input=300, output=3))
    after = read(_doc(grown)).events
    old, new = by_uuid(before), by_uuid(after)
    assert set(old) < set(new)
    key = ("sess-1", "api:gemini:sess-1:session-1-abc:g1")
    assert new[key].total_tokens > old[key].total_tokens
    assert (new[key].tokens_input, new[key].tokens_cache_read, reasoning(new[key])) == (110, 40, 9)
    assert read(_doc(grown)).events == after


def test_message_rules() -> None:
    msgs = [
        _msg("zero", "2026-01-02T00:00:01Z"),  # all 0: no usage
        _msg("tool", "2026-01-02T00:00:02Z", input=100, cached=30, tool=7, output=1),
        # total != input+output+thoughts+tool: cached is not subtracted
        _msg("excl", "2026-01-02T00:00:03Z", input=100, cached=30, output=1, total=131),
        # total beyond the parts: the rest is output when output is 0
        _msg("fill", "2026-01-02T00:00:04Z", input=10, total=25),
    ]
    events = {
        e.uuid.rsplit(":", 1)[1]: e for e in read(_doc(msgs)).events if e.event_type == "ApiRequest"
    }
    assert "zero" not in events
    assert (events["tool"].tokens_input, events["tool"].tokens_cache_read) == (77, 30)
    assert (events["excl"].tokens_input, events["excl"].tokens_cache_read) == (100, 30)
    assert events["fill"].tokens_output == 15
    assert reasoning(events["excl"]) == 0  # total 131 = the other counts: no reasoning
    assert events["tool"].tokens_cache_write is None  # Gemini reports no cache writes


def test_same_session_in_two_files_is_not_deduplicated() -> None:
    doc = _doc([_msg("g1", "2026-01-02T00:00:02Z", input=100, output=10)])
    a = read(doc, "/r/p/chats/session-2026-01-02T00-00-aaaa.json").events
    b = read(doc, "/r/p/chats/session-2026-01-02T00-01-aaaa.json").events
    copy = read(doc, "/other/machine/p/chats/session-2026-01-02T00-00-aaaa.json").events
    assert {e.uuid for e in a}.isdisjoint({e.uuid for e in b})
    assert [e.uuid for e in a] == [e.uuid for e in copy]  # a copy of one file collides


def test_jsonl_last_line_of_an_id_wins_and_stats_are_read(tmp_path: Path) -> None:
    lines = [
        {"sessionId": "s9", "model": "gemini-2.5-flash"},
        {
            "id": "a",
            "type": "gemini",
            "timestamp": "2026-01-02T00:00:00Z",
            "tokens": {"input": 10, "output": 1},
        },
        {
            "id": "a",
            "type": "gemini",
            "timestamp": "2026-01-02T00:00:00Z",
            "tokens": {"input": 20, "output": 2},
        },
        {
            "timestamp": "2026-01-02T00:01:00Z",
            "stats": {
                "models": {
                    "gemini-2.5-pro": {
                        "tokens": {"prompt": 50, "candidates": 5, "cached": 20, "total": 55}
                    }
                }
            },
        },
    ]
    data = b"\n".join(json.dumps(line).encode() for line in lines)
    result = gemini.read_document(
        data, path=str(tmp_path / "s.jsonl"), machine_id=MACHINE, prices=PRICES
    )
    api = [e for e in result.events if e.event_type == "ApiRequest"]
    kept = {}
    for e in api:
        if e.uuid not in kept or e.total_tokens > kept[e.uuid].total_tokens:
            kept[e.uuid] = e
    assert sorted((e.model, e.tokens_input, e.tokens_cache_read) for e in kept.values()) == [
        ("gemini-2.5-flash", 20, 0),
        ("gemini-2.5-pro", 30, 20),
    ]


def test_thoughts_left_out_of_total_are_priced_but_not_counted() -> None:
    """ccusage 20.0.24 (measured): totalTokens is the file's ``total``, cost prices the
    thoughts as output all the same."""
    msgs = [_msg("a", "2026-01-02T00:00:01Z", input=100, output=10, thoughts=50, total=110)]
    msgs[0]["model"] = "gemini-2.5-flash"
    (event,) = [e for e in read(_doc(msgs)).events if e.event_type == "ApiRequest"]
    assert event.total_tokens + reasoning(event) == 110
    assert event.cost_usd == pytest.approx(0.00018)  # 100 input + 60 output tokens
