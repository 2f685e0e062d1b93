"""The sources netsky ships, registered exactly like a third-party source plugin: one
entry point per source in the group ``netsky.sources`` (``pyproject.toml``), each naming
one of the plugin objects below (``netsky_core.sources.builtin:gemini``). Importing this
module imports no reader: a plugin's reader module is imported when it registers.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from ..plugins.hookspecs import hookimpl
from .base import AgentSource, SourceFile

__all__ = ["PRICING", "agent_source", "claude", "codex"]

PRICING = {
    "claude": "LiteLLM list prices of the tokens (the transcript has no cost)",
    "codex": "LiteLLM list prices of the tokens (the rollout has no cost)",
    "gemini": "LiteLLM list prices (thoughts priced as output; 200k-token tier per request)",
    "opencode": "OpenCode's own cost when > 0, else LiteLLM list prices",
    "copilot": "Copilot's own charge (totalNanoAiu x $0.01 per AIU), else LiteLLM list prices",
    "qwen": "LiteLLM list prices (Qwen OAuth's coder-model has none: cost unknown)",
    "pi": "pi's own usage.cost.total, else LiteLLM list prices",
    "kimi": "LiteLLM list prices (kimi-for-coding priced as kimi-k2.5)",
    "amp": "Amp's credits x $0.01, else LiteLLM list prices",
    "hermes": "Hermes's actual_cost_usd, else estimated_cost_usd when > 0, else LiteLLM",
    "kilo": "Kilo's own cost when > 0, else LiteLLM list prices",
    "goose": "LiteLLM list prices of the session totals",
    "openclaw": "OpenClaw's own usage.cost.total, else LiteLLM list prices",
    "droid": "LiteLLM list prices of the session totals (thinking priced as output)",
}

AGENTS = (
    "gemini",
    "opencode",
    "copilot",
    "qwen",
    "pi",
    "kimi",
    "amp",
    "hermes",
    "kilo",
    "goose",
    "openclaw",
    "droid",
)


def _format_of(module: ModuleType, path: Path) -> str:
    """Which reader of ``module`` takes ``path``."""
    if path.suffix == ".db" and hasattr(module, "read_database"):
        return "database"
    lines = module.SPEC.kind == "lines" or path.suffix == ".jsonl" or ".jsonl." in path.name
    if lines and hasattr(module, "Parser"):
        return "lines"
    if hasattr(module, "read_document"):
        return "document"
    return "database" if hasattr(module, "read_database") else "lines"


def agent_source(module: ModuleType) -> AgentSource:
    """The ``AgentSource`` of one reader module of ``netsky_core.sources`` (its ``SPEC``,
    ``discover`` and readers)."""
    spec = module.SPEC

    def find(roots: list[Path]) -> list[SourceFile]:
        return [
            SourceFile(str(p.absolute()), spec.name, _format_of(module, p))
            for p in module.discover(roots)
        ]

    return AgentSource(
        name=spec.name,
        title=spec.title,
        env_var=spec.env_var,
        default_roots=spec.default_roots,
        find=find,
        format=spec.kind,
        parser=getattr(module, "Parser", None),
        read_document=getattr(module, "read_document", None),
        read_database=getattr(module, "read_database", None),
        pricing=PRICING.get(spec.name, ""),
        plugin=spec.name,
        distribution="netsky-core",
    )


def _legacy(kind: str) -> AgentSource:
    from ..ingest import roots as agent_roots
    from ..ingest.scan import files_of

    def find(roots: list[Path]) -> list[SourceFile]:
        return [SourceFile(s.path, kind, "lines") for s in files_of(kind, roots)]

    if kind == "claude":
        title, env_var = "Claude Code", "CLAUDE_CONFIG_DIR"
        defaults: tuple[str, ...] = ("~/.claude", "~/.config/claude")
        locate = agent_roots.claude_roots
    else:
        title, env_var = "Codex", "CODEX_HOME"
        defaults, locate = ("~/.codex",), agent_roots.codex_roots
    return AgentSource(
        name=kind,
        title=title,
        env_var=env_var,
        default_roots=defaults,
        locate=locate,
        find=find,
        format="lines",
        pricing=PRICING[kind],
        plugin=kind,
        distribution="netsky-core",
    )


class _Plugin:
    """One built-in source as a plugin object (what an entry point names)."""

    def __init__(self, name: str, build: Callable[[], AgentSource]) -> None:
        self.__name__ = f"{__name__}:{name}"
        self._build = build

    @hookimpl
    def netsky_register_sources(self, register: Any) -> None:
        register(self._build())


def _module_source(name: str) -> Callable[[], AgentSource]:
    return lambda: agent_source(importlib.import_module(f"{__package__}.{name}"))


claude = _Plugin("claude", lambda: _legacy("claude"))
codex = _Plugin("codex", lambda: _legacy("codex"))
gemini = _Plugin("gemini", _module_source("gemini"))
opencode = _Plugin("opencode", _module_source("opencode"))
copilot = _Plugin("copilot", _module_source("copilot"))
qwen = _Plugin("qwen", _module_source("qwen"))
pi = _Plugin("pi", _module_source("pi"))
kimi = _Plugin("kimi", _module_source("kimi"))
amp = _Plugin("amp", _module_source("amp"))
hermes = _Plugin("hermes", _module_source("hermes"))
kilo = _Plugin("kilo", _module_source("kilo"))
goose = _Plugin("goose", _module_source("goose"))
openclaw = _Plugin("openclaw", _module_source("openclaw"))
droid = _Plugin("droid", _module_source("droid"))
