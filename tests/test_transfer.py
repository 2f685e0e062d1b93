"""``netsky_core.sync``: copy between stores and the JSONL export format."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from netsky_conformance import strategies
from netsky_conformance.builders import api, at, ev, prompt

from netsky_core import (
    Event,
    EventQuery,
    FilePosition,
    GitContext,
    SessionQuery,
    Storage,
    StorageError,
    open_storage,
)
from netsky_core.sync import (
    EXPORT_FORMATS,
    ExportFormatError,
    SameStoreError,
    check_distinct,
    copy_store,
    export_jsonl,
    import_jsonl,
    read_export,
    write_export_file,
)

# -- helpers ---------------------------------------------------------------------------


def snapshot(store: Storage) -> tuple[list[Event], list[Any], list[FilePosition]]:
    events = [attrs.evolve(e, id=None) for e in store.query(EventQuery().order_by_id())]
    sessions = sorted(store.list_sessions(SessionQuery()), key=lambda s: s.key)
    positions = sorted(store.query_transcript_positions(), key=lambda p: (p.machine_id, p.path))
    return events, sessions, positions


def exported(store: Storage, **options: Any) -> bytes:
    out = io.BytesIO()
    export_jsonl(store, out, **options)
    return out.getvalue()


def body(data: bytes) -> list[bytes]:
    return data.splitlines()[1:]


def fill(store: Storage) -> None:
    store.insert_many(
        [
            ev("SessionStart", 0, pid=7, cwd="/w"),
            prompt("fix it", 1),
            api(2),
            api(3, cost=None, session_id="s2"),
            ev("Notification", 4, uuid=None, session_id="s2"),
            ev("Notification", 4, uuid=None, session_id="s2"),  # an identical keyless twin
            ev("Stop", 5, machine_id="m2"),
        ]
    )
    store.upsert_session_git_context(
        "m1", "s1", GitContext(github_repo="o/r", github_pr=3), at=at(1)
    )
    store.upsert_session_git_context("m1", "only-git", GitContext(github_repo="o/r"), at=at(1))
    store.set_transcript_position(
        FilePosition(machine_id="m1", path="/t/a.jsonl", offset=5, updated_at=at(9))
    )


@pytest.fixture
def src() -> Iterator[Storage]:
    with open_storage("memory://") as store:
        fill(store)
        yield store


@pytest.fixture
def dst() -> Iterator[Storage]:
    with open_storage("memory://") as store:
        yield store


# -- copy ------------------------------------------------------------------------------


def test_copy_is_complete_verified_and_idempotent(src: Storage, dst: Storage) -> None:
    totals: list[int] = []
    steps: list[int] = []
    first = copy_store(src, dst, batch_size=2, on_start=totals.append, progress=steps.append)
    assert first.verified, first.problems
    assert totals == [7] and sum(steps) == 7 and steps[0] == 2
    assert first.events.read == first.events.inserted == 7
    assert first.sessions_restored == 4  # s1, s2, m2/s1, only-git (no events)
    assert first.positions_restored == 1
    assert snapshot(dst) == snapshot(src)
    second = copy_store(src, dst, batch_size=3)
    assert second.verified
    assert second.events.inserted == 0
    assert second.events.duplicates == 7
    assert snapshot(dst) == snapshot(src)


def test_keyless_events_are_matched_by_content_and_count(src: Storage, dst: Storage) -> None:
    twin = ev("Notification", 4, uuid=None, session_id="s2")
    dst.insert(twin)  # one of the two twins is already there
    result = copy_store(src, dst, batch_size=1)
    assert result.events.inserted == 6
    assert result.events.duplicates == 1
    keyless = [e for e in dst.query(EventQuery()) if e.uuid is None]
    assert len(keyless) == 2
    assert copy_store(src, dst, batch_size=1).events.inserted == 0
    assert dst.count() == 7


def test_a_destination_further_along_is_kept(src: Storage, dst: Storage) -> None:
    copy_store(src, dst)
    dst.insert(ev("Stop", 100))  # the agent went on in the destination
    dst.set_transcript_position(
        FilePosition(machine_id="m1", path="/t/a.jsonl", offset=50, updated_at=at(99))
    )
    ahead = dst.get_session_by_key("m1", "s1")
    result = copy_store(src, dst)
    assert result.verified, result.problems
    assert result.sessions_kept == 1
    assert result.positions_kept == 1
    assert dst.get_session_by_key("m1", "s1") == ahead
    assert dst.get_transcript_position("m1", "/t/a.jsonl").offset == 50


def test_verification_reports_what_is_missing(src: Storage, dst: Storage) -> None:
    class Forgetful:
        """A destination that drops every session it is asked to restore."""

        def __init__(self, inner: Storage) -> None:
            self._inner = inner

        def restore_sessions(self, sessions: Any) -> int:
            return len(list(sessions))

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

    result = copy_store(src, Forgetful(dst))  # type: ignore[arg-type]
    assert not result.verified
    assert any("only-git is missing" in p for p in result.problems)


def test_same_store_is_refused(tmp_path: Path) -> None:
    with open_storage("memory://") as a:
        with pytest.raises(SameStoreError):
            check_distinct(a, a)
        with open_storage("memory://") as b:
            check_distinct(a, b)  # two memory stores are two stores
    path = tmp_path / "x.db"
    with (
        open_storage(f"sqlite:///{path}") as a,
        open_storage(f"sqlite:///{tmp_path}/./x.db") as b,
        pytest.raises(SameStoreError),
    ):
        copy_store(a, b)
    link = tmp_path / "link.db"
    link.symlink_to(path)
    with (
        open_storage(f"sqlite:///{path}") as a,
        open_storage(f"sqlite:///{link}") as b,
        pytest.raises(SameStoreError),
    ):
        check_distinct(a, b)


# -- export / import -------------------------------------------------------------------


def test_export_layout(src: Storage) -> None:
    now = datetime(2026, 4, 1, tzinfo=UTC)
    lines = [
        orjson.loads(x)
        for x in exported(src, source="postgresql://u:pw@h/db", now=now).splitlines()
    ]
    assert lines[0] == {
        "kind": "header",
        "format": "netsky-export",
        "version": 2,
        "exported_at": "2026-04-01T00:00:00+00:00",
        "source": "postgresql://u:***@h/db",
        "since": None,
    }
    kinds = [x["kind"] for x in lines[1:]]
    assert kinds == ["event"] * 7 + ["session"] * 4 + ["position"]
    assert all("id" not in x["data"] for x in lines[1:8])
    assert set(EXPORT_FORMATS) == {"jsonl"}


def test_export_since(src: Storage) -> None:
    lines = [orjson.loads(x) for x in exported(src, since=at(3)).splitlines()[1:]]
    events = [x["data"] for x in lines if x["kind"] == "event"]
    assert [e["timestamp"] for e in events] == [at(t).isoformat() for t in (3, 4, 4, 5)]
    sessions = {
        (x["data"]["machine_id"], x["data"]["session_id"]) for x in lines if x["kind"] == "session"
    }
    assert sessions == {("m1", "s2"), ("m2", "s1")}
    assert not [x for x in lines if x["kind"] == "position"]


def _import(store: Storage, data: bytes, **options: Any) -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.jsonl"
        path.write_bytes(data)
        return import_jsonl(store, path, **options)


def test_round_trip_and_reimport(src: Storage, dst: Storage) -> None:
    data = exported(src)
    result = _import(dst, data, batch_size=2)
    assert result.events.inserted == 7
    assert result.sessions_restored == 4
    assert snapshot(dst) == snapshot(src)
    assert body(exported(dst)) == body(data)
    again = _import(dst, data)
    assert again.events.inserted == 0 and again.events.duplicates == 7
    assert snapshot(dst) == snapshot(src)


def test_records_in_any_order_are_applied_events_first(src: Storage, dst: Storage) -> None:
    lines = exported(src).splitlines()
    shuffled = [lines[0], *reversed(lines[1:])]
    _import(dst, b"\n".join(shuffled) + b"\n\n")
    (events, sessions, positions), expected = snapshot(dst), snapshot(src)
    assert sessions == expected[1] and positions == expected[2]
    assert sorted(events, key=repr) == sorted(expected[0], key=repr)  # stored in file order


def test_gzip_files(src: Storage, dst: Storage, tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl.gz"
    write_export_file(src, path)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    import_jsonl(dst, path)
    assert snapshot(dst) == snapshot(src)


def test_a_failed_export_leaves_no_file(src: Storage, tmp_path: Path) -> None:
    class Broken:
        def __init__(self, inner: Storage) -> None:
            self._inner = inner

        def list_sessions(self, query: Any) -> Any:
            raise StorageError("connection lost")

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

    path = tmp_path / "x.jsonl"
    path.write_text("old")
    with pytest.raises(StorageError):
        write_export_file(Broken(src), path)  # type: ignore[arg-type]
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.jsonl"]


HEADER = b'{"kind":"header","format":"netsky-export","version":1}\n'
GOOD = b'{"kind":"event","data":{"machine_id":"m","session_id":"s","event_type":"X","timestamp":"2026-01-01T00:00:00Z","uuid":"a"}}\n'


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "line 1: the file is empty"),
        (b"\n\n", "line 1: the file is empty"),
        (GOOD, "line 1: no netsky export header"),
        (b"[1]\n", "line 1: no netsky export header"),
        (HEADER.replace(b"1}", b"9}"), "line 1: export version 9 is newer"),
        (HEADER.replace(b"1}", b'"1"}'), "invalid export version"),
        (HEADER + GOOD + b"\xff\xfe\n", "line 3: invalid JSON"),
        (
            HEADER + GOOD + GOOD.replace(b'"X"', b"null"),
            "line 3: invalid event: event_type cannot be null",
        ),
        (
            HEADER + GOOD.replace(b'"uuid"', b'"tokens_input":"12","uuid"'),
            "tokens_input cannot be a string",
        ),
        (
            HEADER + GOOD.replace(b'"uuid"', b'"is_sidechain":1,"uuid"'),
            "is_sidechain cannot be a number",
        ),
        (HEADER + GOOD.replace(b'"uuid"', b'"pid":true,"uuid"'), "pid cannot be a boolean"),
        (HEADER + GOOD.replace(b'"m"', b'["m"]'), "machine_id cannot be a JSON array"),
        (HEADER + GOOD + GOOD.replace(b"Z", b""), "line 3: invalid event"),
        (HEADER + b"\n" + GOOD.replace(b'"event"', b'"events"'), "line 3: unknown kind 'events'"),
        (HEADER + GOOD.replace(b'"uuid"', b'"uid"'), "line 2: unknown event field(s): uid"),
        (
            HEADER + b'{"kind":"position","data":{"machine_id":"m","path":"/p","offset":-1}}\n',
            "line 2: invalid position",
        ),
    ],
)
def test_bad_files_raise_with_the_line_and_store_nothing(
    dst: Storage, data: bytes, message: str
) -> None:
    with pytest.raises(ExportFormatError) as info:
        _import(dst, data, batch_size=1)
    assert message in str(info.value)
    assert dst.count() == 0
    assert dst.list_sessions(SessionQuery()) == []


def test_event_ids_in_a_file_are_ignored(dst: Storage) -> None:
    _import(dst, HEADER + GOOD.replace(b'"uuid"', b'"id":12345,"uuid"'))
    (event,) = dst.query(EventQuery())
    assert event.uuid == "a" and event.id != 12345


def test_read_export_yields_records() -> None:
    records = list(read_export(io.BytesIO(HEADER + GOOD)))
    assert [(n, kind) for n, kind, _ in records] == [(1, "header"), (2, "event")]
    assert isinstance(records[1][2], Event)


# -- round trip with odd strings (Hypothesis) ------------------------------------------

maybe_text = st.one_of(st.none(), strategies.text_values)


@st.composite
def odd_events(draw: st.DrawFn) -> Event:
    event = draw(strategies.events())
    return attrs.evolve(
        event,
        session_id=draw(st.one_of(st.just(event.session_id), strategies.text_values.filter(bool))),
        uuid=draw(st.one_of(st.just(event.uuid), strategies.text_values.filter(bool))),
        tool_name=draw(maybe_text),
        cwd=draw(maybe_text),
        model=draw(maybe_text),
        metadata=draw(maybe_text),
        payload=draw(st.one_of(st.just(event.payload), strategies.text_values)),
        timestamp=draw(st.one_of(st.just(event.timestamp), strategies.wide_times)),
    )


positions = st.builds(
    FilePosition,
    machine_id=strategies.text_values.filter(bool),
    path=strategies.text_values.filter(bool),
    offset=st.integers(0, 2**40),
    line_number=st.integers(0, 10**6),
    last_uuid=maybe_text,
    state=maybe_text,
    updated_at=st.one_of(st.none(), strategies.wide_times),
)


def _round_trip(url: str, events: list[Event], repo: str | None, pos: list[FilePosition]) -> None:
    with open_storage(url) as a:
        for start in range(0, len(events), 7):
            a.insert_many(events[start : start + 7])
        if events and repo:
            first = events[0]
            a.upsert_session_git_context(
                first.machine_id, first.session_id, GitContext(github_repo=repo)
            )
        for p in pos:
            a.set_transcript_position(p)
        data = exported(a, source=url)
        expected = snapshot(a)
    with open_storage("memory://") as b:
        _import(b, data, batch_size=5)
        assert snapshot(b) == expected
        assert body(exported(b)) == body(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(odd_events(), max_size=25), maybe_text, st.lists(positions, max_size=3))
def test_round_trip_with_odd_strings_memory(
    events: list[Event], repo: str | None, pos: list[FilePosition]
) -> None:
    _round_trip("memory://", events, repo, pos)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(odd_events(), max_size=25), maybe_text, st.lists(positions, max_size=3))
def test_round_trip_with_odd_strings_sqlite(
    events: list[Event], repo: str | None, pos: list[FilePosition]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _round_trip(f"sqlite:///{tmp}/odd.db", events, repo, pos)


def test_window_boundaries_of_keyless_lookup(dst: Storage) -> None:
    """Keyless events at the very ends of a batch's time window are found."""
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    events = [ev("X", t0 + timedelta(microseconds=n), uuid=None) for n in (0, 1, 5)]
    with open_storage("memory://") as src:
        src.insert_many(events)
        assert copy_store(src, dst, batch_size=3).events.inserted == 3
        assert copy_store(src, dst, batch_size=3).events.inserted == 0
        assert copy_store(src, dst, batch_size=1).events.inserted == 0


ODD = [
    "'; DROP TABLE events; --",
    '"quoted" \\backslash\\ %percent% _under_ %s $1 ? :name',
    "line\nbreak\ttab\r\n",
    "sep\u2028para\u2029next\x85",
    "emoji 🚀 ünïcödé 漢字 عربى",
    "\x01\x1f\x7f control",
    '{"json": [1, 2, {"x": null}]}',
]


@pytest.mark.postgres
def test_odd_strings_through_postgres_and_back(postgres_url: Any, tmp_path: Path) -> None:
    events = [
        ev(
            "UserPromptSubmit",
            n,
            session_id=text,
            uuid=text + "!",
            cwd=text,
            tool_name=text,
            payload={"prompt": text},
            metadata=text,
        )
        for n, text in enumerate(ODD)
    ]
    with open_storage("memory://") as src, open_storage(postgres_url()) as pg:
        src.insert_many(events)
        src.set_transcript_position(
            FilePosition(machine_id=ODD[0], path=ODD[3], state=ODD[6], updated_at=at(1))
        )
        assert copy_store(src, pg).verified
        data = exported(pg)
        assert len(data.splitlines()) == 1 + len(ODD) * 2 + 1  # \u2028 and \x85 do not split lines
        with open_storage(f"sqlite:///{tmp_path / 'odd.db'}") as back:
            _import(back, data)
            assert snapshot(back) == snapshot(src) == snapshot(pg)
