"""Driver errors become netsky errors; a failed call stores nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from netsky_core import Event, RecordError, SessionQuery, open_storage

pytestmark = pytest.mark.postgres


def _event(i: int, **fields: object) -> Event:
    values: dict[str, object] = dict(
        machine_id="m",
        session_id="s",
        event_type="PreToolUse",
        timestamp=datetime(2026, 1, 1, tzinfo=UTC),
        uuid=f"u{i}",
    )
    values.update(fields)
    return Event(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [{"pid": 2**63}, {"tokens_input": 2**64}, {"cwd": "lone \ud800 surrogate"}],
    ids=["pid", "tokens", "surrogate"],
)
def test_unstorable_values_are_record_errors(
    postgres_url: Callable[..., str], bad: dict[str, object]
) -> None:
    with open_storage(postgres_url()) as store:
        store.insert(_event(0))
        before = store.list_sessions(SessionQuery())
        with pytest.raises(RecordError):
            store.insert(_event(1, **bad))
        with pytest.raises(RecordError):
            store.insert_many([_event(i) for i in range(2, 200)] + [_event(200, **bad)])
        with pytest.raises(RecordError):
            store.insert_many([_event(300, session_id="new", **bad), _event(301)])
        assert store.count() == 1
        assert store.list_sessions(SessionQuery()) == before
        assert store.insert(_event(400)) > 0
