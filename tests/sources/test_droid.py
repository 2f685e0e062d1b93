"""Droid (Factory): the real pair (a session opened, never used: ``settings.json`` without
``tokenUsage``) gives no usage in ccusage 20.0.24 and none here, but its session and
settings are events; a ``settings.json`` with ``tokenUsage`` gives one ApiRequest whose
uuid survives the file being rewritten with grown totals."""

from __future__ import annotations

import json
import os
from pathlib import Path

from netsky_core.ingest.pricing import Usage
from netsky_core.sources import droid

from ._helpers import (
    MACHINE,
    PRICES,
    api,
    assert_parity,
    ccusage,
    read_source,
    reasoning,
    sample_root,
)

SESSION = "1e497a18-d302-4d2c-b2b1-98903bfebd5a"


def test_sample_has_no_usage_but_its_session() -> None:
    events = read_source(droid, [sample_root("droid")])
    assert_parity(events, "droid")
    assert ccusage("droid", "session")["sessions"] == []
    assert {e.event_type for e in events} == {"SessionStart", "settings"}
    assert {e.session_id for e in events} == {SESSION}
    settings = next(e for e in events if e.event_type == "settings")
    assert settings.model == "claude-opus-4-7"


def _read(doc: dict, path: Path):
    data = json.dumps(doc, indent=2).encode()
    path.write_bytes(data)
    return droid.read_document(data, path=str(path), machine_id=MACHINE, prices=PRICES)


def test_token_usage_and_rewrite(tmp_path: Path) -> None:
    path = tmp_path / f"{SESSION}.settings.json"
    doc = {
        "model": "Claude Opus 4.7 [custom]",
        "providerLockTimestamp": "2026-05-01T10:00:00.000Z",
        "tokenUsage": {
            "inputTokens": 1000,
            "outputTokens": 100,
            "cacheCreationTokens": 50,
            "cacheReadTokens": 4000,
            "thinkingTokens": 30,
            "totalTokens": 5180,
        },
    }
    (first,) = api(_read(doc, path).events)
    assert first.model == "claude-opus-4-7" and first.uuid == f"api:droid:{SESSION}"
    assert reasoning(first) == 30
    assert first.cost_usd == PRICES.cost(
        "claude-opus-4-7", Usage(input=1000, output=130, cache_write=50, cache_read=4000)
    )
    doc["tokenUsage"]["outputTokens"] = 500
    (second,) = api(_read(doc, path).events)
    assert second.uuid == first.uuid and second.total_tokens > first.total_tokens


def test_model_from_transcript_and_time_from_mtime(tmp_path: Path) -> None:
    path = tmp_path / "s2.settings.json"
    (tmp_path / "s2.jsonl").write_text(
        json.dumps({"type": "message", "text": "Model: GPT-5 [x]\\n"}) + "\n"
    )
    doc = {"tokenUsage": {"inputTokens": 10, "outputTokens": 1}}
    data = json.dumps(doc).encode()
    path.write_bytes(data)
    os.utime(path, (1_780_000_000, 1_780_000_000))
    (event,) = api(
        droid.read_document(data, path=str(path), machine_id=MACHINE, prices=PRICES).events
    )
    assert event.model == "gpt-5" and event.timestamp.timestamp() == 1_780_000_000
    assert droid.normalize_model("custom:Claude  Sonnet 4.5 [Max]-") == "claude-sonnet-4-5"
