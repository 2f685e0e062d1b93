"""The SQLite store's own live reader answers exactly as the generic one over
``open_storage``, whatever was stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsky_core import Event, EventSource, EventType, open_storage
from netsky_core.live.reader import BackendReader, StoreReader, open_reader

T0 = datetime(2026, 11, 1, tzinfo=UTC)

event_st = st.builds(
    lambda session, minutes, framework, model, cost, tokens, n: Event(
        machine_id=("m1", "m2")[n % 2],
        session_id=session,
        event_type=EventType.API_REQUEST,
        timestamp=T0 + timedelta(minutes=minutes),
        uuid=f"u{n}",
        framework=framework,
        source=EventSource.TRANSCRIPT,
        model=model,
        tokens_input=tokens,
        tokens_output=tokens // 2,
        tokens_reasoning=tokens // 3 if framework == "codex" else None,
        cost_usd=cost,
        cwd=("/w/a", "/w/b", None)[n % 3],
        git_branch=("main", None)[n // 3 % 2],
    ),
    st.sampled_from(["s1", "s2"]),
    st.integers(0, 3000),
    st.sampled_from(["claude", "codex"]),
    st.sampled_from(["opus", "sonnet", None]),
    st.one_of(st.none(), st.floats(0, 5, allow_nan=False).map(lambda x: round(x, 6))),
    st.integers(0, 10_000),
    st.integers(0, 10**9),
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(event_st, max_size=40, unique_by=lambda e: e.uuid))
def test_the_sqlite_reader_equals_the_store_reader(tmp_path: Path, events: list[Event]) -> None:
    db = tmp_path / f"r{len(list(tmp_path.iterdir()))}.db"
    url = f"sqlite:///{db}"
    with open_storage(url) as store:
        store.insert_many(events)
    fast = open_reader(url)
    generic = StoreReader(url)
    try:
        assert isinstance(fast, BackendReader)
        since = int((T0 - timedelta(hours=1)).timestamp() * 1_000_000)
        for framework in (None, "claude", "codex"):
            assert fast.windows(since, framework) == generic.windows(since, framework)

        def totals(reader: object, starts: list[int]) -> list[tuple[object, ...]]:
            rows = reader.project_totals(starts)  # type: ignore[attr-defined]
            return sorted(((p or None, b or None, *r) for p, b, *r in rows), key=repr)

        for starts in ([since], [since + 3_600_000_000 * 20, since, since + 60_000_000 * 15]):
            assert totals(fast, starts) == totals(generic, starts)
        edges = [None, since, int((T0 + timedelta(minutes=1500)).timestamp() * 1_000_000)]
        for framework in (None, "claude", "codex"):
            for low in edges:
                for high in edges:
                    assert fast.buckets(low, high, framework) == generic.buckets(
                        low, high, framework
                    )
        for key in [("m1", "s1"), ("m2", "s2"), ("m1", "nope")]:
            a, b = fast.session(*key), generic.session(*key)
            assert (a is None) == (b is None)
            if a is not None and b is not None:
                assert a.as_dict() == b.as_dict()
    finally:
        fast.close()
        generic.close()


def test_a_missing_store_is_not_created_by_the_fast_reader(tmp_path: Path) -> None:
    from netsky_sqlite.live import open_live

    assert open_live(f"sqlite:///{tmp_path / 'none.db'}") is None
    assert not (tmp_path / "none.db").exists()
