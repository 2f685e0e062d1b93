"""``netsky stats``."""

from __future__ import annotations

from .conftest import Netsky, assert_one_line_error

KEYS = {
    "session_count",
    "active_session_count",
    "total_api_requests",
    "tokens_input",
    "tokens_output",
    "tokens_cache_read",
    "tokens_cache_write",
    "total_tokens",
    "total_cost_usd",
}


def test_stats_json(netsky: Netsky, seeded: str) -> None:
    data = netsky.ok("--db", seeded, "stats", "--json").json()
    assert set(data) >= KEYS
    assert data["session_count"] == 3
    # the seeded sessions are from 2026-03-01: long idle, so none is still going
    assert data["active_session_count"] == 0
    assert data["total_api_requests"] == 4
    assert data["tokens_input"] == 400
    assert data["tokens_output"] == 800
    assert data["tokens_cache_read"] == 1200
    assert data["tokens_cache_write"] == 1600
    assert data["total_tokens"] == 4000
    assert data["total_cost_usd"] == 1.75


def test_stats_filters(netsky: Netsky, seeded: str) -> None:
    def stats(*args: str) -> dict:
        return netsky.ok("--db", seeded, "stats", "--json", *args).json()

    assert stats("--active")["session_count"] == 0
    patient = netsky.root / "patient.toml"
    patient.write_text('[sessions]\nidle_timeout = "5200w"\n')
    going = stats("--active", "--config", str(patient))
    assert (going["session_count"], going["active_session_count"]) == (2, 2)
    assert going["total_cost_usd"] == 1.75
    codex = stats("--framework", "codex")
    assert codex["session_count"] == 1
    assert codex["total_api_requests"] == 1
    assert codex["total_cost_usd"] is None  # unpriced: unknown, never 0
    assert stats("--machine", "desktop")["total_cost_usd"] == 1.0
    assert stats("--since", "2026-03-01T12:30Z")["session_count"] == 1
    empty = stats("--since", "2027-01-01")
    assert empty["session_count"] == 0 and empty["total_cost_usd"] is None


def test_stats_text(netsky: Netsky, seeded: str) -> None:
    out = netsky.ok("--db", seeded, "stats").stdout
    assert "3 (0 active)" in out
    assert "4,000" in out
    assert "$1.75" in out
    unknown = netsky.ok("--db", seeded, "stats", "--framework", "codex").stdout
    assert "unknown" in unknown and "$0" not in unknown


def test_stats_bad_arguments(netsky: Netsky, sqlite_url: str) -> None:
    assert_one_line_error(netsky("--db", sqlite_url, "stats", "--since", "abc"), 2, "--since")
    assert_one_line_error(netsky("--db", sqlite_url, "stats", "--limit", "3"), 2)
