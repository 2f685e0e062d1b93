"""Tests of the synthetic agent-history generator (tests.history).

The manifest is checked three ways: against a small reference counter written here from
the documented rules (it does not use the generator's internals), against the files'
shapes and layout, and, when ccusage 20.x is available, against ccusage's own per-day
figures for the same tree.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.ccusage import run_ccusage
from tests.history import Manifest, generate, parse_size

REPO = Path(__file__).resolve().parents[1]
SMALL = 3_000_000
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ROLLOUT_RE = re.compile(
    r"^rollout-(\d{4})-(\d{2})-(\d{2})T\d{2}-\d{2}-\d{2}-"
    r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$"
)
FIELDS = (
    "input",
    "output",
    "cache_creation",
    "cache_read",
    "cache_creation_1h",
    "reasoning_output",
    "responses",
)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    root = tmp_path_factory.mktemp("synthetic") / "history"
    return root, generate(root, target_bytes=SMALL, seed=0)


# ---------------------------------------------------------------------------------------
# Reference reader and counter (independent of the generator)
# ---------------------------------------------------------------------------------------


def read_jsonl(path: Path) -> tuple[list[dict[str, Any] | None], bool]:
    """Parsed lines (None for a malformed one) and whether the file ends with a newline."""
    data = path.read_bytes()
    raw = data.split(b"\n")
    if raw and raw[-1] == b"":
        raw.pop()
    out: list[dict[str, Any] | None] = []
    for line in raw:
        try:
            obj = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            out.append(None)
            continue
        out.append(obj if isinstance(obj, dict) else None)
    return out, data.endswith(b"\n")


def utc_day(ts: str) -> str:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).date().isoformat()


def ts_ms(ts: str) -> int:
    return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)


@dataclass
class Recount:
    """Per (day, framework, model) totals in the manifest's field order, plus evidence."""

    daily: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)
    fast: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    malformed: Counter[str] = field(default_factory=Counter)
    stats: Counter[str] = field(default_factory=Counter)

    def add(self, day: str, fw: str, model: str, values: list[int], fast: bool) -> None:
        row = self.daily.setdefault((day, fw, model), [0] * len(FIELDS))
        for i, v in enumerate(values):
            row[i] += v
        if fast:
            frow = self.fast.setdefault((day, model), [0] * len(FIELDS))
            for i, v in enumerate(values):
                frow[i] += v


def claude_files(root: Path) -> list[Path]:
    return sorted((root / "claude" / "projects").rglob("*.jsonl"))


def codex_files(root: Path) -> list[Path]:
    base = root / "codex"
    return sorted(base.glob("sessions/*/*/*/*.jsonl")) + sorted(
        base.glob("archived_sessions/*.jsonl")
    )


def recount(root: Path) -> Recount:
    rc = Recount()
    # -- Claude: group by (message.id, requestId) or message.id; keep the largest line
    groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    order = 0
    for path in claude_files(root):
        lines, _ = read_jsonl(path)
        for obj in lines:
            order += 1
            if obj is None:
                rc.malformed["claude"] += 1
                continue
            typ = obj.get("type")
            if typ == "assistant":
                msg, rid, ts = obj["message"], obj.get("requestId"), obj.get("timestamp")
                sidechain = bool(obj.get("isSidechain"))
                via = "line"
            elif typ == "progress" and obj.get("data", {}).get("type") == "agent_progress":
                inner = obj["data"]["message"]
                if inner.get("type") != "assistant":
                    continue
                msg, rid, ts = inner["message"], inner.get("requestId"), inner.get("timestamp")
                sidechain = bool(obj.get("isSidechain"))
                via = "progress"
            else:
                continue
            usage = msg.get("usage")
            if msg.get("model") == "<synthetic>":
                rc.stats["synthetic_lines"] += 1
                continue
            if not usage:
                continue
            key = (msg["id"], rid) if rid else (msg["id"],)
            u = (
                usage.get("input_tokens", 0),
                usage.get("output_tokens", 0),
                usage.get("cache_creation_input_tokens", 0),
                usage.get("cache_read_input_tokens", 0),
            )
            groups.setdefault(key, []).append(
                (
                    sum(u),
                    not sidechain,
                    -ts_ms(ts),
                    -order,
                    ts,
                    u,
                    usage,
                    msg["model"],
                    via,
                    str(path),
                )
            )
    for key, cands in groups.items():
        best = max(cands, key=lambda c: c[:4])
        _, _, _, _, ts, u, usage, model, via, path = best
        h1 = (usage.get("cache_creation") or {}).get("ephemeral_1h_input_tokens", 0)
        fast = usage.get("speed") == "fast"
        rc.add(utc_day(ts), "claude", model, [*u, h1, 0, 1], fast)
        # evidence of the realism features
        days = {utc_day(c[4]) for c in cands}
        rc.stats["responses"] += 1
        if len(days) > 1:
            first = min(cands, key=lambda c: -c[2])
            rc.stats[
                "cross_midnight_kept_later_day"
                if utc_day(ts) != utc_day(first[4])
                else "cross_midnight_kept_first_day"
            ] += 1
        if len(key) == 1:
            rc.stats["missing_request_id"] += 1
        if via == "progress":
            rc.stats["kept_from_agent_progress"] += 1
        if not best[1]:
            rc.stats["kept_sidechain"] += 1
        if len({c[9] for c in cands}) > 1:
            rc.stats["groups_over_several_files"] += 1
        lines = [c for c in cands if c[8] == "line"]
        if len({c[5] for c in lines}) > 1:
            rc.stats["partial_usage_groups"] += 1
        elif len(lines) > 1:
            rc.stats["identical_usage_groups"] += 1
        if "cache_creation" not in usage:
            rc.stats["no_cache_split"] += 1
        if fast:
            rc.stats["fast"] += 1
    # -- Codex: increases of the cumulative total; a session counts once
    seen: set[str] = set()
    for path in codex_files(root):
        lines, _ = read_jsonl(path)
        rc.malformed["codex"] += sum(1 for o in lines if o is None)
        meta = next((o for o in lines if o and o.get("type") == "session_meta"), None)
        assert meta is not None, path
        sid = meta["payload"]["id"]
        if sid in seen:
            rc.stats["codex_duplicate_files"] += 1
            continue
        seen.add(sid)
        model: str | None = None
        models: set[str] = set()
        prev = (0, 0, 0, 0)
        for obj in lines:
            if obj is None:
                continue
            if obj["type"] == "turn_context":
                model = obj["payload"]["model"]
                models.add(model)
            elif obj["type"] == "event_msg" and obj["payload"].get("type") == "token_count":
                info = obj["payload"]["info"]
                if info is None:
                    rc.stats["codex_null_info"] += 1
                    continue
                t = info["total_token_usage"]
                cur = (
                    t["input_tokens"],
                    t["cached_input_tokens"],
                    t["output_tokens"],
                    t["reasoning_output_tokens"],
                )
                if cur == prev:
                    rc.stats["codex_repeated_token_count"] += 1
                    continue
                d = [c - p for c, p in zip(cur, prev)]
                prev = cur
                assert model is not None
                rc.add(
                    utc_day(obj["timestamp"]),
                    "codex",
                    model,
                    [d[0] - d[1], d[2], 0, d[1], 0, d[3], 1],
                    False,
                )
        if len(models) > 1:
            rc.stats["codex_model_switch_files"] += 1
    return rc


def manifest_rows(
    m: Manifest,
) -> tuple[dict[tuple[str, str, str], list[int]], dict[tuple[str, str], list[int]]]:
    daily = {
        (day, fw, model): [getattr(t, f) for f in FIELDS]
        for day, per in m.daily.items()
        for fw, models in per.items()
        for model, t in models.items()
    }
    fast = {
        (day, model): [getattr(t, f) for f in FIELDS]
        for day, per in m.fast.items()
        for model, t in per.items()
    }
    return daily, fast


# ---------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", target_bytes=1_500_000, seed=3, days=10)
    b = generate(tmp_path / "b", target_bytes=1_500_000, seed=3, days=10)
    c = generate(tmp_path / "c", target_bytes=1_500_000, seed=4, days=10)
    ta, tb, tc = (tree_bytes(tmp_path / x) for x in "abc")
    ta.pop("manifest.json"), tb.pop("manifest.json"), tc.pop("manifest.json")
    assert ta == tb
    assert a.daily == b.daily and a.files == b.files and a.features == b.features
    assert set(ta) != set(tc)
    assert a.daily != c.daily


def test_manifest_json_is_deterministic_apart_from_timing(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", target_bytes=500_000, seed=1)
    b = generate(tmp_path / "b", target_bytes=500_000, seed=1)
    a.elapsed_seconds = b.elapsed_seconds = 0.0
    assert a.to_json() == b.to_json()


@pytest.mark.parametrize(
    ("target", "seed", "share"),
    [
        (1_000_000, 0, 0.8),
        (3_000_000, 1, 0.8),
        (8_000_000, 2, 0.5),
        (2_000_000, 3, 1.0),
    ],
)
def test_size_within_five_percent(tmp_path: Path, target: int, seed: int, share: float) -> None:
    m = generate(tmp_path, target_bytes=target, seed=seed, claude_share=share)
    on_disk = sum(len(b) for name, b in tree_bytes(tmp_path).items() if name != "manifest.json")
    assert on_disk == m.bytes
    assert abs(m.bytes - target) <= 0.05 * target, (m.bytes, target)
    if share == 1.0:
        assert m.files["codex"].files == 0


def test_refuses_to_write_over_an_existing_tree(tree: tuple[Path, Manifest]) -> None:
    root, _ = tree
    with pytest.raises(FileExistsError):
        generate(root, target_bytes=100_000)


def test_claude_layout(tree: tuple[Path, Manifest]) -> None:
    root, m = tree
    projects = root / "claude" / "projects"
    mains = sorted(projects.glob("*/*.jsonl"))
    subs = sorted(projects.glob("*/*/subagents/agent-*.jsonl"))
    assert len(mains) >= 20
    assert subs, "newer-style subagent files"
    assert len(mains) + len(subs) == m.files["claude"].files == len(claude_files(root))
    assert len({p.parent.name for p in mains}) >= 4, "several projects"
    for p in mains:
        assert UUID_RE.match(p.stem), p
        lines, _ = read_jsonl(p)
        for obj in lines:
            if obj and "cwd" in obj:
                assert p.parent.name == obj["cwd"].replace("/", "-")
                assert obj["sessionId"] == p.stem
    for p in subs:
        session_dir = p.parent.parent
        assert (session_dir.parent / f"{session_dir.name}.jsonl").is_file()
        agent = p.stem.removeprefix("agent-")
        lines, _ = read_jsonl(p)
        for obj in lines:
            if obj is not None:
                assert obj["isSidechain"] is True
                assert obj["agentId"] == agent
                assert obj["sessionId"] == session_dir.name


def test_codex_layout(tree: tuple[Path, Manifest]) -> None:
    root, m = tree
    codex = root / "codex"
    files = codex_files(root)
    assert len(files) == m.files["codex"].files
    assert {p for p in codex.rglob("*") if p.is_file()} == set(files)
    archived = {p.name for p in codex.glob("archived_sessions/*.jsonl")}
    live = {p.name for p in codex.glob("sessions/*/*/*/*.jsonl")}
    assert archived and live
    assert archived & live, "a rollout present in both places"
    assert archived - live, "a rollout only in archived_sessions"
    for p in files:
        mt = ROLLOUT_RE.match(p.name)
        assert mt, p.name
        if p.parent.name != "archived_sessions":
            assert p.parent.relative_to(codex / "sessions").parts == mt.groups()[:3]
        lines, _ = read_jsonl(p)
        assert lines[0] is not None and lines[0]["type"] == "session_meta"
        assert lines[0]["payload"]["id"] == mt.group(4)


CLAUDE_SYSTEM = {"compact_boundary", "local_command", "turn_duration"}
CLAUDE_OTHER = {
    "summary",
    "file-history-snapshot",
    "queue-operation",
    "custom-title",
    "permission-mode",
    "last-prompt",
}


def check_claude_line(obj: dict[str, Any], unknown: Counter[str]) -> None:
    typ = obj["type"]
    assert isinstance(typ, str)
    if typ in ("assistant", "user", "progress", "system"):
        for key in (
            "uuid",
            "parentUuid",
            "isSidechain",
            "sessionId",
            "cwd",
            "version",
            "timestamp",
        ):
            assert key in obj, (key, obj)
        utc_day(obj["timestamp"])
    if typ == "assistant":
        msg = obj["message"]
        assert msg["role"] == "assistant" and isinstance(msg["id"], str)
        assert isinstance(msg["content"], list) and len(msg["content"]) == 1
        assert msg["content"][0]["type"] in ("text", "thinking", "tool_use")
        u = msg["usage"]
        for k in (
            "input_tokens",
            "output_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
        ):
            assert isinstance(u[k], int) and u[k] >= 0
        if "cache_creation" in u:
            split = u["cache_creation"]
            assert (
                split["ephemeral_5m_input_tokens"] + split["ephemeral_1h_input_tokens"]
                == u["cache_creation_input_tokens"]
            )
        if msg["model"] != "<synthetic>" and "requestId" in obj:
            assert obj["requestId"].startswith("req_")
    elif typ == "user":
        assert obj["message"]["role"] == "user"
        c = obj["message"]["content"]
        assert isinstance(c, str) or all(b["type"] in ("text", "tool_result") for b in c)
    elif typ == "progress":
        data = obj["data"]
        assert data["type"] in ("hook_progress", "agent_progress")
        if data["type"] == "agent_progress":
            assert data["message"]["type"] in ("user", "assistant")
            assert isinstance(data["agentId"], str) and isinstance(data["prompt"], str)
            utc_day(data["message"]["timestamp"])
    elif typ == "system":
        assert obj["subtype"] in CLAUDE_SYSTEM
    elif typ not in CLAUDE_OTHER:
        unknown[typ] += 1


CODEX_TYPES = {"session_meta", "turn_context", "response_item", "event_msg", "compacted"}
CODEX_ITEMS = {
    "message",
    "reasoning",
    "function_call",
    "function_call_output",
    "custom_tool_call",
    "custom_tool_call_output",
}
CODEX_EVENTS = {"user_message", "agent_message", "agent_reasoning", "token_count", "task_complete"}


def check_codex_line(obj: dict[str, Any]) -> None:
    assert obj["type"] in CODEX_TYPES
    utc_day(obj["timestamp"])
    p = obj["payload"]
    if obj["type"] == "response_item":
        assert p["type"] in CODEX_ITEMS
    elif obj["type"] == "event_msg":
        assert p["type"] in CODEX_EVENTS
        if p["type"] == "token_count" and p["info"] is not None:
            t, last = p["info"]["total_token_usage"], p["info"]["last_token_usage"]
            for u in (t, last):
                assert u["cached_input_tokens"] <= u["input_tokens"]
                assert u["reasoning_output_tokens"] <= u["output_tokens"]
                assert u["total_tokens"] == u["input_tokens"] + u["output_tokens"]
    elif obj["type"] == "turn_context":
        assert isinstance(p["model"], str)


def test_lines_are_valid_json_of_known_shapes(tree: tuple[Path, Manifest]) -> None:
    root, m = tree
    unknown: Counter[str] = Counter()
    malformed: Counter[str] = Counter()
    lines_seen: Counter[str] = Counter()
    unterminated = 0
    for fw, files, check in (
        ("claude", claude_files(root), None),
        ("codex", codex_files(root), check_codex_line),
    ):
        for path in files:
            lines, terminated = read_jsonl(path)
            unterminated += not terminated
            lines_seen[fw] += len(lines)
            for obj in lines:
                if obj is None:
                    malformed[fw] += 1
                elif check is None:
                    check_claude_line(obj, unknown)
                else:
                    check(obj)
    assert unknown, "some line types a parser does not know"
    assert unterminated >= 1, "a file whose last line was cut while being written"
    for fw in ("claude", "codex"):
        assert malformed[fw] == m.files[fw].malformed_lines >= 2
        assert lines_seen[fw] == m.files[fw].lines
    assert m.malformed_lines == sum(malformed.values())


def test_malformed_lines_include_both_kinds(tree: tuple[Path, Manifest]) -> None:
    root, _ = tree
    kinds: Counter[str] = Counter()
    for path in claude_files(root) + codex_files(root):
        for line in path.read_bytes().split(b"\n"):
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                kinds["invalid_utf8"] += 1
                continue
            if text:
                try:
                    json.loads(text)
                except ValueError:
                    kinds["truncated"] += 1
    assert kinds["invalid_utf8"] >= 2 and kinds["truncated"] >= 2, kinds


def test_manifest_equals_reference_recount(tree: tuple[Path, Manifest]) -> None:
    root, m = tree
    rc = recount(root)
    daily, fast = manifest_rows(m)
    assert rc.daily == daily
    assert rc.fast == fast
    for fw in ("claude", "codex"):
        tot = m.totals[fw]
        rows = [v for (_, f, _), v in daily.items() if f == fw]
        assert [getattr(tot, f) for f in FIELDS] == [sum(col) for col in zip(*rows)]
    assert Manifest.load(root).daily == m.daily


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_manifest_equals_reference_recount_other_seeds(tmp_path: Path, seed: int) -> None:
    m = generate(tmp_path, target_bytes=2_000_000, seed=seed, days=5, start=date(2025, 12, 30))
    daily, fast = manifest_rows(m)
    rc = recount(tmp_path)
    assert rc.daily == daily and rc.fast == fast
    assert {d for d, _, _ in daily} >= {f"2025-12-{d}" for d in (30, 31)} | {"2026-01-01"}


def test_realism_features_are_present(tree: tuple[Path, Manifest]) -> None:
    root, m = tree
    s = recount(root).stats
    for key in (
        "cross_midnight_kept_later_day",
        "cross_midnight_kept_first_day",
        "missing_request_id",
        "kept_from_agent_progress",
        "kept_sidechain",
        "groups_over_several_files",
        "partial_usage_groups",
        "identical_usage_groups",
        "no_cache_split",
        "fast",
        "synthetic_lines",
        "codex_null_info",
        "codex_repeated_token_count",
        "codex_duplicate_files",
        "codex_model_switch_files",
    ):
        assert s[key] >= 1, (key, dict(s))
    models = {model for per in m.daily.values() for fw in per.values() for model in fw}
    assert {
        "claude-opus-4-6",
        "claude-sonnet-4-5-20250929",
        "claude-haiku-4-5-20251001",
        "gpt-5.2-codex",
        "gpt-5-codex",
        "claude-opus-9-unreleased",
    } <= models
    tot = m.totals["claude"]
    assert 0 < tot.cache_creation_1h < tot.cache_creation, "both 5m and 1h cache writes"
    assert len(m.daily) >= 28
    assert m.files["claude"].bytes > 3 * m.files["codex"].bytes
    text = b"".join(p.read_bytes() for p in claude_files(root))
    assert text.count(b'"subtype":"compact_boundary"') >= 1
    assert text.count(b'"type":"file-history-snapshot"') >= 1
    assert text.count(b'"type":"tool_result"') >= 10
    assert text.count(b'"subtype":"local_command"') >= 1
    for name in (
        "claude_compactions",
        "claude_subagent_files",
        "claude_resumed_sessions",
        "claude_cross_midnight_responses",
        "codex_archived_duplicates",
    ):
        assert m.features[name] >= 1, name


def test_manifest_round_trip(tree: tuple[Path, Manifest]) -> None:
    _, m = tree
    again = Manifest.from_json(m.to_json())
    assert again == m
    assert "claude" in m.summary() and "codex" in m.summary()


def test_parse_size() -> None:
    assert parse_size("500M") == 500_000_000
    assert parse_size("2G") == 2_000_000_000
    assert parse_size("1.5GB") == 1_500_000_000
    assert parse_size("800k") == 800_000
    assert parse_size("1234") == 1234


def test_script(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "generate_history.py"),
            str(tmp_path / "h"),
            "--size",
            "600k",
            "--seed",
            "2",
            "--days",
            "3",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "claude" in out.stdout and "MB/s" in out.stdout
    m = Manifest.load(tmp_path / "h")
    assert m.seed == 2 and m.days == 3 and abs(m.bytes - 600_000) <= 30_000


# ---------------------------------------------------------------------------------------
# ccusage as an external oracle
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trees(
    tree: tuple[Path, Manifest], tmp_path_factory: pytest.TempPathFactory
) -> list[tuple[Path, Manifest]]:
    other = tmp_path_factory.mktemp("synthetic2") / "history"
    return [tree, (other, generate(other, target_bytes=SMALL, seed=11, days=7, claude_share=0.6))]


@pytest.mark.parametrize("which", [0, 1])
def test_ccusage_claude_daily_equals_manifest(
    trees: list[tuple[Path, Manifest]], which: int, tmp_path: Path
) -> None:
    root, m = trees[which]
    report = run_ccusage(["daily"], tmp_path / "home", CLAUDE_CONFIG_DIR=str(root / "claude"))
    got: dict[tuple[str, str], tuple[int, ...]] = {}
    for day in report["daily"]:
        period = day.get("period") or day["date"]
        for mb in day["modelBreakdowns"]:
            row = (
                mb["inputTokens"],
                mb["outputTokens"],
                mb["cacheCreationTokens"],
                mb["cacheReadTokens"],
            )
            if any(row):  # ccusage lists a day holding only <synthetic> lines, with no tokens
                got[(period, mb["modelName"])] = row
    # ccusage reports `speed: "fast"` responses under "<model>-fast"
    expected: dict[tuple[str, str], tuple[int, ...]] = {}
    for day, per in m.daily.items():
        for model, t in per.get("claude", {}).items():
            f = m.fast.get(day, {}).get(model)
            row = [t.input, t.output, t.cache_creation, t.cache_read]
            if f is not None:
                expected[(day, model + "-fast")] = (
                    f.input,
                    f.output,
                    f.cache_creation,
                    f.cache_read,
                )
                row = [a - b for a, b in zip(row, expected[(day, model + "-fast")])]
            if any(row):
                expected[(day, model)] = tuple(row)
    assert got == expected
    t = m.totals["claude"]
    assert report["totals"]["inputTokens"] == t.input
    assert report["totals"]["outputTokens"] == t.output
    assert report["totals"]["cacheCreationTokens"] == t.cache_creation
    assert report["totals"]["cacheReadTokens"] == t.cache_read


@pytest.mark.parametrize("which", [0, 1])
def test_ccusage_codex_daily_equals_manifest(
    trees: list[tuple[Path, Manifest]], which: int, tmp_path: Path
) -> None:
    root, m = trees[which]
    report = run_ccusage(["codex", "daily"], tmp_path / "home", CODEX_HOME=str(root / "codex"))
    got = {
        (day.get("date") or day["period"], model): (
            v["inputTokens"],
            v["outputTokens"],
            v["cacheCreationTokens"],
            v["cacheReadTokens"],
            v["reasoningOutputTokens"],
        )
        for day in report["daily"]
        for model, v in day["models"].items()
    }
    expected = {
        (day, model): (t.input, t.output, t.cache_creation, t.cache_read, t.reasoning_output)
        for day, per in m.daily.items()
        for model, t in per.get("codex", {}).items()
    }
    assert got == expected
    assert report["totals"]["inputTokens"] == m.totals["codex"].input
    assert report["totals"]["cacheReadTokens"] == m.totals["codex"].cache_read
