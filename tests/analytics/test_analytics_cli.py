"""``netsky query`` and ``netsky report`` as a user runs them: real subprocesses with
``NETSKY_HOME`` in a temporary folder."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from netsky_core import Event, EventSource, EventType, SessionQuery, open_storage

from . import Netsky, assert_one_line_error

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _api(minutes: float, session: str, uuid: str, model: str, cost: float | None) -> Event:
    return Event(
        machine_id="laptop",
        session_id=session,
        event_type=EventType.API_REQUEST,
        timestamp=T0 + timedelta(minutes=minutes),
        uuid=uuid,
        framework="claude",
        source=EventSource.TRANSCRIPT,
        model=model,
        cwd="/w/widgets",
        tokens_input=100,
        tokens_output=200,
        tokens_cache_read=300,
        tokens_cache_write=400,
        cost_usd=cost,
    )


EVENTS = [
    _api(0, "s1", "api:a1", "claude-sonnet-4-5-20250929", 0.5),
    _api(5, "s1", "api:a2", "claude-mystery-9", None),  # unpriced: day 1 is partial
    _api(24 * 60, "s2", "api:a3", "claude-mystery-9", None),  # day 2: nothing priced
    _api(24 * 60 + 3, "s3", "api:a4", "claude-sonnet-4-5-20250929", 0.25),
    Event(
        machine_id="laptop",
        session_id="s1",
        event_type=EventType.USER_PROMPT_SUBMIT,
        timestamp=T0,
        uuid="p1",
        source=EventSource.HOOK,
        payload='{"prompt": "fix it"}',
    ),
]


@pytest.fixture
def netsky(tmp_path: Path) -> Netsky:
    return Netsky(tmp_path)


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with open_storage(url) as store:
        store.insert_many(EVENTS)
    return url


def _count(url: str) -> tuple[int, int]:
    with open_storage(url, read_only=True) as store:
        return store.count(), len(store.list_sessions(SessionQuery()))


# -- query -------------------------------------------------------------------------------


def test_query_json_csv_and_table(netsky: Netsky, db: str) -> None:
    sql = "SELECT session_id, model, timestamp, cost_usd FROM api_requests ORDER BY timestamp"
    rows = netsky.ok("--db", db, "query", sql, "--format", "json").json()
    assert [r["session_id"] for r in rows] == ["s1", "s1", "s2", "s3"]
    assert rows[0]["timestamp"] == "2026-03-02T10:00:00+00:00"
    assert rows[1]["cost_usd"] is None
    text = netsky.ok("--db", db, "query", sql, "--format", "csv").stdout
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == ["session_id", "model", "timestamp", "cost_usd"]
    assert parsed[2] == ["s1", "claude-mystery-9", "2026-03-02 10:05:00+00:00", ""]
    # not a terminal: csv by default
    assert netsky.ok("--db", db, "query", sql).stdout == text
    table = netsky.ok("--db", db, "query", sql, "--format", "table").stdout
    assert "claude-mystery-9" in table and "NULL" in table and "(4 rows)" in table


def test_query_from_stdin_and_time_zone(netsky: Netsky, db: str) -> None:
    sql = "SELECT strftime(timestamp, '%H:%M') AS t FROM api_requests ORDER BY 1 LIMIT 1"
    out = netsky.ok("--db", db, "query", "-", "--format", "json", input=sql).json()
    assert out == [{"t": "10:00"}]
    tokyo = netsky.ok(
        "--db", db, "query", sql, "--format", "json", "--timezone", "Asia/Tokyo"
    ).json()
    assert tokyo == [{"t": "19:00"}]


def test_query_since_until_limit_the_events(netsky: Netsky, db: str) -> None:
    sql = "SELECT count(*) AS n FROM events"
    assert netsky.ok("--db", db, "query", sql, "--format", "json").json() == [{"n": 5}]
    out = netsky.ok(
        "--db",
        db,
        "query",
        sql,
        "--format",
        "json",
        "--since",
        "2026-03-03T00:00Z",
        "--until",
        "2026-03-04T00:00Z",
    ).json()
    assert out == [{"n": 2}]


def test_query_bad_sql_is_one_line(netsky: Netsky, db: str) -> None:
    assert_one_line_error(netsky("--db", db, "query", "SELEC 1"), 1, "Parser Error")
    assert_one_line_error(
        netsky("--db", db, "query", "SELECT nope FROM events"), 1, "Binder Error", "nope"
    )
    assert_one_line_error(netsky("--db", db, "query", "SELECT * FROM missing"), 1, "missing")
    assert_one_line_error(netsky("--db", db, "query", "   "), 2, "no SQL")


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM events",
        "INSERT INTO events (id) VALUES (1)",
        "UPDATE sessions SET cost_usd = 0",
        "DROP VIEW events",
        "CREATE TABLE x AS SELECT 1",
        "COPY (SELECT 1) TO 'out.csv'",
        "SELECT 1; DELETE FROM events",
        "ATTACH 'other.db' AS other",
        "INSTALL sqlite",
    ],
)
def test_query_refuses_writes(netsky: Netsky, db: str, sql: str, tmp_path: Path) -> None:
    before = _count(db)
    store_file = Path(db.removeprefix("sqlite:///"))
    size = store_file.stat().st_size
    run = netsky("--db", db, "query", sql)
    assert_one_line_error(run, 1, "read-only")
    assert _count(db) == before
    assert store_file.stat().st_size == size
    assert not (netsky.root / "out.csv").exists()


def test_query_bad_options(netsky: Netsky, db: str) -> None:
    assert_one_line_error(netsky("--db", db, "query", "SELECT 1", "--since", "soon"), 2, "--since")
    assert_one_line_error(
        netsky("--db", db, "query", "SELECT 1", "--timezone", "Mars/Olympus"), 2, "time zone"
    )
    assert netsky("--db", db, "query", "SELECT 1", "--format", "xml").returncode == 2


# -- report ------------------------------------------------------------------------------


SHAPES = {
    "daily": ("daily", ["date"]),
    "weekly": ("weekly", ["week"]),
    "monthly": ("monthly", ["month"]),
    "session": (
        "sessions",
        ["session_id", "machine_id", "framework", "project", "first_activity", "last_activity"],
    ),
    "model": ("models", ["model"]),
    "project": ("projects", ["project"]),
    "blocks": ("blocks", ["start", "end", "first_activity", "last_activity", "is_active"]),
}
TOKENS = [
    "input_tokens",
    "output_tokens",
    "cache_creation_tokens",
    "cache_read_tokens",
    "total_tokens",
    "cost_usd",
    "models",
]


@pytest.mark.parametrize("kind", list(SHAPES))
def test_report_json_shapes(netsky: Netsky, db: str, kind: str) -> None:
    document = netsky.ok("--db", db, "report", kind, "--json").json()
    key, fields = SHAPES[kind]
    # blocks also carry the latest plan limits the agents reported (none here)
    assert list(document) == [key, "totals"] + (["plan_limits"] if kind == "blocks" else [])
    if kind == "blocks":
        assert document["plan_limits"] == {}
    extra = ["burn_rate", "projection"] if kind == "blocks" else []
    for row in document[key]:
        assert list(row) == fields + TOKENS + extra
    totals = document["totals"]
    assert totals["total_tokens"] == 4 * 1000
    assert totals["cost_usd"] == pytest.approx(0.75)
    assert totals["requests"] == 4
    assert totals["unpriced_requests"] == 2
    assert totals["unpriced_models"] == ["claude-mystery-9"]


def test_report_unknown_cost_is_shown_as_unknown(netsky: Netsky, db: str) -> None:
    daily = netsky.ok("--db", db, "report", "daily", "--json").json()["daily"]
    assert [d["cost_usd"] for d in daily] == [0.5, 0.25]  # partial days: priced part
    models = netsky.ok("--db", db, "report", "model", "--json").json()["models"]
    mystery = next(m for m in models if m["model"] == "claude-mystery-9")
    assert mystery["cost_usd"] is None
    table = netsky.ok("--db", db, "report", "model").stdout
    line = next(x for x in table.splitlines() if "mystery" in x)
    assert line.rstrip().endswith("unknown")
    assert "$0.00" not in table
    assert "2 of 4 requests have no known price" in table
    assert "claude-mystery-9" in table
    sessions = netsky.ok("--db", db, "report", "session").stdout
    s2 = next(x for x in sessions.splitlines() if x.startswith("s2"))
    assert s2.rstrip().endswith("unknown")
    daily_table = netsky.ok("--db", db, "report", "daily").stdout
    assert "$0.50*" in daily_table


def test_report_days_and_errors(netsky: Netsky, db: str) -> None:
    one = netsky.ok(
        "--db", db, "report", "daily", "--since", "2026-03-03", "--until", "20260303", "--json"
    ).json()
    assert [d["date"] for d in one["daily"]] == ["2026-03-03"]
    assert_one_line_error(
        netsky("--db", db, "report", "daily", "--since", "2026-02-30"), 2, "not a valid date"
    )
    assert_one_line_error(netsky("--db", db, "report", "daily", "--until", "march"), 2, "--until")
    assert_one_line_error(
        netsky("--db", db, "report", "daily", "--since", "2026-03-05", "--until", "2026-03-01"),
        2,
        "before",
    )
    assert_one_line_error(
        netsky("--db", db, "report", "daily", "--timezone", "Nowhere/City"), 2, "time zone"
    )
    assert netsky("--db", db, "report", "hourly").returncode == 2
    assert_one_line_error(netsky("--db", db, "report", "daily", "--active"), 2, "--active")


def test_report_breakdown_and_framework(netsky: Netsky, db: str) -> None:
    document = netsky.ok("--db", db, "report", "daily", "--breakdown", "--json").json()
    first = document["daily"][0]
    assert [b["model"] for b in first["breakdown"]] == [
        "claude-sonnet-4-5-20250929",
        "claude-mystery-9",
    ]
    assert first["breakdown"][1]["cost_usd"] is None
    codex = netsky.ok("--db", db, "report", "daily", "--framework", "codex", "--json").json()
    assert codex["daily"] == [] and codex["totals"]["total_tokens"] == 0
    assert "no API usage" in netsky.ok("--db", db, "report", "daily", "--framework", "codex").stdout


def test_report_blocks(netsky: Netsky, db: str) -> None:
    blocks = netsky.ok("--db", db, "report", "blocks", "--json").json()["blocks"]
    assert [b["start"] for b in blocks] == [
        "2026-03-02T10:00:00+00:00",
        "2026-03-03T10:00:00+00:00",
    ]
    assert [b["end"] for b in blocks] == [
        "2026-03-02T15:00:00+00:00",
        "2026-03-03T15:00:00+00:00",
    ]
    assert not any(b["is_active"] for b in blocks)
    table = netsky.ok("--db", db, "report", "blocks").stdout
    assert "gap" in table
    active = netsky.ok("--db", db, "report", "blocks", "--active", "--json").json()
    assert active["blocks"] == []


def test_report_html_file(netsky: Netsky, db: str, tmp_path: Path) -> None:
    page = tmp_path / "usage.html"
    run = netsky.ok("--db", db, "report", "daily", "--html", str(page))
    assert run.stdout == ""
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in text
    assert "2026-03-02" in text and "$0.75*" in text and "unknown" in text


def test_report_without_a_store_and_on_an_empty_one(netsky: Netsky, tmp_path: Path) -> None:
    assert_one_line_error(netsky("report", "daily"), 1, "no netsky store")
    assert_one_line_error(netsky("query", "SELECT 1"), 1, "no netsky store")
    assert not list(netsky.root.rglob("*.db"))
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    open_storage(url).close()
    assert netsky.ok("--db", url, "report", "daily", "--json").json()["daily"] == []
    assert "no API usage in the store" in netsky.ok("--db", url, "report", "daily").stdout


def test_cli_ingest_then_query_the_default_store(netsky: Netsky, tmp_path: Path) -> None:
    from tests.history import generate

    history = tmp_path / "history"
    generate(history, target_bytes=300_000, seed=3, days=3)
    env = {"CLAUDE_CONFIG_DIR": str(history / "claude"), "CODEX_HOME": str(history / "codex")}
    netsky.ok("ingest", env=env)
    rows = netsky.ok(
        "query",
        "SELECT framework, count(*) AS n FROM api_requests GROUP BY 1 ORDER BY 1",
        "--format",
        "json",
    ).json()
    assert [r["framework"] for r in rows] == ["claude", "codex"]
    daily = netsky.ok("report", "daily", "--json").json()
    assert daily["totals"]["requests"] == sum(r["n"] for r in rows)
    monthly = netsky.ok("report", "monthly", "--json").json()
    assert monthly["totals"] == daily["totals"]
    assert orjson.loads(orjson.dumps(daily))  # valid JSON round trip


def test_reports_take_the_time_values_every_other_command_takes(
    netsky: Netsky, tmp_path: Path
) -> None:
    """`report daily --since 7d` / `--since today` (the README's forms) were refused
    with "is not a date"; they name the day that time falls on."""
    from netsky_conformance.builders import api

    url = f"sqlite:///{tmp_path / 'recent.db'}"
    now = datetime.now(UTC)
    with open_storage(url) as store:
        store.insert_many(
            [
                api(now - timedelta(days=20), uuid="old", session_id="s"),
                api(now - timedelta(days=3), uuid="recent", session_id="s"),
                api(now - timedelta(minutes=1), uuid="today", session_id="s"),
            ]
        )

    def days(*args: str) -> list[str]:
        out = netsky.ok("--db", url, "report", "daily", "--json", "--timezone", "UTC", *args)
        return [d["date"] for d in out.json()["daily"]]

    week_ago = (now - timedelta(days=7)).date().isoformat()
    recent, latest = ((now - timedelta(days=3)).date(), (now - timedelta(minutes=1)).date())
    assert days("--since", "7d") == days("--since", week_ago)
    assert days("--since", "7d") == sorted({recent.isoformat(), latest.isoformat()})
    assert days("--since", "today") == [d.isoformat() for d in [latest] if d == now.date()]
    yesterday = (now - timedelta(days=1)).date().isoformat()
    assert days("--until", "yesterday") == days("--until", yesterday)
    assert (now - timedelta(days=20)).date().isoformat() in days("--until", "yesterday")
    bad = netsky("--db", url, "report", "daily", "--since", "bogus")
    assert_one_line_error(bad, 2, "is not a date or a time")
