"""A resumed transcript repeats API responses of the session it resumes.

Each response is billed once, in the session that started first, whatever order the
files are written and read in: growing files ingested in any interleaving end with
the events, sessions and totals of one clean run.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsky_core import EventQuery, EventType, SessionQuery, StorageStatsQuery, open_storage
from netsky_core.ingest.scan import Source, ingest

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _stamp(second: int) -> str:
    return (T0 + timedelta(seconds=second)).isoformat().replace("+00:00", "Z")


def _response(session: str, n: int, second: int, tokens: int) -> list[dict]:
    """One API response written as two lines: partial, then final usage."""
    lines = []
    for part, output in ((0, 1), (1, tokens)):
        lines.append(
            {
                "type": "assistant",
                "sessionId": session,
                "uuid": f"{session}-line-{n}-{part}",
                "timestamp": _stamp(second + part),
                "requestId": f"req-{session}-{n}",
                "message": {
                    "id": f"msg-{session}-{n}",
                    "model": "claude-opus-4-6",
                    "role": "assistant",
                    "content": [{"type": "text", "text": f"answer {n}.{part}"}],
                    "usage": {
                        "input_tokens": 10 * n + 3,
                        "output_tokens": output,
                        "cache_read_input_tokens": 100,
                        "cache_creation_input_tokens": 7,
                    },
                },
            }
        )
    return lines


def _session(session: str, start: int, responses: int) -> list[dict]:
    lines = [
        {
            "type": "user",
            "sessionId": session,
            "uuid": f"{session}-prompt",
            "timestamp": _stamp(start),
            "message": {"role": "user", "content": f"work on {session}"},
        }
    ]
    for n in range(responses):
        lines += _response(session, n, start + 10 + 10 * n, 50 + n)
    return lines


def _resume(previous: list[dict], session: str, tail: int, start: int, own: int) -> list[dict]:
    """A transcript that starts with the last ``tail`` lines of ``previous``, copied
    under its own session id (same message and request ids), then its own work."""
    copied = [{**line, "sessionId": session} for line in previous[-tail:]]
    return copied + _session(session, start, own)


def _histories() -> dict[str, list[bytes]]:
    a = _session("a-original", 0, 6)
    b = _resume(a, "b-resumed", 7, 1_000, 3)
    c = _resume(b, "c-again", 5, 2_000, 2)  # repeats copies of copies
    return {
        name: [json.dumps(line).encode() + b"\n" for line in lines]
        for name, lines in (("a.jsonl", a), ("b.jsonl", b), ("c.jsonl", c))
    }


def _snapshot(store) -> tuple:
    events = sorted(
        (attrs.evolve(e, id=None, transcript_path=None) for e in store.query(EventQuery())),
        key=lambda e: (e.session_id, e.uuid or "", e.event_type),
    )
    sessions = [
        attrs.evolve(s, transcript_path=None, transcript_path_at=None)
        for s in store.list_sessions(SessionQuery())
    ]
    return events, sessions, store.storage_stats(StorageStatsQuery())


def _clean(tmp: Path, url: str) -> tuple:
    root = tmp / "clean"
    root.mkdir()
    sources = []
    for name, lines in sorted(_histories().items()):
        (root / name).write_bytes(b"".join(lines))
        sources.append(Source(str(root / name), "claude"))
    with open_storage(url) as store:
        ingest(store, sources, machine_id="m")
        return _snapshot(store)


def test_each_response_is_billed_in_the_session_that_started_first(tmp_path: Path) -> None:
    _, sessions, stats = _clean(tmp_path, "memory://")
    by_id = {s.session_id: s for s in sessions}
    # a: 6 responses; b and c bill only their own work
    assert by_id["a-original"].api_request_count == 6
    assert by_id["b-resumed"].api_request_count == 3
    assert by_id["c-again"].api_request_count == 2
    outputs = {"a-original": sum(50 + n for n in range(6)), "b-resumed": 50 + 51 + 52}
    outputs["c-again"] = 50 + 51
    for sid, output in outputs.items():
        assert by_id[sid].tokens_output == output
    assert stats.total_api_requests == 11
    assert stats.tokens_output == sum(outputs.values())


def test_repeated_copies_stay_in_their_transcript_without_tokens(tmp_path: Path) -> None:
    events, _, _ = _clean(tmp_path, "memory://")
    repeated = [e for e in events if e.event_type == EventType.API_REQUEST_REPEATED]
    # b copies a's last 7 lines: the final line of response 2, responses 3-5;
    # c copies b's last 5 lines: the final line of b's response 0, responses 1-2
    assert {(e.session_id, e.uuid) for e in repeated} == {
        ("b-resumed", "api:msg-a-original-2:req-a-original-2"),
        ("b-resumed", "api:msg-a-original-3:req-a-original-3"),
        ("b-resumed", "api:msg-a-original-4:req-a-original-4"),
        ("b-resumed", "api:msg-a-original-5:req-a-original-5"),
        ("c-again", "api:msg-b-resumed-0:req-b-resumed-0"),
        ("c-again", "api:msg-b-resumed-1:req-b-resumed-1"),
        ("c-again", "api:msg-b-resumed-2:req-b-resumed-2"),
    }
    for e in repeated:
        assert (e.tokens_input, e.tokens_output, e.cost_usd) == (None, None, None)
        assert len(json.loads(e.metadata or "{}")["repeated_tokens"]) == 5


steps = st.lists(
    st.tuples(
        st.sampled_from(["a.jsonl", "b.jsonl", "c.jsonl"]),
        st.integers(min_value=1, max_value=6),  # lines to append
        st.sets(st.sampled_from(["a.jsonl", "b.jsonl", "c.jsonl"])),  # files to ingest
        st.booleans(),  # leave the next line half written
    ),
    max_size=25,
)


@given(schedule=steps)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_write_and_read_order_ends_as_one_clean_run(
    tmp_path_factory, schedule: list[tuple[str, int, set[str], bool]]
) -> None:
    tmp = tmp_path_factory.mktemp("resumed")
    expected = _clean(tmp, "memory://")
    histories = _histories()
    live = tmp / "live"
    live.mkdir()
    written = dict.fromkeys(histories, 0)

    def source(name: str) -> Source:
        return Source(str(live / name), "claude")

    with open_storage(f"sqlite:///{tmp}/live.db") as store:
        for name, n, readers, half in schedule:
            lines = histories[name]
            chunk = b"".join(lines[written[name] : written[name] + n])
            written[name] = min(len(lines), written[name] + n)
            if half and written[name] < len(lines):
                chunk += lines[written[name]][:25]
                histories[name] = [*lines[: written[name]], lines[written[name]][25:]]
                histories[name] += lines[written[name] + 1 :]
                # the rest of the half-written line is the next thing appended
            with open(live / name, "ab") as fh:
                fh.write(chunk)
            present = [r for r in sorted(readers) if (live / r).exists()]
            ingest(store, [source(r) for r in present], machine_id="m", batch_size=4)
        for name, lines in histories.items():
            with open(live / name, "ab") as fh:
                fh.write(b"".join(lines[written[name] :]))
        # the rest in the reverse of the clean order: the copies before the original
        ingest(store, [source(n) for n in sorted(histories, reverse=True)], machine_id="m")
        got = _snapshot(store)
    assert got[0] == expected[0]
    assert got[1] == expected[1]
    assert got[2] == expected[2]
