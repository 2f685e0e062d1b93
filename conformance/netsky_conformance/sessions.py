"""Sessions: aggregation rules, lookups, filters, orders, git context, restore."""

from __future__ import annotations

from collections.abc import Callable

import attrs

from netsky_core import (
    EventSource,
    EventType,
    GitBranchInfo,
    GitContext,
    Order,
    Session,
    SessionOrder,
    SessionQuery,
    SessionStatus,
    Storage,
)

from .base import StorageFixtures
from .builders import api, at, ev, prompt


def one(storage: Storage, machine_id: str = "m1", session_id: str = "s1") -> Session:
    session = storage.get_session_by_key(machine_id, session_id)
    assert session is not None, f"no session {machine_id}/{session_id}"
    return session


class SessionsConformance(StorageFixtures):
    def test_first_event_creates_the_session(self, storage: Storage) -> None:
        assert storage.get_session_by_key("m1", "s1") is None
        storage.insert(ev(EventType.PRE_TOOL_USE, 5, framework="claude"))
        session = one(storage)
        assert (session.machine_id, session.session_id, session.framework) == ("m1", "s1", "claude")
        assert session.first_activity == session.last_activity == at(5)
        assert session.event_count == 1 and session.tool_call_count == 1

    def test_counters(self, storage: Storage) -> None:
        storage.insert_many(
            [
                ev(EventType.PRE_TOOL_USE, 1),
                ev(EventType.POST_TOOL_USE, 2),
                ev(EventType.PRE_TOOL_USE, 3),
                api(4),
                api(5),
                ev(EventType.API_ERROR, 6),
                ev(EventType.PRE_COMPACT, 7),
                ev("Unknown", 8),
                ev(EventType.STOP, 9, source=EventSource.API),
            ]
        )
        s = one(storage)
        assert s.event_count == 9
        assert s.tool_call_count == 2
        assert s.api_request_count == 2
        assert s.api_error_count == 1
        assert s.compaction_count == 1
        assert (s.hook_event_count, s.transcript_event_count, s.api_event_count) == (6, 2, 1)
        assert (s.otel_event_count, s.import_event_count) == (0, 0)

    def test_prompts_and_compactions_count_the_larger_source(self, storage: Storage) -> None:
        storage.insert_many(
            [
                prompt("a", 1, source=EventSource.HOOK),
                prompt("b", 2, source=EventSource.HOOK),
                prompt("a", 1.1, source=EventSource.TRANSCRIPT),
                prompt("b", 2.1, source=EventSource.TRANSCRIPT),
                prompt("c", 3.1, source=EventSource.TRANSCRIPT),
                ev(EventType.PRE_COMPACT, 4, source=EventSource.HOOK),
                ev(EventType.PRE_COMPACT, 4.1, source=EventSource.TRANSCRIPT),
            ]
        )
        s = one(storage)
        assert (s.prompts_hook, s.prompts_transcript, s.message_count) == (2, 3, 3)
        assert (s.compactions_hook, s.compactions_transcript, s.compaction_count) == (1, 1, 1)

    def test_tokens_and_cost_are_none_until_known(self, storage: Storage) -> None:
        storage.insert(ev(EventType.PRE_TOOL_USE))
        s = one(storage)
        assert (s.tokens_input, s.tokens_output, s.tokens_cache_read, s.tokens_cache_write) == (
            None,
            None,
            None,
            None,
        )
        assert s.cost_usd is None and s.total_tokens is None
        storage.insert(api(1, tokens=(0, 0, 0, 0), cost=None))
        s = one(storage)
        assert (s.tokens_input, s.tokens_output, s.tokens_cache_read, s.tokens_cache_write) == (
            0,
            0,
            0,
            0,
        )
        assert s.cost_usd is None and s.unpriced_request_count == 1
        storage.insert(api(2, tokens=(1, 2, 3, 4), cost=0.0))
        s = one(storage)
        assert s.cost_usd == 0.0 and s.total_tokens == 10

    def test_token_and_cost_totals_are_exact(self, storage: Storage) -> None:
        costs = [0.1, 0.2, 0.3, 1e-7, 0.3333333333333333]
        storage.insert_many(
            [api(i, tokens=(i, 2 * i, 3 * i, None), cost=c) for i, c in enumerate(costs, 1)]
        )
        s = one(storage)
        assert (s.tokens_input, s.tokens_output, s.tokens_cache_read, s.tokens_cache_write) == (
            15,
            30,
            45,
            0,
        )
        assert s.cost_picousd == sum(round(c * 10**12) for c in costs)
        assert s.cost_usd == s.cost_picousd / 10**12
        assert s.priced_event_count == 5 and s.usage_event_count == 5

    def test_lifecycle_fields(self, storage: Storage) -> None:
        storage.insert_many(
            [
                ev(EventType.SESSION_START, 10, payload={"source": "startup"}),
                ev(EventType.SESSION_END, 20, payload={"reason": "logout"}),
                ev(EventType.SESSION_START, 30, payload={"source": "resume"}),
                ev(EventType.SESSION_START, 35, payload={"source": "compact"}),
                ev(EventType.SESSION_END, 40),
                ev(EventType.PRE_TOOL_USE, 5),
            ]
        )
        s = one(storage)
        assert (s.first_started_at, s.last_started_at) == (at(10), at(35))
        assert (s.first_ended_at, s.last_ended_at) == (at(20), at(40))
        assert (s.first_activity, s.last_activity) == (at(5), at(40))
        assert s.started_at == at(10)
        assert s.revival_count == 1
        assert s.status is SessionStatus.DONE and s.status_updated_at == at(40)
        assert not s.is_active

    def test_status_follows_the_latest_live_event(self, storage: Storage) -> None:
        storage.insert(ev(EventType.SESSION_START, 1))
        assert one(storage).status is SessionStatus.IDLE
        storage.insert(ev(EventType.USER_PROMPT_SUBMIT, 2, payload={"prompt": "go"}))
        assert one(storage).status is SessionStatus.BUSY
        storage.insert(ev(EventType.PERMISSION_REQUEST, 3))
        assert one(storage).status is SessionStatus.WAIT
        storage.insert(ev(EventType.STOP, 5))
        storage.insert(ev(EventType.PRE_TOOL_USE, 4))  # late arrival of an older event
        s = one(storage)
        assert s.status is SessionStatus.IDLE and s.status_updated_at == at(5)
        assert s.is_active
        storage.insert(
            ev(EventType.NOTIFICATION, 6, payload={"notification_type": "permission_prompt"})
        )
        assert one(storage).status is SessionStatus.WAIT
        storage.insert(ev(EventType.NOTIFICATION, 7, payload={"notification_type": "auth_success"}))
        assert one(storage).status is SessionStatus.WAIT

    def test_transcript_history_implies_no_live_status(self, storage: Storage) -> None:
        storage.insert_many(
            [
                prompt("old", 1, source=EventSource.TRANSCRIPT),
                ev(EventType.PRE_TOOL_USE, 2, source=EventSource.TRANSCRIPT),
                api(3),
            ]
        )
        s = one(storage)
        assert s.status is None and not s.is_active

    def test_latest_values_win_whatever_the_arrival_order(self, storage: Storage) -> None:
        storage.insert(
            ev(t=50, cwd="/new", model="m-new", git_branch="b-new", transcript_path="/t2")
        )
        storage.insert(
            ev(t=10, cwd="/old", model="m-old", git_branch="b-old", transcript_path="/t1")
        )
        s = one(storage)
        assert (s.cwd, s.model, s.git_branch, s.transcript_path) == (
            "/new",
            "m-new",
            "b-new",
            "/t2",
        )
        assert s.cwd_at == s.model_at == s.git_branch_at == s.transcript_path_at == at(50)

    def test_first_and_last_user_message(self, storage: Storage) -> None:
        storage.insert_many([prompt("second", 2), prompt("third", 3), prompt("   ", 4)])
        storage.insert(prompt("first", 1))
        s = one(storage)
        assert (s.first_user_message, s.last_user_message) == ("first", "third")
        assert (s.first_user_message_at, s.last_user_message_at) == (at(1), at(3))

    def test_long_user_message_is_truncated(self, storage: Storage) -> None:
        storage.insert(prompt("x" * 10_000, 1))
        message = one(storage).first_user_message
        assert message is not None and 100 <= len(message) <= 2000

    def test_pid_lookup_returns_most_recent_session(self, storage: Storage) -> None:
        storage.insert_many(
            [
                ev(t=1, pid=77, process_start_time=9, session_id="old"),
                ev(t=5, pid=77, process_start_time=10, session_id="new"),
                ev(t=3, pid=88, session_id="other"),
            ]
        )
        s = storage.get_session_by_pid(77)
        assert s is not None and s.session_id == "new"
        assert (s.pid, s.process_start_time) == (77, 10)
        assert storage.get_session_by_pid(12345) is None

    def test_get_session_prefers_most_recently_active_machine(self, storage: Storage) -> None:
        storage.insert_many(
            [ev(t=1, machine_id="a"), ev(t=9, machine_id="b"), ev(t=5, machine_id="c")]
        )
        s = storage.get_session("s1")
        assert s is not None and s.machine_id == "b"
        assert storage.get_session("nope") is None
        assert storage.get_session_by_key("a", "s1") is not None
        assert storage.get_session_by_key("a", "s2") is None

    # -- list_sessions ----------------------------------------------------------------

    def _seed_sessions(self, storage: Storage) -> None:
        storage.insert_many(
            [
                ev(EventType.SESSION_START, 10, session_id="a", framework="claude"),
                api(11, session_id="a", cost=0.5, framework="claude"),
                ev(EventType.SESSION_START, 20, session_id="b", framework="codex", machine_id="m2"),
                api(25, session_id="b", cost=2.0, framework="codex", machine_id="m2"),
                ev(EventType.SESSION_END, 26, session_id="b", machine_id="m2"),
                ev(EventType.PRE_TOOL_USE, 5, session_id="c", framework="claude"),
                ev(EventType.PRE_TOOL_USE, 30, session_id="c", framework="claude"),
                api(
                    1, session_id="d", cost=None, framework="claude", source=EventSource.TRANSCRIPT
                ),
            ]
        )
        storage.upsert_session_git_context(
            "m1", "a", GitContext(github_repo="o/r", github_pr=7, github_issue=3), at=at(12)
        )

    def _session_ids(self, sessions: list[Session]) -> list[str]:
        return [s.session_id for s in sessions]

    def test_list_sessions_filters(self, storage: Storage) -> None:
        self._seed_sessions(storage)
        q = SessionQuery()
        assert sorted(self._session_ids(storage.list_sessions(q))) == ["a", "b", "c", "d"]
        assert self._session_ids(storage.list_sessions(q.with_machine("m2"))) == ["b"]
        assert sorted(self._session_ids(storage.list_sessions(q.with_framework("claude")))) == [
            "a",
            "c",
            "d",
        ]
        assert sorted(self._session_ids(storage.list_sessions(q.active_only()))) == ["a", "c"]
        assert sorted(self._session_ids(storage.list_sessions(q.with_active_since(at(26))))) == [
            "b",
            "c",
        ]
        assert sorted(self._session_ids(storage.list_sessions(q.with_started_after(at(10))))) == [
            "a",
            "b",
        ]
        assert sorted(self._session_ids(storage.list_sessions(q.with_started_before(at(10))))) == [
            "c",
            "d",
        ]
        assert self._session_ids(storage.list_sessions(q.with_github_repo("o/r"))) == ["a"]
        assert self._session_ids(storage.list_sessions(q.with_github_pr(7))) == ["a"]
        assert self._session_ids(storage.list_sessions(q.with_github_issue(3))) == ["a"]
        assert self._session_ids(storage.list_sessions(q.with_github_issue(4))) == []

    def test_list_sessions_orders(self, storage: Storage) -> None:
        self._seed_sessions(storage)
        q = SessionQuery()
        assert self._session_ids(storage.list_sessions(q)) == ["c", "b", "a", "d"]
        assert self._session_ids(storage.list_sessions(q.with_direction(Order.ASC))) == [
            "d",
            "a",
            "b",
            "c",
        ]
        assert self._session_ids(storage.list_sessions(q.order_by_started_at())) == [
            "b",
            "a",
            "c",
            "d",
        ]
        by_cost = q.order_by(SessionOrder.COST)
        # sessions without a cost come last in either direction, ties by key
        assert self._session_ids(storage.list_sessions(by_cost)) == ["b", "a", "d", "c"]
        assert self._session_ids(storage.list_sessions(by_cost.with_direction("asc"))) == [
            "a",
            "b",
            "c",
            "d",
        ]
        assert self._session_ids(storage.list_sessions(q.order_by_cost().with_limit(1))) == ["b"]
        assert storage.list_sessions(q.with_limit(0)) == []

    def test_session_order_ties_by_key(self, storage: Storage) -> None:
        storage.insert_many(
            [ev(t=1, session_id=s, machine_id=m) for m in ("y", "x") for s in ("b", "a")]
        )
        got = [(s.machine_id, s.session_id) for s in storage.list_sessions(SessionQuery())]
        assert got == [("y", "b"), ("y", "a"), ("x", "b"), ("x", "a")]
        got = [
            (s.machine_id, s.session_id)
            for s in storage.list_sessions(SessionQuery().with_direction(Order.ASC))
        ]
        assert got == [("x", "a"), ("x", "b"), ("y", "a"), ("y", "b")]

    # -- git context --------------------------------------------------------------------

    def test_update_session_git_info(self, storage: Storage) -> None:
        assert not storage.update_session_git_info("m1", "s1", GitBranchInfo(branch="x"))
        storage.insert(ev(t=1, git_branch="main"))
        info = GitBranchInfo(branch="fix/42-thing", pr_number=9, issue_number=42)
        assert storage.update_session_git_info("m1", "s1", info, at=at(5))
        s = one(storage)
        assert (s.git_branch, s.github_pr, s.github_issue, s.git_branch_at) == (
            "fix/42-thing",
            9,
            42,
            at(5),
        )
        storage.insert(ev(t=3, git_branch="older"))
        assert one(storage).git_branch == "fix/42-thing"
        storage.insert(ev(t=8, git_branch="newer"))
        assert one(storage).git_branch == "newer"

    def test_update_session_github_repo_only_fills_empty(self, storage: Storage) -> None:
        assert not storage.update_session_github_repo("m1", "s1", "o/r")
        storage.insert(ev())
        assert storage.update_session_github_repo("m1", "s1", "o/r")
        assert not storage.update_session_github_repo("m1", "s1", "other/repo")
        assert one(storage).github_repo == "o/r"

    def test_upsert_git_context_creates_and_merges(self, storage: Storage) -> None:
        created = storage.upsert_session_git_context(
            "m1",
            "s1",
            GitContext(local_git_dir="/r/.git", github_repo="o/r", git_branch="main", github_pr=4),
            at=at(1),
        )
        assert created == one(storage)
        assert (
            created.local_git_dir,
            created.github_repo,
            created.git_branch,
            created.github_pr,
        ) == (
            "/r/.git",
            "o/r",
            "main",
            4,
        )
        assert created.first_activity == created.last_activity == at(1)
        assert created.event_count == 0
        same = storage.upsert_session_git_context(
            "m1", "s1", GitContext(github_repo="o/r"), at=at(2)
        )
        assert same.github_pr == 4
        kept = storage.upsert_session_git_context(
            "m1", "s1", GitContext(git_worktree_path="/wt"), at=at(3)
        )
        assert (kept.github_repo, kept.github_pr, kept.git_worktree_path) == ("o/r", 4, "/wt")
        moved = storage.upsert_session_git_context(
            "m1", "s1", GitContext(github_repo="o/other"), at=at(4)
        )
        assert (moved.github_repo, moved.github_pr, moved.github_issue) == ("o/other", None, None)
        assert one(storage) == moved
        storage.insert(ev(t=10))
        s = one(storage)
        assert (s.event_count, s.github_repo, s.local_git_dir) == (1, "o/other", "/r/.git")

    def test_update_session_transcript_path(self, storage: Storage) -> None:
        assert not storage.update_session_transcript_path("m1", "s1", "/t")
        storage.insert(ev(t=1, transcript_path="/old"))
        assert storage.update_session_transcript_path("m1", "s1", "/new", at=at(2))
        assert one(storage).transcript_path == "/new"

    def test_restore_sessions_writes_summaries_as_given(self, storage: Storage) -> None:
        storage.insert_many([api(1), prompt("hello", 2), ev(EventType.SESSION_START, 0, pid=5)])
        storage.upsert_session_git_context("m1", "s1", GitContext(github_repo="o/r"), at=at(3))
        original = one(storage)
        changed = attrs.evolve(original, session_id="copy", github_pr=99, status=SessionStatus.DONE)
        assert storage.restore_sessions([changed]) == 1
        assert storage.get_session_by_key("m1", "copy") == changed
        assert storage.restore_sessions([attrs.evolve(original, model="replaced")]) == 1
        assert one(storage).model == "replaced"
        assert storage.restore_sessions([]) == 0

    def test_returned_sessions_are_records(self, storage: Storage) -> None:
        self._seed_sessions(storage)
        for s in storage.list_sessions(SessionQuery()):
            assert type(s) is Session
            assert s.status is None or type(s.status) is SessionStatus

    def test_git_facts_given_with_a_batch_equal_a_separate_upsert(
        self, open_store: Callable[..., Storage]
    ) -> None:
        context = GitContext(github_repo="octo/widgets", git_branch="fix/7-x", github_pr=7)
        events = [ev(EventType.PRE_TOOL_USE, 1), prompt("fix the login", 2)]
        one = open_store()
        result = one.insert_many(events, git=[("m1", "s1", context, at(1))])
        assert result.inserted == 2
        two = open_store()
        two.insert_many(events)
        two.upsert_session_git_context("m1", "s1", context, at=at(1))
        assert one.get_session_by_key("m1", "s1") == two.get_session_by_key("m1", "s1")
        # git facts alone create the session, as upsert_session_git_context does
        three = open_store()
        three.insert_many([], git=[("m1", "s9", context, at(3))])
        s = three.get_session_by_key("m1", "s9")
        assert s is not None and s.github_repo == "octo/widgets"
