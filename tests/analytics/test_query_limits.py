"""``netsky query`` at its limits, as a user meets them: a result larger than memory, a
reader that closes the pipe, Ctrl-C, SQL reaching for files or extensions, a damaged
store. Real ``netsky`` subprocesses throughout."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from tests.loss_paths import loss_row

from . import Netsky, assert_one_line_error, test_analytics_cli

MAX_RSS_MB = 500


# the store and runner of the other query tests
netsky = test_analytics_cli.netsky
db = test_analytics_cli.db


# -- results larger than memory stream (issue 15) --------------------------------------

_PEAK = """
import resource, subprocess, sys
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)
lines = 0
while chunk := proc.stdout.read(1 << 20):
    lines += chunk.count(b"\\n")
rc = proc.wait()
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, lines)
"""


@pytest.mark.loss_path
@pytest.mark.parametrize(
    ("fmt", "rows"),
    [("csv", 350_000), ("json", 600_000), ("table", 600_000)],
)
def test_query_output_streams_in_bounded_memory(
    netsky: Netsky, db: str, fmt: str, rows: int
) -> None:
    """A result of hundreds of MB goes to standard output with a bounded peak RSS
    (before: the whole result, then its Python rows, were held at once)."""
    sql = f"SELECT range AS n, repeat('x', 1000) AS pad FROM range({rows})"
    argv = [sys.executable, "-c", _PEAK, str(Path(sys.executable).with_name("netsky"))]
    argv += ["--db", db, "query", "--format", fmt, sql]
    proc = subprocess.run(
        argv, cwd=netsky.root, env=netsky.env, capture_output=True, text=True, timeout=600
    )
    rc, peak_mb, lines = (int(v) for v in proc.stdout.split())
    assert rc == 0, proc
    if fmt == "csv":
        loss_row(
            15,
            f"a query result larger than memory ({peak_mb} MB peak RSS)",
            faults=f"{rows:,} rows of 1 KB through `--format csv` into a pipe",
            inputs=sql,
            sent=rows,
            stored=lines - 1,  # the header line
            unit="result rows",
        )
    assert peak_mb < MAX_RSS_MB, f"peak RSS {peak_mb} MB for {fmt}"


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_query_stops_quietly_when_the_reader_goes_away(netsky: Netsky, db: str, fmt: str) -> None:
    """``netsky query ... | head -2`` on a result of 10^10 rows ends at once, exit 0,
    nothing on stderr (before: the whole result was built first, until killed for
    memory)."""
    sql = "SELECT range FROM range(10000000000)"
    query = netsky.popen("--db", db, "query", "--format", fmt, sql)
    head = subprocess.Popen(["head", "-2"], stdin=query.stdout, stdout=subprocess.PIPE, text=True)
    assert query.stdout is not None and head.stdout is not None
    query.stdout.close()  # head holds the only reading end
    try:
        assert len(head.stdout.read().splitlines()) == 2
        assert query.wait(timeout=60) == 0
    finally:
        query.kill()  # on a failure: no run-away query left behind
        head.kill()
    assert query.communicate()[1] == ""


def test_query_json_is_one_array_of_objects(netsky: Netsky, db: str) -> None:
    sql = "SELECT range AS n, 'a' || range AS s FROM range(5000)"
    streamed = netsky.ok("--db", db, "query", "--json", sql).stdout
    assert orjson.loads(streamed) == [{"n": i, "s": f"a{i}"} for i in range(5000)]
    assert netsky.ok("--db", db, "query", "--format", "json", sql).stdout == streamed
    assert netsky.ok("--db", db, "query", "--json", "SELECT 1 WHERE false").stdout == "[]\n"
    both = netsky("--db", db, "query", "--json", "--format", "csv", sql)
    assert both.returncode == 2 and "not allowed with" in both.stderr, both


def test_query_table_shows_a_bounded_number_of_rows(netsky: Netsky, db: str) -> None:
    from netsky_core.cli.commands.query import TABLE_ROWS

    sql = f"SELECT range AS n FROM range({TABLE_ROWS * 3})"
    lines = netsky.ok("--db", db, "query", "--format", "table", sql).stdout.splitlines()
    assert len(lines) == 2 + TABLE_ROWS + 1
    assert lines[-1].startswith(f"(first {TABLE_ROWS:,} rows shown: there are more")
    exact = f"SELECT range AS n FROM range({TABLE_ROWS})"
    out = netsky.ok("--db", db, "query", "--format", "table", exact).stdout
    assert out.splitlines()[-1] == f"({TABLE_ROWS} rows)"


# -- Ctrl-C (issue 13, item 8) -----------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT sum(range * 2) FROM range(10000000000)",
        "SELECT range FROM range(10000000000) ORDER BY range DESC LIMIT 3",
    ],
)
def test_query_sigint_is_one_line_and_130(netsky: Netsky, db: str, sql: str) -> None:
    """Before: ``internal error: RuntimeError: Query interrupted``, exit 1."""
    proc = netsky.popen("--db", db, "query", sql)
    try:
        time.sleep(4)  # well into the query (starting netsky takes about a second)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, (out, err)
    assert err == "netsky: interrupted\n"


# -- only the store is readable (issue 16) ---------------------------------------------


@pytest.mark.parametrize(
    ("sql", "needle"),
    [
        ("SELECT content FROM read_text('/etc/passwd')", "disabled by configuration"),
        ("SELECT * FROM read_csv('/etc/passwd')", "disabled by configuration"),
        ("SELECT * FROM glob('/*')", "disabled by configuration"),
        ("SELECT count(*) FROM events, read_text('/etc/hostname')", "disabled by configuration"),
        ("SELECT * FROM 'https://example.invalid/x.csv'", "disabled by configuration"),
        ("SELECT * FROM read_xlsx('x.xlsx')", "excel"),
        ("SELECT * FROM sqlite_scan('store.db', 'events')", "sqlite_scanner"),
        ("INSTALL httpfs", "refused"),
        ("LOAD httpfs", "refused"),
        ("SET enable_external_access = true", "refused"),
        ("SELECT 1; SET enable_external_access = true", "refused"),
    ],
)
@pytest.mark.loss_path
def test_query_reads_no_file_and_loads_no_extension(
    netsky: Netsky, db: str, sql: str, needle: str
) -> None:
    home = Path(netsky.env["HOME"])
    before = _events(db)
    assert_one_line_error(netsky("--db", db, "query", sql), 1, needle)
    assert not (home / ".duckdb").exists()
    if sql.startswith("SELECT content FROM read_text"):
        loss_row(
            16,
            "SQL reaching for files and extensions",
            faults="read_text / read_csv / glob / URL / INSTALL / LOAD / SET in `netsky query`",
            inputs=sql,
            sent=before,
            stored=_events(db),
        )


def _events(db: str) -> int:
    from netsky_core import EventQuery, open_storage

    with open_storage(db, read_only=True) as store:
        return store.count(EventQuery())


def test_query_allow_files_reads_a_csv(netsky: Netsky, db: str, tmp_path: Path) -> None:
    data = tmp_path / "mine.csv"
    data.write_text("session_id,team\ns1,blue\ns2,red\n")
    sql = (
        f"SELECT m.team, count(*) AS n FROM api_requests a "
        f"JOIN read_csv('{data}') m USING (session_id) GROUP BY 1 ORDER BY 1"
    )
    refused = netsky("--db", db, "query", sql)
    assert_one_line_error(refused, 1, "disabled by configuration", "--allow-files")
    out = netsky.ok("--db", db, "query", "--allow-files", "--format", "json", sql).json()
    assert out == [{"team": "blue", "n": 2}, {"team": "red", "n": 1}]
    assert "--allow-files" in netsky.ok("query", "--help").stdout


# -- a damaged store (issue 13, item 8) --------------------------------------------------


def test_query_on_a_store_without_events_table_is_one_line(
    netsky: Netsky, db: str, tmp_path: Path
) -> None:
    import apsw

    con = apsw.Connection(str(tmp_path / "store.db"))
    con.execute("DROP TABLE events")
    con.close()
    result = netsky("--db", db, "query", "SELECT count(*) FROM events")
    assert_one_line_error(result, 1, "is damaged", "events")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_query_reads_no_file(netsky: Netsky, db: str, fmt: str, tmp_path: Path) -> None:
    """``netsky export --query`` runs user SQL too: it may write its output, read nothing
    but the store (before: ``read_text('/etc/passwd')`` was exported)."""
    out = tmp_path / f"out.{fmt}"
    sql = "SELECT * FROM read_text('/etc/passwd')"
    refused = netsky("--db", db, "export", "--format", fmt, "--query", sql, "-o", str(out))
    assert_one_line_error(refused, 1, "disabled by configuration")
    assert not out.exists()
    sql = "SELECT model, count(*) AS n FROM api_requests GROUP BY 1"
    netsky.ok("--db", db, "export", "--format", fmt, "--query", sql, "-o", str(out))
    assert out.stat().st_size > 0


def test_the_scratch_connection_is_one_per_thread_and_locked() -> None:
    import threading

    import duckdb

    from netsky_core.analytics._lockdown import scratch_connection

    mine = scratch_connection()
    assert scratch_connection() is mine
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(scratch_connection()))
    thread.start()
    thread.join()
    assert other and other[0] is not mine
    with pytest.raises(duckdb.Error):
        mine.execute("SET enable_external_access = true")
    with pytest.raises(duckdb.Error):
        mine.execute("SELECT * FROM read_csv('/etc/passwd')")
