"""Three machines sync concurrently (real ``netsky sync`` subprocesses) into one real
PostgreSQL, with SIGKILLs mid-batch and a server restart: every event is there
exactly once and the totals equal those of one store holding the union."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest
from netsky_conformance.builders import api, ev

from netsky_core import EventQuery, StorageStatsQuery, open_storage
from tests.netsky_cli import Netsky

pytestmark = pytest.mark.postgres
N = 16_000


def _history(machine: str, responses_of: str, n: int) -> list:
    out = []
    for i in range(n):
        sid = f"{responses_of}-s{i // 200}"
        if i % 4 == 0:
            rid = f"req_{responses_of}_{i}"
            out.append(
                api(
                    i,
                    machine_id=machine,
                    session_id=sid,
                    uuid=f"api:msg_{rid}:{rid}",
                    metadata=orjson.dumps({"request_id": rid}).decode(),
                )
            )
        else:
            out.append(ev("PreToolUse", i, machine_id=machine, session_id=sid, uuid=f"{sid}-{i}"))
    return out


def _keys(store) -> Counter:
    return Counter(
        (e.machine_id, e.session_id, e.uuid) for e in store.query(EventQuery().with_limit(10**7))
    )


def test_three_machines_killed_and_restarted_count_once(
    tmp_path: Path, postgres_server, postgres_url
) -> None:
    if not postgres_server.can_restart:
        pytest.skip("needs a server the suite started")
    target = postgres_url()
    locals_ = {m: f"sqlite:///{tmp_path}/{m}.db" for m in ("a", "b", "c")}
    with open_storage(locals_["a"]) as s:
        s.insert_many(_history("a", "a", N))
    with open_storage(locals_["b"]) as s:
        s.insert_many(_history("b", "b", N))
    with open_storage(locals_["c"]) as s:  # c holds copies of a's transcripts, and its own
        s.insert_many(_history("c", "a", N))
        s.insert_many(_history("c", "c", N // 2))
    runners: dict[str, Netsky] = {}
    for m in locals_:
        (tmp_path / m).mkdir(exist_ok=True)
        runners[m] = Netsky(tmp_path / m)

    def start(m: str):
        return runners[m].popen(
            "--db",
            locals_[m],
            "sync",
            "--to",
            target,
            "--watch",
            "--interval",
            "1s",
            "--batch",
            "150",
        )

    procs = {m: start(m) for m in locals_}
    try:
        time.sleep(2.0)
        procs["a"].send_signal(signal.SIGKILL)  # mid-batch, most likely
        procs["a"].wait(timeout=30)
        with open_storage(target) as shared:
            assert shared.count() < 3.5 * N  # the kills came while syncing
        procs["c"].send_signal(signal.SIGKILL)
        procs["c"].wait(timeout=30)
        procs["a"] = start("a")
        time.sleep(1.0)
        postgres_server.restart("immediate")  # a crash of the server under load
        procs["c"] = start("c")
        time.sleep(3.0)
        procs["b"].send_signal(signal.SIGKILL)
        procs["b"].wait(timeout=30)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
                p.communicate(timeout=60)
    for m in locals_:  # a last one-shot sync finishes whatever is left
        runners[m].ok("--db", locals_[m], "sync", "--to", target)
        (row,) = runners[m].ok("--db", locals_[m], "sync", "status", "--json").json()
        assert row["behind"] == 0
    ref = open_storage(f"sqlite:///{tmp_path}/ref.db")
    union: Counter = Counter()
    for url in locals_.values():
        with open_storage(url) as s:
            events = s.query(EventQuery().with_limit(10**7))
            union.update((e.machine_id, e.session_id, e.uuid) for e in events)
            ref.insert_many(events)
    with open_storage(target) as shared:
        assert _keys(shared) == union
        assert max(_keys(shared).values()) == 1
        got = shared.storage_stats(StorageStatsQuery())
    want = ref.storage_stats(StorageStatsQuery())
    ref.close()
    assert got == want
    assert got.total_api_requests == N // 4 + N // 4 + N // 8  # a's responses once, b's, c's own
