"""A small, realistic agent history for ``netsky demo`` on a machine without one.

Claude Code transcripts and Codex rollouts laid out as the agents lay them out
(``claude/projects/<project>/<session>.jsonl``, ``codex/sessions/YYYY/MM/DD/rollout-*``),
over the last two weeks and ending before now: prompts, tool calls with their
results, streamed API responses (several lines per response, as Claude Code writes
them) on models with a known price, git branches. Nothing malformed, nothing in the
future: it shows what a real history looks like. The same seed and day give the same
files.
"""

from __future__ import annotations

import json
import random
import uuid as uuidlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["write_demo_history"]

PROJECTS = (
    ("/home/dev/projects/widgets", "feature/42-search"),
    ("/home/dev/projects/billing-api", "fix/117-rounding"),
    ("/home/dev/projects/docs-site", "main"),
)
CLAUDE_MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-6", "claude-haiku-4-5-20251001")
CODEX_MODEL = "gpt-5.2-codex"
PROMPTS = (
    "add a search box to the widget list and filter as the user types",
    "the invoice total is off by a cent for some currencies, find out why",
    "write a test for the rounding of refunds",
    "update the getting-started page for the new install command",
    "why does the CI job time out on the integration tests?",
    "refactor the pagination helper so both list views use it",
)
TOOLS = (
    ("Read", {"file_path": "src/app.py"}, "     1\u2192import os\n     2\u2192"),
    ("Grep", {"pattern": "round(", "path": "src"}, "src/money.py:12: return round(x, 2)"),
    (
        "Edit",
        {"file_path": "src/money.py", "old_string": "round(x, 2)", "new_string": "q(x)"},
        "ok",
    ),
    ("Bash", {"command": "pytest -q tests/test_money.py"}, "4 passed in 0.31s"),
)


def _stamp(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Claude:
    """One Claude Code session, line by line."""

    def __init__(self, rng: random.Random, start: datetime, cwd: str, branch: str) -> None:
        self.rng = rng
        self.t = start
        self.session = str(uuidlib.UUID(int=rng.getrandbits(128), version=4))
        self.cwd, self.branch = cwd, branch
        self.model = rng.choice(CLAUDE_MODELS)
        self.parent: str | None = None
        self.lines: list[dict[str, Any]] = []
        self.cache = rng.randint(8_000, 20_000)

    def _line(self, kind: str, message: dict[str, Any], **extra: Any) -> None:
        line_id = str(uuidlib.UUID(int=self.rng.getrandbits(128), version=4))
        self.lines.append(
            {
                "parentUuid": self.parent,
                "isSidechain": False,
                "userType": "external",
                "cwd": self.cwd,
                "sessionId": self.session,
                "version": "2.1.38",
                "gitBranch": self.branch,
                "type": kind,
                "message": message,
                "uuid": line_id,
                "timestamp": _stamp(self.t),
                **extra,
            }
        )
        self.parent = line_id

    def _advance(self, lo: float, hi: float) -> None:
        self.t += timedelta(seconds=self.rng.uniform(lo, hi))

    def prompt(self, text: str) -> None:
        self._line("user", {"role": "user", "content": text}, permissionMode="default")
        self._advance(2, 6)

    def response(self, blocks: list[dict[str, Any]]) -> None:
        """One API response written as one line per content block (growing usage)."""
        rng = self.rng
        message_id = "msg_01" + "".join(
            rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(22)
        )
        request_id = "req_011" + "".join(
            rng.choice("abcdefghijkmnopqrstuvwxyz0123456789") for _ in range(21)
        )
        written = rng.randint(200, 3_000)
        output = rng.randint(80, 1_200)
        for i, block in enumerate(blocks):
            usage = {
                "input_tokens": rng.randint(2, 40),
                "cache_creation_input_tokens": written,
                "cache_read_input_tokens": self.cache,
                "cache_creation": {
                    "ephemeral_5m_input_tokens": written,
                    "ephemeral_1h_input_tokens": 0,
                },
                "output_tokens": output if i == len(blocks) - 1 else min(output, 10 + i),
                "service_tier": "standard",
            }
            message = {
                "model": self.model,
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "content": [block],
                "stop_reason": None,
                "usage": usage,
            }
            self._line("assistant", message, requestId=request_id)
            self._advance(0.2, 1.5)
        self.cache += written

    def turn(self, text: str) -> None:
        self.prompt(text)
        for _ in range(self.rng.randint(1, 4)):
            name, tool_input, result = self.rng.choice(TOOLS)
            tool_id = "toolu_01" + uuidlib.UUID(int=self.rng.getrandbits(128)).hex[:22]
            self.response(
                [
                    {"type": "text", "text": f"Let me look at this with {name}."},
                    {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input},
                ]
            )
            self._advance(0.5, 8)
            content = [{"tool_use_id": tool_id, "type": "tool_result", "content": result}]
            self._line("user", {"role": "user", "content": content})
            self._advance(1, 4)
        self.response([{"type": "text", "text": "Done: the change is in and the tests pass."}])
        self._advance(30, 600)


def _codex_lines(rng: random.Random, start: datetime, cwd: str) -> tuple[str, list[dict[str, Any]]]:
    session = str(uuidlib.UUID(int=rng.getrandbits(128), version=4))
    t = start
    out: list[dict[str, Any]] = []

    def add(kind: str, payload: dict[str, Any]) -> None:
        out.append({"timestamp": _stamp(t), "type": kind, "payload": payload})

    add(
        "session_meta",
        {
            "id": session,
            "timestamp": _stamp(t),
            "cwd": cwd,
            "originator": "codex_cli_rs",
            "cli_version": "0.89.0",
            "source": "cli",
            "model_provider": "openai",
        },
    )
    total = {
        "input_tokens": 0,
        "cached_input_tokens": 0,
        "output_tokens": 0,
        "reasoning_output_tokens": 0,
        "total_tokens": 0,
    }
    for turn in range(rng.randint(2, 4)):
        t += timedelta(seconds=rng.uniform(5, 120))
        add("event_msg", {"type": "user_message", "message": rng.choice(PROMPTS)})
        add("turn_context", {"cwd": cwd, "approval_policy": "on-request", "model": CODEX_MODEL})
        for call in range(rng.randint(1, 3)):
            t += timedelta(seconds=rng.uniform(1, 10))
            call_id = f"call_{turn}{call}" + uuidlib.UUID(int=rng.getrandbits(128)).hex[:16]
            add(
                "response_item",
                {
                    "type": "function_call",
                    "name": "shell",
                    "arguments": json.dumps({"command": ["rg", "TODO"]}),
                    "call_id": call_id,
                },
            )
            add(
                "response_item",
                {
                    "type": "function_call_output",
                    "call_id": call_id,
                    "output": "src/app.py:3: # TODO",
                },
            )
            last = {
                "input_tokens": rng.randint(3_000, 12_000),
                "output_tokens": rng.randint(50, 900),
            }
            last["cached_input_tokens"] = rng.randint(0, last["input_tokens"])
            last["reasoning_output_tokens"] = rng.randint(0, last["output_tokens"])
            last["total_tokens"] = last["input_tokens"] + last["output_tokens"]
            for name, value in last.items():
                total[name] += value
            info = {
                "total_token_usage": dict(total),
                "last_token_usage": last,
                "model_context_window": 272_000,
            }
            add("event_msg", {"type": "token_count", "info": info})
        t += timedelta(seconds=rng.uniform(1, 5))
        add("event_msg", {"type": "agent_message", "message": "Fixed; the search now matches."})
    return session, out


def write_demo_history(
    root: Path, *, now: datetime | None = None, days: int = 14, seed: int = 7
) -> dict[str, int]:
    """Write the history under ``root`` (``claude/`` and ``codex/``); returns counts.

    Every line is at least a minute before ``now``; the sessions are spread over the
    last ``days`` days, a few a day, at working hours."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    rng = random.Random(seed)
    counts = {"claude_sessions": 0, "codex_sessions": 0, "lines": 0}
    first_day = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    for day in range(days + 1):
        for _ in range(rng.randint(0, 3) if day < days else 1):
            start = first_day + timedelta(days=day, hours=rng.uniform(8, 19))
            if start > now - timedelta(hours=2):
                start = now - timedelta(hours=2, minutes=rng.uniform(0, 60))
            cwd, branch = rng.choice(PROJECTS)
            if rng.random() < 0.75:
                session = _Claude(rng, start, cwd, branch)
                for _ in range(rng.randint(1, 3)):
                    session.turn(rng.choice(PROMPTS))
                lines, name = session.lines, f"{session.session}.jsonl"
                folder = root / "claude" / "projects" / cwd.replace("/", "-")
                counts["claude_sessions"] += 1
            else:
                session_id, lines = _codex_lines(rng, start, cwd)
                folder = root / "codex" / "sessions" / start.strftime("%Y/%m/%d")
                name = f"rollout-{start.strftime('%Y-%m-%dT%H-%M-%S')}-{session_id}.jsonl"
                counts["codex_sessions"] += 1
            lines = [
                line for line in lines if line["timestamp"] < _stamp(now - timedelta(minutes=1))
            ]
            folder.mkdir(parents=True, exist_ok=True)
            with open(folder / name, "w", encoding="utf-8") as fh:
                for line in lines:
                    fh.write(json.dumps(line, separators=(",", ":")) + "\n")
            counts["lines"] += len(lines)
    return counts
