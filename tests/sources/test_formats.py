"""What every other-agent reader guarantees, whatever its format.

- JSONL parsers: re-created from ``state`` at any cut points, they give exactly the
  events of one pass (Hypothesis property over the real samples); a partial last line
  is never fed, so a file read as it grows gives the same events.
- Every reader: a second read of unchanged input gives the identical event list; every
  event has a deterministic uuid holding neither the machine id nor the file path;
  ``framework`` is the source's name, ``source`` is ``transcript``, timestamps are UTC.
- Bad input (truncated JSON, wrong types, unknown record types, an empty or corrupt
  database file) is counted as malformed or skipped, never raised.
"""

from __future__ import annotations

import importlib
import json
from datetime import UTC
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsky_core._records import EventSource
from netsky_core.sources._common import SourceSpec

from ._helpers import MACHINE, PRICES, parse_lines, read_path, read_source, resumed, sample_root

AGENTS = (
    "gemini",
    "opencode",
    "copilot",
    "qwen",
    "pi",
    "kimi",
    "amp",
    "hermes",
    "kilo",
    "goose",
    "openclaw",
    "droid",
)
# Where each agent's variable points for the samples (README of the samples).
SAMPLE_ROOTS = {"pi": ("pi", "sessions")}
LINE_AGENTS = ("copilot", "qwen", "pi", "kimi", "openclaw", "droid")


def module(agent: str):
    return importlib.import_module(f"netsky_core.sources.{agent}")


def root_of(agent: str) -> Path:
    parts = SAMPLE_ROOTS.get(agent, (agent,))
    sample_root(parts[0])
    return sample_root(*parts)


def line_files(agent: str) -> list[Path]:
    mod = module(agent)
    return [
        p for p in mod.discover([root_of(agent)]) if p.suffix == ".jsonl" or ".jsonl." in p.name
    ]


@pytest.mark.parametrize("agent", AGENTS)
def test_spec_names_the_framework_as_ccusage_does(agent: str) -> None:
    mod = module(agent)
    spec = mod.SPEC
    assert isinstance(spec, SourceSpec)
    assert spec.name == agent
    assert spec.kind in ("lines", "document", "database")
    assert spec.env_var and spec.default_roots
    reader = {"lines": "Parser", "document": "read_document", "database": "read_database"}
    assert hasattr(mod, reader[spec.kind])
    for extra in getattr(mod, "FORMATS", ()):
        assert extra.name == agent and hasattr(mod, reader[extra.kind])


def test_roots_come_from_the_variable_comma_separated() -> None:
    spec = module("gemini").SPEC
    assert spec.roots({"GEMINI_DATA_DIR": " /a , /b ,"}) == [Path("/a"), Path("/b")]
    assert spec.roots({}) == [Path("~/.gemini/tmp").expanduser()]


@pytest.mark.parametrize("agent", AGENTS)
def test_second_read_is_identical_and_events_are_well_formed(agent: str) -> None:
    mod = module(agent)
    roots = [root_of(agent)]
    first, second = read_source(mod, roots), read_source(mod, roots)
    assert first == second
    assert first, "the sample gives events (sessions count even without usage)"
    for event in first:
        assert event.uuid and MACHINE not in event.uuid
        assert event.transcript_path is not None
        assert event.transcript_path not in event.uuid
        assert str(roots[0]) not in event.uuid
        assert event.framework == agent
        assert event.source == EventSource.TRANSCRIPT
        assert event.machine_id == MACHINE
        assert event.timestamp.tzinfo is UTC
        if event.payload is not None:
            json.loads(event.payload)
        if event.metadata is not None:
            json.loads(event.metadata)
    keys = [(e.session_id, e.uuid) for e in first]
    # one uuid per event within a read, except where ccusage itself dedups
    assert len(set(keys)) == len(keys) or agent in ("pi", "openclaw", "qwen", "kimi")


@pytest.mark.parametrize("agent", AGENTS)
def test_no_payloads_when_not_stored(agent: str) -> None:
    mod = module(agent)
    for path in mod.discover([root_of(agent)])[:3]:
        events = read_path(mod, path, store_payloads=False)
        for event in events:
            if event.payload is not None:
                # a prompt keeps its text (it is the event); other payloads are then only
                # small summaries built by the reader, never the raw record
                body = json.loads(event.payload)
                assert "prompt" in body or len(event.payload) < 1024, event.event_type


@pytest.mark.parametrize("agent", AGENTS)
def test_redact_sees_every_payload(agent: str) -> None:
    mod = module(agent)
    seen: list[str] = []

    def redact(text: str) -> str:
        seen.append(text)
        return '{"redacted": true}'

    events = read_path(mod, mod.discover([root_of(agent)])[0], redact=redact)
    for event in events:
        assert event.payload in (None, '{"redacted": true}')


# -- JSONL: resuming from state -------------------------------------------------------


@pytest.mark.parametrize("agent", LINE_AGENTS)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_lines_resume_from_state_at_any_cut(agent: str, data: st.DataObject) -> None:
    mod = module(agent)
    files = line_files(agent)
    path = data.draw(st.sampled_from(files), label="file")
    lines = path.read_bytes().splitlines()
    cuts = data.draw(st.lists(st.integers(0, len(lines)), max_size=6), label="cuts")
    whole = parse_lines(mod.Parser, path)[0]
    assert resumed(mod.Parser, path, lines, cuts) == whole


@pytest.mark.parametrize("agent", LINE_AGENTS)
def test_lines_growing_file_gives_the_same_events(agent: str, tmp_path: Path) -> None:
    """A copy of a session file appended to line by line (the reader only ever sees
    complete lines, as the caller feeds them) gives the events of the finished file."""
    mod = module(agent)
    source = max(line_files(agent), key=lambda p: p.stat().st_size)
    lines = source.read_bytes().splitlines(keepends=True)
    target = tmp_path / source.relative_to(root_of(agent))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"")
    events, state, offset = [], None, 0
    for line in lines:
        with open(target, "ab") as fh:
            fh.write(line[: len(line) // 2])  # a partial line: not complete yet
        data = target.read_bytes()
        complete = data[: data.rfind(b"\n") + 1] if b"\n" in data else b""
        parser = mod.Parser(machine_id=MACHINE, path=str(source), prices=PRICES, state=state)
        for raw in complete[offset:].splitlines():
            events += parser.parse(raw)
        offset, state = len(complete), parser.state
        with open(target, "ab") as fh:
            fh.write(line[len(line) // 2 :])
    parser = mod.Parser(machine_id=MACHINE, path=str(source), prices=PRICES, state=state)
    for raw in target.read_bytes()[offset:].splitlines():
        events += parser.parse(raw)
    assert events == parse_lines(mod.Parser, source)[0]


BAD_LINES = [
    b'{"type": "message", "timestamp": "2026-01-01T00:00:00Z", "message": {"role": "assis',
    b"[1, 2, 3]",
    b'"just a string"',
    b"\xff\xfe not utf-8",
    b'{"type": 42, "timestamp": [], "message": "no"}',
    b'{"type": "something-new", "timestamp": "2026-01-01T00:00:00Z", "id": "x"}',
    b'{"type": "message", "timestamp": "2026-01-01T00:00:00Z", "message": {"role": "assistant", "usage": {"input": "many", "output": -5, "cost": {"total": "free"}}}}',
    b'{"type": "assistant", "timestamp": "2026-01-01T00:00:00Z", "usageMetadata": {"promptTokenCount": "x"}}',
    b'{"timestamp": "nan", "message": {"type": "StatusUpdate", "payload": {"token_usage": {"output": 1e400}}}}',
    b'{"type": "session.shutdown", "id": "e", "timestamp": "2026-01-01T00:00:00Z", "data": {"modelMetrics": {"m": 5}}}',
    b'{"type": "message", "timestamp": "2026-01-01T00:00:00Z", "id": "nul\\u0000id", "message": {"role": "user", "content": "hi"}}',
    b"",
    b"   ",
]


@pytest.mark.parametrize("agent", LINE_AGENTS)
def test_bad_lines_are_counted_never_raised(agent: str) -> None:
    mod = module(agent)
    path = line_files(agent)[0]
    lines = path.read_bytes().splitlines()
    clean, _ = parse_lines(mod.Parser, path)
    mixed = [*BAD_LINES[:4], *lines, *BAD_LINES[4:]]
    events, dirty = parse_lines(mod.Parser, path, data=b"\n".join(mixed))
    assert dirty.malformed >= 4  # truncated, not an object (x2), not UTF-8
    assert [e for e in events if e.uuid in {c.uuid for c in clean}] == clean
    for raw in BAD_LINES:  # alone: counted, or (an unknown record type) an event of its own
        one = mod.Parser(machine_id=MACHINE, path=str(path), prices=PRICES)
        out = one.parse(raw)
        assert (one.malformed + one.skipped == 1) != bool(out)
        assert all(not (e.total_tokens or 0) for e in out)


BAD_DOCUMENTS = [
    b"",
    b"{",
    b'{"messages": [',
    b"[]",
    b"null",
    b'"text"',
    b'{"id": 5, "sessionId": 7, "messages": "no", "usageLedger": {"events": [1, "x"]}}',
    b'{"id": "T-1", "sessionId": "s", "messages": [1, null, {"type": "gemini", "tokens": "lots"}], "usageLedger": {"events": [{"id": "e", "timestamp": "bad", "tokens": {}}]}}',
    b'{"tokenUsage": {"inputTokens": "x"}, "providerLockTimestamp": 12}',
    b'{"id": "m", "sessionID": "s", "modelID": "x", "providerID": "y", "tokens": {"input": 5, "cache": []}, "time": {"created": "yesterday"}}',
    b"\xff\xfe",
]


@pytest.mark.parametrize("agent", ["gemini", "amp", "opencode", "droid"])
@pytest.mark.parametrize("data", BAD_DOCUMENTS)
def test_bad_documents_are_counted_never_raised(agent: str, data: bytes, tmp_path: Path) -> None:
    mod = module(agent)
    name = {"droid": "s.settings.json", "opencode": "msg_1.json"}.get(agent, "doc.json")
    result = mod.read_document(data, path=str(tmp_path / name), machine_id=MACHINE, prices=PRICES)
    assert result.malformed + result.skipped >= 1 or not result.events


@pytest.mark.parametrize("agent", ["hermes", "kilo", "goose", "opencode"])
@pytest.mark.parametrize(
    "content",
    [b"", b"not a database at all", b"SQLite format 3\x00" + b"\x00" * 80, b"\x00" * 4096],
)
def test_empty_or_corrupt_database_is_counted(agent: str, content: bytes, tmp_path: Path) -> None:
    mod = module(agent)
    path = tmp_path / {"hermes": "state.db", "kilo": "kilo.db", "goose": "sessions.db"}.get(
        agent, "opencode.db"
    )
    path.write_bytes(content)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = mod.read_database(str(path), machine_id=MACHINE, prices=PRICES)
    assert result.events == []
    assert result.malformed + result.skipped >= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written beside it


@pytest.mark.parametrize("agent", ["hermes", "kilo", "goose", "opencode"])
def test_database_of_another_schema_is_skipped(agent: str, tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE sessions (other_column TEXT)")
    conn.execute("CREATE TABLE message (x INTEGER)")
    conn.execute("INSERT INTO message VALUES (1)")
    conn.commit()
    conn.close()
    result = module(agent).read_database(str(path), machine_id=MACHINE, prices=PRICES)
    assert result.events == []


@pytest.mark.parametrize("agent", LINE_AGENTS)
def test_parser_has_the_claude_codex_interface(agent: str, tmp_path: Path) -> None:
    parser = module(agent).Parser(
        machine_id=MACHINE,
        path=str(tmp_path / "x.jsonl"),
        prices=PRICES,
        store_payloads=True,
        redact=None,
    )
    assert (parser.malformed, parser.skipped, parser.synthetic, parser.unknown_models) == (
        0,
        0,
        0,
        set(),
    )
    json.dumps(parser.state)
    assert parser.parse(b"{}") == [] and parser.skipped == 1
