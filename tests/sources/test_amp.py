"""Amp: parity with ccusage 20.0.24 on the real thread files.

Cost: netsky uses the ledger's ``credits`` x $0.01 (Amp's own charge). ccusage 20.0.24
shows the credits but prices the tokens with LiteLLM (measured with its binary:
doubling or removing the credits leaves its cost unchanged). On the samples every
event's credits equal the LiteLLM list price of its tokens exactly (Amp bills at list
price), so both agree; both are asserted.
"""

from __future__ import annotations

import json

from netsky_core.ingest.pricing import Usage
from netsky_core.sources import amp

from ._helpers import (
    MACHINE,
    PRICES,
    api,
    assert_parity,
    by_uuid,
    ccusage,
    close,
    read_source,
    sample_root,
)


def test_parity_with_ccusage_and_credits_equal_list_price() -> None:
    events = read_source(amp, [sample_root("amp")])
    assert_parity(events, "amp")
    credits = sum(json.loads(e.metadata)["credits"] for e in api(events))
    assert close(credits, ccusage("amp", "daily")["totals"]["credits"])
    for event in api(events):
        usage = Usage(
            input=event.tokens_input,
            output=event.tokens_output,
            cache_read=event.tokens_cache_read,
            cache_write=event.tokens_cache_write,
        )
        assert close(event.cost_usd, PRICES.cost(event.model, usage))
    assert sum(e.event_type == "SessionStart" for e in events) == 2


def _read(doc: dict):
    return amp.read_document(
        json.dumps(doc, indent=2).encode(), path="/t/T-1.json", machine_id=MACHINE, prices=PRICES
    )


def test_rewritten_thread_keeps_uuids_and_grows() -> None:
    path = sample_root("amp") / "threads" / "T-6b45efa0-1bae-4277-9991-293950d0ab14.json"
    doc = json.loads(path.read_bytes())
    before = by_uuid(_read(doc).events)
    ledger = doc["usageLedger"]["events"]
    ledger[1]["tokens"]["output"] += 100  # a message's tokens grew
    doc["messages"].append(
        {
            "role": "user",
            "messageId": 2,
            "content": [{"type": "text", "text": "more"}],
            "meta": {"sentAt": 1761596200000},
        }
    )
    doc["messages"].append(
        {
            "role": "assistant",
            "messageId": 3,
            "content": [{"type": "text", "text": "ok"}],
            "usage": {
                "model": "claude-sonnet-4-5-20250929",
                "inputTokens": 3,
                "outputTokens": 4,
                "cacheCreationInputTokens": 5,
                "cacheReadInputTokens": 6,
                "credits": 0.1,
            },
        }
    )
    ledger.append(
        {
            "id": "new-event",
            "timestamp": "2025-10-27T20:16:00.000Z",
            "model": "claude-sonnet-4-5-20250929",
            "credits": 0.1,
            "tokens": {"input": 3, "output": 4},
            "operationType": "inference",
            "fromMessageId": 2,
            "toMessageId": 3,
        }
    )
    after = by_uuid(_read(doc).events)
    assert set(before) < set(after)
    key = (
        "T-6b45efa0-1bae-4277-9991-293950d0ab14",
        f"api:amp:T-6b45efa0-1bae-4277-9991-293950d0ab14:{ledger[1]['id']}",
    )
    assert after[key].tokens_output == before[key].tokens_output + 100
    new = after[
        (
            "T-6b45efa0-1bae-4277-9991-293950d0ab14",
            "api:amp:T-6b45efa0-1bae-4277-9991-293950d0ab14:new-event",
        )
    ]
    assert (new.tokens_cache_write, new.tokens_cache_read, new.cost_usd) == (5, 6, 0.001)


def test_without_ledger_message_usage_counts() -> None:
    doc = {
        "id": "T-2",
        "created": 1761596096076,
        "messages": [
            {
                "role": "assistant",
                "messageId": 1,
                "timestamp": "2025-10-27T20:15:07.762Z",
                "usage": {
                    "model": "claude-sonnet-4-5-20250929",
                    "inputTokens": 9,
                    "outputTokens": 63,
                    "cacheCreationInputTokens": 972,
                    "cacheReadInputTokens": 14570,
                },
            },
            {
                "role": "assistant",
                "messageId": 2,
                "usage": {"model": "x", "inputTokens": 1},
            },  # no timestamp
        ],
    }
    (event,) = api(_read(doc).events)
    assert event.uuid == "api:amp:T-2:message:1"
    assert event.cost_usd == PRICES.cost(
        "claude-sonnet-4-5-20250929", Usage(input=9, output=63, cache_write=972, cache_read=14570)
    )
