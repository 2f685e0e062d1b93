"""Installing netsky the ways the README says: from a checkout (every distribution in one
``pip install``), and from built wheels into a fresh venv. The installed ``netsky``
then runs ``--version``, ``backends`` and a small ingest as real subprocesses.

Dependencies come from the machine's usual package index / cache; netsky's own
distributions only from the checkout or the wheels built here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import netsky_core

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTIONS = {
    ".": "netsky-core",
    "backends/memory": "netsky-memory",
    "backends/sqlite": "netsky-sqlite",
    "backends/postgres": "netsky-postgres",
    "conformance": "netsky-conformance",
}
CHECKOUT_INSTALL = "pip install ./ ./backends/memory ./backends/sqlite"
"""The README's checkout install line (minus the optional PostgreSQL backend)."""

BUILD_WARNING = re.compile(r"warning|deprecat|would be ignored", re.I)
MACHINE_NOISE = re.compile(
    # pip's own notes about this machine's index configuration, not about netsky's build
    r"Location 'file:.*' is ignored|Ignored the following versions|byte-compiling is disabled"
)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETSKY_", "VIRTUAL_ENV"))}
    env["NETSKY_DRAINER_LINGER"] = "0s"  # see the root conftest.py
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        args, cwd=cwd, env=env or _env(), capture_output=True, text=True, timeout=600
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{args} failed:\n{output[-4000:]}"
    return output


def _warnings(output: str) -> list[str]:
    return [
        line
        for line in output.splitlines()
        if BUILD_WARNING.search(line) and not MACHINE_NOISE.search(line)
    ]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the checkout's sources (building writes build/ and egg-info folders)."""
    target = tmp_path_factory.mktemp("install") / "netsky"
    shutil.copytree(
        ROOT,
        target,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "build", "*.egg-info", "__pycache__", ".hypothesis", "*.db*"
        ),
    )
    return target


def test_the_readme_shows_the_install_lines_that_are_tested() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "pip install netsky-core " in readme
    assert '"netsky-core[postgres]"' in readme
    assert CHECKOUT_INSTALL in readme
    assert not re.search(r"pip install (\"?)netsky(\[|\s|\"|$)", readme), "not our PyPI name"
    for folder, name in DISTRIBUTIONS.items():
        text = (ROOT / folder / "pyproject.toml").read_text()
        assert f'name = "{name}"' in text


def test_wheels_build_without_warnings_and_install_into_a_fresh_venv(
    checkout: Path, tmp_path: Path
) -> None:
    wheels = tmp_path / "wheels"
    built = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-v",
            "--no-deps",
            "-w",
            str(wheels),
            *(f"./{folder}" for folder in DISTRIBUTIONS),
        ],
        cwd=checkout,
    )
    assert _warnings(built) == []
    names = sorted(p.name.split("-")[0] for p in wheels.glob("*.whl"))
    assert names == sorted(n.replace("-", "_") for n in DISTRIBUTIONS.values())

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    python = str(venv / "bin" / "python")
    # The checkout install of the README, in one command ...
    installed = _run(
        [python, "-m", *CHECKOUT_INSTALL.split()[0:2], "-v", *CHECKOUT_INSTALL.split()[2:]],
        cwd=checkout,
    )
    assert _warnings(installed) == []
    _check_netsky(venv, tmp_path / "checkout-run")
    # ... then the built wheels in place of it, with the PostgreSQL extra.
    _run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--force-reinstall",
            "--no-deps",
            *map(str, sorted(wheels.glob("*.whl"))),
        ],
        cwd=tmp_path,
    )
    _run(
        [python, "-m", "pip", "install", "--find-links", str(wheels), "netsky-core[postgres]"],
        cwd=tmp_path,
    )
    listed = _check_netsky(venv, tmp_path / "wheel-run")
    assert {"memory", "sqlite", "postgres"} <= {b["name"] for b in listed}
    where = _run([python, "-c", "import netsky_core; print(netsky_core.__file__)"], cwd=tmp_path)
    assert str(venv) in where, "the wheel's package, not the checkout's"
    # scripts/bootstrap's editable install is quiet too.
    editable = _run(
        [
            python,
            "-m",
            "pip",
            "install",
            "-v",
            "--no-deps",
            *(arg for folder in DISTRIBUTIONS for arg in ("-e", f"./{folder}")),
        ],
        cwd=checkout,
    )
    assert _warnings(editable) == []
    where = _run(
        [python, "-c", "import netsky_sqlite; print(netsky_sqlite.__file__)"], cwd=tmp_path
    )
    assert str(checkout) in where


def _check_netsky(venv: Path, work: Path) -> list[dict[str, object]]:
    work.mkdir()
    netsky = str(venv / "bin" / "netsky")
    env = _env() | {"HOME": str(work), "XDG_DATA_HOME": str(work / "data")}
    env = {k: v for k, v in env.items() if not k.startswith("XDG_") or k == "XDG_DATA_HOME"}
    env["XDG_DATA_HOME"] = str(work / "data")
    version = _run([netsky, "--version"], cwd=work, env=env)
    assert netsky_core.__version__ in version
    listed = json.loads(_run([netsky, "backends", "--json"], cwd=work, env=env))
    assert {"memory", "sqlite"} <= {b["name"] for b in listed}
    project = work / ".claude" / "projects" / "-home-me-app"
    project.mkdir(parents=True)
    line = {
        "type": "assistant",
        "uuid": "u1",
        "sessionId": "s-install",
        "timestamp": "2026-01-05T10:00:00Z",
        "requestId": "req_1",
        "message": {
            "id": "msg_1",
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": "done"}],
            "usage": {"input_tokens": 10, "output_tokens": 5},
        },
    }
    (project / "s-install.jsonl").write_text(json.dumps(line) + "\n")
    db = f"sqlite:///{work}/netsky.db"
    summary = json.loads(_run([netsky, "--db", db, "ingest", "--json"], cwd=work, env=env))
    assert summary, summary
    stats = json.loads(_run([netsky, "--db", db, "stats", "--json"], cwd=work, env=env))
    assert stats["total_api_requests"] == 1
    assert stats["tokens_input"] == 10
    return listed
