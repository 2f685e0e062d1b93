"""The third-party example backend (``examples/netsky-duckdb``), installed as its own
distribution in a fresh venv, passes the shipped conformance suite and the
differential state machine unchanged.

The venv sees this checkout's packages through a ``.pth`` file (like
``test_plugins.py``); the example is a real ``pip install`` of its own directory. Both
runs are real subprocesses, started together (each is one busy thread, so on two
cores the test takes as long as the longer one).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "netsky-duckdb"
CONFORMANCE = ROOT / "conformance" / "netsky_conformance"
DECLARED = {"persistent", "read_only", "size_on_disk"}
"""The capabilities the example declares: the suite may skip tests needing others only."""

DIFFERENTIAL = """
import itertools
import json
import os

from netsky_conformance import run_differential
from netsky_core import open_storage


def test_duckdb_agrees_with_the_memory_reference(tmp_path):
    n = itertools.count()
    stats = run_differential(
        lambda: [open_storage("memory://"), open_storage(f"duckdb:///{tmp_path}/{next(n)}.db")]
    )
    report = {k: getattr(stats, k) for k in ("examples", "steps", "checks", "full_checks")}
    report.update(lost=stats.lost, duplicated=stats.duplicated, rules=len(stats.rules))
    with open(os.environ["DIFFERENTIAL_REPORT"], "w") as fh:
        json.dump(report, fh)
"""


def _python(venv: Path) -> str:
    return str(venv / "bin" / "python")


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv seeing this checkout's packages, with the example installed."""
    root = tmp_path_factory.mktemp("example-venv")
    env_dir = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    site = subprocess.run(
        [_python(env_dir), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    (Path(site) / "zz-netsky-checkout.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    source = root / "netsky-duckdb"  # a copy: building writes into the source folder
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    installed = subprocess.run(
        [_python(env_dir), "-m", "pip", "install", "-q", "--no-deps", str(source)],
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-3000:]
    return env_dir


def _env(venv: Path, tmp: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp),
        "NETSKY_HOME": str(tmp / "nh"),
        **extra,
    }


@pytest.fixture(scope="module")
def runs(venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """The conformance suite and the differential machine, running side by side."""
    tmp = tmp_path_factory.mktemp("example-runs")
    common = ["-q", "-rs", "-p", "no:cacheprovider", "-c", "/dev/null"]  # no checkout conftest
    conformance = subprocess.Popen(
        [
            *(_python(venv), "-m", "pytest", "--pyargs", "netsky_conformance.run"),
            *("--netsky-url", "duckdb:///{tmp}/t.db", *common, "--confcutdir", str(CONFORMANCE)),
        ],
        cwd=tmp,
        env=_env(venv, tmp),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    folder = tmp / "differential"
    folder.mkdir()
    (folder / "test_duckdb_differential.py").write_text(textwrap.dedent(DIFFERENTIAL))
    report = folder / "report.json"
    examples = str(hypothesis.settings.default.max_examples)  # this run's profile
    differential = subprocess.Popen(
        [_python(venv), "-m", "pytest", "test_duckdb_differential.py", *common],
        cwd=folder,
        env=_env(venv, tmp, DIFFERENTIAL_REPORT=str(report), NETSKY_DIFFERENTIAL_EXAMPLES=examples),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    procs = {"conformance": conformance, "differential": differential}
    yield {"procs": procs, "report": report}
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=900)
    return proc.returncode, out


def test_the_example_is_its_own_distribution(venv: Path, tmp_path: Path) -> None:
    code = (
        "import importlib.metadata as m, json, netsky_duckdb\n"
        "from netsky_core import open_storage\n"
        "with open_storage('duckdb:///' + __import__('os').getcwd() + '/s.db') as s:\n"
        "    print(json.dumps([m.version('netsky-duckdb'), netsky_duckdb.__file__, s.count()]))\n"
    )
    out = subprocess.run(
        [_python(venv), "-c", code],
        capture_output=True,
        text=True,
        env=_env(venv, tmp_path),
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    version, location, count = json.loads(out.stdout)
    assert version and str(venv) in location and count == 0  # installed there, not the checkout
    listed = subprocess.run(
        [_python(venv), "-m", "netsky_core", "backends", "--json"],
        capture_output=True,
        text=True,
        env=_env(venv, tmp_path),
        cwd=tmp_path,
    )
    plugins = {p["name"]: p for p in json.loads(listed.stdout)}
    assert plugins["duckdb"]["schemes"] == ["duckdb"] and plugins["duckdb"]["error"] is None


def test_the_conformance_suite_passes_unchanged(runs: dict) -> None:
    code, out = _finish(runs["procs"]["conformance"])
    summary = out.strip().splitlines()[-1]
    assert code == 0, out[-5000:]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
    # Skips only for capabilities the engine does not declare.
    skipped = re.findall(r"^SKIPPED \[\d+\] [^\n]*?: (.*)$", out, flags=re.M)
    for reason in skipped:
        found = re.fullmatch(r"backend does not declare capability (\w+)", reason)
        assert found and found[1] not in DECLARED, reason


def test_the_differential_machine_agrees_with_the_memory_reference(runs: dict) -> None:
    code, out = _finish(runs["procs"]["differential"])
    assert code == 0, out[-8000:]
    report = json.loads(runs["report"].read_text())
    print(f"differential run: {report}")
    assert report["examples"] > 0 and report["steps"] > report["examples"], report
    assert report["full_checks"] >= report["examples"], report
    assert report["lost"] == 0 and report["duplicated"] == 0, report
