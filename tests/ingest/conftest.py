"""Fixtures for ingest and hook tests: isolated environments, sample paths, git repos."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from netsky_core.hooks.spool import Spool

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
NETSKY = Path(os.environ.get("NETSKY_TEST_NETSKY") or Path(sys.executable).with_name("netsky"))


def samples_or_skip() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"agent samples not found at {SAMPLES} (they live beside the checkout)")
    return SAMPLES


def isolated_env(root: Path, **extra: str) -> dict[str, str]:
    """A process environment that sees no real agent history or netsky config."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NETSKY_", "CLAUDE_", "CODEX_", "XDG_"))
    }
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        NETSKY_HOME=str(root / "netsky-home"),
        NETSKY_MACHINE_ID="test-machine",
        NETSKY_DRAINER_LINGER="0s",  # see the root conftest.py
        TZ="UTC",
    )
    env.update(extra)
    return env


def spool_of(env: dict[str, str], db: str | None = None, config: str | None = None) -> Spool:
    """The spool ``netsky hook [--db DB] [--config CONFIG]`` uses in ``env``."""
    from netsky_core.hooks.spool import hook_spool

    return hook_spool(db, config, environ=env, root=Path(env["NETSKY_HOME"]) / "spool")


def wait_for_drainers(home: Path) -> None:
    """Block until no drainer holds a drainer lock under ``home``'s spool."""
    import fcntl

    for lock in sorted((home / "spool").rglob(".drainer")):
        with open(lock, "rb") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            fcntl.flock(fh, fcntl.LOCK_UN)


def drainer_running(lock: Path) -> bool:
    """Whether a process holds this drainer lock (taken and given back at once)."""
    import fcntl

    with open(lock, "rb") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


def run_netsky(
    args: list[str], env: dict[str, str], *, stdin: bytes | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(NETSKY), *args],
        input=stdin,
        env=env,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def make_repo(
    path: Path, *, branch: str = "fix/42-login", origin: str = "git@github.com:acme/widgets.git"
) -> Path:
    """A real git repository with a GitHub origin and the given branch."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    path.mkdir(parents=True, exist_ok=True)
    quiet: dict[str, Any] = {"cwd": path, "check": True, "capture_output": True}
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_SYSTEM": "/dev/null"}
    subprocess.run(["git", "init", "-q", "-b", branch], env=env, **quiet)
    subprocess.run(["git", "remote", "add", "origin", origin], env=env, **quiet)
    return path
