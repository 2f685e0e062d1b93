"""OpenClaw session files -> events (``kind="lines"``).

Layout: ``~/.openclaw/agents/<agentId>/sessions/<sessionId>.jsonl`` (also the old homes
``~/.clawdbot``, ``~/.moltbot``, ``~/.moldbot``), with archived copies
``<id>.jsonl.deleted.<time>`` / ``<id>.jsonl.reset.<time>``; ``OPENCLAW_DIR``
(comma-separated) replaces the default homes; every such file at any depth is read. The
format is pi's session format (``netsky_core.sources.pi``), with ``model_change`` and
``custom``/``model-snapshot`` lines naming the model.

As ccusage 20.0.24: assistant messages with non-zero usage count; the model is
``message.modelId``/``message.model``, else the latest model change or snapshot (ccusage
shows ``[openclaw] <model>``: display only); the time is ``message.timestamp`` (epoch ms)
else the line's; cost is ``usage.cost.total`` when present, else the LiteLLM price; the
session is the file name up to ``.jsonl`` (so an archive reports as its session).
ccusage dedups by (session, timestamp, model, tokens, cost): the uuid is
``api:openclaw:<session>:<hash of those>``. No reasoning count apart from output.
OpenClaw's newer SQLite store (``openclaw-agent.sqlite``) is not read.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path, PurePath
from typing import Any

from ._common import SourceSpec
from ._files import walk_files
from ._values import parse_time
from .pi import PiFormatParser

__all__ = ["SPEC", "Parser", "discover", "session_of"]


def _find(root: Path) -> list[Path]:
    """Session files (and their archives) at any depth below a root."""
    return walk_files(root, lambda p: is_session_file(p.name))


SPEC = SourceSpec(
    name="openclaw",
    title="OpenClaw",
    env_var="OPENCLAW_DIR",
    default_roots=("~/.openclaw", "~/.clawdbot", "~/.moltbot", "~/.moldbot"),
    kind="lines",
    finder=_find,
)
discover = SPEC.discover


def is_session_file(name: str) -> bool:
    index = name.find(".jsonl")
    if index < 0:
        return False
    suffix = name[index:]
    return suffix == ".jsonl" or suffix.startswith((".jsonl.deleted.", ".jsonl.reset."))


def session_of(path: str) -> str:
    name = PurePath(path).name
    index = name.find(".jsonl")
    return name[:index] if index > 0 else name


class Parser(PiFormatParser):
    """Lines of one OpenClaw session file."""

    framework = "openclaw"
    model_fallback = True

    def session_from_path(self) -> str:
        return session_of(self.path)

    def usage_time(self, record: dict[str, Any], message: dict[str, Any]) -> datetime | None:
        if "timestamp" in message:
            value = message["timestamp"]
            if isinstance(value, int) and not isinstance(value, bool):
                found = parse_time(value, unit="ms")
            else:
                found = parse_time(value) if isinstance(value, str) else None
            if found is not None:
                return found
        return parse_time(record.get("timestamp"))
