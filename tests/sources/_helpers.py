"""Shared helpers of the other-agent reader tests: where the real samples are, how the
store would keep the events (dedup by uuid, most tokens wins), and the comparison with
ccusage 20.0.24's ``daily``/``session`` JSON outputs."""

from __future__ import annotations

import itertools
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
    if event.metadata and "tokens_reasoning" in json.loads(event.metadata):
        assert event.tokens_reasoning == json.loads(event.metadata)["tokens_reasoning"]
    return event.tokens_reasoning or 0


def total(event: Event, *, with_reasoning: bool = True) -> int:
    """All tokens (``total_tokens`` holds the reasoning count)."""
    return (event.total_tokens or 0) - (0 if with_reasoning else reasoning(event))


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
    netsky_unpriced: Iterable[str] = (),
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Days and sessions equal ccusage's: tokens, totalTokens, cost, models per day.

    An unpriced model (ccusage: cost 0, listed in ``unpricedModels``; or one of
    ``netsky_unpriced``, priced by ccusage from a catalog that is not LiteLLM) must have
    ``cost_usd=None`` here. Returns the rows (by day, by session) for further checks.
    """
    kept = dedup(events)
    days = group(kept, by_day, model_name=model_name, reasoning_in_total=reasoning_in_total)
    sessions = group(kept, by_session, model_name=model_name, reasoning_in_total=reasoning_in_total)
    daily, session = ccusage(agent, "daily"), ccusage(agent, "session")
    unpriced = set(daily["totals"].get("unpricedModels") or ()) | set(netsky_unpriced)
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
        if "firstActivity" in expected:  # the session report's span of usage, to the ms
            times = sorted(e.timestamp for e in api(kept) if by_session(e) == expected["sessionId"])
            span = [t.isoformat(timespec="milliseconds").replace("+00:00", "Z") for t in times]
            assert (span[0], span[-1]) == (expected["firstActivity"], expected["lastActivity"])
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


# -- reading a source ------------------------------------------------------------------


def parse_lines(
    parser_cls: Any, path: Path, data: bytes | None = None, **kw: Any
) -> tuple[list[Event], Any]:
    """All events of a JSONL file, one parser; the parser (counters) too."""
    parser = parser_cls(machine_id=MACHINE, path=str(path), prices=PRICES, **kw)
    out: list[Event] = []
    for line in (path.read_bytes() if data is None else data).splitlines():
        out += parser.parse(line)
    return out, parser


def read_path(module: Any, path: Path, **kw: Any) -> list[Event]:
    """The events of one file ``module.discover`` found, by the reader its kind takes
    (``kw``: ``store_payloads``, ``redact``)."""
    if path.suffix == ".db":
        return module.read_database(str(path), machine_id=MACHINE, prices=PRICES, **kw).events
    if module.SPEC.kind == "lines" or (path.suffix == ".jsonl" and hasattr(module, "Parser")):
        return parse_lines(module.Parser, path, **kw)[0]
    return module.read_document(
        path.read_bytes(), path=str(path), machine_id=MACHINE, prices=PRICES, **kw
    ).events


def read_source(module: Any, roots: list[Path]) -> list[Event]:
    """Every event of every file ``module.discover`` finds under ``roots``."""
    return [e for path in module.discover(roots) for e in read_path(module, path)]


def resumed(parser_cls: Any, path: Path, lines: list[bytes], cuts: list[int]) -> list[Event]:
    """Events of ``lines`` read by a new parser at every cut, each made from the last
    one's ``state`` (through JSON, as it is stored)."""
    out: list[Event] = []
    state: dict[str, Any] | None = None
    bounds = [0, *sorted(set(cuts)), len(lines)]
    for start, end in itertools.pairwise(bounds):
        parser = parser_cls(
            machine_id=MACHINE,
            path=str(path),
            prices=PRICES,
            state=None if state is None else json.loads(json.dumps(state)),
        )
        for line in lines[start:end]:
            out += parser.parse(line)
        state = parser.state
    return out


def by_uuid(events: Iterable[Event]) -> dict[tuple[str, str | None], Event]:
    return {(e.session_id, e.uuid): e for e in events}


def exercise_live_database(
    read: Callable[[Path], list[Event]],
    src: Path,
    tmp_path: Path,
    add_rows: Callable[[sqlite3.Connection, int], None],
) -> None:
    """The reader on a copy of ``src`` (WAL mode) that another program keeps using.

    - with another connection holding an open read transaction and a writer holding
      the write lock (uncommitted rows), the reader neither blocks nor fails, and
      sees the committed state;
    - while it reads in a loop (a thread), the writer commits rows with no busy
      timeout: the reader never takes a lock that makes the owner wait;
    - committed rows appear on the next read; nothing is created beside the database;
    - reading twice unchanged gives the identical event list.
    """
    import threading
    import time

    db = wal_copy(src, tmp_path / "live")
    set_wal(db)
    owner = sqlite3.connect(db, timeout=0, isolation_level=None, check_same_thread=False)
    owner.execute("PRAGMA journal_mode=WAL")
    other_reader = sqlite3.connect(db, isolation_level=None)
    other_reader.execute("BEGIN")
    other_reader.execute("SELECT count(*) FROM sqlite_master").fetchone()
    baseline = read(db)
    assert baseline == read(db)
    files = sorted(p.name for p in db.parent.iterdir())

    owner.execute("BEGIN IMMEDIATE")
    add_rows(owner, 0)
    started = time.monotonic()
    during = read(db)  # the owner holds the write lock, another reader a snapshot
    assert time.monotonic() - started < 10
    assert during == baseline  # uncommitted rows are not seen
    owner.execute("COMMIT")

    errors: list[BaseException] = []
    stop = threading.Event()

    def keep_reading() -> None:
        try:
            while not stop.is_set():
                read(db)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=keep_reading)
    thread.start()
    try:
        for i in range(1, 21):
            owner.execute("BEGIN IMMEDIATE")  # timeout=0: fails at once if blocked
            add_rows(owner, i)
            owner.execute("COMMIT")
    finally:
        stop.set()
        thread.join()
    assert not errors
    after = read(db)
    assert len(after) > len(baseline)
    assert sorted(p.name for p in db.parent.iterdir()) == files
    other_reader.execute("COMMIT")
    other_reader.close()
    owner.close()


def exercise_read_only_folder(
    read: Callable[[Path], list[Event]], src: Path, tmp_path: Path
) -> None:
    """A database in a read-only folder (``-wal`` with content): read from a private copy,
    same events, nothing written beside it. Root ignores permissions, so the reader
    checks the mode bits itself; this sets them."""
    import os
    import stat

    db = wal_copy(src, tmp_path / "ro")
    expected = read(db)
    for path in db.parent.iterdir():
        path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    db.parent.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    try:
        before = {p.name: p.stat().st_mtime_ns for p in db.parent.iterdir()}
        assert read(db) == expected
        assert {p.name: p.stat().st_mtime_ns for p in db.parent.iterdir()} == before
    finally:
        db.parent.chmod(stat.S_IRWXU)
        for path in db.parent.iterdir():
            os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
