"""Tests of the analytics layer (DuckDB views, reports, query, export, HTML).

Shared helpers live here: where the real sample files are, how to ingest them or a
generated history into a store, the SQLite native path switch, and a ``netsky`` runner
with an isolated environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT.parent / "shared" / "samples"
NETSKY = Path(sys.executable).with_name("netsky")

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

    from netsky_core._plugins import default_registry

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


class Run:
    """One finished ``netsky`` run."""

    def __init__(self, args: list[str], proc: subprocess.CompletedProcess[str]) -> None:
        self.args = args
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def json(self) -> Any:
        return orjson.loads(self.stdout)

    def __repr__(self) -> str:
        return (
            f"<netsky {self.args} rc={self.returncode}\n"
            f"stdout={self.stdout[:2000]!r}\nstderr={self.stderr[:2000]!r}>"
        )


class Netsky:
    """Runs the installed ``netsky`` with ``NETSKY_HOME`` and ``HOME`` in a temp dir."""

    def __init__(self, root: Path) -> None:
        self.root = root
        home = root / "home"
        home.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("NETSKY_")}
        for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            env.pop(name, None)
        for name in ("CLAUDE_CONFIG_DIR", "CODEX_HOME"):
            env.pop(name, None)
        env.update(
            HOME=str(home),
            NETSKY_HOME=str(root / "netsky-home"),
            NETSKY_MACHINE_ID="test-machine",
            TZ="UTC",
        )
        self.env = env

    def __call__(
        self, *args: str, env: dict[str, str] | None = None, input: str | None = None
    ) -> Run:
        proc = subprocess.run(
            [str(NETSKY), *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            input=input,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return Run(list(args), proc)

    def ok(self, *args: str, **kwargs: Any) -> Run:
        run = self(*args, **kwargs)
        assert run.returncode == 0, run
        return run


def assert_one_line_error(run: Run, code: int, *needles: str) -> None:
    """Exit ``code``, nothing on stdout, one ``netsky: error:`` line, no traceback."""
    assert run.returncode == code, run
    assert run.stdout == "", run
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run
    assert lines[0].startswith("netsky: error:"), run
    assert "Traceback" not in run.stderr, run
    for needle in needles:
        assert needle in lines[0], (needle, run)
