"""Qwen Code: parity with ccusage 20.0.24, with one documented correction.

**ccusage is provably wrong for Qwen:** ``promptTokenCount`` already includes
``cachedContentTokenCount`` (``totalTokenCount = prompt + candidates + thoughts`` on every
record), but ccusage reports the whole prompt as input *and* the cached part again as
cache read, so cached tokens are counted twice. netsky reports input = ``prompt -
cached``. Rule asserted per day and per session:

    ccusage_input - netsky_input == cached == ccusage_total - netsky_total

while output, cache read and reasoning are equal, and netsky's total equals the files'
``totalTokenCount`` (1,866,551 against ccusage's 3,351,609; the difference is the
1,485,058 cached tokens). ``coder-model`` has no price: ccusage cost 0, netsky None.
"""

from __future__ import annotations

import json
from pathlib import Path

from netsky_core.sources import qwen

from ._helpers import (
    MACHINE,
    PRICES,
    api,
    by_day,
    by_session,
    ccusage,
    dedup,
    group,
    parse_lines,
    read_source,
    sample_root,
)


def _check(rows: dict, expected_rows: list[dict], key: str) -> int:
    assert sorted(rows) == sorted(r[key] for r in expected_rows)
    cached_total = 0
    for want in expected_rows:
        row = rows[want[key]]
        cached = row["cacheReadTokens"]
        assert want["cacheReadTokens"] == cached
        assert want["outputTokens"] == row["outputTokens"]
        assert want["cacheCreationTokens"] == row["cacheCreationTokens"] == 0
        assert want["inputTokens"] - row["inputTokens"] == cached
        assert want["totalTokens"] - row["totalTokens"] == cached
        assert row["models"] == set(want["modelsUsed"])
        assert row["unpriced"] and row["cost"] == 0.0 == want["totalCost"]
        cached_total += cached
    return cached_total


def test_parity_with_the_double_counting_corrected() -> None:
    root = sample_root("qwen")
    kept = dedup(read_source(qwen, [root]))
    days, sessions = group(kept, by_day), group(kept, by_session)
    assert _check(days, ccusage("qwen", "daily")["daily"], "date") == 1_485_058
    assert _check(sessions, ccusage("qwen", "session")["sessions"], "sessionId") == 1_485_058
    file_total = 0
    for path in qwen.discover([root]):
        for line in path.read_bytes().splitlines():
            record = json.loads(line)
            if record.get("type") == "assistant" and "usageMetadata" in record:
                file_total += record["usageMetadata"]["totalTokenCount"]
    assert sum(r["totalTokens"] for r in days.values()) == file_total == 1_866_551
    assert ccusage("qwen", "daily")["totals"]["totalTokens"] - file_total == 1_485_058
    assert {e.cost_usd for e in api(kept)} == {None}


def test_session_without_usage_still_has_events() -> None:
    path = (
        sample_root("qwen")
        / "projects/D--Hackathon-Book-sp-book/chats/9f7385a4-35ec-4c8c-a1fc-a1e1aab4ed46.jsonl"
    )
    events, parser = parse_lines(qwen.Parser, path)
    assert events and not api(events) and parser.malformed == 0
    assert {e.session_id for e in events} == {"9f7385a4-35ec-4c8c-a1fc-a1e1aab4ed46"}


def test_thoughts_are_reasoning_and_duplicates_collide(tmp_path: Path) -> None:
    record = {
        "uuid": "u1",
        "sessionId": "s1",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "type": "assistant",
        "model": "qwen3-coder-plus",
        "usageMetadata": {
            "promptTokenCount": 1000,
            "candidatesTokenCount": 50,
            "thoughtsTokenCount": 20,
            "totalTokenCount": 1070,
            "cachedContentTokenCount": 400,
        },
    }
    copy = dict(record, uuid="u2")  # the same response written again: ccusage dedups it
    data = b"\n".join(json.dumps(r).encode() for r in (record, copy))
    events, _ = parse_lines(qwen.Parser, tmp_path / "projects/p/chats/s1.jsonl", data=data)
    (a, b) = api(events)
    assert a.uuid == b.uuid
    assert (a.tokens_input, a.tokens_cache_read, a.tokens_output) == (600, 400, 50)
    assert json.loads(a.metadata)["tokens_reasoning"] == 20
    assert a.git_branch is None and a.cwd is None
    assert PRICES is not None and MACHINE


def test_session_id_falls_back_to_project_and_file(tmp_path: Path) -> None:
    path = tmp_path / "projects" / "D--x" / "chats" / "abc.jsonl"
    parser = qwen.Parser(machine_id=MACHINE, path=str(path), prices=PRICES)
    assert parser.state["session_id"] == "D--x-abc"
