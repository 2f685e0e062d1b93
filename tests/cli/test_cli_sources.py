"""``netsky sources`` and ``netsky ingest`` on a machine with no agent history, and
the listing of every built-in source (real subprocesses, an empty HOME)."""

from __future__ import annotations

from pathlib import Path

from tests.netsky_cli import Netsky, assert_one_line_error

BUILT_IN = {
    "claude": "CLAUDE_CONFIG_DIR",
    "codex": "CODEX_HOME",
    "gemini": "GEMINI_DATA_DIR",
    "opencode": "OPENCODE_DATA_DIR",
    "copilot": "COPILOT_HOME",
    "qwen": "QWEN_DATA_DIR",
    "pi": "PI_AGENT_DIR",
    "kimi": "KIMI_DATA_DIR",
    "amp": "AMP_DATA_DIR",
    "hermes": "HERMES_HOME",
    "kilo": "KILO_DATA_DIR",
    "goose": "GOOSE_PATH_ROOT",
    "openclaw": "OPENCLAW_DIR",
    "droid": "DROID_SESSIONS_DIR",
}


def _empty(tmp_path: Path) -> Netsky:
    return Netsky(tmp_path, drop=tuple(BUILT_IN.values()), extra_env={"COLUMNS": "200"})


def test_sources_on_a_machine_without_any_agent(tmp_path: Path) -> None:
    netsky = _empty(tmp_path)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    result = netsky.ok("--db", db, "sources")
    assert "no agent history found on this machine" in result.stdout
    for name in BUILT_IN:
        assert f"\n{name} " in result.stdout
    rows = netsky.ok("--db", db, "sources", "--json").json()
    assert {r["name"]: r["env_var"] for r in rows} == BUILT_IN
    home = str(tmp_path / "home")
    for row in rows:
        assert row["files"] == row["pending"] == 0 and row["error"] is None
        assert row["roots"] and all(not r["exists"] for r in row["roots"])
        assert all(r["path"].startswith(home) for r in row["roots"]), row
        assert row["distribution"] == "netsky-core" and row["pricing"]
    assert not (tmp_path / "store.db").exists()  # listing creates no store


def test_ingest_without_any_agent_says_so(tmp_path: Path) -> None:
    netsky = _empty(tmp_path)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    result = netsky.ok("--db", db, "ingest")
    assert "no agent history found" in result.stdout
    summary = netsky.ok("--db", db, "ingest", "--json").json()
    assert summary["files_found"] == 0 and summary["errors"] == []
    assert set(summary["sources"]) == set(BUILT_IN)


def test_sources_shows_what_a_variable_points_at(tmp_path: Path) -> None:
    root = tmp_path / "amp"
    (root / "threads").mkdir(parents=True)
    (root / "threads" / "T-1.json").write_text('{"id": "T-1", "messages": []}')
    netsky = _empty(tmp_path)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    env = {"AMP_DATA_DIR": str(root)}
    amp = {r["name"]: r for r in netsky.ok("--db", db, "sources", "--json", env=env).json()}["amp"]
    assert amp["env_set"] and amp["roots"] == [{"path": str(root), "exists": True}]
    assert (amp["files"], amp["pending"], amp["formats"]) == (1, 1, {"document": 1})
    netsky.ok("--db", db, "ingest", "amp", env=env)
    again = {r["name"]: r for r in netsky.ok("--db", db, "sources", "--json", env=env).json()}
    assert again["amp"]["pending"] == 0


def test_ingest_of_an_unknown_source_is_a_usage_error(tmp_path: Path) -> None:
    netsky = _empty(tmp_path)
    result = netsky("--db", f"sqlite:///{tmp_path / 's.db'}", "ingest", "gemnii")
    assert_one_line_error(result, 2, "no such source or path: gemnii", "gemini")
