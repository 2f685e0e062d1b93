"""Tests of the analytics layer (DuckDB views, reports, query, export, HTML).

Shared helpers live here: where the real sample files are, how to ingest them or a
generated history into a store, the SQLite native path switch, and a ``netsky`` runner
with an isolated environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.netsky_cli import Netsky as _Netsky
from tests.netsky_cli import Result
from tests.netsky_cli import assert_one_line_error as _assert_one_line_error

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT.parent / "shared" / "samples"

needs_samples = pytest.mark.skipif(
    not (SAMPLES / "claude").is_dir(),
    reason=f"the real sample transcripts are not at {SAMPLES} (shared/ beside the checkout)",
)

# ccusage 20.0.24 `daily --json --offline` on shared/samples with TZ=UTC.
CCUSAGE_DAILY = {
    "2025-10-10": {
        "input_tokens": 34,
        "output_tokens": 424,
        "cache_creation_tokens": 25250,
        "cache_read_tokens": 34474,
        "total_tokens": 60182,
        "cost_usd": 0.1114917,
        "models": ["claude-sonnet-4-5-20250929"],
    },
    "2026-01-25": {
        "input_tokens": 3097,
        "output_tokens": 300,
        "cache_creation_tokens": 0,
        "cache_read_tokens": 44160,
        "total_tokens": 47557,
        "cost_usd": 0.01734775,
        "models": ["gpt-5.2-codex"],
    },
    "2026-02-10": {
        "input_tokens": 1657,
        "output_tokens": 1818,
        "cache_creation_tokens": 71658,
        "cache_read_tokens": 622375,
        "total_tokens": 697508,
        "cost_usd": 0.9288493,
        "models": ["claude-haiku-4-5-20251001", "claude-opus-4-6"],
    },
}


def sample_environ(home: Path | None = None) -> dict[str, str]:
    """Environment variables that make discovery find exactly the sample files."""
    env = {
        "CLAUDE_CONFIG_DIR": str(SAMPLES / "claude"),
        "CODEX_HOME": str(SAMPLES / "codex"),
    }
    if home is not None:
        env["HOME"] = str(home)
    return env


def ingest_samples(store: Any, machine_id: str = "test-machine") -> Any:
    """Ingest the sample transcripts and rollouts into ``store``."""
    from netsky_core.ingest.scan import discover, ingest

    sources = discover(environ=sample_environ(Path("/nonexistent")))
    return ingest(store, sources, machine_id=machine_id)


def ingest_tree(store: Any, root: Path, machine_id: str = "test-machine") -> Any:
    """Ingest a generated history (``root/claude``, ``root/codex``) into ``store``."""
    from netsky_core.ingest.scan import discover, ingest

    env = {
        "CLAUDE_CONFIG_DIR": str(root / "claude"),
        "CODEX_HOME": str(root / "codex"),
        "HOME": "/nonexistent",
    }
    return ingest(store, discover(environ=env), machine_id=machine_id)


@contextmanager
def native_sqlite() -> Iterator[None]:
    """Make sure the SQLite backend's ``netsky_duckdb_attach`` is registered.

    Once ``netsky_sqlite.plugin`` registers it itself this only loads that plugin.
    """
    import netsky_sqlite.duckdb_path as duckdb_path
    import netsky_sqlite.plugin as plugin

    from netsky_core.plugins._registry import default_registry

    registry = default_registry()
    registry.backend_for_scheme("sqlite")  # load the sqlite plugin as opening would
    pm = registry.plugin_manager
    added = None
    if not hasattr(plugin, "netsky_duckdb_attach") and not pm.is_registered(duckdb_path):
        pm.register(duckdb_path, name="netsky-sqlite-duckdb-test")
        added = duckdb_path
    try:
        yield
    finally:
        if added is not None:
            pm.unregister(added)


class Netsky(_Netsky):
    """``netsky`` without the agents' history variables, with a long timeout."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, drop=("CLAUDE_CONFIG_DIR", "CODEX_HOME"), timeout=300)


def assert_one_line_error(run: Result, code: int, *needles: str) -> None:
    """Exit ``code``, nothing on stdout, one ``netsky: error:`` line, no traceback."""
    _assert_one_line_error(run, code, *needles, strict=True)
