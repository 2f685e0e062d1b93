"""Where the agents keep their history: Claude Code config roots and Codex homes.

A small module (no parsers, no store) shared by discovery, the hook's drainer and
``netsky hooks install``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["claude_roots", "codex_roots"]


def _home() -> Path:
    return Path(os.path.expanduser("~"))


def claude_roots(environ: Mapping[str, str] | None = None, extra: Iterable[str] = ()) -> list[Path]:
    """Claude Code config roots: ``CLAUDE_CONFIG_DIR`` (comma-separated), else
    ``~/.claude`` and ``~/.config/claude``; plus ``extra`` from the config file."""
    env = os.environ if environ is None else environ
    roots: list[Path] = []
    configured = env.get("CLAUDE_CONFIG_DIR", "")
    if configured.strip():
        roots += [Path(p.strip()).expanduser() for p in configured.split(",") if p.strip()]
    else:
        xdg = env.get("XDG_CONFIG_HOME") or str(_home() / ".config")
        roots += [_home() / ".claude", Path(xdg) / "claude"]
    roots += [Path(p).expanduser() for p in extra]
    return _unique(roots)


def codex_roots(environ: Mapping[str, str] | None = None, extra: Iterable[str] = ()) -> list[Path]:
    """Codex homes: ``CODEX_HOME`` else ``~/.codex``; plus ``extra``."""
    env = os.environ if environ is None else environ
    home = env.get("CODEX_HOME", "").strip()
    roots = [Path(home).expanduser()] if home else [_home() / ".codex"]
    roots += [Path(p).expanduser() for p in extra]
    return _unique(roots)


def _unique(paths: Iterable[Path]) -> list[Path]:
    seen: set[str] = set()
    out = []
    for p in paths:
        key = os.path.realpath(p)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out
