"""Every ```sh block of README.md runs as written: each command line in bash, with the
venv's ``netsky`` first on PATH, a private HOME and XDG dirs, and the sample history
ingested into the default store.

A command passes when it exits 0 without a traceback or an "internal error" (the
example session ids are ones the sample history holds). ``tail -f`` is stopped with
Ctrl-C after a few seconds and must exit 0. A block that cannot run here (it installs
from the network, needs a server that is not there, or runs for minutes) carries
``<!-- not-run: reason -->`` just before it, and the reason must be given.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / ".." / "shared" / "samples" / "claude"
BLOCK = re.compile(r"(<!-- not-run: (?P<reason>[^>]*?) -->\s*)?```sh\n(?P<code>.*?)```", re.S)


def _blocks() -> list[tuple[int, str | None, str]]:
    text = (ROOT / "README.md").read_text()
    return [
        (text.count("\n", 0, m.start("code")) + 1, m["reason"], m["code"])
        for m in BLOCK.finditer(text)
    ]


def _commands(code: str) -> list[str]:
    """The block's command lines, backslash continuations joined."""
    return [line for line in code.replace("\\\n", " ").splitlines() if line.strip()]


RUN = [(line, code) for line, reason, code in _blocks() if reason is None]


def test_every_shell_block_runs_or_says_why_not() -> None:
    blocks = _blocks()
    assert len(blocks) >= 10
    assert len(RUN) >= 4
    assert all(reason is None or reason.strip() for _, reason, _ in blocks)


@pytest.fixture(scope="module")
def shell_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    if not SAMPLES.is_dir():
        pytest.skip("needs ../shared/samples/claude")
    root = tmp_path_factory.mktemp("readme-sh")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETSKY_", "XDG_", "CLAUDE"))}
    env["NETSKY_DRAINER_LINGER"] = "0s"  # see the root conftest.py
    bindir = str(Path(sys.executable).parent)
    env.update(
        HOME=str(root / "home"),
        XDG_CONFIG_HOME=str(root / "config"),
        XDG_DATA_HOME=str(root / "data"),
        XDG_STATE_HOME=str(root / "state"),
        XDG_CACHE_HOME=str(root / "cache"),
        CODEX_HOME=str(root / "home" / ".codex"),
        PATH=bindir + os.pathsep + env.get("PATH", ""),
        TZ="UTC",
        NO_COLOR="1",
    )
    (root / "home").mkdir()
    # the file the --allow-files example joins
    (root / "teams.csv").write_text(
        "session_id,team\n491e126e-1e71-469c-ade2-fcc8af567c74,search\n"
    )
    subprocess.run(
        ["netsky", "ingest", "claude", str(SAMPLES)],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )
    return root, env


def _check(line: int, command: str, rc: int, stderr: str) -> None:
    where = f"README.md line {line}: {command}\nexit {rc}\n{stderr[-2000:]}"
    assert "Traceback" not in stderr and "internal error" not in stderr, where
    assert rc == 0, where


@pytest.mark.parametrize(("line", "code"), RUN, ids=[f"line{line}" for line, _ in RUN])
def test_shell_block_runs(shell_env: tuple[Path, dict[str, str]], line: int, code: str) -> None:
    root, env = shell_env
    for command in _commands(code):
        if re.search(r"\btail\b.* -f\b", command):
            proc = subprocess.Popen(
                ["bash", "-c", f"exec {command}"],
                cwd=root,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            assert proc.stdout is not None
            # following once it has printed the last events (a loaded machine starts slowly)
            ready, _, _ = select.select([proc.stdout], [], [], 60)
            assert ready, f"README.md line {line}: {command} printed nothing"
            proc.stdout.readline()
            time.sleep(1)
            proc.send_signal(signal.SIGINT)
            _, stderr = proc.communicate(timeout=30)
            assert proc.returncode == 0, f"README.md line {line}: {command}\n{stderr}"
            continue
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        _check(line, command, done.returncode, done.stderr)
