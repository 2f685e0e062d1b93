"""``netsky statusline``: real processes, a real SQLite store, Claude Code's payloads."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from netsky_core import Event, EventSource, EventType, open_storage
from tests.netsky_cli import Netsky

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "samples" / "hooks"
MACHINE = "test-machine"
SESSION = "5d1f0e2a-0000-4000-8000-000000000001"


def api(session: str, when: datetime, cost: float | None, uuid: str, tokens: int = 1000) -> Event:
    return Event(
        machine_id=MACHINE,
        session_id=session,
        event_type=EventType.API_REQUEST,
        timestamp=when,
        uuid=uuid,
        framework="claude",
        source=EventSource.TRANSCRIPT,
        model="claude-opus-4-6",
        tokens_input=tokens,
        tokens_output=0,
        tokens_cache_read=0,
        tokens_cache_write=0,
        cost_usd=cost,
    )


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'netsky.db'}"
    now = datetime.now(UTC).replace(microsecond=0)
    with open_storage(url) as store:
        store.insert_many(
            [api(SESSION, now - timedelta(seconds=30 + i), 0.5, f"u{i}") for i in range(3)]
            + [api("older", now - timedelta(days=3), 7.0, "old")]
        )
    return url


def payload(session: str = SESSION, **extra: object) -> str:
    return json.dumps(
        {
            "session_id": session,
            "transcript_path": "/nowhere.jsonl",
            "cwd": "/tmp",
            "model": {"id": "claude-opus-4-6", "display_name": "Opus"},
            "cost": {"total_cost_usd": 0.42},
            **extra,
        }
    )


@pytest.fixture
def netsky(tmp_path: Path) -> Netsky:
    return Netsky(tmp_path, extra_env={"NO_COLOR": "1"})


def test_the_line_shows_session_today_and_block_from_the_store(
    netsky: Netsky, store_url: str
) -> None:
    r = netsky.ok("statusline", "--db", store_url, input=payload())
    line = r.stdout
    assert line.count("\n") == 1, r
    assert line.startswith("Opus | $1.50 session (3.0k tok) | "), r
    assert "$1.50 today" in line or datetime.now(UTC).hour == 0, r
    assert "$1.50 block (" in line and " left)" in line, r
    assert "/h" in line and "\x1b[" not in line, r


def test_json_gives_the_numbers(netsky: Netsky, store_url: str) -> None:
    r = netsky.ok("statusline", "--db", store_url, "--json", input=payload())
    data = json.loads(r.stdout)
    assert data["session"]["cost_picousd"] == 1_500_000_000_000
    assert data["session"]["tokens"] == 3000
    block = data["block"]
    assert block["requests"] == 3
    # the block starts at the hour of its first response (30-32 s ago: maybe the hour
    # before, just after a full hour) and lasts 5 hours
    now = datetime.now(UTC)
    first_hour = (now - timedelta(seconds=32 + 60)).replace(minute=0, second=0, microsecond=0)
    start = datetime.fromtimestamp(block["start_us"] / 1e6, UTC)
    assert start in (first_hour, first_hour + timedelta(hours=1)), (start, now)
    assert block["end_us"] - block["start_us"] == 5 * 3600 * 10**6
    end = datetime.fromtimestamp(block["end_us"] / 1e6, UTC)
    assert abs(block["left_seconds"] - (end - now).total_seconds()) < 60


def test_a_session_not_stored_yet_shows_claude_codes_estimate(
    netsky: Netsky, store_url: str
) -> None:
    r = netsky.ok("statusline", "--db", store_url, input=payload("not-stored"))
    assert "~$0.42 session (? tok)" in r.stdout, r


def test_colours_unless_no_color_or_configured_off(tmp_path: Path, store_url: str) -> None:
    coloured = Netsky(tmp_path)
    assert "\x1b[" in coloured.ok("statusline", "--db", store_url, input=payload()).stdout
    assert (
        "\x1b["
        not in coloured.ok("statusline", "--db", store_url, "--no-color", input=payload()).stdout
    )
    config = tmp_path / "c.toml"
    config.write_text("[statusline]\ncolor = false\n")
    r = coloured.ok("statusline", "--db", store_url, "--config", str(config), input=payload())
    assert "\x1b[" not in r.stdout


def test_the_format_comes_from_the_config_or_the_flag(
    tmp_path: Path, netsky: Netsky, store_url: str
) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[statusline]\nformat = "{model}: {session_cost} / {today_cost}"\n')
    r = netsky.ok("statusline", "--db", store_url, "--config", str(config), input=payload())
    assert r.stdout.startswith("Opus: $1.50 / $"), r
    r = netsky.ok("statusline", "--db", store_url, "--format", "[{block_cost}]", input=payload())
    assert r.stdout == "[$1.50]\n", r


def test_problems_are_shown_on_the_line(tmp_path: Path, netsky: Netsky, store_url: str) -> None:
    r = netsky("statusline", "--db", store_url, input="not json")
    assert r.returncode == 0 and r.stdout == "netsky: statusline input is not JSON\n", r
    r = netsky("statusline", "--db", store_url, "--format", "{nope}", input=payload())
    assert r.returncode == 0 and "unknown field {nope}" in r.stdout, r
    config = tmp_path / "c.toml"
    config.write_text('[statusline]\nformat = "{cost}"\n')
    r = netsky("statusline", "--db", store_url, "--config", str(config), input=payload())
    assert r.returncode == 0 and "[statusline].format" in r.stdout, r
    assert "unknown field {cost}" in r.stdout, r
    r = netsky("statusline", "--bogus", input=payload())
    assert r.returncode == 2 and "unknown statusline option" in r.stderr, r


def test_plan_limits_of_the_payload_are_shown(netsky: Netsky, store_url: str) -> None:
    limits = {
        "five_hour": {"used_percentage": 42.0, "resets_at": int(time.time()) + 3600},
        "seven_day": {"used_percentage": 91.4, "resets_at": int(time.time()) + 86400},
    }
    r = netsky.ok("statusline", "--db", store_url, input=payload(rate_limits=limits))
    assert r.stdout.rstrip().endswith("| 5h 42% 7d 91%"), r


def test_the_statusline_imports_neither_attrs_nor_the_engine(
    netsky: Netsky, store_url: str
) -> None:
    code = (
        "import sys; from netsky_core.cli import main; "
        f"sys.argv = ['netsky', 'statusline', '--db', {store_url!r}]; rc = main(); "
        "sys.stdout.flush(); "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('attr', 'attrs', 'cattrs', "
        "'apsw', 'argparse') or m == 'netsky_sqlite._engine'); "
        "sys.stderr.write(repr(heavy))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        input=payload(),
        capture_output=True,
        text=True,
        env=netsky.env,
        timeout=60,
    )
    assert proc.stdout.startswith("Opus | $1.50 session"), proc
    assert proc.stderr == "[]", proc


def _real_payloads() -> list[dict[str, object]]:
    files = sorted(SAMPLES.glob("*/status_line.json"))
    if not files:
        pytest.skip(f"no statusline samples under {SAMPLES}")
    out: list[dict[str, object]] = []
    for f in files:
        out.extend(json.loads(f.read_text()))
    return out


def test_every_real_statusline_payload_gives_one_line(netsky: Netsky, store_url: str) -> None:
    payloads = _real_payloads()
    for item in payloads[:: max(1, len(payloads) // 25)]:  # a real process for 25 of them
        r = netsky.ok("statusline", "--db", store_url, input=json.dumps(item))
        assert r.stdout.count("\n") == 1 and not r.stdout.startswith("netsky:"), r
        model = item.get("model")
        if isinstance(model, dict) and model.get("display_name"):
            assert r.stdout.startswith(str(model["display_name"])), r


def test_a_changed_config_file_is_checked_again(
    tmp_path: Path, netsky: Netsky, store_url: str
) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[statusline]\nformat = "{model}"\n')
    assert (
        netsky.ok("statusline", "--db", store_url, "--config", str(config), input=payload()).stdout
        == "Opus\n"
    )
    config.write_text('[statusline]\nformat = "{model}"\nbogus = 1\n')
    r = netsky("statusline", "--db", store_url, "--config", str(config), input=payload())
    assert "[statusline].bogus: unknown key" in r.stdout, r
