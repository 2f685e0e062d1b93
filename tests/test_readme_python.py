"""Every ```python block of README.md runs as written, each in its own interpreter,
in a folder holding ``netsky.db`` (the sample history ingested) with a private HOME
and XDG dirs. A block marked ``<!-- not-run: reason -->`` just before it is skipped
and must give its reason."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / ".." / "shared" / "samples" / "claude"
BLOCK = re.compile(r"(<!-- not-run: (?P<reason>[^>]*?) -->\s*)?```python\n(?P<code>.*?)```", re.S)


def _blocks() -> list[tuple[int, str | None, str]]:
    text = (ROOT / "README.md").read_text()
    return [
        (text.count("\n", 0, m.start("code")), m["reason"], m["code"]) for m in BLOCK.finditer(text)
    ]


def test_the_readme_has_python_blocks_and_marks_give_reasons() -> None:
    blocks = _blocks()
    assert len(blocks) >= 4
    assert all(reason is None or reason.strip() for _, reason, _ in blocks)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("readme")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETSKY_", "XDG_"))}
    env["NETSKY_DRAINER_LINGER"] = "0s"  # see the root conftest.py
    env.update(
        HOME=str(root / "home"),
        XDG_CONFIG_HOME=str(root / "config"),
        XDG_DATA_HOME=str(root / "data"),
        XDG_STATE_HOME=str(root / "state"),
        XDG_CACHE_HOME=str(root / "cache"),
        TZ="UTC",
    )
    if SAMPLES.is_dir():
        subprocess.run(
            [
                str(Path(sys.executable).with_name("netsky")),
                "--db",
                "sqlite:///netsky.db",
                "ingest",
                "claude",
                str(SAMPLES),
            ],
            cwd=root,
            env=env,
            check=True,
            capture_output=True,
        )
    return root, env


@pytest.mark.parametrize("index", range(len(_blocks())))
def test_python_block_runs(workdir: tuple[Path, dict[str, str]], index: int) -> None:
    line, reason, code = _blocks()[index]
    if reason is not None:
        pytest.skip(f"README.md line {line}: not run: {reason}")
    if "netsky.db" in code and not SAMPLES.is_dir():
        pytest.skip("needs ../shared/samples/claude")
    root, env = workdir
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"README.md line {line}:\n{proc.stderr[-3000:]}"
