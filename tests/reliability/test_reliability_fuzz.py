"""Fuzzing the transcript parsers and the hook path.

* Mutated real lines (``../shared/samples`` when present, and lines of a generated
  synthetic history): one field set to a value of the wrong type, out of range (1e30,
  2**64, negative, float, NaN / Infinity tokens), non-ASCII, SQL-looking, a lone
  surrogate, NUL, 100 KB long or nested deep; every scalar retyped; a key removed;
  the line truncated, spliced, or its bytes turned into invalid UTF-8. No exception
  escapes ``ClaudeParser`` / ``CodexParser``, and a line that yields no event is counted
  (malformed or skipped). Short: 300 examples per parser; full: 5000.
* Interleaved files: every good line of the sample and synthetic files (a generated
  history of 300 KB short, 3 MB full), with fuzzed bad lines between them, ingests to
  exactly the events and sessions of the clean files (plus one counted line per bad
  line), on memory, SQLite and PostgreSQL.
* Hook payloads: ``check_payload`` / ``to_event`` / ``store_records`` raise or drop only
  as documented (short 300, full 5000 examples); ``netsky hook`` (a real process) exits 0
  without output on nasty inputs (empty, invalid UTF-8, 10 MB, 100k-deep, ...) and
  stores the good payloads around them.
* SQL-looking and unicode text in every text field of Claude lines, Codex lines and
  hook payloads round-trips unchanged through ingest on every backend.
* Bugs found here keep their minimal reproduction as a regression test.
"""

from __future__ import annotations

import copy
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from netsky_conformance.strategies import sql_like

from netsky_core import (
    Event,
    EventQuery,
    RecordError,
    Session,
    SessionQuery,
    Storage,
    open_storage,
)
from netsky_core.hooks.payload import HookInputError, check_payload, to_event
from netsky_core.hooks.run import store_records
from netsky_core.ingest.claude import ClaudeParser
from netsky_core.ingest.codex import CodexParser
from netsky_core.ingest.pricing import PriceTable
from netsky_core.ingest.scan import IngestSummary, Source, ingest
from netsky_core.storage.fold import MESSAGE_LIMIT
from tests.history import generate
from tests.ingest.conftest import isolated_env

from .recorder import attempt, outcome, record, scale

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
NETSKY = Path(sys.executable).with_name("netsky")
PRICES = PriceTable.load()
MACHINE = "fuzz-machine"
CLAUDE_PATH = "/fuzz/projects/-p/11111111-2222-3333-4444-555555555555.jsonl"
CODEX_PATH = "/fuzz/sessions/2026/01/25/rollout-2026-01-25T10-32-00-019bf4b5-e7b0-75a0-8bf2-05fbf1b13c9b.jsonl"
EXAMPLES = scale(300, 5000)
SYNTHETIC_BYTES = scale(300_000, 3_000_000)  # the generated history the seeds come from
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

# Text that must come back exactly as written, in every field.
NASTY_TEXT: tuple[str, ...] = (
    *sql_like.elements,  # type: ignore[attr-defined]
    "x'); DROP TABLE events; SELECT ('",
    "%s %(name)s {0} {} $1 ? :param @var",
    "e\u0301 é \u00e9",  # combining vs precomposed: never normalized
    "\u202eevil\u202c RTL",
    "👩\u200d👩\u200d👧\u200d👦 family",
    "\U0010fffd \U0001f600 astral",
    "line\u2028sep\u2029para",
    "back\\slash \\n \\u0000 not-an-escape",
    "\x01\x1f\x7f control",
    "NULL",
    "null",
    "' OR '1'='1",
    "-- comment",
    "/* block */",
    "E'\\x41'",
    "tab\there",
    "ünïcödé 漢字 عربى עברית",
    "🚀" * 2000,
)

# -- corpus ------------------------------------------------------------------------------


@attrs.define
class Corpus:
    """Lines to mutate and good files to interleave, per parser."""

    claude_files: list[list[bytes]]
    codex_files: list[list[bytes]]
    hook_payloads: list[dict[str, Any]]
    from_samples: bool

    @property
    def claude_lines(self) -> list[bytes]:
        return [line for f in self.claude_files for line in f]

    @property
    def codex_lines(self) -> list[bytes]:
        return [line for f in self.codex_files for line in f]


def _lines(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().split(b"\n") if line.strip()]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    root = tmp_path_factory.mktemp("synthetic") / "tree"
    generate(root, target_bytes=SYNTHETIC_BYTES, seed=11)
    claude = [_lines(p) for p in sorted((root / "claude").rglob("*.jsonl"))]
    codex = [_lines(p) for p in sorted((root / "codex" / "sessions").rglob("*.jsonl"))]
    hooks: list[dict[str, Any]] = []
    from_samples = SAMPLES.is_dir()
    if from_samples:
        claude += [_lines(p) for p in sorted((SAMPLES / "claude").rglob("*.jsonl"))]
        codex += [_lines(p) for p in sorted((SAMPLES / "codex").rglob("*.jsonl"))]
        for path in sorted((SAMPLES / "hooks").glob("*/*.json")):
            hooks.extend(json.loads(path.read_text()))
    hooks += _made_payloads()
    return Corpus(claude, codex, hooks, from_samples)


def _made_payloads() -> list[dict[str, Any]]:
    """One payload of each shape the formats document (besides the samples)."""
    base = {
        "session_id": "hook-session",
        "transcript_path": "/nowhere/t.jsonl",
        "cwd": "/nowhere",
        "permission_mode": "default",
    }
    return [
        {**base, "hook_event_name": "SessionStart", "source": "resume", "model": "opus"},
        {**base, "hook_event_name": "UserPromptSubmit", "prompt": "fix it", "prompt_id": "p1"},
        {
            **base,
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": "ls"},
            "tool_use_id": "toolu_1",
        },
        {
            **base,
            "hook_event_name": "PostToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": "ls"},
            "tool_response": {"stdout": "x"},
            "tool_use_id": "toolu_1",
            "duration_ms": 12,
        },
        {**base, "hook_event_name": "SubagentStart", "agent_id": "a1", "agent_type": "Explore"},
        {**base, "hook_event_name": "Notification", "notification_type": "idle_prompt"},
        {**base, "hook_event_name": "Stop", "stop_hook_active": False},
        {"type": "agent-turn-complete", "thread-id": "codex-thread", "turn-id": "1"},
    ]


# -- mutation --------------------------------------------------------------------------


def _nested(depth: int) -> Any:
    value: Any = 1
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


def nasty_value(rng: random.Random) -> Any:
    """A value that does not belong where it is put."""
    pick = rng.randrange(30)
    simple: list[Any] = [
        None,
        True,
        0,
        -1,
        -(2**63) - 1,
        2**63,
        2**64 + 1,
        10**30,
        1e30,
        -1e30,
        1.5,
        -0.0,
        float("nan"),  # written as NaN
        float("inf"),  # Infinity
        float("-inf"),
        "",
        "\ud800",  # a lone surrogate (\ud800 in JSON)
        "a\u0000b",
        {},
        [],
        "2026-13-45T99:99:99Z",
        "2026-01-01T00:00:00",  # naive
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999+14:00",
    ]
    if pick < len(simple):
        return simple[pick]
    if pick == 24:
        return _nested(rng.randint(2, 400))
    if pick == 25:
        return "x" * rng.randint(1000, 100_000)
    if pick == 26:
        return {"x": [1, {"y": None}], "input_tokens": "12"}
    return rng.choice(NASTY_TEXT)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def _parent(obj: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        obj = obj[step]
    return obj


def _retype(value: Any, rng: random.Random) -> Any:
    """Every scalar (with probability 1/3) replaced by one of another type."""
    if isinstance(value, dict):
        return {k: _retype(v, rng) for k, v in value.items()}
    if isinstance(value, list):
        return [_retype(v, rng) for v in value]
    if rng.random() < 1 / 3:
        if isinstance(value, str):
            return rng.choice([12, 1.5, None, True, [value]])
        if isinstance(value, bool) or value is None:
            return rng.choice(["true", 1, {}])
        if isinstance(value, int | float):
            return rng.choice([str(value), -value, value * 1e30, float("nan"), None])
    return value


MUTATIONS = ("set", "set", "set", "delete", "retype", "truncate", "bytes", "splice")


def mutate(line: bytes, rng: random.Random, pool: list[bytes]) -> bytes:
    """One fuzzed version of ``line`` (never containing a newline)."""
    kind = rng.choice(MUTATIONS)
    data: bytes
    if kind in ("set", "delete", "retype"):
        try:
            obj = json.loads(line)
        except ValueError:
            kind = "bytes"
        else:
            if kind == "retype":
                obj = _retype(obj, rng)
            else:
                paths = list(_paths(obj))
                path = rng.choice(paths)
                if not path:
                    obj = nasty_value(rng) if kind == "set" else {}
                elif kind == "set":
                    _parent(obj, path)[path[-1]] = nasty_value(rng)
                else:
                    del _parent(obj, path)[path[-1]]
            text = json.dumps(obj, ensure_ascii=rng.random() < 0.5, allow_nan=True)
            data = text.encode("utf-8", "surrogatepass")
    if kind == "truncate":
        data = line[: rng.randrange(max(1, len(line)))]
    elif kind == "bytes":
        data = bytearray(line)
        for _ in range(rng.randint(1, 4)):
            junk = rng.choice(
                [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\x00", b'"', b"{", b"\\", b"]"]
            )
            at = rng.randrange(len(data) + 1)
            if rng.random() < 0.5 and at < len(data):
                data[at : at + len(junk)] = junk
            else:
                data[at:at] = junk
        data = bytes(data)
    elif kind == "splice":
        other = rng.choice(pool)
        data = line[: rng.randrange(len(line) + 1)] + other[rng.randrange(len(other) + 1) :]
    return data.replace(b"\n", b" ")


def _mutated(pool: list[bytes]) -> st.SearchStrategy[bytes]:
    return st.builds(
        lambda line, rng: mutate(line, rng, pool),
        st.sampled_from(pool),
        st.randoms(use_true_random=False),
    )


# -- 1. the parsers never raise; lines without events are counted ------------------------


def _parse_one(kind: str, raw: bytes, stats: Counter[str]) -> None:
    parser: ClaudeParser | CodexParser
    if kind == "claude":
        parser = ClaudeParser(machine_id=MACHINE, path=CLAUDE_PATH, prices=PRICES)
    else:
        parser = CodexParser(machine_id=MACHINE, path=CODEX_PATH, prices=PRICES)
    before = parser.malformed + parser.skipped
    produced = parser.parse(raw)  # must not raise
    counted = parser.malformed + parser.skipped - before
    stats["lines"] += 1
    if produced:
        assert counted == 0, (raw[:300], produced)
        assert all(type(e) is Event for e in produced)
        stats["with events"] += 1
        stats["events"] += len(produced)
    else:
        assert counted == 1, raw[:300]
        stats["malformed" if parser.malformed else "skipped"] += 1


@pytest.mark.parametrize("kind", ["claude", "codex"])
def test_parsers_never_raise_and_count_what_they_drop(kind: str, corpus: Corpus) -> None:
    pool = corpus.claude_lines if kind == "claude" else corpus.codex_lines
    stats: Counter[str] = Counter()

    @given(raw=_mutated(pool))
    @FUZZ
    def prop(raw: bytes) -> None:
        _parse_one(kind, raw, stats)

    failure = attempt(prop)
    record(
        test="Fuzz: transcript parser",
        backend=f"{kind} parser",
        load=f"{stats['lines']} mutated lines",
        faults="none",
        inputs=(
            "wrong types, 1e30 / 2**64 / negative / float / NaN / Infinity, lone "
            "surrogates, NUL, 100 KB text, nesting to 400, deleted keys, truncation, "
            "invalid UTF-8, splices"
            + (" (seeds: samples + synthetic)" if corpus.from_samples else " (synthetic)")
        ),
        lost=0,
        duplicated=0,
        result=outcome(failure, "pass: no exception escaped; every line without events counted"),
        malformed=stats["malformed"],
        skipped=stats["skipped"],
        still_valid=stats["with events"],
    )
    if failure is not None:
        raise failure


# -- 2. interleaved good and fuzzed lines ----------------------------------------------


@attrs.define
class Interleaved:
    """Clean and fuzzed versions of the same files, and the clean reference ingest."""

    kind: str
    sources: list[Source]
    bad_lines: int
    good_lines: int
    valid_mutants: int
    state_changing: int
    events: list[Event]
    sessions: list[Session]
    summary: IngestSummary


def _new_parser(kind: str, path: str, state: Any) -> ClaudeParser | CodexParser:
    if kind == "codex":
        return CodexParser(
            machine_id=MACHINE, path=path, prices=PRICES, state=copy.deepcopy(state or {})
        )
    parser = ClaudeParser(machine_id=MACHINE, path=path, prices=PRICES)
    parser._agents_started = set(state or ())
    return parser


def _state(kind: str, parser: Any) -> Any:
    return copy.deepcopy(parser.state) if kind == "codex" else set(parser._agents_started)


def _snapshot(store: Storage) -> tuple[list[Event], list[Session]]:
    events = sorted(
        (attrs.evolve(e, id=None) for e in store.query(EventQuery())),
        key=lambda e: (e.machine_id, e.session_id, e.uuid or "", e.timestamp),
    )
    sessions = sorted(store.list_sessions(SessionQuery()), key=lambda s: s.key)
    return events, sessions


def _build_interleaved(kind: str, files: list[list[bytes]], root: Path, seed: int) -> Interleaved:
    """Write the clean files, ingest them into memory, then rewrite the same paths
    with bad lines (that yield no event and leave the parser state alone, judged in
    context) between the good ones."""
    rng = random.Random(seed)
    pool = [line for f in files for line in f]
    sources: list[Source] = []
    mixed: dict[Path, bytes] = {}
    bad = good = valid = changing = 0
    for n, lines in enumerate(files):
        if kind == "claude":
            path = root / "projects" / "-p" / f"{n:04d}-session.jsonl"
        else:
            path = root / "sessions" / f"rollout-2026-01-25T10-32-00-{n:04d}-fuzz.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\n".join(lines) + b"\n")
        sources.append(Source(str(path), kind))
        context = _new_parser(kind, str(path), None)
        out: list[bytes] = []
        for line in lines:
            for _ in range(rng.choice((0, 0, 1, 2))):
                for _attempt in range(200):
                    candidate = mutate(rng.choice(pool), rng, pool)
                    if not candidate.strip():
                        continue
                    probe = _new_parser(kind, str(path), _state(kind, context))
                    before = _state(kind, probe)
                    if probe.parse(candidate):
                        valid += 1
                        continue
                    if _state(kind, probe) != before:
                        changing += 1
                        continue
                    out.append(candidate)
                    bad += 1
                    break
            out.append(line)
            good += 1
            context.parse(line)
        mixed[path] = b"\n".join(out) + b"\n"
    with open_storage("memory://") as store:
        summary = ingest(store, sources, machine_id=MACHINE, prices=PRICES)
        events, sessions = _snapshot(store)
    for path, content in mixed.items():
        path.write_bytes(content)
    return Interleaved(kind, sources, bad, good, valid, changing, events, sessions, summary)


@pytest.fixture(scope="module")
def interleaved(corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Interleaved]:
    return {
        "claude": _build_interleaved(
            "claude", corpus.claude_files, tmp_path_factory.mktemp("claude"), 1
        ),
        "codex": _build_interleaved(
            "codex", corpus.codex_files, tmp_path_factory.mktemp("codex"), 2
        ),
    }


def _open_backend(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if backend == "memory":
        return open_storage("memory://")
    if backend == "sqlite":
        return open_storage(f"sqlite:///{tmp_path}/fuzz-{time.monotonic_ns()}.db")
    make: Callable[..., str] = request.getfixturevalue("postgres_url")
    return open_storage(make())


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["claude", "codex"])
def test_good_lines_around_fuzzed_ones_are_all_ingested(
    kind: str,
    backend: str,
    interleaved: dict[str, Interleaved],
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    ref = interleaved[kind]
    with _open_backend(backend, request, tmp_path) as store:
        summary = ingest(store, ref.sources, machine_id=MACHINE, prices=PRICES)
        events, sessions = _snapshot(store)
    want = Counter((e.machine_id, e.session_id, e.uuid) for e in ref.events)
    got = Counter((e.machine_id, e.session_id, e.uuid) for e in events)
    lost = sum((want - got).values())
    duplicated = sum((got - want).values())
    counted = summary.malformed_lines + summary.skipped_lines
    expected_counted = ref.summary.malformed_lines + ref.summary.skipped_lines + ref.bad_lines
    same = events == ref.events and sessions == ref.sessions
    record(
        test="Fuzz: good lines around bad ones",
        backend=backend,
        load=f"{len(ref.sources)} {kind} files, {ref.good_lines} good lines",
        faults="none",
        inputs=f"{ref.bad_lines} fuzzed lines interleaved",
        lost=lost,
        duplicated=duplicated,
        result="pass" if same and counted == expected_counted else "FAIL",
        events=len(events),
        bad_lines_counted=counted - ref.summary.malformed_lines - ref.summary.skipped_lines,
        mutants_still_valid=ref.valid_mutants,
        mutants_setting_parser_state=ref.state_changing,  # e.g. turn_context: by design
    )
    assert (lost, duplicated) == (0, 0)
    assert events == ref.events, "events differ from the clean files' ingest"
    assert sessions == ref.sessions, "sessions differ from the clean files' ingest"
    assert counted == expected_counted
    assert summary.partial_lines == 0 and summary.files_failed == 0
    assert summary.events == ref.summary.events


# -- 3. hook payloads --------------------------------------------------------------------

RECEIVED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def hook_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``NETSKY_HOME`` for in-process hook code (its log lines land there)."""
    home = tmp_path_factory.mktemp("hook-home")
    old = os.environ.get("NETSKY_HOME")
    os.environ["NETSKY_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("NETSKY_HOME", None)
    else:
        os.environ["NETSKY_HOME"] = old


def _record_for(raw: str, framework: str, n: int) -> dict[str, Any]:
    return {
        "v": 1,
        "framework": framework,
        "raw": raw,
        "received_at": RECEIVED.isoformat(),
        "random_id": f"r{n}",
        "pid": 4242,
        "process_start_time": None,
    }


def _hook_case(corpus: Corpus, raw_bytes: bytes, framework: str, stats: Counter[str]) -> None:
    raw = raw_bytes.decode("utf-8", errors="replace")  # what `netsky hook` does
    stats["payloads"] += 1
    try:
        payload = json.loads(raw)
    except ValueError:
        stats["not JSON"] += 1
        return
    try:
        check_payload(payload, framework)
    except HookInputError:
        stats["rejected"] += 1
        return
    try:
        event = to_event(
            payload,
            raw=raw,
            framework=framework,
            machine_id=MACHINE,
            received_at=RECEIVED,
            random_id="r0",
            pid=4242,
            process_start_time=None,
        )
    except RecordError:
        stats["dropped (unstorable field)"] += 1
        event = None
    else:
        assert type(event) is Event
        stats["events"] += 1
    # The drainer's path: good payloads on both sides are stored whatever the middle is.
    good = [json.dumps(p) for p in corpus.hook_payloads[-3:-1]]
    records = [
        _record_for(good[0], "claude", 1),
        _record_for(raw, framework, 2),
        _record_for(good[1], "claude", 3),
    ]
    with open_storage("memory://") as store:
        stored = store_records(store, records, MACHINE)
        assert len(stored) == 2 + (event is not None)
        assert store.count() == len(stored)


def test_hook_payloads_fail_only_as_documented(corpus: Corpus, hook_home: Path) -> None:
    pool = [json.dumps(p).encode() for p in corpus.hook_payloads]
    stats: Counter[str] = Counter()

    @given(raw=_mutated(pool), framework=st.sampled_from(["claude", "codex"]))
    @FUZZ
    def prop(raw: bytes, framework: str) -> None:
        _hook_case(corpus, raw, framework, stats)

    failure = attempt(prop)
    record(
        test="Fuzz: hook payloads (check_payload / to_event / store_records)",
        backend="memory",
        load=f"{stats['payloads']} mutated payloads",
        faults="none",
        inputs="mutated sample and documented payloads (same mutations as transcripts)",
        lost=0,
        duplicated=0,
        result=outcome(
            failure, "pass: only HookInputError / RecordError; good payloads around them stored"
        ),
        not_json=stats["not JSON"],
        rejected=stats["rejected"],
        dropped_unstorable=stats["dropped (unstorable field)"],
        stored=stats["events"],
    )
    if failure is not None:
        raise failure


def _hook_env(root: Path, db: Path) -> dict[str, str]:
    return isolated_env(
        root,
        NETSKY_MACHINE_ID=MACHINE,
        NETSKY_DATABASE_URL=f"sqlite:///{db}",
        NETSKY_HOOK_FOREGROUND="1",
    )


def _payload(session: str, event: str = "Stop", **extra: Any) -> bytes:
    return json.dumps({"session_id": session, "hook_event_name": event, **extra}).encode()


DEEP = "[" * 100_000 + "]" * 100_000


def _hook_cases() -> list[tuple[str, list[str], bytes, str]]:
    """(name, extra argv, stdin, what should happen: stored / rejected / ignored)."""
    return [
        ("empty stdin", [], b"", "ignored"),
        ("whitespace", [], b"  \n\t ", "ignored"),
        ("not JSON", [], b"{'session_id': 1", "rejected"),
        ("JSON array", [], b"[1, 2, 3]", "rejected"),
        ("no session_id", [], b'{"hook_event_name": "Stop"}', "rejected"),
        ("session_id a number", [], b'{"hook_event_name": "Stop", "session_id": 5}', "rejected"),
        ("truncated", [], _payload("cut-session")[:25], "rejected"),
        (
            "invalid UTF-8",
            [],
            _payload("utf8-\xff-session").replace(b"\\u00ff", b"\xff\xfe"),
            "stored",
        ),
        (
            "NaN duration",
            [],
            _payload("nan-session", "PostToolUse", tool_use_id="t-nan").replace(b'"nan"', b"NaN")[
                :-1
            ]
            + b', "duration_ms": NaN}',
            "stored",
        ),
        (
            "10 MB prompt",
            [],
            _payload("big-session", "UserPromptSubmit", prompt="x" * (10 << 20)),
            "stored",
        ),
        (
            "SQL in every field",
            [],
            _payload(
                "'; DROP TABLE sessions; --",
                "PreToolUse",
                tool_name="x'); DELETE FROM events;--",
                tool_use_id="'--",
                cwd="/tmp/'; --",
                transcript_path="/t/'.jsonl",
                permission_mode="' OR 1=1",
            ),
            "stored",
        ),
        (
            "unicode everywhere",
            [],
            _payload(
                "セッション-🚀-e\u0301",
                "UserPromptSubmit",
                prompt="ünï \u202e 👩\u200d👩\u200d👧",
                cwd="/ü/漢字",
            ),
            "stored",
        ),
        ("NUL escapes", [], _payload("nul\u0000session", "Stop", cwd="/a\u0000b"), "stored"),
        ("100k-deep array", [], DEEP.encode(), "rejected"),
        (
            "100k-deep field",
            [],
            b'{"session_id": "deep-session", "hook_event_name": "Stop", "x": '
            + DEEP.encode()
            + b"}",
            "rejected",
        ),
        (
            "codex notify argv",
            [
                "--framework",
                "codex",
                json.dumps({"type": "agent-turn-complete", "thread-id": "th-'; --"}),
            ],
            b"",
            "stored",
        ),
        # a warning on stderr, and the event still stored (a newer netsky's option)
        ("unknown option", ["--bogus"], _payload("unknown-option"), "stored"),
    ]


def test_netsky_hook_processes_survive_nasty_inputs(tmp_path: Path) -> None:
    db = tmp_path / "hooks.db"
    env = _hook_env(tmp_path, db)
    sentinels = [f"good-{i}" for i in range(2)]
    runs: list[tuple[str, subprocess.CompletedProcess[bytes], float]] = []

    def hook(name: str, argv: list[str], stdin: bytes) -> None:
        started = time.monotonic()
        proc = subprocess.run(
            [str(NETSKY), "hook", *argv], input=stdin, env=env, capture_output=True, timeout=120
        )
        runs.append((name, proc, time.monotonic() - started))

    hook("good before", [], _payload(sentinels[0], "UserPromptSubmit", prompt="before"))
    cases = _hook_cases()
    for name, argv, stdin, _ in cases:
        hook(name, argv, stdin)
    hook("good after", [], _payload(sentinels[1], "UserPromptSubmit", prompt="after"))

    with open_storage(f"sqlite:///{db}") as store:
        stored = Counter(e.session_id for e in store.query(EventQuery()))
    home = tmp_path / "netsky-home"
    rejected = home / "spool" / "rejected.jsonl"
    rejected_lines = rejected.read_bytes().splitlines() if rejected.exists() else []
    log = (home / "hook.log").read_text() if (home / "hook.log").exists() else ""
    lost = sum(1 for s in sentinels if stored[s] != 1)
    duplicated = sum(n - 1 for n in stored.values() if n > 1)
    noisy = [(n, p.stdout[:200], p.stderr[:200]) for n, p, _ in runs if p.stdout or p.stderr]
    failed = [(n, p.returncode) for n, p, _ in runs if p.returncode != 0]
    slowest = max(runs, key=lambda r: r[2])
    record(
        test="Fuzz: `netsky hook` process",
        backend="sqlite",
        load=f"{len(runs)} hook processes (foreground)",
        faults="none",
        inputs=", ".join(name for name, *_ in cases),
        lost=lost,
        duplicated=duplicated,
        result="pass" if not (lost or duplicated or failed) else "FAIL",
        stored_events=sum(stored.values()),
        rejected_lines=len(rejected_lines),
        log_lines=len(log.splitlines()),
        slowest=f"{slowest[0]} {slowest[2]:.2f}s",
    )
    assert failed == [], failed
    # only the wrong command line is reported on stderr (and still exits 0)
    assert [n for n, *_ in noisy] == ["unknown option"], noisy
    assert (lost, duplicated) == (0, 0), stored
    assert all(p.returncode == 0 for _, p, _ in runs)
    expected_stored = {
        "utf8-\ufffd\ufffd-session",
        "nan-session",
        "big-session",
        "'; DROP TABLE sessions; --",
        "セッション-🚀-e\u0301",
        "nulsession",
        "th-'; --",
        "unknown-option",
        *sentinels,
    }
    assert set(stored) == expected_stored, stored
    n_rejected = sum(1 for *_, outcome in cases if outcome == "rejected")
    assert len(rejected_lines) == n_rejected
    assert "hook failed unexpectedly" not in log, log


def test_too_deep_hook_payload_is_set_aside(tmp_path: Path) -> None:
    env = _hook_env(tmp_path, tmp_path / "deep.db")
    payload = b'{"session_id": "s", "hook_event_name": "Stop", "x": ' + DEEP.encode() + b"}"
    proc = subprocess.run(
        [str(NETSKY), "hook"], input=payload, env=env, capture_output=True, timeout=120
    )
    assert proc.returncode == 0
    assert (tmp_path / "netsky-home" / "spool" / "rejected.jsonl").exists()


def test_out_of_range_duration_drops_only_the_duration() -> None:
    payload = {
        "session_id": "s",
        "hook_event_name": "PostToolUse",
        "tool_use_id": "t1",
        "duration_ms": 10**30,
    }
    event = to_event(
        payload,
        raw=json.dumps(payload),
        framework="claude",
        machine_id=MACHINE,
        received_at=RECEIVED,
        random_id="r",
        pid=None,
        process_start_time=None,
    )
    assert event.duration_ms is None


# -- 4. deep nesting and other known parser bugs -------------------------------------------


def _deep_claude_line() -> bytes:
    return (
        b'{"type":"user","timestamp":"2026-01-01T00:00:01Z","sessionId":"deep","uuid":"u1",'
        b'"message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t",'
        b'"content":' + DEEP.encode() + b"}]}}"
    )


def test_claude_parser_counts_a_100k_deep_line_as_malformed() -> None:
    parser = ClaudeParser(machine_id=MACHINE, path=CLAUDE_PATH, prices=PRICES)
    assert parser.parse(_deep_claude_line()) == []
    assert parser.malformed == 1


def test_codex_parser_counts_a_100k_deep_line_as_malformed() -> None:
    parser = CodexParser(machine_id=MACHINE, path=CODEX_PATH, prices=PRICES)
    line = (
        b'{"timestamp":"2026-01-25T10:32:01Z","type":"response_item","payload":'
        b'{"type":"function_call","call_id":"c1","name":"shell","input":' + DEEP.encode() + b"}}"
    )
    assert parser.parse(line) == []
    assert parser.malformed == 1


def test_deep_line_in_a_file_keeps_the_good_lines(tmp_path: Path) -> None:
    """A 100k-deep line between good ones is counted malformed; the good lines are
    stored and the run finishes."""
    path = tmp_path / "projects" / "-p" / "deep.jsonl"
    path.parent.mkdir(parents=True)
    good = [
        json.dumps(
            {
                "type": "user",
                "timestamp": f"2026-01-01T00:00:0{i}Z",
                "sessionId": "deep",
                "uuid": f"good-{i}",
                "message": {"role": "user", "content": f"prompt {i}"},
            }
        ).encode()
        for i in range(2)
    ]
    path.write_bytes(good[0] + b"\n" + _deep_claude_line() + b"\n" + good[1] + b"\n")
    error = None
    with open_storage("memory://") as store:
        try:
            ingest(store, [Source(str(path), "claude")], machine_id=MACHINE, prices=PRICES)
        except RecursionError as exc:
            error = exc
        stored = store.count()
    record(
        test="Fuzz: 100k-deep line between good lines",
        backend="memory",
        load="1 file, 2 good lines",
        faults="none",
        inputs="one line nested 100,000 deep",
        lost=2 - stored,
        duplicated=0,
        result="pass"
        if error is None and stored == 2
        else f"BUG: ingest raised {type(error).__name__}, {2 - stored} good lines lost",
    )
    assert error is None
    assert stored == 2


def test_one_bad_codex_session_meta_does_not_lose_the_rest_of_the_rollout() -> None:
    parser = CodexParser(machine_id=MACHINE, path=CODEX_PATH, prices=PRICES)
    bad = b'{"timestamp":"2026-01-25T10:32:00Z","type":"session_meta","payload":{"id":"a\\u0000b"}}'
    good = b'{"timestamp":"2026-01-25T10:32:01Z","type":"event_msg","payload":{"type":"user_message","message":"hi"}}'
    assert parser.parse(bad) == [] and parser.malformed == 1
    assert len(parser.parse(good)) == 1


def _token_count(second: int, total_input: int, total_output: int) -> bytes:
    usage = {
        "input_tokens": total_input,
        "cached_input_tokens": 0,
        "output_tokens": total_output,
        "reasoning_output_tokens": 0,
        "total_tokens": total_input + total_output,
    }
    return json.dumps(
        {
            "timestamp": f"2026-01-25T10:32:0{second}Z",
            "type": "event_msg",
            "payload": {"type": "token_count", "info": {"total_token_usage": usage}},
        }
    ).encode()


def test_a_negative_codex_total_does_not_inflate_later_usage() -> None:
    parser = CodexParser(machine_id=MACHINE, path=CODEX_PATH, prices=PRICES)
    assert [e.tokens_input for e in parser.parse(_token_count(1, 100, 10))] == [100]
    assert parser.parse(_token_count(2, -1_000_000, 0)) == []
    (event,) = parser.parse(_token_count(3, 200, 20))
    assert (event.tokens_input, event.tokens_output) == (100, 10)


@pytest.mark.parametrize("backend", BACKENDS)
def test_10_mb_lines_are_ingested_between_good_ones(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A 10 MB prompt (longer than the 8 MB read chunk) in a Claude transcript and a
    Codex rollout is stored whole; a 10 MB garbage line is counted; neighbours stay."""
    big = "ü" * (5 << 20)  # 10 MB of UTF-8
    claude = tmp_path / "projects" / "-p" / "big.jsonl"
    claude.parent.mkdir(parents=True)

    def user(uuid: str, text: str) -> bytes:
        line = {
            "type": "user",
            "timestamp": "2026-01-01T00:00:01Z",
            "sessionId": "big",
            "uuid": uuid,
            "message": {"role": "user", "content": text},
        }
        return json.dumps(line, ensure_ascii=False).encode()

    garbage = b'{"type": "user", "x": "' + b"\xff" * (10 << 20) + b"\xc3"
    claude.write_bytes(
        b"\n".join([user("a", "before"), user("big", big), garbage, user("b", "after")]) + b"\n"
    )
    codex = tmp_path / "sessions" / "rollout-2026-01-25T10-32-00-0000-big.jsonl"
    codex.parent.mkdir(parents=True)
    meta = {"timestamp": "2026-01-25T10:32:00Z", "type": "session_meta", "payload": {"id": "cx"}}
    message = {
        "timestamp": "2026-01-25T10:32:01Z",
        "type": "event_msg",
        "payload": {"type": "user_message", "message": big},
    }
    codex.write_bytes(
        b"\n".join([json.dumps(meta).encode(), json.dumps(message, ensure_ascii=False).encode()])
        + b"\n"
    )
    sources = [Source(str(claude), "claude"), Source(str(codex), "codex")]
    with _open_backend(backend, request, tmp_path) as store:
        summary = ingest(store, sources, machine_id=MACHINE, prices=PRICES)
        prompts = {
            e.uuid: json.loads(e.payload or "null")["prompt"]
            for e in store.query(EventQuery().with_event_type("UserPromptSubmit"))
        }
    codex_prompt = [v for k, v in prompts.items() if k and k.startswith("codex:")]
    lost = sum(1 for k in ("a", "big", "b") if k not in prompts) + (len(codex_prompt) != 1)
    record(
        test="Fuzz: 10 MB lines",
        backend=backend,
        load="2 files, 3 lines of 10 MB",
        faults="none",
        inputs="10 MB prompt (Claude, Codex), 10 MB invalid line",
        lost=lost,
        duplicated=max(0, len(prompts) - 4),
        result="pass" if lost == 0 and prompts.get("big") == big else "FAIL",
        bytes_read=summary.bytes_read,
    )
    assert lost == 0
    assert prompts["big"] == big and codex_prompt == [big]
    assert (prompts["a"], prompts["b"]) == ("before", "after")
    assert summary.malformed_lines == 1 and summary.partial_lines == 0


# -- 5. SQL-looking and unicode text round-trips through ingest on every backend ----------


def _nasty_strings() -> list[str]:
    rng = random.Random(5)
    extra = []
    for _ in range(12):
        chars = []
        for _ in range(rng.randint(1, 40)):
            cp = rng.choice(
                (rng.randint(1, 0x7F), rng.randint(0x80, 0xD7FF), rng.randint(0xE000, 0x10FFFF))
            )
            chars.append(chr(cp))
        extra.append("".join(chars))
    return [t for t in (*NASTY_TEXT, *extra) if t.strip()]


def _claude_round_trip_lines(text: str, i: int) -> tuple[list[bytes], dict[str, Any]]:
    session = f"{text}#{i}"
    common = {
        "sessionId": session,
        "cwd": f"/w/{text}",
        "gitBranch": f"b/{text}",
        "version": text,
        "isSidechain": False,
    }
    lines = [
        {
            **common,
            "type": "user",
            "uuid": f"p-{text}",
            "timestamp": "2026-02-01T10:00:00.000Z",
            "promptId": f"pid-{text}",
            "message": {"role": "user", "content": f"prompt {text}"},
        },
        {
            **common,
            "type": "assistant",
            "uuid": f"a-{text}",
            "timestamp": "2026-02-01T10:00:01.000Z",
            "requestId": f"req-{text}",
            "message": {
                "id": f"msg-{text}",
                "model": f"model-{text}",
                "role": "assistant",
                "stop_reason": text,
                "usage": {"input_tokens": 3, "output_tokens": 5},
                "content": [
                    {"type": "text", "text": text},
                    {
                        "type": "tool_use",
                        "id": f"tu-{text}",
                        "name": f"tool-{text}",
                        "input": {"arg": text},
                    },
                ],
            },
        },
        {
            **common,
            "type": "user",
            "uuid": f"r-{text}",
            "timestamp": "2026-02-01T10:00:02.000Z",
            "message": {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": f"tu-{text}", "content": text}],
            },
        },
        {
            **common,
            "type": f"custom-{text}",
            "uuid": f"c-{text}",
            "timestamp": "2026-02-01T10:00:03.000Z",
            "note": text,
        },
    ]
    expect = {
        "session": session,
        "cwd": f"/w/{text}",
        "git_branch": f"b/{text}",
        "model": f"model-{text}",
        "prompt_uuid": f"prompt:pid-{text}",
        "prompt": f"prompt {text}",
        "api_uuid": f"api:msg-{text}:req-{text}",
        "tool_uuid": f"tool_use:tu-{text}",
        "tool_name": f"tool-{text}",
        "tool_input": {"arg": text},
        "result_uuid": f"tool_result:tu-{text}",
        "result": text,
        "custom_type": f"custom-{text}",
    }
    return [json.dumps(line, ensure_ascii=i % 2 == 0).encode() for line in lines], expect


def _codex_round_trip_lines(text: str, i: int) -> tuple[list[bytes], dict[str, Any]]:
    session = f"{text}#x{i}"
    lines = [
        {
            "timestamp": "2026-02-02T10:00:00Z",
            "type": "session_meta",
            "payload": {
                "id": session,
                "cwd": f"/c/{text}",
                "cli_version": text,
                "git": {"branch": f"b/{text}"},
            },
        },
        {
            "timestamp": "2026-02-02T10:00:01Z",
            "type": "turn_context",
            "payload": {"model": f"model-{text}", "cwd": f"/c/{text}"},
        },
        {
            "timestamp": "2026-02-02T10:00:02Z",
            "type": "event_msg",
            "payload": {"type": "user_message", "message": f"prompt {text}"},
        },
        {
            "timestamp": "2026-02-02T10:00:03Z",
            "type": "response_item",
            "payload": {
                "type": "function_call",
                "name": f"tool-{text}",
                "call_id": f"call-{text}",
                "arguments": json.dumps({"cmd": text}),
            },
        },
        {
            "timestamp": "2026-02-02T10:00:04Z",
            "type": "response_item",
            "payload": {"type": "function_call_output", "call_id": f"call-{text}", "output": text},
        },
        {
            "timestamp": "2026-02-02T10:00:05Z",
            "type": "event_msg",
            "payload": {
                "type": "token_count",
                "info": {
                    "total_token_usage": {
                        "input_tokens": 10,
                        "cached_input_tokens": 2,
                        "output_tokens": 4,
                        "reasoning_output_tokens": 1,
                        "total_tokens": 14,
                    }
                },
            },
        },
    ]
    expect = {
        "session": session,
        "cwd": f"/c/{text}",
        "git_branch": f"b/{text}",
        "model": f"model-{text}",
        "prompt": f"prompt {text}",
        "tool_uuid": f"tool_use:call-{text}",
        "tool_name": f"tool-{text}",
        "tool_input": {"cmd": text},
        "result_uuid": f"tool_result:call-{text}",
        "result": text,
    }
    return [json.dumps(line, ensure_ascii=i % 2 == 1).encode() for line in lines], expect


def _hook_round_trip_payload(text: str, i: int) -> tuple[str, dict[str, Any]]:
    payload = {
        "session_id": f"hook-{text}#{i}",
        "hook_event_name": "PreToolUse",
        "tool_name": f"tool-{text}",
        "tool_use_id": f"tu-{text}",
        "tool_input": {"command": text},
        "cwd": f"/h/{text}",
        "transcript_path": f"/t/{text}.jsonl",
        "permission_mode": f"mode-{text}",
        "model": f"model-{text}",
    }
    return json.dumps(payload, ensure_ascii=i % 2 == 0), payload


def _summary_text(text: str) -> str:
    """A prompt as the session summary keeps it (cut at ``MESSAGE_LIMIT`` with "…")."""
    if len(text) <= MESSAGE_LIMIT:
        return text
    return text[: MESSAGE_LIMIT - 1] + "\u2026"


def _check_round_trip(
    store: Storage,
    claude: list[dict[str, Any]],
    codex: list[dict[str, Any]],
    hooks: list[dict[str, Any]],
    raws: list[str],
) -> int:
    """Every nasty value is stored exactly; returns the number of values checked."""
    checked = 0
    by_key = {(e.session_id, e.uuid): e for e in store.query(EventQuery())}

    def eq(got: Any, want: Any) -> None:
        nonlocal checked
        checked += 1
        assert got == want, (got, want)

    for x in claude:
        s = x["session"]
        prompt = by_key[(s, x["prompt_uuid"])]
        eq(json.loads(prompt.payload or "null")["prompt"], x["prompt"])
        eq((prompt.cwd, prompt.git_branch), (x["cwd"], x["git_branch"]))
        api = by_key[(s, x["api_uuid"])]
        eq((api.model, api.tokens_input, api.tokens_output), (x["model"], 3, 5))
        tool = by_key[(s, x["tool_uuid"])]
        eq(
            (tool.tool_name, json.loads(tool.payload or "null")["tool_input"]),
            (x["tool_name"], x["tool_input"]),
        )
        result = by_key[(s, x["result_uuid"])]
        eq(json.loads(result.payload or "null")["tool_response"], x["result"])
        custom = [
            e for (sid, _), e in by_key.items() if sid == s and e.event_type == x["custom_type"]
        ]
        eq(len(custom), 1)
        session = store.get_session_by_key(MACHINE, s)
        assert session is not None
        eq(
            (session.cwd, session.git_branch, session.model, session.first_user_message),
            (x["cwd"], x["git_branch"], x["model"], _summary_text(x["prompt"])),
        )
    for x in codex:
        s = x["session"]
        events = {e.uuid: e for (sid, _), e in by_key.items() if sid == s}
        tool = events[x["tool_uuid"]]
        eq(
            (tool.tool_name, tool.cwd, tool.git_branch, tool.model),
            (x["tool_name"], x["cwd"], x["git_branch"], x["model"]),
        )
        eq(json.loads(tool.payload or "null")["tool_input"], x["tool_input"])
        eq(json.loads(events[x["result_uuid"]].payload or "null")["tool_response"], x["result"])
        prompts = [e for e in events.values() if e.event_type == "UserPromptSubmit"]
        eq([json.loads(e.payload or "null")["prompt"] for e in prompts], [x["prompt"]])
    for payload, raw in zip(hooks, raws):
        event = by_key[(payload["session_id"], f"tool_use:{payload['tool_use_id']}")]
        eq(
            (
                event.tool_name,
                event.tool_use_id,
                event.cwd,
                event.transcript_path,
                event.permission_mode,
                event.model,
                event.payload,
            ),
            (
                payload["tool_name"],
                payload["tool_use_id"],
                payload["cwd"],
                payload["transcript_path"],
                payload["permission_mode"],
                payload["model"],
                raw,
            ),
        )
    return checked


@pytest.mark.parametrize("backend", BACKENDS)
def test_sql_looking_and_unicode_text_round_trips_through_ingest(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, hook_home: Path
) -> None:
    texts = _nasty_strings()
    claude_lines: list[bytes] = []
    codex_files: dict[str, list[bytes]] = {}
    claude_expect, codex_expect, hook_payloads, hook_raws = [], [], [], []
    for i, text in enumerate(texts):
        lines, expect = _claude_round_trip_lines(text, i)
        claude_lines += lines
        claude_expect.append(expect)
        lines, expect = _codex_round_trip_lines(text, i)
        codex_files[f"rollout-2026-02-02T10-00-00-{i:04d}.jsonl"] = lines
        codex_expect.append(expect)
        raw, payload = _hook_round_trip_payload(text, i)
        hook_raws.append(raw)
        hook_payloads.append(payload)
    claude_file = tmp_path / "projects" / "-p" / "ünï'; DROP TABLE positions;--.jsonl"
    claude_file.parent.mkdir(parents=True)
    claude_file.write_bytes(b"\n".join(claude_lines) + b"\n")
    sources = [Source(str(claude_file), "claude")]
    for name, lines in codex_files.items():
        path = tmp_path / "sessions" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\n".join(lines) + b"\n")
        sources.append(Source(str(path), "codex"))
    records = [_record_for(raw, "claude", n) for n, raw in enumerate(hook_raws)]
    with _open_backend(backend, request, tmp_path) as store:
        summary = ingest(store, sources, machine_id=MACHINE, prices=PRICES)
        store_records(store, records, MACHINE)
        checked = _check_round_trip(store, claude_expect, codex_expect, hook_payloads, hook_raws)
        events, sessions = _snapshot(store)
        position = store.get_transcript_position(MACHINE, str(claude_file))
    with open_storage("memory://") as reference:
        ingest(reference, sources, machine_id=MACHINE, prices=PRICES)
        store_records(reference, records, MACHINE)
        ref_events, ref_sessions = _snapshot(reference)
    want = Counter((e.session_id, e.uuid) for e in ref_events)
    got = Counter((e.session_id, e.uuid) for e in events)
    record(
        test="Round trip: SQL-looking and unicode text via ingest",
        backend=backend,
        load=f"{len(texts)} strings x (Claude + Codex + hook) lines, {len(events)} events",
        faults="none",
        inputs="SQL fragments, quotes, %s/$1 placeholders, combining marks, RTL, ZWJ, astral, controls, 8 KB emoji",
        lost=sum((want - got).values()),
        duplicated=sum((got - want).values()),
        result="pass" if events == ref_events and sessions == ref_sessions else "FAIL",
        values_checked=checked,
    )
    assert summary.malformed_lines == 0 and summary.files_failed == 0
    assert position is not None and position.path == str(claude_file)
    assert events == ref_events
    assert sessions == ref_sessions
