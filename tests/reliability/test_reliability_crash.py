"""kill -9 of writers, ingesters and ``netsky copy`` at random moments, then a re-run.

Per backend (a SQLite file, a PostgreSQL schema) and per process kind, each trial
starts the process on a fresh store, SIGKILLs it after a random delay within the
time a clean run takes (past its start-up), re-runs it to completion, and compares
the store with the clean run's (computed once per backend and kind): events (ids
aside), sessions, stats, file positions. SQLite's ``PRAGMA integrity_check`` must
pass after the kill and after the re-run.

* ``writer``: a process inserting a known set of events through ``insert_many``
  (batches) and ``insert`` (single events), including lesser versions of events
  that a later, better version supersedes;
* ``ingest``: ``netsky ingest --batch-size 20`` of a generated history;
* ``copy``: ``netsky copy --batch 100`` from a seeded SQLite store (a generated
  history, keyless events including identical twins, git context, a session whose
  old events gc removed) into the store under test.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from netsky_core import (
    Event,
    EventSource,
    EventType,
    FilePosition,
    GitContext,
    SessionQuery,
    StorageStatsQuery,
    iter_events,
    open_storage,
)
from tests.history import generate
from tests.ingest.conftest import NETSKY, isolated_env

from .recorder import record, scale

REPO = Path(__file__).resolve().parents[2]
TRIALS = scale(4, 20)  # per backend and kind: 12 per backend, 60 in the full version
HISTORY_BYTES = 5_000_000
WRITER_EVENTS = 10_000
MACHINE = "crash-machine"
T0 = datetime(2026, 3, 1, tzinfo=UTC)
KINDS = ("writer", "ingest", "copy")


# -- the writer process ------------------------------------------------------------------


def writer_events(n: int) -> list[list[Event]]:
    """The writer's chunks, in order: 100 events each over 12 sessions and 2 machines.

    Every 7th event is an API response; those of the next chunk are first offered
    as a lesser version (fewer tokens, a later timestamp) one chunk before their final
    version, as the early lines of a streamed response are.
    """

    def event(i: int, *, partial: bool = False) -> Event:
        api = i % 7 == 0
        return Event(
            machine_id=f"{MACHINE}-{i % 2}",
            session_id=f"s{i % 12}",
            event_type=EventType.API_REQUEST if api else EventType.PRE_TOOL_USE,
            timestamp=T0 + timedelta(seconds=i, milliseconds=5 if partial else 0),
            uuid=f"w-{i}",
            source=EventSource.API,
            framework="claude",
            tool_name=None if api else "Edit",
            model="claude-opus-4-6" if api else None,
            tokens_input=(i % 50) + 1 if api else None,
            tokens_output=(1 if partial else 40 + i % 30) if api else None,
            cost_usd=(0.00001 if partial else 0.0002 * (i % 5)) if api else None,
            payload=json.dumps({"i": i}),
        )

    chunks: list[list[Event]] = []
    for start in range(0, n, 100):
        chunk = [event(i) for i in range(start, min(n, start + 100))]
        first = start + 100 + (-(start + 100)) % 7
        ahead = [event(i, partial=True) for i in range(first, min(n, start + 200), 7)]
        chunks.append(chunk + ahead)
    return chunks


def _writer(url: str, n: int) -> None:
    with open_storage(url) as store:
        print("ready", flush=True)
        for number, chunk in enumerate(writer_events(n)):
            if number % 4 == 3:
                for event in chunk:
                    store.insert(event)
            else:
                store.insert_many(chunk)
    print("done", flush=True)


def _child(role: str, *args: str) -> list[str]:
    code = (
        f"import sys; sys.path.insert(0, {str(REPO)!r}); "
        "from tests.reliability.test_reliability_crash import _main; "
        "raise SystemExit(_main(sys.argv[1:]))"
    )
    return [sys.executable, "-c", code, role, *args]


def _main(argv: list[str]) -> int:
    if argv[0] == "writer":
        _writer(argv[1], int(argv[2]))
        return 0
    raise ValueError(f"unknown role {argv[0]!r}")


# -- snapshots ---------------------------------------------------------------------------


@attrs.frozen
class Snapshot:
    events: Counter[Event]
    sessions: list[Any]
    stats: Any
    positions: list[tuple[Any, ...]]

    @property
    def n_events(self) -> int:
        return sum(self.events.values())


def _position(p: FilePosition, *, exact: bool) -> tuple[Any, ...]:
    # an ingest stamps each position with the time it wrote it; a copy keeps the source's
    return attrs.astuple(p if exact else attrs.evolve(p, updated_at=None))


def snapshot(url: str, *, exact_positions: bool) -> Snapshot:
    with open_storage(url) as store:
        events = Counter(attrs.evolve(e, id=None) for b in iter_events(store) for e in b)
        return Snapshot(
            events=events,
            sessions=sorted(store.list_sessions(SessionQuery()), key=lambda s: s.key),
            stats=store.storage_stats(StorageStatsQuery()),
            positions=sorted(
                _position(p, exact=exact_positions) for p in store.query_transcript_positions()
            ),
        )


def _event_key(e: Event) -> Any:
    """What makes a stored event the same one: machine and uuid (an event filed under
    another session than in the clean run is neither lost nor doubled, though its
    sessions then differ), or for a keyless event the whole event."""
    return (e.machine_id, e.uuid) if e.uuid is not None else e


def lost_and_duplicated(got: Snapshot, want: Snapshot) -> tuple[int, int]:
    """Events of the clean run missing from ``got``, and stored more often than in it."""
    have: Counter[Any] = Counter()
    wanted: Counter[Any] = Counter()
    for events, into in ((got.events, have), (want.events, wanted)):
        for e, n in events.items():
            into[_event_key(e)] += n
    return sum((wanted - have).values()), sum((have - wanted).values())


def _differences(got: Snapshot, want: Snapshot) -> list[str]:
    out = []
    if got.events != want.events:
        out.append(
            f"events: {sum((got.events - want.events).values())} unexpected, "
            f"{sum((want.events - got.events).values())} missing"
        )
    if got.sessions != want.sessions:
        wanted = {s.key: s for s in want.sessions}
        bad = [s.session_id for s in got.sessions if wanted.get(s.key) != s]
        out.append(f"sessions differ: {bad[:5]} ({len(got.sessions)} vs {len(want.sessions)})")
    if got.stats != want.stats:
        out.append(f"stats: {got.stats} vs {want.stats}")
    if got.positions != want.positions:
        # (machine_id, path, offset, line_number, last_uuid, size, ...): a position that
        # stops short of the clean run's but records the file's full size makes the
        # next ingest think the file unchanged, and skip the rest of it
        wanted_pos = {p[:2]: p for p in want.positions}
        short = [
            f"{Path(p[1]).name} at {p[2]} of {p[5]} bytes (clean run: {wanted_pos[p[:2]][2]})"
            for p in got.positions
            if p[:2] in wanted_pos and p[2] < wanted_pos[p[:2]][2] and p[5] == wanted_pos[p[:2]][5]
        ]
        out.append(f"positions differ; stopped short, file size recorded as read: {short}")
    return out


def _integrity(url: str) -> list[str]:
    if not url.startswith("sqlite"):
        return ["ok"]
    with open_storage(url) as store:
        return list(store.engine.integrity_check())  # type: ignore[attr-defined]


# -- the process kinds -------------------------------------------------------------------


@attrs.define
class Kind:
    """How to run one process kind against a store URL."""

    name: str
    command: Callable[[str], list[str]]
    env: dict[str, str]
    exact_positions: bool
    waits_for_ready: bool = False

    def startup_s(self, url: str) -> float:
        """How long the process takes to get going (imports, opening the store):
        kills are spread over the rest of its run, where its work is."""
        if self.waits_for_ready:
            return 0.0  # the writer's clock starts when it says "ready"
        started = time.monotonic()
        subprocess.run(
            [str(NETSKY), "--db", url, "stats"], env=self.env, capture_output=True, check=True
        )
        return time.monotonic() - started


def _run_clean(kind: Kind, url: str) -> float:
    """A full run; returns the time from start (or 'ready') to exit."""
    started = time.monotonic()
    proc = subprocess.Popen(
        kind.command(url), env=kind.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    if kind.waits_for_ready:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"
        started = time.monotonic()
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, (kind.name, out[-2000:], err[-2000:])
    return time.monotonic() - started


@attrs.define
class Tally:
    trials: int = 0
    lost: int = 0
    duplicated: int = 0
    killed: int = 0  # the process was still running when SIGKILL came
    partial: int = 0  # ... and left a store holding part, not all, of the clean run
    problems: list[str] = attrs.field(factory=list)


def _trial(
    kind: Kind, url: str, window: tuple[float, float], want: Snapshot, rng: random.Random
) -> Tally:
    tally = Tally(trials=1)
    proc = subprocess.Popen(
        kind.command(url), env=kind.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    if kind.waits_for_ready:
        assert proc.stdout is not None
        if proc.stdout.readline() != b"ready\n":
            proc.wait()
            tally.problems.append(f"{kind.name} did not start")
            return tally
    time.sleep(rng.uniform(*window))
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        tally.killed = 1
    proc.communicate()
    if tally.killed:
        try:
            after = snapshot(url, exact_positions=kind.exact_positions)
        except Exception as exc:  # a store left unreadable by the kill is a finding
            tally.problems.append(f"after the kill: {type(exc).__name__}: {exc}")
            return tally
        started = after.n_events or after.sessions or after.positions
        tally.partial = int(bool(started) and bool(_differences(after, want)))
    elif proc.returncode != 0:
        tally.problems.append(f"{kind.name} exited {proc.returncode} without a kill")
    if _integrity(url) != ["ok"]:
        tally.problems.append("integrity_check failed after the kill")
    rerun = subprocess.run(kind.command(url), env=kind.env, capture_output=True, check=False)
    if rerun.returncode != 0:
        tally.problems.append(f"re-run exited {rerun.returncode}: {rerun.stderr[-1000:]!r}")
        return tally
    if _integrity(url) != ["ok"]:
        tally.problems.append("integrity_check failed after the re-run")
    got = snapshot(url, exact_positions=kind.exact_positions)
    tally.lost, tally.duplicated = lost_and_duplicated(got, want)
    tally.problems += _differences(got, want)
    return tally


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crash-history")
    generate(
        root / "tree",
        target_bytes=HISTORY_BYTES,
        seed=23,
        days=3,
        start=date.today() - timedelta(days=5),
    )
    return root


@pytest.fixture(scope="module")
def seeded_source(history: Path) -> str:
    """The SQLite store ``netsky copy`` reads: a history plus what only a copy carries."""
    url = f"sqlite:///{history}/source.db"
    env = isolated_env(
        history / "seed-env",
        NETSKY_MACHINE_ID=MACHINE,
        CLAUDE_CONFIG_DIR=str(history / "tree" / "claude"),
        CODEX_HOME=str(history / "tree" / "codex"),
    )
    done = subprocess.run(
        [str(NETSKY), "--db", url, "ingest"], env=env, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr
    now = datetime.now(UTC)
    with open_storage(url) as store:
        extra = [
            Event(
                machine_id=MACHINE,
                session_id=f"copy-s{i % 9}",
                event_type=EventType.POST_TOOL_USE,
                timestamp=now - timedelta(hours=1, seconds=i),
                uuid=f"c-{i}",
                source=EventSource.HOOK,
                tool_name="Read",
            )
            for i in range(500)
        ]
        # keyless events, each twice: identical, both stored, both to be copied
        extra += [
            Event(
                machine_id=MACHINE,
                session_id=f"copy-s{i % 9}",
                event_type=EventType.NOTIFICATION,
                timestamp=now - timedelta(hours=2, seconds=i),
                source=EventSource.HOOK,
                tokens_output=i % 4 or None,
            )
            for i in range(60)
            for _twin in range(2)
        ]
        # a session with old and recent events: gc keeps its summary, not its old events
        extra += [
            Event(
                machine_id=MACHINE,
                session_id="copy-mixed",
                event_type=EventType.API_REQUEST,
                timestamp=(now - timedelta(days=90 if i < 50 else 0, seconds=i)),
                uuid=f"mixed-{i}",
                tokens_input=i,
                cost_usd=0.001,
            )
            for i in range(80)
        ]
        store.insert_many(extra)
        store.upsert_session_git_context(
            MACHINE,
            "copy-s1",
            GitContext(github_repo="acme/widgets", git_branch="fix/7-crash", github_issue=7),
        )
        assert store.gc(timedelta(days=30)).deleted_events == 50
    return url


def _kinds(history: Path, source: str) -> dict[str, Kind]:
    env = isolated_env(
        history / "run-env",
        NETSKY_MACHINE_ID=MACHINE,
        CLAUDE_CONFIG_DIR=str(history / "tree" / "claude"),
        CODEX_HOME=str(history / "tree" / "codex"),
    )
    return {
        "writer": Kind(
            "writer",
            lambda url: _child("writer", url, str(WRITER_EVENTS)),
            env,
            exact_positions=True,
            waits_for_ready=True,
        ),
        "ingest": Kind(
            "ingest",
            lambda url: [str(NETSKY), "--db", url, "ingest", "--batch-size", "20"],
            env,
            exact_positions=False,
        ),
        "copy": Kind(
            "copy",
            lambda url: [str(NETSKY), "copy", source, url, "--batch", "100"],
            env,
            exact_positions=True,
        ),
    }


BACKENDS = [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind_name", KINDS)
def test_kill_9_then_rerun_equals_a_clean_run(
    backend: str,
    kind_name: str,
    history: Path,
    seeded_source: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    counter = iter(range(10**6))
    make_pg: Callable[[], str] | None = None
    if backend == "postgres":
        make_pg = request.getfixturevalue("postgres_url")

    def fresh_url() -> str:
        if make_pg is not None:
            return make_pg()
        return f"sqlite:///{tmp_path}/store-{next(counter)}.db"

    kind = _kinds(history, seeded_source)[kind_name]
    clean_url = fresh_url()
    work_s = _run_clean(kind, clean_url)
    # from when the process is past its imports to shortly before a clean run ends
    window = (0.8 * min(kind.startup_s(clean_url), work_s / 2), 0.9 * work_s)
    want = snapshot(clean_url, exact_positions=kind.exact_positions)
    assert want.n_events > 0
    assert _integrity(clean_url) == ["ok"]

    rng = random.Random(f"{backend}-{kind_name}")
    totals = Tally()
    failures: list[str] = []
    for trial in range(TRIALS):
        url = fresh_url()
        tally = _trial(kind, url, window, want, rng)
        totals.trials += 1
        totals.killed += tally.killed
        totals.partial += tally.partial
        totals.lost += tally.lost
        totals.duplicated += tally.duplicated
        failures += [f"trial {trial}: {p}" for p in tally.problems]
        if backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    record(
        test=f"crash: kill -9 of {kind_name}",
        backend=backend,
        load=(
            f"{totals.trials} trials ({totals.killed} killed mid-run), "
            f"{want.n_events} events per run"
        ),
        faults=(
            f"SIGKILL at a random moment {window[0]:.2f}-{window[1]:.2f} s into the run, "
            "then a re-run"
        ),
        inputs={
            "writer": "insert_many + insert, superseding versions",
            "ingest": f"generated history ({HISTORY_BYTES // 1000} KB), batches of 20",
            "copy": "keyless twins, git context, gc'd session summary; batches of 100",
        }[kind_name],
        lost=totals.lost,
        duplicated=totals.duplicated,
        result="pass" if not failures else "FAIL",
        kills_mid_run=totals.killed,
        kills_leaving_a_partial_store=totals.partial,
        trials_unlike_clean_run=len({f.split(":")[0] for f in failures}),
        clean_run_s=round(work_s, 2),
    )
    assert not failures, "\n".join(failures)
    assert totals.killed >= 1, "no kill landed while the process ran"
