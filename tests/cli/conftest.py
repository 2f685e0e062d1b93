"""Fixtures of the CLI tests: an isolated ``netsky`` runner and seeded stores."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from netsky_core import (
    Event,
    EventSource,
    EventType,
    FilePosition,
    GitContext,
    open_storage,
)
from tests.netsky_cli import NETSKY, Netsky, Result, assert_one_line_error  # noqa: F401  (re-exported to the CLI tests)

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def netsky(tmp_path: Path) -> Netsky:
    return Netsky(tmp_path, extra_env={"COLUMNS": "200"})


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def make_event(event_type: str, t: float, session: str, uuid: str | None, **fields: Any) -> Event:
    payload = fields.pop("payload", None)
    return Event(
        machine_id=fields.pop("machine_id", "laptop"),
        session_id=session,
        event_type=event_type,
        timestamp=at(t),
        uuid=uuid,
        source=fields.pop("source", EventSource.HOOK),
        payload=None if payload is None else orjson.dumps(payload).decode(),
        **fields,
    )


def make_api(t: float, session: str, uuid: str, cost: float | None, **fields: Any) -> Event:
    return make_event(
        EventType.API_REQUEST,
        t,
        session,
        uuid,
        source=EventSource.TRANSCRIPT,
        model=fields.pop("model", "claude-sonnet"),
        tokens_input=100,
        tokens_output=200,
        tokens_cache_read=300,
        tokens_cache_write=400,
        cost_usd=cost,
        **fields,
    )


S1 = "aaaa1111-0000-4000-8000-000000000001"  # laptop, claude, PR 12, priced
S2 = "aaaa2222-0000-4000-8000-000000000002"  # laptop, codex, ended, unpriced
S3 = "bbbb3333-0000-4000-8000-000000000003"  # desktop, claude, a keyless event
PID = 4242


def seed_events() -> list[Event]:
    c = {"framework": "claude"}
    x = {"framework": "codex"}
    d = {"framework": "claude", "machine_id": "desktop"}
    return [
        make_event(
            EventType.SESSION_START,
            0,
            S1,
            "s1-start",
            pid=PID,
            cwd="/w/widgets",
            git_branch="fix/12-flaky",
            **c,
        ),
        make_event(
            EventType.USER_PROMPT_SUBMIT,
            1,
            S1,
            "s1-p1",
            payload={"prompt": "fix the flaky test"},
            **c,
        ),
        make_api(5, S1, "s1-a1", 0.5, **c),
        make_event(
            EventType.PRE_TOOL_USE, 6, S1, "s1-t1", tool_name="Bash", tool_use_id="tu1", **c
        ),
        make_event(
            EventType.POST_TOOL_USE, 7, S1, "s1-t2", tool_name="Bash", tool_use_id="tu1", **c
        ),
        make_api(8, S1, "s1-a2", 0.25, **c),
        make_event(EventType.STOP, 9, S1, "s1-stop", **c),
        make_event(
            EventType.USER_PROMPT_SUBMIT, 60, S2, "s2-p1", payload={"prompt": "add a CLI"}, **x
        ),
        make_api(65, S2, "s2-a1", None, model="gpt-5-codex", **x),
        make_event(EventType.SESSION_END, 3600, S2, "s2-end", **x),
        make_event(
            EventType.USER_PROMPT_SUBMIT,
            120,
            S3,
            "s3-p1",
            payload={"prompt": "désolé 🚀 'quotes'"},
            **d,
        ),
        make_api(125, S3, "s3-a1", 1.0, **d),
        make_event(
            EventType.NOTIFICATION, 130, S3, None, payload={"notification_type": "other"}, **d
        ),
    ]


SEED_EVENTS = 13
SEED_SESSIONS = 3


def seed(url: str) -> None:
    """Fill the store at ``url`` with three sessions, git context and two positions."""
    with open_storage(url) as store:
        result = store.insert_many(seed_events())
        assert result.inserted == SEED_EVENTS
        store.upsert_session_git_context(
            "laptop",
            S1,
            GitContext(github_repo="octo/widgets", git_branch="fix/12-flaky", github_pr=12),
            at=at(2),
        )
        for n, path in enumerate(("/t/one.jsonl", "/t/two.jsonl")):
            store.set_transcript_position(
                FilePosition(
                    machine_id="laptop",
                    path=path,
                    offset=100 * (n + 1),
                    line_number=n + 3,
                    updated_at=at(10),
                )
            )


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def seeded_sqlite(sqlite_url: str) -> str:
    seed(sqlite_url)
    return sqlite_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store: a SQLite file, then a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'param.db'}"
    else:
        make: Callable[..., str] = request.getfixturevalue("postgres_url")
        yield make()


@pytest.fixture
def seeded(store_url: str) -> str:
    seed(store_url)
    return store_url
