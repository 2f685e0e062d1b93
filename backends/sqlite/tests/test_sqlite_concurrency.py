"""Many writers on one file: processes, threads, a held lock, gc beside a writer."""

from __future__ import annotations

import multiprocessing
import statistics
import threading
import time
from datetime import timedelta
from pathlib import Path

import apsw
import attrs
from netsky_conformance.builders import api, at, ev

from netsky_core import EventQuery, EventType, SessionQuery, aggregate_events, open_storage

PROCESSES = 8
PER_PROCESS = 2000


def _writer(path: str, worker: int, results: multiprocessing.Queue) -> None:
    errors = 0
    latencies = []
    try:
        with open_storage(f"sqlite:///{path}") as store:
            for i in range(PER_PROCESS):
                session = f"s{(worker + i) % 16}"
                if i % 4 == 0:
                    event = api(i, session_id=session, uuid=f"w{worker}-{i}", cost=0.001)
                else:
                    event = ev(
                        EventType.PRE_TOOL_USE,
                        i,
                        session_id=session,
                        uuid=f"w{worker}-{i}",
                        pid=worker,
                    )
                start = time.perf_counter()
                try:
                    store.insert(event)
                except Exception:
                    errors += 1
                latencies.append(time.perf_counter() - start)
    except BaseException as exc:
        results.put((worker, -1, repr(exc), 0.0, 0.0))
        return
    latencies.sort()
    results.put((worker, errors, "", statistics.median(latencies), latencies[-1]))


def test_eight_processes_insert_2000_events_each(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    with open_storage(f"sqlite:///{db}"):
        pass
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(str(db), w, results)) for w in range(PROCESSES)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    reports = [results.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    elapsed = time.perf_counter() - start
    assert [r[2] for r in reports] == [""] * PROCESSES
    assert sum(r[1] for r in reports) == 0
    medians = [r[3] * 1000 for r in reports]
    worst = max(r[4] for r in reports) * 1000
    print(
        f"\n{PROCESSES}x{PER_PROCESS} single inserts in {elapsed:.1f}s "
        f"({PROCESSES * PER_PROCESS / elapsed:,.0f}/s); median latency "
        f"{statistics.median(medians):.2f} ms, worst {worst:.0f} ms"
    )
    with open_storage(f"sqlite:///{db}") as store:
        assert store.count() == PROCESSES * PER_PROCESS
        assert store.engine.integrity_check() == ["ok"]
        events = store.query(EventQuery())
        assert len({e.uuid for e in events}) == PROCESSES * PER_PROCESS
        sessions = store.list_sessions(SessionQuery())
        assert len(sessions) == 16
        for session in sessions:
            mine = [attrs.evolve(e, id=None) for e in events if e.session_id == session.session_id]
            assert session == aggregate_events(session.machine_id, session.session_id, mine)
        assert sum(s.api_request_count for s in sessions) == PROCESSES * PER_PROCESS // 4


def test_a_lock_held_beyond_the_busy_timeout_is_waited_out(tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    with open_storage(f"sqlite:///{db}"):
        pass
    holder = apsw.Connection(str(db))
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release() -> None:
        time.sleep(1.0)
        holder.execute("COMMIT")
        released.set()

    threading.Thread(target=release).start()
    with open_storage(f"sqlite:///{db}", busy_timeout_ms=50) as store:
        store.insert(ev())  # waits out the lock (20x the busy timeout) instead of failing
        assert released.is_set()
        assert store.count() == 1
    holder.close()


def test_gc_commits_in_small_batches_beside_a_writer(tmp_path: Path) -> None:
    db = tmp_path / "gc.db"
    old = 60_000
    with open_storage(f"sqlite:///{db}") as store:
        for start in range(0, old, 10_000):
            store.insert_many(
                [
                    ev(
                        EventType.PRE_TOOL_USE,
                        at(-86400 * 100) + timedelta(microseconds=i),
                        session_id=f"old{i % 50}",
                    )
                    for i in range(start, start + 10_000)
                ]
            )
    done = threading.Event()
    waits: list[tuple[float, bool]] = []

    def writer() -> None:
        with open_storage(f"sqlite:///{db}") as w:
            i = 0
            while not done.is_set():
                t0 = time.perf_counter()
                w.insert(ev(t=i, session_id="live", uuid=f"live-{i}"))
                waits.append((time.perf_counter() - t0, not done.is_set()))
                i += 1
                time.sleep(0.002)

    thread = threading.Thread(target=writer)
    with open_storage(f"sqlite:///{db}") as store:
        thread.start()
        time.sleep(0.05)
        result = store.gc(timedelta(days=30), now=at(0))
        done.set()
        thread.join()
        assert result.deleted_events == old
        assert store.count() == len(waits)
    during = [w for w, running in waits if running]
    print(
        f"\ngc of {old:,} events: {len(during)} concurrent inserts committed meanwhile, "
        f"worst wait {max(during) * 1000:.0f} ms, median {statistics.median(during) * 1000:.1f} ms"
    )
    assert len(during) >= 3  # the writer was not shut out for the whole gc
