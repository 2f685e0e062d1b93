"""``netsky sessions`` and ``netsky session ID|PID``."""

from __future__ import annotations

from netsky_core import Event, EventType, open_storage

from .conftest import PID, S1, S2, S3, SEED_SESSIONS, Netsky, assert_one_line_error, at


def test_list_table(netsky: Netsky, seeded: str) -> None:
    out = netsky.ok("--db", seeded, "sessions").stdout
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["SESSION", "MACHINE", "STARTED", "DURATION"]
    assert len(lines) == 2 + SEED_SESSIONS
    # most recently active first: S2 ends at 13:00
    assert lines[2].startswith(S2[:8])
    row = next(line for line in lines if line.startswith(S1[:8]))
    assert "2026-03-01 12:00" in row
    assert "fix/12-flaky PR #12" in row
    assert "fix the flaky test" in row
    assert "$0.75" in row
    assert "2.0k" in row  # 2 requests of 1,000 tokens, human form
    assert S1 not in out  # ids are shortened
    unpriced = next(line for line in lines if line.startswith(S2[:8]))
    assert "unknown" in unpriced and "$0" not in unpriced
    assert "Done" in unpriced


def test_list_json_has_full_records(netsky: Netsky, seeded: str) -> None:
    data = netsky.ok("--db", seeded, "sessions", "--json").json()
    assert [s["session_id"] for s in data] == [S2, S3, S1]
    s1 = data[2]
    assert s1["github_repo"] == "octo/widgets"
    assert s1["github_pr"] == 12
    assert s1["cost_usd"] == 0.75
    assert s1["tokens_input"] == 200
    assert s1["first_user_message"] == "fix the flaky test"
    assert s1["first_activity"] == "2026-03-01T12:00:00+00:00"
    assert data[0]["cost_usd"] is None  # unknown stays unknown


def test_list_filters_order_and_limit(netsky: Netsky, seeded: str) -> None:
    def ids(*args: str) -> list[str]:
        return [
            s["session_id"] for s in netsky.ok("--db", seeded, "sessions", "--json", *args).json()
        ]

    # the seeded sessions are from 2026-03-01: long idle, so ended whatever their status says
    assert ids("--active") == []
    patient = netsky.root / "patient.toml"
    patient.write_text('[sessions]\nidle_timeout = "5200w"\n')
    assert ids("--active", "--config", str(patient)) == [S3, S1]
    assert ids("--framework", "codex") == [S2]
    assert ids("--machine", "desktop") == [S3]
    assert ids("--repo", "octo/widgets") == [S1]
    assert ids("--repo", "octo/other") == []
    assert ids("--since", "2026-03-01T12:30:00Z") == [S2]
    assert ids("--order", "started") == [S3, S2, S1]
    assert ids("--order", "started", "--asc") == [S1, S2, S3]
    assert ids("--order", "cost") == [S3, S1, S2]  # unknown cost sorts last
    assert ids("--order", "cost", "--asc") == [S1, S3, S2]
    assert ids("--limit", "1") == [S2]
    assert ids("--limit", "0") == [S2, S3, S1]
    assert "no sessions match" in netsky.ok("--db", seeded, "sessions", "--framework", "x").stdout


def test_bad_list_arguments(netsky: Netsky, sqlite_url: str) -> None:
    for args in (
        ["--order", "price"],
        ["--limit", "-1"],
        ["--limit", "ten"],
        ["--repo", "widgets"],
        ["--since", "last tuesday"],
        ["--since", "30"],
    ):
        assert_one_line_error(netsky("--db", sqlite_url, "sessions", *args), 2)
    result = netsky("--db", sqlite_url, "sessions", "--since", "soon")
    assert "2026-01-31" in result.stderr and "3d" in result.stderr  # examples in the message


def test_one_session_by_id_prefix_and_pid(netsky: Netsky, seeded: str) -> None:
    for ref in (S1, S1[:6], str(PID)):
        data = netsky.ok("--db", seeded, "session", ref, "--json").json()
        assert data["session"]["session_id"] == S1
        assert data["session"]["pid"] == PID
        types = [e["event_type"] for e in data["events"]]
        assert types[0] == EventType.SESSION_START and types[-1] == EventType.STOP
        assert len(types) == 7
    limited = netsky.ok("--db", seeded, "session", S1, "--events", "2", "--json").json()
    assert [e["event_type"] for e in limited["events"]] == [EventType.API_REQUEST, EventType.STOP]


def test_one_session_text(netsky: Netsky, seeded: str) -> None:
    out = netsky.ok("--db", seeded, "session", S1[:8]).stdout
    assert out.startswith(f"session {S1}\n")
    assert "repository    octo/widgets" in out
    assert "started        2026-03-01 12:00:00" in out
    assert "cost         $0.75" in out
    assert "timeline (last 7 events, local time)" in out
    assert "tool         Bash" in out and "prompt       fix the flaky test" in out
    none = netsky.ok("--db", seeded, "session", S1, "--events", "0").stdout
    assert "timeline" not in none and "totals" in none


def test_ambiguous_and_unknown_sessions_are_usage_errors(netsky: Netsky, seeded: str) -> None:
    result = netsky("--db", seeded, "session", "aaaa")
    assert_one_line_error(result, 2, "matches 2 sessions", S1, S2)
    assert_one_line_error(netsky("--db", seeded, "session", "nope"), 2, "no session matches")
    assert_one_line_error(netsky("--db", seeded, "session", "99999"), 2, "pid")


def test_same_session_id_on_two_machines(netsky: Netsky, seeded: str) -> None:
    with open_storage(seeded) as store:
        store.insert(
            Event(
                machine_id="other",
                session_id=S1,
                event_type=EventType.USER_PROMPT_SUBMIT,
                timestamp=at(9000),
                uuid="o1",
                source="hook",
            )
        )
    assert (
        netsky.ok("--db", seeded, "session", S1, "--json").json()["session"]["machine_id"]
        == "other"
    )
    pinned = netsky.ok("--db", seeded, "session", S1, "--machine", "laptop", "--json").json()
    assert pinned["session"]["machine_id"] == "laptop"
    assert len(pinned["events"]) == 7
    result = netsky("--db", seeded, "session", S1[:4])
    assert_one_line_error(result, 2, "matches")
