"""Incremental ingest converges: any sequence of partial reads equals one full read."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsky_core import EventQuery, SessionQuery, StorageStatsQuery, open_storage
from netsky_core.ingest.scan import Source, discover, ingest

from .conftest import samples_or_skip


def snapshot(store) -> tuple:
    events = sorted(
        (attrs.evolve(e, id=None) for e in store.query(EventQuery())),
        key=lambda e: (e.session_id, e.uuid or "", e.event_type),
    )
    sessions = store.list_sessions(SessionQuery())
    return events, sessions, store.storage_stats(StorageStatsQuery())


def layout(tmp: Path) -> tuple[Path, dict[str, str], list[Path]]:
    """The sample trees copied under ``tmp`` (empty files), and the real files."""
    root = samples_or_skip()
    env = {"CLAUDE_CONFIG_DIR": str(tmp / "claude"), "CODEX_HOME": str(tmp / "codex")}
    sources = sorted(p for p in (root / "claude").rglob("*.jsonl")) + sorted(
        (root / "codex").rglob("*.jsonl")
    )
    return root, env, sources


def reference(tmp: Path, root: Path, sources: list[Path]) -> tuple:
    final = tmp / "final"
    for src in sources:
        dst = final / src.relative_to(root)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, dst)
    env = {"CLAUDE_CONFIG_DIR": str(final / "claude"), "CODEX_HOME": str(final / "codex")}
    with open_storage(f"sqlite:///{tmp}/reference.db") as store:
        ingest(store, discover(environ=env), machine_id="m", batch_size=7)
        events, sessions, stats = snapshot(store)
    # the paths differ between the two trees; compare everything else
    return [attrs.evolve(e, transcript_path=None) for e in events], sessions, stats


def normalized(result: tuple) -> tuple:
    events, sessions, stats = result
    return (
        [attrs.evolve(e, transcript_path=None) for e in events],
        [attrs.evolve(s, transcript_path=None, transcript_path_at=None) for s in sessions],
        stats,
    )


def test_ingesting_after_every_line_converges(tmp_path: Path) -> None:
    root, _, sources = layout(tmp_path)
    expected = normalized(reference(tmp_path, root, sources))
    live = tmp_path / "live"
    env = {"CLAUDE_CONFIG_DIR": str(live / "claude"), "CODEX_HOME": str(live / "codex")}
    with open_storage(f"sqlite:///{tmp_path}/live.db") as store:
        steps = 0
        for src in sources:
            dst = live / src.relative_to(root)
            dst.parent.mkdir(parents=True, exist_ok=True)
            with open(dst, "wb") as out:
                for line in src.read_bytes().splitlines(keepends=True):
                    half = len(line) // 2
                    out.write(line[:half])  # the agent is still writing this line
                    out.flush()
                    ingest(
                        store,
                        [Source(str(dst), "codex" if "codex" in dst.parts else "claude")],
                        machine_id="m",
                        batch_size=3,
                    )
                    out.write(line[half:])
                    out.flush()
                    ingest(store, discover(environ=env), machine_id="m", batch_size=3)
                    steps += 2
        assert steps > 400
        got = normalized(snapshot(store))
    assert got[0] == expected[0]
    assert got[2] == expected[2]
    assert [
        attrs.evolve(s, transcript_path=None, transcript_path_at=None) for s in got[1]
    ] == expected[1]


@given(
    cuts=st.lists(st.integers(min_value=1, max_value=236_724), min_size=1, max_size=12, unique=True)
)
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_byte_cut_points_converge(tmp_path_factory, cuts: list[int]) -> None:
    tmp = tmp_path_factory.mktemp("cuts")
    src = next((samples_or_skip() / "claude" / "projects").glob("-home-marco*/491e126e*.jsonl"))
    data = src.read_bytes()
    with open_storage(f"sqlite:///{tmp}/one.db") as one:
        full = tmp / "full" / src.name
        full.parent.mkdir()
        full.write_bytes(data)
        ingest(one, [Source(str(full), "claude")], machine_id="m")
        expected = normalized(snapshot(one))
    grow = tmp / "grow" / src.name
    grow.parent.mkdir()
    with open_storage(f"sqlite:///{tmp}/many.db") as many:
        previous = 0
        for cut in [*sorted(c for c in cuts if c < len(data)), len(data)]:
            with open(grow, "ab") as fh:
                fh.write(data[previous:cut])
            previous = cut
            ingest(many, [Source(str(grow), "claude")], machine_id="m", batch_size=5)
        assert normalized(snapshot(many)) == expected


def test_partial_last_line_is_not_consumed(tmp_path: Path) -> None:
    src = next((samples_or_skip() / "claude" / "projects").glob("-home-marco*/55604662*.jsonl"))
    lines = src.read_bytes().splitlines(keepends=True)
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"".join(lines[:5]) + lines[5][:40])
    with open_storage(f"sqlite:///{tmp_path}/s.db") as store:
        summary = ingest(store, [Source(str(path), "claude")], machine_id="m")
        assert summary.partial_lines == 1 and summary.malformed_lines == 0
        position = store.get_transcript_position("m", str(path))
        assert position is not None and position.offset == len(b"".join(lines[:5]))
        assert position.line_number == 5
        again = ingest(store, [Source(str(path), "claude")], machine_id="m")
        assert again.files_unchanged == 1 and again.bytes_read == 0


def test_truncated_and_replaced_files_are_read_again_without_duplicates(tmp_path: Path) -> None:
    src = next((samples_or_skip() / "claude" / "projects").glob("-home-marco*/d6e0bada*.jsonl"))
    data = src.read_bytes()
    path = tmp_path / "t.jsonl"
    path.write_bytes(data)
    with open_storage(f"sqlite:///{tmp_path}/s.db") as store:
        ingest(store, [Source(str(path), "claude")], machine_id="m")
        expected = normalized(snapshot(store))
        # truncated (an editor rewrote it shorter), then the full content comes back
        path.write_bytes(data[: len(data) // 3].rsplit(b"\n", 1)[0] + b"\n")
        shrunk = ingest(store, [Source(str(path), "claude")], machine_id="m")
        assert shrunk.files_reread == 1 and shrunk.inserted == 0
        replacement = tmp_path / "t.new"
        replacement.write_bytes(data)
        os.replace(replacement, path)  # a new inode
        replaced = ingest(store, [Source(str(path), "claude")], machine_id="m")
        assert replaced.files_reread == 1 and replaced.inserted == 0
        assert replaced.duplicates > 0
        assert normalized(snapshot(store)) == expected


def test_history_outlives_deleted_transcripts(tmp_path: Path) -> None:
    src = next((samples_or_skip() / "claude" / "projects").glob("-home-marco*/55604662*.jsonl"))
    path = tmp_path / "projects" / "p" / src.name
    path.parent.mkdir(parents=True)
    path.write_bytes(src.read_bytes())
    env = {"CLAUDE_CONFIG_DIR": str(tmp_path)}
    with open_storage(f"sqlite:///{tmp_path}/s.db") as store:
        ingest(store, discover("claude", environ=env), machine_id="m")
        before = snapshot(store)
        path.unlink()  # the agent's 30-day cleanup
        summary = ingest(store, discover("claude", environ=env), machine_id="m")
        assert summary.files_found == 0
        assert snapshot(store) == before


def test_malformed_lines_are_counted_and_good_lines_around_them_kept(tmp_path: Path) -> None:
    src = next((samples_or_skip() / "claude" / "projects").glob("-home-marco*/55604662*.jsonl"))
    lines = src.read_bytes().splitlines(keepends=True)
    bad = [
        b'{"type": "assistant", "timestamp": "2026-02-10T21:11:59.186Z", "message": \n',
        b"\xff\xfe not utf-8 \x80\n",
        b'{"type": "user", "timestamp": 12345, "message": {"content": "x"}}\n',
        b'{"type": "assistant", "timestamp": "2026-02-10T21:11:59Z", "message": {"usage": {"input_tokens": "many"}}}\n',
        b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
        b'{"type": "user", "message": {"content": "'
        + b"x" * (10 << 20)
        + b'"}, "timestamp": "2026-02-10T21:11:59Z", "sessionId": "big", "uuid": "u-big"}\n',
        b"\n",
    ]
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_bytes(b"".join(x for pair in zip(lines, bad + [b""] * len(lines)) for x in pair))
    clean = tmp_path / "clean.jsonl"
    clean.write_bytes(b"".join(lines))
    with (
        open_storage(f"sqlite:///{tmp_path}/a.db") as a,
        open_storage(f"sqlite:///{tmp_path}/b.db") as b,
    ):
        summary = ingest(a, [Source(str(mixed), "claude")], machine_id="m")
        ingest(b, [Source(str(clean), "claude")], machine_id="m")
        assert summary.malformed_lines == 5
        got = [e for e in snapshot(a)[0] if e.session_id != "big"]
        want = snapshot(b)[0]
        assert [attrs.evolve(e, transcript_path=None) for e in got] == [
            attrs.evolve(e, transcript_path=None) for e in want
        ]
        (big,) = a.query(EventQuery().with_session("big"))
        assert len(big.payload or "") > 10 << 20


def test_unknown_models_keep_tokens_and_an_unknown_cost(tmp_path: Path) -> None:
    line = (
        b'{"type":"assistant","timestamp":"2026-03-01T10:00:00Z","sessionId":"s","uuid":"u1","requestId":"r1",'
        b'"message":{"id":"m1","model":"claude-future-9","usage":{"input_tokens":5,"output_tokens":7}}}\n'
    )
    path = tmp_path / "s.jsonl"
    path.write_bytes(line)
    with open_storage(f"sqlite:///{tmp_path}/s.db") as store:
        summary = ingest(store, [Source(str(path), "claude")], machine_id="m")
        assert summary.unknown_models == {"claude-future-9": 1}
        (event,) = store.query(EventQuery())
        assert (event.tokens_input, event.tokens_output, event.cost_usd) == (5, 7, None)
        session = store.get_session("s")
        assert (
            session is not None and session.cost_usd is None and session.unpriced_request_count == 1
        )


def test_a_run_interrupted_mid_file_goes_on_from_where_it_stopped(tmp_path: Path) -> None:
    """A position saved mid-file must never make the rest of the file look unchanged."""
    src = next((samples_or_skip() / "claude" / "projects").glob("-home-marco*/d6e0bada*.jsonl"))
    path = tmp_path / "t.jsonl"
    path.write_bytes(src.read_bytes())

    class Dies:
        """A store whose second batch never commits (a kill, Ctrl-C, a lost server)."""

        def __init__(self, store) -> None:
            self.store, self.calls = store, 0

        def insert_many(self, events, **kw):
            self.calls += 1
            if self.calls == 2:
                raise KeyboardInterrupt
            return self.store.insert_many(events, **kw)

        def __getattr__(self, name):
            return getattr(self.store, name)

    with open_storage(f"sqlite:///{tmp_path}/clean.db") as clean:
        ingest(clean, [Source(str(path), "claude")], machine_id="m", batch_size=5)
        expected = normalized(snapshot(clean))
    with open_storage(f"sqlite:///{tmp_path}/s.db") as store:
        try:
            ingest(Dies(store), [Source(str(path), "claude")], machine_id="m", batch_size=5)
        except KeyboardInterrupt:
            pass
        position = store.get_transcript_position("m", str(path))
        assert position is not None and position.offset < len(src.read_bytes())
        again = ingest(store, [Source(str(path), "claude")], machine_id="m", batch_size=5)
        assert again.files_unchanged == 0 and again.files_read == 1
        assert normalized(snapshot(store)) == expected
        third = ingest(store, [Source(str(path), "claude")], machine_id="m")
        assert third.files_unchanged == 1
