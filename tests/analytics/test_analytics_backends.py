"""The same queries give the same answers on SQLite (native and generic path), memory
and PostgreSQL holding the same ingested data, and the reports agree with the
generator's ground truth."""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from netsky_core import Event, EventSource, EventType, open_storage
from netsky_core.analytics import open_analytics, run_query
from netsky_core.analytics.reports import KINDS, build_report, load_usage
from tests.history import Manifest, generate

from . import ingest_tree, native_sqlite


@pytest.fixture(autouse=True, scope="module")
def _load_from_the_store() -> Any:
    """These tests compare the ways of loading a store: without the analytics mirror."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NETSKY_MIRROR", "0")
        yield


T0 = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 1, 20, 11, 0, tzinfo=UTC)  # inside the hand-made block


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _event(event_type: str, minutes: float, uuid: str | None, **fields: Any) -> Event:
    payload = fields.pop("payload", None)
    return Event(
        machine_id=fields.pop("machine_id", "laptop"),
        session_id=fields.pop("session_id", "hand-1"),
        event_type=event_type,
        timestamp=_at(minutes),
        uuid=uuid,
        framework=fields.pop("framework", "claude"),
        source=fields.pop("source", EventSource.HOOK),
        payload=None if payload is None else orjson.dumps(payload).decode(),
        **fields,
    )


def hand_made() -> list[Event]:
    """Events the generator does not write: hooks, every edit tool, unpriced usage."""
    patch = "*** Begin Patch\n*** Add File: src/new.py\n+x\n*** Update File: a.py\n*** Move to: b.py\n*** Delete File: old.py\n*** End Patch"
    return [
        _event(EventType.SESSION_START, 0, "h-start", cwd="/w/app", payload={"source": "startup"}),
        _event(EventType.USER_PROMPT_SUBMIT, 1, "h-p1", payload={"prompt": "édite 'ça' 🚀"}),
        _event(
            EventType.PRE_TOOL_USE,
            2,
            "tool_use:t1",
            tool_name="MultiEdit",
            tool_use_id="t1",
            payload={
                "tool_name": "MultiEdit",
                "tool_input": {"file_path": "/w/app/m.py"},
                "tool_use_id": "t1",
            },
        ),
        _event(
            EventType.POST_TOOL_USE_FAILURE,
            2.5,
            "tool_result:t1",
            tool_name="MultiEdit",
            tool_use_id="t1",
            duration_ms=1234,
            payload={"tool_use_id": "t1", "error": "old_string not found"},
        ),
        _event(
            EventType.PRE_TOOL_USE,
            3,
            "tool_use:t2",
            tool_name="NotebookEdit",
            tool_use_id="t2",
            payload={
                "tool_name": "NotebookEdit",
                "tool_input": {"notebook_path": "/w/n.ipynb"},
                "tool_use_id": "t2",
            },
        ),
        _event(
            EventType.PRE_TOOL_USE,
            4,
            "tool_use:c1",
            framework="codex",
            session_id="hand-2",
            tool_name="shell",
            tool_use_id="c1",
            payload={
                "tool_name": "shell",
                "tool_input": {"command": ["bash", "-lc", f"apply_patch <<'EOF'\n{patch}\nEOF"]},
                "tool_use_id": "c1",
            },
        ),
        _event(
            EventType.POST_TOOL_USE,
            4.2,
            "tool_result:c1",
            framework="codex",
            session_id="hand-2",
            tool_use_id="c1",
            payload={"tool_use_id": "c1", "tool_response": "ok"},
        ),
        _event(
            EventType.API_REQUEST,
            5,
            "api:msg_hand:req_hand",
            source=EventSource.TRANSCRIPT,
            model="claude-unknown-x",
            tokens_input=10,
            tokens_output=20,
            tokens_cache_read=30,
            tokens_cache_write=40,
            cost_usd=None,
            metadata='{"message_id": "msg_hand", "request_id": "req_hand"}',
        ),
        # the same response replayed into a resumed session: counted once
        _event(
            EventType.API_REQUEST,
            5,
            "api:msg_hand:req_hand",
            session_id="hand-3",
            source=EventSource.TRANSCRIPT,
            model="claude-unknown-x",
            tokens_input=10,
            tokens_output=20,
            tokens_cache_read=30,
            tokens_cache_write=40,
            cost_usd=None,
            metadata='{"message_id": "msg_hand", "request_id": "req_hand"}',
        ),
        _event(
            EventType.API_REQUEST,
            6,
            "api:msg_hand2",
            source=EventSource.TRANSCRIPT,
            model="claude-sonnet-4-5-20250929",
            tokens_input=1,
            tokens_output=2,
            tokens_cache_read=3,
            tokens_cache_write=None,
            cost_usd=0.125,
            metadata="not json {",
        ),
        _event(EventType.NOTIFICATION, 7, None, payload={"notification_type": "idle_prompt"}),
    ]


class Stores:
    """The same data in several stores; ``analytics(name, ...)`` opens one."""

    def __init__(self, root: Path, manifest: Manifest) -> None:
        self.root = root
        self.manifest = manifest
        self.targets: dict[str, tuple[Any, bool]] = {}

    def add(self, name: str, target: Any, native: bool = True) -> None:
        self.targets[name] = (target, native)

    def analytics(self, name: str, **kwargs: Any) -> Any:
        target, native = self.targets[name]
        with native_sqlite():
            return open_analytics(target, native=native, timezone="UTC", **kwargs)

    def usage(self, name: str, **kwargs: Any) -> Any:
        target, native = self.targets[name]
        with native_sqlite():
            return load_usage(target, native=native, timezone="UTC", **kwargs)


def _fill(store: Any, history: Path) -> None:
    ingest_tree(store, history)
    store.insert_many(hand_made())


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stores]:
    root = tmp_path_factory.mktemp("backends")
    history = root / "history"
    manifest = generate(history, target_bytes=1_500_000, seed=11, days=10)
    result = Stores(root, manifest)
    url = f"sqlite:///{root / 'store.db'}"
    with open_storage(url) as store:
        _fill(store, history)
    result.add("sqlite", url)
    result.add("sqlite-generic", url, native=False)
    memory = open_storage("memory://")
    _fill(memory, history)
    result.add("memory", memory)
    yield result
    memory.close()


@pytest.fixture(scope="module")
def postgres_store(stores: Stores, request: pytest.FixtureRequest) -> Iterator[str]:
    server = request.getfixturevalue("postgres_server")
    schema = f"analytics_{secrets.token_hex(4)}"
    url = server.url(schema)
    with open_storage(url) as store:
        _fill(store, stores.root / "history")
    yield url
    server.drop_schemas([schema])


QUERIES = {
    "events_by_type": (
        "SELECT event_type, framework, source, count(*), sum(tokens_input), sum(tokens_output), "
        "sum(tokens_cache_read), sum(tokens_cache_write), "
        "sum(CAST(round(cost_usd * 1e12) AS HUGEINT)), count(payload), count(metadata) "
        "FROM events GROUP BY ALL ORDER BY ALL"
    ),
    "events_rows": (
        "SELECT * EXCLUDE (id) FROM events ORDER BY machine_id, session_id, timestamp, "
        "event_type, uuid NULLS LAST, payload"
    ),
    "sessions": "SELECT * FROM sessions ORDER BY machine_id, session_id",
    "api_requests": (
        "SELECT * EXCLUDE (id) FROM api_requests ORDER BY machine_id, session_id, timestamp, "
        "message_id, request_id, total_tokens"
    ),
    "tool_calls": (
        "SELECT * EXCLUDE (pre_event_id, post_event_id) FROM tool_calls "
        "ORDER BY machine_id, session_id, tool_use_id"
    ),
    "file_changes": "SELECT * FROM file_changes ORDER BY ALL",
    "prompts": "SELECT * EXCLUDE (id) FROM prompts ORDER BY ALL",
    "daily_usage": "SELECT * FROM daily_usage ORDER BY ALL",
    "positions": "SELECT * EXCLUDE (updated_at) FROM positions ORDER BY ALL",
    "tools_per_day": (
        "SELECT CAST(started_at AS DATE) AS day, tool_name, count(*) AS calls, "
        "count(*) FILTER (WHERE NOT success) AS failed, "
        "sum(epoch_us(ended_at) - epoch_us(started_at)) AS micros "
        "FROM tool_calls WHERE started_at IS NOT NULL GROUP BY ALL ORDER BY ALL"
    ),
    "cost_per_project": (
        "SELECT s.cwd, count(DISTINCT a.session_id), sum(a.total_tokens), "
        "sum(CAST(round(a.cost_usd * 1e12) AS HUGEINT)) FROM api_requests a JOIN sessions s "
        "USING (machine_id, session_id) GROUP BY ALL ORDER BY ALL"
    ),
    "top_files": (
        "SELECT file_path, change, count(*) FROM file_changes GROUP BY ALL "
        "ORDER BY 3 DESC, 1, 2 LIMIT 20"
    ),
}


def _normal(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else float(f"{value:.12g}")
    if isinstance(value, (list, tuple)):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    return value


def answers(con: Any) -> dict[str, Any]:
    return {name: _normal(run_query(con, sql).rows()) for name, sql in QUERIES.items()}


def report_answers(stores: Stores, name: str) -> dict[str, Any]:
    with stores.usage(name, kinds=tuple(KINDS)) as data:
        return {
            kind: _normal(build_report(data, kind, breakdown=True, now=NOW).to_json())
            for kind in KINDS
        }


@pytest.fixture(scope="module")
def reference(stores: Stores) -> tuple[dict[str, Any], dict[str, Any]]:
    con = stores.analytics("sqlite")
    try:
        return answers(con), report_answers(stores, "sqlite")
    finally:
        con.close()


def test_the_reference_answers_are_not_trivial(reference: tuple[dict, dict]) -> None:
    queries, reports = reference
    for name, rows in queries.items():
        assert rows, name
    kinds = {r[0] for r in queries["events_by_type"]}
    assert {"ApiRequest", "PreToolUse", "UserPromptSubmit", "SessionStart"} <= kinds
    changes = {(r[6], r[7]) for r in queries["file_changes"]}
    assert {
        ("/w/app/m.py", "edit"),
        ("src/new.py", "add"),
        ("a.py", "update"),
        ("b.py", "move"),
        ("old.py", "delete"),
        ("/w/n.ipynb", "notebook_edit"),
    } <= changes
    assert reports["daily"]["totals"]["unpriced_requests"] >= 1
    assert "claude-unknown-x" in reports["daily"]["totals"]["unpriced_models"]


@pytest.mark.parametrize("name", ["sqlite-generic", "memory"])
def test_same_answers(stores: Stores, reference: tuple[dict, dict], name: str) -> None:
    con = stores.analytics(name)
    try:
        got = answers(con)
    finally:
        con.close()
    for query, rows in reference[0].items():
        assert got[query] == rows, query
    assert report_answers(stores, name) == reference[1]


@pytest.mark.postgres
def test_same_answers_on_postgres(
    stores: Stores, postgres_store: str, reference: tuple[dict, dict]
) -> None:
    stores.add("postgres", postgres_store)
    stores.add("postgres-generic", postgres_store, native=False)
    for name in ("postgres", "postgres-generic"):
        con = stores.analytics(name)
        try:
            got = answers(con)
            loads = dict(run_query(con, "SELECT table_name, method FROM netsky_raw.loads").rows())
        finally:
            con.close()
        for query, rows in reference[0].items():
            assert got[query] == rows, (name, query)
        assert report_answers(stores, name) == reference[1], name
        # the native path (COPY) loads events; sessions and positions stay generic
        assert loads["events"].startswith("native:") == (name == "postgres"), loads
        assert loads["sessions"] == loads["positions"] == "generic", loads


AWKWARD_TEXT = [
    "",
    " ",
    '"',
    '""',
    "a,b",
    "line\nbreak\r\nand\ttab",
    "\\N",
    "NULL",
    "'; DROP TABLE events; --",
    "%s $1 {0}",
    "é 🚀 \u202e rtl \u200d zwj",
]


@pytest.mark.postgres
def test_postgres_native_path_equals_generic_exactly(postgres_server: Any, tmp_path: Path) -> None:
    """COPY (CSV) vs the Storage protocol: every column of every row identical, with
    empty strings vs NULL, quotes, newlines, extreme numbers and µs timestamps."""
    schema = f"copy_{secrets.token_hex(4)}"
    url = postgres_server.url(schema)
    events = []
    for i, text in enumerate(AWKWARD_TEXT * 3):
        events.append(
            Event(
                machine_id="m",
                session_id=f"s{i % 4}",
                event_type=[EventType.API_REQUEST, EventType.PRE_TOOL_USE, "Custom,Type"][i % 3],
                timestamp=T0 + timedelta(microseconds=i * 1_000_003),
                uuid=None if i % 5 == 0 else f"u{i}",
                framework="claude",
                source=EventSource.TRANSCRIPT,
                tool_name=text,
                cwd=text or None,
                model="claude-opus-4-6" if i % 2 else None,
                pid=2**63 - 1 if i == 1 else (-(2**63) if i == 2 else i),
                tokens_input=2**40 if i == 3 else i,
                tokens_output=0 if i % 2 else None,
                cost_usd=[0.1 + 0.2, 1e-12, 5e-324, 123456.789012345678, 0.0, None][i % 6],
                is_sidechain=bool(i % 2),
                payload=orjson.dumps({"text": text, "n": i}).decode(),
                metadata=text,
            )
        )
    with open_storage(url) as store:
        store.insert_many(events)
    sql = "SELECT * EXCLUDE (id) FROM events ORDER BY timestamp, uuid NULLS FIRST"
    try:
        native = open_analytics(url, ["events", "api_requests"], timezone="UTC")
        generic = open_analytics(url, ["events", "api_requests"], timezone="UTC", native=False)
        try:
            got, want = run_query(native, sql).rows(), run_query(generic, sql).rows()
            assert len(want) == len(events)
            assert got == want
            assert (
                run_query(native, "SELECT method FROM netsky_raw.loads")
                .rows()[0][0]
                .startswith("native:")
            )
            # filters pushed down to PostgreSQL give the same rows as the views' own
            api = "SELECT * EXCLUDE (id) FROM api_requests ORDER BY ALL"
            assert run_query(native, api).rows() == run_query(generic, api).rows()
        finally:
            native.close()
            generic.close()
        # an empty store: an empty table of the right shape
        postgres_server.drop_schemas([schema])
        with open_storage(url):
            pass
        empty = open_analytics(url, ["events"], timezone="UTC")
        try:
            assert run_query(empty, "SELECT count(*) FROM events").rows() == [(0,)]
            assert (
                run_query(empty, "SELECT method FROM netsky_raw.loads")
                .rows()[0][0]
                .startswith("native:")
            )
        finally:
            empty.close()
    finally:
        postgres_server.drop_schemas([schema])


def test_daily_report_equals_the_generators_truth(stores: Stores) -> None:
    with stores.usage("sqlite", kinds=("daily",), framework=None) as data:
        report = build_report(data, "daily").to_json()
    rows = {r["date"]: r for r in report["daily"]}
    hand = date(2026, 1, 20).isoformat()
    for day, per in stores.manifest.daily.items():
        totals = [t for fw in per.values() for t in fw.values()]
        want = (
            sum(t.input for t in totals),
            sum(t.output for t in totals),
            sum(t.cache_creation for t in totals),
            sum(t.cache_read for t in totals),
        )
        row = rows[day]
        got = (
            row["input_tokens"],
            row["output_tokens"],
            row["cache_creation_tokens"],
            row["cache_read_tokens"],
        )
        if day == hand:  # plus the hand-made responses: 10/20/40/30 once, 1/2/0/3
            got = (got[0] - 11, got[1] - 22, got[2] - 40, got[3] - 33)
        assert got == want, day


def test_unknown_cost_is_never_zero(stores: Stores) -> None:
    with stores.usage("sqlite", kinds=("model",)) as data:
        report = build_report(data, "model").to_json()
    unknown = [m for m in report["models"] if m["model"] == "claude-unknown-x"]
    assert unknown and unknown[0]["cost_usd"] is None
    assert unknown[0]["total_tokens"] == 100


def test_time_range_limits_what_is_loaded(stores: Stores) -> None:
    since, until = _at(0), _at(60)
    con = stores.analytics("sqlite", since=since, until=until)
    try:
        rows = run_query(con, "SELECT min(timestamp), max(timestamp), count(*) FROM events").rows()
        loads = dict(run_query(con, "SELECT table_name, row_count FROM netsky_raw.loads").rows())
    finally:
        con.close()
    first, last, count = rows[0]
    assert since <= first and last < until
    assert count == loads["events"]
    assert count >= len(hand_made())


def test_only_the_needed_tables_and_columns_are_loaded(stores: Stores) -> None:
    sql = "SELECT model, count(*) FROM api_requests GROUP BY 1"
    with native_sqlite():
        con = open_analytics(stores.targets["sqlite"][0], sql=sql)
        pruned = open_analytics(stores.targets["sqlite"][0], sql=sql, prune=True)
    try:
        tables = {r[0] for r in run_query(con, "SELECT table_name FROM netsky_raw.loads").rows()}
        assert tables == {"events"}
        types = run_query(con, "SELECT DISTINCT event_type FROM netsky_raw.events").rows()
        assert types == [("ApiRequest",)]
        loaded = run_query(
            pruned,
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'netsky_raw' AND table_name = 'events_loaded'",
        ).rows()
        assert {c for (c,) in loaded} <= {
            "id",
            "timestamp",
            "event_type",
            "model",
            "uuid",
            "machine_id",
            "session_id",
            "is_sidechain",
            "tokens_input",
            "tokens_output",
            "tokens_cache_read",
            "tokens_cache_write",
        }
        assert sorted(run_query(pruned, sql).rows()) == sorted(run_query(con, sql).rows())
    finally:
        con.close()
        pruned.close()
