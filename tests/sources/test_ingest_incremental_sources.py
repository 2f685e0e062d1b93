"""Incremental, exactly-once ingest of every format of the other agents, through the
real ingest path (``plan_ingest`` + ``scan.ingest``) into a real SQLite store:

- a growing JSONL file (Copilot): read as it grows, a partial last line read next
  time, the same events as one read of the whole file;
- a JSON document rewritten in place (Gemini, Amp): only the new events are new, a
  file only touched is not read again;
- another program's SQLite database gaining rows while netsky reads it (Hermes, with
  its WAL): the owner is never blocked, uncommitted rows are not seen, committed rows
  are read by the next ingest, nothing is created beside the database;
- a second ingest of unchanged input reads nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
import threading
from pathlib import Path

import pytest

from netsky_core import open_storage
from netsky_core.ingest.pricing import PriceTable
from netsky_core.ingest.scan import IngestSummary, ingest
from netsky_core.sources.select import plan_ingest

from ._helpers import sample_root, set_wal, wal_copy

PRICES = PriceTable.load()
MACHINE = "m"


def run(store, agent: str, root: Path) -> IngestSummary:
    plan = plan_ingest([agent], [str(root)])
    assert not plan.problems
    return ingest(store, plan.files, machine_id=MACHINE, prices=PRICES)


def stored(store) -> list[tuple]:
    from netsky_core import EventQuery

    return sorted(
        (e.session_id, e.uuid, e.event_type, e.total_tokens, e.cost_usd)
        for e in store.query(EventQuery().with_limit(100_000))
    )


@pytest.fixture
def store(tmp_path: Path):
    s = open_storage(f"sqlite:///{tmp_path / 'store.db'}")
    yield s
    s.close()


def test_a_growing_jsonl_file(tmp_path: Path, store) -> None:
    src = next((sample_root("copilot") / "session-state").glob("*/events.jsonl"))
    data = src.read_bytes()
    lines = data.splitlines(keepends=True)
    root = tmp_path / "copilot"
    live = root / "session-state" / src.parent.name / "events.jsonl"
    live.parent.mkdir(parents=True)
    half = len(lines) // 2
    live.write_bytes(b"".join(lines[:half]) + lines[half][:7])  # a line being written
    first = run(store, "copilot", root)
    assert first.files_read == 1 and first.partial_lines == 1
    with open(live, "ab") as fh:
        fh.write(lines[half][7:] + b"".join(lines[half + 1 :]))
    second = run(store, "copilot", root)
    assert second.files_read == 1 and second.files_reread == 0 and second.partial_lines == 0
    assert second.bytes_read == len(data) - len(b"".join(lines[:half]))  # appended part only
    assert second.duplicates == 0
    third = run(store, "copilot", root)
    assert third.files_unchanged == 1 and third.events == 0 and third.bytes_read == 0

    whole = tmp_path / "whole" / "session-state" / src.parent.name / "events.jsonl"
    whole.parent.mkdir(parents=True)
    shutil.copyfile(src, whole)
    with open_storage(f"sqlite:///{tmp_path / 'once.db'}") as once:
        run(once, "copilot", tmp_path / "whole")
        assert stored(store) == stored(once)


def _rewrite(path: Path, doc: dict) -> None:
    """Rewrite in place, as the agents do (same inode)."""
    with open(path, "r+b") as fh:
        fh.seek(0)
        fh.write(json.dumps(doc, indent=2).encode())
        fh.truncate()


def test_a_json_document_rewritten_in_place(tmp_path: Path, store) -> None:
    src = next(sample_root("gemini").rglob("session-2026-03-30T20-25-*.json"))
    doc = json.loads(src.read_bytes())
    root = tmp_path / "gemini"
    live = root / "p" / "chats" / src.name
    live.parent.mkdir(parents=True)
    full = doc["messages"]
    live.write_text(json.dumps(dict(doc, messages=full[:2]), indent=2))
    inode = live.stat().st_ino
    first = run(store, "gemini", root)
    assert first.files_read == 1 and first.inserted > 0
    before = stored(store)

    _rewrite(live, doc)  # the agent appends messages and rewrites the file
    assert live.stat().st_ino == inode
    second = run(store, "gemini", root)
    assert second.files_read == 1 and second.inserted > 0
    assert second.duplicates == len(before)  # the old events are not new
    after = stored(store)
    assert set(before) <= set(after)

    third = run(store, "gemini", root)
    assert third.files_unchanged == 1 and third.events == 0 and third.bytes_read == 0
    os.utime(live, ns=(1, 1))  # touched, not changed: read, nothing stored
    touched = run(store, "gemini", root)
    assert touched.files_unchanged == 1 and touched.events == 0
    assert run(store, "gemini", root).bytes_read == 0
    assert stored(store) == after

    with open_storage(f"sqlite:///{tmp_path / 'once.db'}") as once:
        run(once, "gemini", root)
        assert stored(once) == after


def test_amp_thread_rewritten_keeps_its_uuids(tmp_path: Path, store) -> None:
    src = next((sample_root("amp") / "threads").glob("*.json"))
    root = tmp_path / "amp"
    (root / "threads").mkdir(parents=True)
    live = root / "threads" / src.name
    shutil.copyfile(src, live)
    first = run(store, "amp", root)
    doc = json.loads(live.read_bytes())
    doc["v"] = doc.get("v", 0) + 1  # Amp bumps the version on every write
    _rewrite(live, doc)
    second = run(store, "amp", root)
    assert second.files_read == 1 and second.inserted == 0
    assert second.duplicates == first.inserted
    assert run(store, "amp", root).events == 0


def _add_session(conn: sqlite3.Connection, i: int) -> None:
    conn.execute(
        "INSERT INTO sessions (id, source, model, started_at, input_tokens, output_tokens) "
        "VALUES (?, 'cli', 'gemini-flash-latest', 1783400000.5, 10, 1)",
        (f"new_{i}",),
    )


def test_a_database_gaining_rows_while_netsky_reads_it(tmp_path: Path, store) -> None:
    db = wal_copy(sample_root("hermes") / "state.db", tmp_path / "hermes")
    set_wal(db)
    owner = sqlite3.connect(db, timeout=0, isolation_level=None, check_same_thread=False)
    owner.execute("PRAGMA journal_mode=WAL")
    first = run(store, "hermes", db.parent)
    assert first.files_read == 1 and first.inserted > 0
    files = sorted(p.name for p in db.parent.iterdir())
    assert run(store, "hermes", db.parent).files_unchanged == 1

    owner.execute("BEGIN IMMEDIATE")  # the owner writes; netsky reads meanwhile
    _add_session(owner, 0)
    during = run(store, "hermes", db.parent)
    assert during.files_failed == 0
    assert during.inserted == 0  # uncommitted rows are not seen
    owner.execute("COMMIT")

    errors: list[BaseException] = []
    stop = threading.Event()

    def keep_writing() -> None:
        try:
            for i in range(1, 21):
                owner.execute("BEGIN IMMEDIATE")  # timeout=0: fails at once if blocked
                _add_session(owner, i)
                owner.execute("COMMIT")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            stop.set()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    seen = 0
    while not stop.is_set():
        seen += run(store, "hermes", db.parent).inserted
    writer.join()
    assert not errors
    seen += run(store, "hermes", db.parent).inserted
    assert seen == 2 * 21  # each new session: its SessionStart and its ApiRequest, once
    assert run(store, "hermes", db.parent).events == 0  # nothing new: nothing read
    assert sorted(p.name for p in db.parent.iterdir()) == files
    owner.close()


def test_a_commit_whose_frames_are_written_before_its_index_is_read_when_visible(
    tmp_path: Path, store
) -> None:
    """A WAL commit grows the ``-wal`` first and shows in the ``-shm`` index after; an
    ingest between the two sees the grown ``-wal`` but not the rows. The next ingest,
    once the index shows them, reads them (the ``-wal`` itself has not changed since)."""
    db = wal_copy(sample_root("hermes") / "state.db", tmp_path / "hermes")
    set_wal(db)
    owner = sqlite3.connect(db, isolation_level=None)
    owner.execute("PRAGMA journal_mode=WAL")
    run(store, "hermes", db.parent)
    shm = Path(f"{db}-shm")
    index_before = shm.read_bytes()
    _add_session(owner, 0)
    index_after = shm.read_bytes()
    assert index_after != index_before
    with open(shm, "r+b") as fh:  # the moment between the owner's two writes
        fh.write(index_before)
    assert run(store, "hermes", db.parent).inserted == 0  # not visible yet
    with open(shm, "r+b") as fh:  # the commit shows in the index
        fh.write(index_after)
    assert run(store, "hermes", db.parent).inserted == 2
    assert run(store, "hermes", db.parent).files_unchanged == 1
    owner.close()


def test_a_rollback_journal_commit_keeping_size_and_mtime_is_read(tmp_path: Path, store) -> None:
    """In rollback-journal mode a commit rewrites pages in place: the size may not change
    and, within one tick of the file system's clock, neither does the mtime."""
    db = wal_copy(sample_root("hermes") / "state.db", tmp_path / "hermes")
    owner = sqlite3.connect(db, isolation_level=None)
    assert owner.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
    run(store, "hermes", db.parent)
    (sid,) = owner.execute(
        "SELECT id FROM sessions WHERE model IS NOT NULL AND model != '' "
        "AND output_tokens > 0 ORDER BY id LIMIT 1"
    ).fetchone()
    before = {row[1]: row[3] for row in stored(store) if row[0] == sid}
    st = db.stat()
    owner.execute("UPDATE sessions SET output_tokens = output_tokens + 7 WHERE id = ?", (sid,))
    assert db.stat().st_size == st.st_size
    os.utime(db, ns=(st.st_atime_ns, st.st_mtime_ns))  # the same tick
    again = run(store, "hermes", db.parent)
    assert again.files_read == 1
    after = {row[1]: row[3] for row in stored(store) if row[0] == sid}
    assert after[f"api:hermes:{sid}"] == before[f"api:hermes:{sid}"] + 7
    owner.close()


def test_a_database_that_cannot_be_read_now_is_read_next_time(
    tmp_path: Path, store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read that fails for a passing reason (here the private copy a rollback-journal
    database is read from cannot be made) is a failed file with one line, not a file
    read: the next ingest reads it."""
    import tempfile

    db = wal_copy(sample_root("hermes") / "state.db", tmp_path / "hermes")
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-folder"))
    failed = run(store, "hermes", db.parent)
    assert (failed.files_failed, failed.inserted, failed.malformed_lines) == (1, 0, 0)
    (error,) = failed.errors
    assert "\n" not in error and "read again" in error and "no-such-folder" in error
    monkeypatch.undo()
    later = run(store, "hermes", db.parent)
    assert later.files_read == 1 and later.inserted > 0 and later.files_failed == 0


def test_a_json_document_rewritten_while_read_is_read_again(
    tmp_path: Path, store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The agent rewrites the document while netsky reads it: the read gets part of
    the new version, and the writer is done before netsky looks at the file again. What
    netsky keeps as read is the file as it was before the read, so the next ingest
    reads the new version."""
    src = next(sample_root("gemini").rglob("session-2026-03-30T20-25-*.json"))
    doc = json.loads(src.read_bytes())
    root = tmp_path / "gemini"
    live = root / "p" / "chats" / src.name
    live.parent.mkdir(parents=True)
    live.write_text(json.dumps(dict(doc, messages=doc["messages"][:2]), indent=2))
    run(store, "gemini", root)
    new = json.dumps(doc, indent=2).encode()
    real_stat = os.stat
    calls = 0

    def write(part: bytes) -> None:
        with open(live, "r+b") as fh:
            fh.write(part)
            fh.truncate()

    def stat_while_the_agent_writes(path, *args, **kwargs):
        nonlocal calls
        if os.fspath(path) != str(live) or not sys._getframe(1).f_code.co_filename.endswith(
            "scan.py"
        ):
            return real_stat(path, *args, **kwargs)
        calls += 1
        if calls == 1:  # netsky looks at a file half written, then reads more of it
            write(new[: len(new) // 2])
            out = real_stat(path, *args, **kwargs)
            write(new[: len(new) * 3 // 4])
            return out
        write(new)  # the writer is done before netsky looks again, if it does
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat_while_the_agent_writes)
    torn = run(store, "gemini", root)
    monkeypatch.undo()
    if live.read_bytes() != new:  # netsky did not look again: the writer is done now
        write(new)
    assert torn.inserted == 0
    again = run(store, "gemini", root)
    assert again.files_read == 1 and again.inserted > 0
    with open_storage(f"sqlite:///{tmp_path / 'once.db'}") as once:
        run(once, "gemini", root)
        assert stored(store) == stored(once)


def test_a_database_committing_during_every_copy_is_read_next_time(
    tmp_path: Path, store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rollback-journal database is read from a private copy; a commit during the
    copy (same size, same mtime tick: only the header's change counter tells) makes
    another copy, and a database that changes during every copy is a failed file with
    one line, read by the next ingest."""
    db = wal_copy(sample_root("hermes") / "state.db", tmp_path / "hermes")
    owner = sqlite3.connect(db, isolation_level=None)
    assert owner.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
    real_copy = shutil.copyfile
    copies = 0

    def copy_while_the_owner_commits(src, dst, *args, **kwargs):
        nonlocal copies
        out = real_copy(src, dst, *args, **kwargs)
        if os.fspath(src) == str(db):
            copies += 1
            st = db.stat()
            owner.execute("UPDATE sessions SET output_tokens = output_tokens + 1")
            os.utime(db, ns=(st.st_atime_ns, st.st_mtime_ns))
        return out

    monkeypatch.setattr(shutil, "copyfile", copy_while_the_owner_commits)
    busy = run(store, "hermes", db.parent)
    monkeypatch.undo()
    assert copies > 1 and (busy.files_failed, busy.inserted, busy.malformed_lines) == (1, 0, 0)
    (error,) = busy.errors
    assert "\n" not in error and "changed during each" in error and "read again" in error
    later = run(store, "hermes", db.parent)
    assert later.files_read == 1 and later.inserted > 0 and later.files_failed == 0
    owner.close()
