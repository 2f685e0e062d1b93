"""Shared helpers of the other-agent reader tests: where the real samples are, how the
store would keep the events (dedup by uuid, most tokens wins), and the comparison with
ccusage 20.0.24's ``daily``/``session`` JSON outputs."""

from __future__ import annotations

import json
import math
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from netsky_core._records import Event, EventType
from netsky_core.ingest.pricing import PriceTable

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "samples" / "agents"
OUTPUTS = SAMPLES / "ccusage-outputs"
MACHINE = "test-machine"
PRICES = PriceTable.load()


def sample_root(agent: str, *sub: str) -> Path:
    """The sample folder of ``agent`` (``sub`` below it), or skip the test."""
    root = SAMPLES.joinpath(agent, *sub)
    if not root.exists() or not (OUTPUTS / f"{agent}_daily.json").exists():
        pytest.skip(
            f"real agent samples not found at {SAMPLES} (shared/samples beside the checkout)"
        )
    return root


def ccusage(agent: str, kind: str) -> dict[str, Any]:
    return json.loads((OUTPUTS / f"{agent}_{kind}.json").read_text(encoding="utf-8"))


def reasoning(event: Event) -> int:
    if not event.metadata:
        return 0
    return int(json.loads(event.metadata).get("tokens_reasoning") or 0)


def total(event: Event, *, with_reasoning: bool = True) -> int:
    return (event.total_tokens or 0) + (reasoning(event) if with_reasoning else 0)


def dedup(events: Iterable[Event]) -> list[Event]:
    """One event per ``(session_id, uuid)``: the version with most tokens, as the store keeps."""
    kept: dict[tuple[str, str | None], Event] = {}
    for event in events:
        key = (event.session_id, event.uuid)
        old = kept.get(key)
        if old is None or total(event) > total(old):
            kept[key] = event
    return list(kept.values())


def api(events: Iterable[Event]) -> list[Event]:
    return [e for e in events if e.event_type == EventType.API_REQUEST]


def group(
    events: Iterable[Event],
    key: Callable[[Event], str],
    *,
    model_name: Callable[[str], str] = lambda m: m,
    reasoning_in_total: bool = True,
) -> dict[str, dict[str, Any]]:
    """ccusage-shaped rows of the ApiRequest events grouped by ``key``."""
    rows: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "inputTokens": 0,
            "outputTokens": 0,
            "cacheCreationTokens": 0,
            "cacheReadTokens": 0,
            "totalTokens": 0,
            "cost": 0.0,
            "unpriced": 0,
            "models": set(),
            "reasoning": 0,
        }
    )
    for e in api(events):
        row = rows[key(e)]
        row["inputTokens"] += e.tokens_input or 0
        row["outputTokens"] += e.tokens_output or 0
        row["cacheCreationTokens"] += e.tokens_cache_write or 0
        row["cacheReadTokens"] += e.tokens_cache_read or 0
        row["reasoning"] += reasoning(e)
        row["totalTokens"] += total(e, with_reasoning=reasoning_in_total)
        if e.cost_usd is None:
            row["unpriced"] += 1
        else:
            row["cost"] += e.cost_usd
        if e.model:
            row["models"].add(model_name(e.model))
    return dict(rows)


def by_day(e: Event) -> str:
    return e.timestamp.date().isoformat()


def by_session(e: Event) -> str:
    return e.session_id


TOKEN_FIELDS = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def assert_parity(
    events: list[Event],
    agent: str,
    *,
    model_name: Callable[[str], str] = lambda m: m,
    reasoning_in_total: bool = True,
    cost: bool = True,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Days and sessions equal ccusage's: tokens, totalTokens, cost, models per day.

    An unpriced model (ccusage: cost 0, listed in ``unpricedModels``) must have
    ``cost_usd=None`` here. Returns the rows (by day, by session) for further checks.
    """
    kept = dedup(events)
    days = group(kept, by_day, model_name=model_name, reasoning_in_total=reasoning_in_total)
    sessions = group(kept, by_session, model_name=model_name, reasoning_in_total=reasoning_in_total)
    daily, session = ccusage(agent, "daily"), ccusage(agent, "session")
    unpriced = set(daily["totals"].get("unpricedModels") or ())
    assert sorted(days) == sorted(r["date"] for r in daily["daily"])
    for expected in daily["daily"]:
        row = days[expected["date"]]
        for field in (*TOKEN_FIELDS, "totalTokens"):
            assert row[field] == expected[field], (expected["date"], field)
        assert row["models"] == set(expected["modelsUsed"]), expected["date"]
        if cost:
            assert close(row["cost"], expected["totalCost"]), (expected["date"], row["cost"])
        if not row["models"] & unpriced:
            assert row["unpriced"] == 0, expected["date"]
    assert sorted(sessions) == sorted(r["sessionId"] for r in session["sessions"])
    for expected in session["sessions"]:
        row = sessions[expected["sessionId"]]
        for field in (*TOKEN_FIELDS, "totalTokens"):
            assert row[field] == expected[field], (expected["sessionId"], field)
        assert row["models"] == set(expected["modelsUsed"]), expected["sessionId"]
        if cost:
            assert close(row["cost"], expected["totalCost"]), (expected["sessionId"], row["cost"])
    for e in api(kept):
        if e.model and model_name(e.model) in unpriced:
            assert e.cost_usd is None, e.model
    return days, sessions


def wal_copy(src: Path, dest: Path) -> Path:
    """Copy an SQLite database with its ``-wal``/``-shm`` into ``dest``; the copy's path."""
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / src.name
    out.write_bytes(src.read_bytes())
    for suffix in ("-wal", "-shm"):
        extra = Path(f"{src}{suffix}")
        if extra.exists():
            Path(f"{out}{suffix}").write_bytes(extra.read_bytes())
    return out


def set_wal(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
