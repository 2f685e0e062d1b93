"""The analytics API in detail: SQL parsing, read-only checks, loaders and the
``netsky_duckdb_attach`` contract, blocks, time zones, export."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import duckdb
import pytest

from netsky_core import Event, EventSource, EventType, SessionQuery, open_storage
from netsky_core.analytics import (
    VIEWS,
    DateError,
    QueryError,
    ReadOnlyQueryError,
    TableRequest,
    TimezoneError,
    arrow_schema,
    day_range,
    open_analytics,
    parse_day,
    refuse_writes,
    run_query,
    views_in_sql,
)
from netsky_core.analytics.export import export
from netsky_core.analytics.reports import _block_starts
from netsky_core.analytics.usage_report import usage_report
from netsky_core.plugins._registry import default_registry
from netsky_core.plugins.hookspecs import hookimpl

from . import native_sqlite


@pytest.fixture(autouse=True, scope="module")
def _load_from_the_store() -> Any:
    """These tests compare the ways of loading a store: without the analytics mirror."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NETSKY_MIRROR", "0")
        yield


T0 = datetime(2026, 4, 1, 10, 30, tzinfo=UTC)
HOUR = 3_600_000_000


def api(at: datetime, uuid: str, *, session: str = "s1", cost: float | None = 0.01) -> Event:
    return Event(
        machine_id="m",
        session_id=session,
        event_type=EventType.API_REQUEST,
        timestamp=at,
        uuid=uuid,
        framework="claude",
        source=EventSource.TRANSCRIPT,
        model="claude-sonnet-4-5-20250929",
        tokens_input=1,
        tokens_output=2,
        tokens_cache_read=3,
        tokens_cache_write=4,
        cost_usd=cost,
    )


@pytest.fixture
def store() -> Any:
    with open_storage("memory://") as s:
        yield s


# -- SQL ---------------------------------------------------------------------------------


def test_views_in_sql() -> None:
    assert views_in_sql("SELECT * FROM api_requests a JOIN sessions USING (session_id)") == {
        "api_requests",
        "sessions",
    }
    assert views_in_sql("WITH x AS (SELECT 1) SELECT * FROM x") == frozenset()
    assert views_in_sql("select (select count(*) from Prompts), * from main.daily_usage") == {
        "prompts",
        "daily_usage",
    }
    # parsed but not bindable alone: every known name that appears
    assert "events" in views_in_sql("SELECT * FROM api_requests a JOIN events USING (id)")
    with pytest.raises(QueryError, match="syntax error"):
        views_in_sql("SELEC 1")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "WITH a AS (SELECT 1) SELECT * FROM a",
        "FROM events",
        "VALUES (1)",
        "DESCRIBE events",
        "SHOW TABLES",
        "SUMMARIZE SELECT 1",
        "EXPLAIN SELECT 1",
    ],
)
def test_reads_are_allowed(sql: str) -> None:
    refuse_writes(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO t VALUES (1)",
        "UPDATE t SET a = 1",
        "DELETE FROM t",
        "CREATE TABLE t (a INT)",
        "CREATE VIEW v AS SELECT 1",
        "DROP TABLE t",
        "ALTER TABLE t ADD COLUMN b INT",
        "COPY t TO 'x.csv'",
        "EXPORT DATABASE 'dir'",
        "ATTACH 'x.db'",
        "DETACH x",
        "INSTALL sqlite",
        "LOAD sqlite",
        "SET threads = 1",
        "CHECKPOINT",
        "SELECT 1; DROP TABLE t",
    ],
)
def test_writes_are_refused(sql: str) -> None:
    with pytest.raises(ReadOnlyQueryError, match="read-only"):
        refuse_writes(sql)


def test_run_query_values(store: Any) -> None:
    store.insert_many([api(T0, "api:1")])
    con = open_analytics(store, timezone="Europe/Berlin")
    try:
        result = run_query(
            con,
            "SELECT timestamp, CAST(timestamp AS DATE) AS d, [1, 2] AS l, {'a': 1} AS s, "
            "INTERVAL 90 MINUTE AS i, 1::HUGEINT AS h, NULL AS n FROM api_requests",
        )
        record = result.records()[0]
        assert record == {
            "timestamp": "2026-04-01T12:30:00+02:00",
            "d": "2026-04-01",
            "l": [1, 2],
            "s": {"a": 1},
            "i": "01:30:00",
            "h": 1,
            "n": None,
        }
        assert result.text_rows()[0][0] == "2026-04-01 12:30:00+02:00"
        with pytest.raises(QueryError, match="Binder Error"):
            run_query(con, "SELECT nope FROM events")
        with pytest.raises(ReadOnlyQueryError):
            run_query(con, "DELETE FROM netsky_raw.events")
    finally:
        con.close()


def test_unknown_views_and_time_zones(store: Any) -> None:
    with pytest.raises(QueryError, match="unknown view"):
        open_analytics(store, ["nope"])
    with pytest.raises(TimezoneError):
        open_analytics(store, timezone="Mars/Olympus")


def test_time_range_must_be_aware(store: Any) -> None:
    from netsky_core import RecordError

    with pytest.raises(RecordError):
        open_analytics(store, since=datetime(2026, 1, 1))


# -- loaders and the hook ---------------------------------------------------------------


def test_table_request() -> None:
    request = TableRequest({"events"}, event_types={"ApiRequest"}, event_columns={"model"})
    assert request == {"events"}
    assert request.columns("events") == ("id", "event_type", "timestamp", "model")
    assert len(request.columns("sessions")) == len(arrow_schema("sessions"))
    with pytest.raises(ValueError):
        TableRequest({"nope"})


class _FakeNative:
    """A third-party backend's hook: loads events via Arrow from the store itself."""

    def __init__(self, valid: bool = True) -> None:
        self.calls: list[TableRequest] = []
        self.valid = valid

    @hookimpl
    def netsky_duckdb_attach(self, storage: Any, connection: Any, tables: Any) -> Any:
        import pyarrow as pa

        from netsky_core import EventQuery

        if not hasattr(storage, "fake_native"):
            return None
        self.calls.append(tables)
        for table in tables:
            schema = arrow_schema(table)
            if table == "events":
                rows = storage.query(EventQuery().order_by_id())
            elif table == "sessions":
                rows = storage.list_sessions(SessionQuery())
            else:
                rows = storage.query_transcript_positions()
            data = {
                f.name: pa.array(
                    [
                        None
                        if getattr(r, f.name) is None
                        else (str(getattr(r, f.name)) if f.name == "status" else getattr(r, f.name))
                        for r in rows
                    ],
                    f.type,
                )
                for f in schema
                if self.valid or f.name != "timestamp"
            }
            arrow = pa.table(data)
            connection.register("fake_arrow", arrow)
            connection.execute(f"CREATE TABLE {table} AS SELECT * FROM fake_arrow")
            connection.unregister("fake_arrow")
        return True


def test_a_third_party_hook_is_used_and_a_broken_one_falls_back(store: Any) -> None:
    store.insert_many([api(T0, "api:1"), api(T0 + timedelta(hours=1), "api:2")])
    store.fake_native = True
    pm = default_registry().plugin_manager
    for valid in (True, False):
        plugin = _FakeNative(valid)
        pm.register(plugin, name=f"fake-native-{valid}")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                con = open_analytics(store, ["daily_usage", "sessions"], timezone="UTC")
            loads = dict(run_query(con, "SELECT table_name, method FROM netsky_raw.loads").rows())
            total = run_query(con, "SELECT sum(requests) FROM daily_usage").rows()
            con.close()
        finally:
            pm.unregister(plugin)
        assert total == [(2,)]
        assert plugin.calls and plugin.calls[0].event_types is not None
        if valid:
            assert loads == {"events": f"native:fake-native-{valid}", "sessions": loads["sessions"]}
            assert not caught
        else:
            assert loads["events"] == "generic"
            assert any("unusable" in str(w.message) for w in caught)


def test_native_sqlite_equals_generic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    with open_storage(url) as s:
        s.insert_many(
            [
                api(T0 + timedelta(minutes=i), f"api:{i}", cost=None if i % 7 == 0 else 0.5)
                for i in range(100)
            ]
        )
    sql = "SELECT * EXCLUDE (id) FROM events ORDER BY uuid"
    with native_sqlite():
        native = open_analytics(url, timezone="UTC")
        generic = open_analytics(url, timezone="UTC", native=False)
    try:
        assert run_query(native, sql).rows() == run_query(generic, sql).rows()
        methods = {m for (m,) in run_query(native, "SELECT method FROM netsky_raw.loads").rows()}
        assert all(m.startswith("native:") for m in methods)
        assert {m for (m,) in run_query(generic, "SELECT method FROM netsky_raw.loads").rows()} == {
            "generic"
        }
    finally:
        native.close()
        generic.close()


def test_the_store_is_opened_read_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    with open_storage(url) as s:
        s.insert_many([api(T0, "api:1")])
    (tmp_path / "s.db").chmod(0o444)
    try:
        con = open_analytics(url, ["events"])
        assert run_query(con, "SELECT count(*) FROM events").rows() == [(1,)]
        con.close()
    finally:
        (tmp_path / "s.db").chmod(0o644)


# -- blocks ------------------------------------------------------------------------------


def test_block_starts_follow_ccusage() -> None:
    ten = 10 * HOUR
    stamps = [
        ten + HOUR // 2,  # 10:30 -> block 10:00-15:00
        ten + 5 * HOUR,  # 15:00 exactly: still the same block
        ten + 5 * HOUR + 1,  # 15:00:00.000001: next block, at 15:00
        ten + 12 * HOUR,  # 22:00 after a gap
        ten + 12 * HOUR + 30 * 60_000_000,
    ]
    assert _block_starts(stamps) == [ten, ten + 5 * HOUR, ten + 12 * HOUR]
    assert _block_starts([]) == []


def test_blocks_report_and_active_block(store: Any) -> None:
    store.insert_many(
        [
            api(T0, "a1"),
            api(T0 + timedelta(hours=4, minutes=29), "a2"),
            api(T0 + timedelta(hours=4, minutes=31), "a3"),  # 15:01 -> new block
            api(T0 + timedelta(hours=14), "a4", cost=None),
        ]
    )
    now = T0 + timedelta(hours=15)
    blocks = usage_report("blocks", store, timezone="UTC", now=now).to_json()["blocks"]
    assert [b["start"] for b in blocks] == [
        "2026-04-01T10:00:00+00:00",
        "2026-04-01T15:00:00+00:00",
        "2026-04-02T00:00:00+00:00",
    ]
    assert [b["total_tokens"] for b in blocks] == [20, 10, 10]
    assert [b["is_active"] for b in blocks] == [False, False, True]
    assert blocks[2]["cost_usd"] is None
    assert blocks[2]["burn_rate"] is None  # a single response: no rate
    report = usage_report("blocks", store, timezone="UTC", now=now)
    assert len(report.gaps) == 1


# -- days --------------------------------------------------------------------------------


def test_parse_day_and_ranges() -> None:
    assert parse_day("2026-01-31") == date(2026, 1, 31)
    assert parse_day("20260131") == date(2026, 1, 31)
    for bad in ("2026-02-30", "bogus", "2026/01/31", "", "7x"):
        with pytest.raises(DateError):
            parse_day(bad)
    # the time values every other command takes, as the day they fall on
    before = datetime.now(UTC).date()
    today = parse_day("today", timezone="UTC")
    assert today in (before, datetime.now(UTC).date())
    assert parse_day("yesterday", timezone="UTC") == today - timedelta(days=1)
    assert parse_day("7d", timezone="UTC") == today - timedelta(days=7)
    assert parse_day("2026-01-31T23:30+00:00", timezone="Europe/Berlin") == date(2026, 2, 1)
    from zoneinfo import ZoneInfo

    since, until = day_range(date(2026, 3, 29), date(2026, 3, 29), ZoneInfo("Europe/Berlin"))
    assert since == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert until == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)  # DST: a 23-hour day
    with pytest.raises(DateError):
        day_range(date(2026, 3, 2), date(2026, 3, 1), ZoneInfo("UTC"))


def test_report_days_in_a_zone(store: Any) -> None:
    store.insert_many([api(datetime(2026, 4, 1, 23, 30, tzinfo=UTC), "late")])
    utc = usage_report("daily", store, timezone="UTC").to_json()["daily"]
    berlin = usage_report("daily", store, timezone="Europe/Berlin").to_json()["daily"]
    assert [d["date"] for d in utc] == ["2026-04-01"]
    assert [d["date"] for d in berlin] == ["2026-04-02"]
    only = usage_report(
        "daily", store, timezone="Europe/Berlin", since=date(2026, 4, 2), until=date(2026, 4, 2)
    ).to_json()
    assert only["totals"]["total_tokens"] == 10
    none = usage_report(
        "daily", store, timezone="UTC", since=date(2026, 4, 2), until=date(2026, 4, 2)
    ).to_json()
    assert none == {
        "daily": [],
        "totals": {
            "input_tokens": 0,
            "output_tokens": 0,
            "cache_creation_tokens": 0,
            "cache_read_tokens": 0,
            "total_tokens": 0,
            "cost_usd": None,
            "requests": 0,
            "unpriced_requests": 0,
            "unpriced_models": [],
        },
    }


# -- export ------------------------------------------------------------------------------


def test_export_parquet_and_csv(store: Any, tmp_path: Path) -> None:
    store.insert_many([api(T0 + timedelta(minutes=i), f"api:{i}") for i in range(10)])
    result = export(store, tmp_path / "events.parquet")
    assert result.rows == 10 and result.format == "parquet"
    back = duckdb.sql(
        f"SELECT count(*), min(epoch_us(timestamp)), typeof(min(timestamp)) "
        f"FROM read_parquet('{tmp_path / 'events.parquet'}')"
    ).fetchall()
    assert back == [
        (
            10,
            (T0 - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1),
            "TIMESTAMP WITH TIME ZONE",
        )
    ]
    csv_result = export(
        store,
        tmp_path / "daily.csv",
        format="csv",
        query="SELECT day, requests, total_tokens FROM daily_usage",
        timezone="UTC",
    )
    assert csv_result.rows == 1
    assert (tmp_path / "daily.csv").read_text() == "day,requests,total_tokens\n2026-04-01,10,100\n"
    for view in VIEWS:
        assert export(store, tmp_path / f"{view}.parquet", view=view).columns
    with pytest.raises(ReadOnlyQueryError):
        export(store, tmp_path / "x.csv", format="csv", query="DELETE FROM events")
    with pytest.raises(QueryError):
        export(store, tmp_path / "x.csv", format="csv", query="SELECT nope FROM events")
    assert not (tmp_path / "x.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".netsky-export-")]


@pytest.mark.parametrize("reader", ["apsw", "adbc"])
def test_sqlite_readers_equal_the_generic_path(tmp_path: Path, reader: str) -> None:
    """Both SQLite readers give exactly the generic path's rows, also when a column's
    first values are NULL and its type shows only in later batches."""
    if reader == "adbc":
        pytest.importorskip("adbc_driver_sqlite.dbapi", reason="adbc-driver-sqlite not installed")
    from netsky_sqlite.duckdb_path import attach_sqlite

    url = f"sqlite:///{tmp_path / 's.db'}"
    events = [
        api(T0 + timedelta(minutes=i), f"api:{i}", cost=None if i < 10 else i / 7)
        for i in range(40)
    ]
    events += [
        Event(
            machine_id="m",
            session_id="s2",
            event_type=EventType.USER_PROMPT_SUBMIT,
            timestamp=T0 + timedelta(hours=2, minutes=i),
            uuid=f"p{i}",
            source=EventSource.HOOK,
            git_branch=None if i < 12 else f"feature/{i}",
            payload=None if i < 12 else '{"prompt": "x\\ny \\"z\\" \\u00e9"}',
            is_sidechain=i % 3 == 0,
        )
        for i in range(30)
    ]
    with open_storage(url) as s:
        s.insert_many(events)
        request = TableRequest({"events", "sessions", "positions"})
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        con.execute("CREATE SCHEMA netsky_raw")
        con.execute("USE netsky_raw")
        counts = attach_sqlite(s.engine.path, con, request, chunk_rows=4, reader=reader)
        con.execute("USE main")
        generic = open_analytics(s, ["events", "sessions"], native=False, timezone="UTC")
    assert counts == {"events": 70, "sessions": 2, "positions": 0}
    try:
        for table, order in (("events", "id"), ("sessions", "session_id")):
            ours = con.sql(f"SELECT * FROM netsky_raw.{table} ORDER BY {order}").to_arrow_table()
            theirs = generic.sql(
                f"SELECT * FROM netsky_raw.{table} ORDER BY {order}"
            ).to_arrow_table()
            assert ours.schema == theirs.schema, table
            assert ours.to_pylist() == theirs.to_pylist(), table
    finally:
        con.close()
        generic.close()


@pytest.mark.parametrize("kind", ["daily", "project", "session"])
def test_each_breakdown_holds_only_its_own_rows_models(store: Any, kind: str) -> None:
    """Two projects (sessions), two models each on one day: every row's breakdown
    lists only its own models and sums to the row."""
    events = []
    for n, (session, cwd) in enumerate([("s1", "/a"), ("s2", "/b")]):
        for m, model in enumerate([f"claude-model-{n}-x", f"claude-model-{n}-y"]):
            e = api(T0 + timedelta(minutes=n * 10 + m), f"{session}:{m}", session=session)
            events.append(attrs.evolve(e, model=model, cwd=cwd))
    store.insert_many(events)
    report = usage_report(kind, store, timezone="UTC", breakdown=True).to_json()
    rows = report[next(k for k in report if k != "totals")]
    assert len(rows) == (1 if kind == "daily" else 2)
    for row in rows:
        models = [b["model"] for b in row["breakdown"]]
        assert sorted(models) == sorted(row["models"])
        assert sum(b["total_tokens"] for b in row["breakdown"]) == row["total_tokens"]
