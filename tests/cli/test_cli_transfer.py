"""``netsky export`` and ``netsky import``: the JSONL format, round trips, bad files."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from .conftest import SEED_EVENTS, SEED_SESSIONS, Netsky, assert_one_line_error


def _body(text: str | bytes) -> list[bytes]:
    """The lines after the header."""
    raw = text.encode() if isinstance(text, str) else text
    return raw.splitlines()[1:]


def test_export_format(netsky: Netsky, seeded: str) -> None:
    out = netsky.ok("--db", seeded, "export").stdout
    lines = [orjson.loads(line) for line in out.splitlines()]
    header = lines[0]
    assert header["kind"] == "header"
    assert header["format"] == "netsky-export"
    assert header["version"] == 2
    assert header["exported_at"].endswith("+00:00")
    assert header["source"].split("://")[0] in ("sqlite", "postgresql")
    kinds = [line["kind"] for line in lines[1:]]
    assert kinds == ["event"] * SEED_EVENTS + ["session"] * SEED_SESSIONS + ["position"] * 2
    first = lines[1]["data"]
    assert "id" not in first
    assert first["uuid"] == "s1-start"
    assert first["timestamp"] == "2026-03-01T12:00:00+00:00"
    assert first["tokens_input"] is None  # unknown stays null
    sessions = [line["data"] for line in lines if line["kind"] == "session"]
    assert {s["github_repo"] for s in sessions} == {"octo/widgets", None}


def test_round_trip_into_an_empty_store_is_exact(
    netsky: Netsky, seeded_sqlite: str, store_url: str, tmp_path: Path
) -> None:
    seeded, target = seeded_sqlite, store_url  # into a second SQLite file, then into PostgreSQL
    first = tmp_path / "first.jsonl"
    netsky.ok("--db", seeded, "export", "-o", str(first))
    data = netsky.ok("--db", target, "import", str(first), "--json").json()
    assert data["events"] == {
        "read": SEED_EVENTS,
        "inserted": SEED_EVENTS,
        "duplicates": 0,
        "superseded": 0,
        "expired": 0,
    }
    assert data["sessions_restored"] == SEED_SESSIONS
    assert data["positions_restored"] == 2
    assert data["header"]["format"] == "netsky-export"
    second = tmp_path / "second.jsonl"
    netsky.ok("--db", target, "export", "-o", str(second))
    assert _body(first.read_bytes()) == _body(second.read_bytes())
    assert (
        netsky.ok("--db", target, "stats", "--json").json()
        == netsky.ok("--db", seeded, "stats", "--json").json()
    )

    again = netsky.ok("--db", target, "import", str(first), "--json").json()
    assert again["events"]["inserted"] == 0
    assert again["events"]["duplicates"] == SEED_EVENTS
    third = tmp_path / "third.jsonl"
    netsky.ok("--db", target, "export", "-o", str(third))
    assert _body(third.read_bytes()) == _body(first.read_bytes())


def test_gzip_and_stdin(netsky: Netsky, seeded_sqlite: str, tmp_path: Path) -> None:
    packed = tmp_path / "backup.jsonl.gz"
    summary = netsky.ok("--db", seeded_sqlite, "export", "-o", str(packed), "--json").json()
    assert summary == {
        "format": "jsonl",
        "output": str(packed),
        "source": seeded_sqlite,
        "since": None,
        "events": SEED_EVENTS,
        "sessions": SEED_SESSIONS,
        "positions": 2,
    }
    plain = gzip.decompress(packed.read_bytes())
    assert orjson.loads(plain.splitlines()[0])["kind"] == "header"
    target = f"sqlite:///{tmp_path / 'from-gz.db'}"
    text = netsky.ok("--db", target, "import", str(packed)).stdout
    assert f"{SEED_EVENTS} new" in text
    piped = f"sqlite:///{tmp_path / 'from-stdin.db'}"
    data = netsky.ok("--db", piped, "import", "-", "--json", input=plain.decode()).json()
    assert data["events"]["inserted"] == SEED_EVENTS
    assert data["file"] is None


def test_export_since(netsky: Netsky, seeded_sqlite: str) -> None:
    result = netsky.ok("--db", seeded_sqlite, "export", "--since", "2026-03-01T12:01:00Z")
    lines = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["since"] == "2026-03-01T12:01:00+00:00"
    events = [line["data"]["uuid"] for line in lines if line["kind"] == "event"]
    assert events == ["s2-p1", "s2-a1", "s2-end", "s3-p1", "s3-a1", None]
    sessions = [line["data"]["session_id"][:4] for line in lines if line["kind"] == "session"]
    assert sorted(sessions) == ["aaaa", "bbbb"]
    assert not [line for line in lines if line["kind"] == "position"]
    assert "6 events" in result.stderr  # the summary goes to stderr when the data is on stdout


def test_unknown_export_format_is_a_usage_error(
    netsky: Netsky, seeded_sqlite: str, tmp_path: Path
) -> None:
    result = netsky("--db", seeded_sqlite, "export", "--format", "xml", "-o", str(tmp_path / "x"))
    assert_one_line_error(result, 2, "xml", "jsonl")
    assert not (tmp_path / "x").exists()


def test_parquet_and_csv_export_views_and_queries(
    netsky: Netsky, seeded_sqlite: str, tmp_path: Path
) -> None:
    import duckdb

    out = tmp_path / "events.parquet"
    result = netsky(
        "--db", seeded_sqlite, "export", "--format", "parquet", "-o", str(out), "--json"
    )
    assert result.returncode == 0, result
    rows = result.json()["rows"]
    assert rows > 0
    assert duckdb.sql(f"SELECT count(*) FROM '{out}'").fetchall()[0][0] == rows
    csv = netsky(
        "--db",
        seeded_sqlite,
        "export",
        "--format",
        "csv",
        "--query",
        "SELECT event_type, count(*) AS n FROM events GROUP BY 1 ORDER BY 1",
    )
    assert csv.returncode == 0 and csv.stdout.splitlines()[0] == "event_type,n"
    mixed = netsky("--db", seeded_sqlite, "export", "--view", "events")
    assert mixed.returncode == 2


def test_export_to_an_unwritable_place_fails_cleanly(
    netsky: Netsky, seeded_sqlite: str, tmp_path: Path
) -> None:
    result = netsky("--db", seeded_sqlite, "export", "-o", str(tmp_path / "missing" / "x.jsonl"))
    assert_one_line_error(result, 1, "cannot write")


def _write(path: Path, *objects: object, raw: bytes = b"") -> Path:
    path.write_bytes(b"".join(orjson.dumps(o) + b"\n" for o in objects) + raw)
    return path


HEADER = {
    "kind": "header",
    "format": "netsky-export",
    "version": 1,
    "exported_at": "2026-03-01T00:00:00+00:00",
    "source": None,
}
EVENT = {
    "machine_id": "m",
    "session_id": "s",
    "event_type": "Stop",
    "timestamp": "2026-03-01T00:00:00+00:00",
    "uuid": "e1",
}


@pytest.mark.parametrize(
    ("objects", "raw", "needle"),
    [
        ([], b"", "line 1"),
        ([{"kind": "event", "data": EVENT}], b"", "line 1: no netsky export header"),
        ([{**HEADER, "format": "other"}], b"", "unknown export format"),
        ([{**HEADER, "version": 3}], b"", "newer"),
        ([HEADER, {"kind": "event", "data": EVENT}], b"{not json\n", "line 3: invalid JSON"),
        (
            [HEADER, {"kind": "event", "data": EVENT}, {"kind": "comment", "data": {}}],
            b"",
            "line 3: unknown kind",
        ),
        (
            [HEADER, {"kind": "event", "data": {**EVENT, "timestamp": "yesterday"}}],
            b"",
            "line 2: invalid event",
        ),
        (
            [HEADER, {"kind": "event", "data": {**EVENT, "colour": "red"}}],
            b"",
            "line 2: unknown event field(s): colour",
        ),
        (
            [HEADER, {"kind": "session", "data": {"machine_id": "m"}}],
            b"",
            "line 2: invalid session",
        ),
        ([HEADER, {"kind": "event", "data": EVENT}, HEADER], b"", "line 3: a second header"),
        ([HEADER, {"kind": "event", "data": {**EVENT, "tokens_input": -1}}], b"", "line 2"),
        (
            [HEADER, {"kind": "position", "data": "x"}],
            b"",
            "line 2: position without a data object",
        ),
    ],
)
def test_bad_files_store_nothing(
    netsky: Netsky, seeded_sqlite: str, tmp_path: Path, objects: list, raw: bytes, needle: str
) -> None:
    # valid events before the bad line are not stored either
    path = _write(tmp_path / "bad.jsonl", *objects, raw=raw)
    result = netsky("--db", seeded_sqlite, "import", str(path))
    assert_one_line_error(result, 1, needle)
    status = netsky.ok("--db", seeded_sqlite, "db", "status", "--json").json()
    assert status["tables"]["events"] == SEED_EVENTS


def test_a_bad_line_after_many_good_batches_stores_nothing(netsky: Netsky, tmp_path: Path) -> None:
    events = [{"kind": "event", "data": {**EVENT, "uuid": f"e{n}"}} for n in range(50)]
    path = _write(
        tmp_path / "late.jsonl", HEADER, *events, {"kind": "event", "data": {**EVENT, "pid": "x"}}
    )
    store = f"sqlite:///{tmp_path / 'late.db'}"
    result = netsky("--db", store, "import", str(path), "--batch", "7")
    assert_one_line_error(result, 1, "line 52")
    assert netsky.ok("--db", store, "db", "status", "--json").json()["tables"]["events"] == 0


def test_import_of_a_missing_file(netsky: Netsky, sqlite_url: str, tmp_path: Path) -> None:
    assert_one_line_error(
        netsky("--db", sqlite_url, "import", str(tmp_path / "nope.jsonl")), 1, "cannot read"
    )
    assert_one_line_error(netsky("--db", sqlite_url, "import"), 2)
    assert_one_line_error(netsky("--db", sqlite_url, "import", "x", "--batch", "-3"), 2)
