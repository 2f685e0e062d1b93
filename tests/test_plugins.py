"""Plugins as a third party ships them: a throwaway distribution in a temp venv."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from netsky_core import BackendNotFoundError, PluginLoadError, open_storage
from netsky_core.plugins._registry import PluginRegistry
from tests.loss_paths import loss_row

ROOT = Path(__file__).resolve().parents[1]

TOY_PLUGIN = """
from netsky_core.plugins.hookspecs import hookimpl


def open_toy(url, **options):
    from netsky_memory import open_memory

    return open_memory("memory://", **options)


@hookimpl
def netsky_register_backends(register):
    register(name="toy", schemes=["toy"], factory=open_toy, description="a throwaway test backend")
"""

EXITS_AT_IMPORT = "import sys\n\nsys.exit(3)\n"

ESCAPES_IN_HOOK = """
from netsky_core.plugins.hookspecs import hookimpl


class Escape(BaseException):
    pass


@hookimpl
def netsky_register_backends(register):
    raise Escape("raised past Exception on purpose")
"""

EXITS_IN_FACTORY = """
import sys

from netsky_core.plugins.hookspecs import hookimpl


@hookimpl
def netsky_register_backends(register):
    register(name="quits", schemes=["quits"], factory=lambda url, **options: sys.exit(5))
"""

EXITS_IN_DUCKDB_ATTACH = (
    TOY_PLUGIN.replace('"toy"', '"attachexit"')
    + """

@hookimpl
def netsky_duckdb_attach(storage, connection, tables):
    raise SystemExit(7)
"""
)


def distribution(folder: Path, name: str, module: str, entry: str, code: str) -> Path:
    package = folder / name / module
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "plugin.py").write_text(textwrap.dedent(code))
    (folder / name / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""
            [build-system]
            requires = ["setuptools"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{name}"
            version = "0.0.1"

            [project.entry-points.netsky]
            {entry} = "{module}.plugin"

            [tool.setuptools]
            packages = ["{module}"]
            """
        )
    )
    return folder / name


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv seeing this checkout's packages, with two third-party plugins."""
    root = tmp_path_factory.mktemp("plugin-venv")
    env_dir = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    (Path(site) / "zz-netsky-checkout.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    toy = distribution(root, "netsky-toy", "netsky_toy", "toy", TOY_PLUGIN)
    broken = distribution(
        root,
        "netsky-broken",
        "netsky_broken",
        "broken",
        "raise RuntimeError('this plugin is broken on purpose')\n",
    )
    exits = distribution(root, "netsky-exits", "netsky_exits", "exits", EXITS_AT_IMPORT)
    escapes = distribution(root, "netsky-escapes", "netsky_escapes", "escapes", ESCAPES_IN_HOOK)
    quits = distribution(root, "netsky-quits", "netsky_quits", "quits", EXITS_IN_FACTORY)
    attach = distribution(
        root, "netsky-attachexit", "netsky_attachexit", "attachexit", EXITS_IN_DUCKDB_ATTACH
    )
    for dist in (toy, broken, exits, escapes, quits, attach):
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--no-deps", str(dist)],
            check=True,
            capture_output=True,
        )
    return env_dir


def run(venv: Path, *args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp),
        "NETSKY_HOME": str(tmp / "nh"),
    }
    return subprocess.run(list(args), capture_output=True, text=True, env=env, cwd=tmp, check=False)


def test_a_third_party_plugin_is_discovered_through_its_entry_point(
    venv: Path, tmp_path: Path
) -> None:
    out = run(
        venv, str(venv / "bin" / "python"), "-m", "netsky_core", "backends", "--json", tmp=tmp_path
    )
    assert out.returncode == 0, out.stderr
    plugins = {p["name"]: p for p in json.loads(out.stdout)}
    assert plugins["toy"]["schemes"] == ["toy"]
    assert plugins["toy"]["version"] == "0.0.1" and plugins["toy"]["error"] is None
    assert "broken on purpose" in plugins["broken"]["error"]
    assert plugins["sqlite"]["error"] is None and plugins["memory"]["error"] is None


def test_the_conformance_suite_runs_against_the_plugin_with_one_command(
    venv: Path, tmp_path: Path
) -> None:
    conformance = ROOT / "conformance" / "netsky_conformance"
    out = run(
        venv,
        str(venv / "bin" / "python"),
        "-m",
        "pytest",
        "--pyargs",
        "netsky_conformance.run",
        "--netsky-url",
        "toy://",
        "-q",
        "-p",
        "no:cacheprovider",
        "-c",
        "/dev/null",
        "--confcutdir",
        str(conformance),
        "-x",
        tmp=tmp_path,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    summary = out.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary, summary


def test_a_broken_plugin_does_not_break_other_backends(venv: Path, tmp_path: Path) -> None:
    code = (
        "from netsky_core import open_storage\n"
        "for url in ('memory://', 'toy://', 'sqlite:///' + __import__('os').getcwd() + '/s.db'):\n"
        "    with open_storage(url) as s:\n"
        "        print(url.split(':')[0], s.count())\n"
    )
    out = run(venv, str(venv / "bin" / "python"), "-c", code, tmp=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["memory", "0", "toy", "0", "sqlite", "0"]
    failing = run(
        venv,
        str(venv / "bin" / "python"),
        "-m",
        "netsky_core",
        "--db",
        "broken://x",
        "stats",
        tmp=tmp_path,
    )
    assert failing.returncode == 1
    lines = failing.stderr.strip().splitlines()
    assert len(lines) == 1 and "broken on purpose" in lines[0] and "Traceback" not in failing.stderr


@pytest.mark.loss_path
def test_a_plugin_exiting_or_raising_baseexception_is_listed_as_broken(
    venv: Path, tmp_path: Path
) -> None:
    netsky = (str(venv / "bin" / "python"), "-m", "netsky_core")
    listed = run(venv, *netsky, "backends", "--json", tmp=tmp_path)
    assert listed.returncode == 0, listed
    plugins = {p["name"]: p for p in json.loads(listed.stdout)}
    assert plugins["exits"]["error"] == "import failed: SystemExit: 3"
    assert "Escape: raised past Exception on purpose" in plugins["escapes"]["error"]
    assert plugins["toy"]["error"] is None and plugins["sqlite"]["error"] is None
    table = run(venv, *netsky, "backends", tmp=tmp_path)
    assert table.returncode == 0 and "error: import failed: SystemExit: 3" in table.stdout
    for scheme in ("exits", "escapes"):
        failing = run(venv, *netsky, "--db", f"{scheme}://x", "stats", tmp=tmp_path)
        assert failing.returncode == 1, failing
        lines = failing.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("netsky: error: no usable backend")
    quits = run(venv, *netsky, "--db", "quits://x", "stats", tmp=tmp_path)
    assert quits.returncode == 1 and "backend 'quits' failed to open" in quits.stderr, quits
    works = run(venv, *netsky, "--db", "toy://", "stats", "--json", tmp=tmp_path)
    assert works.returncode == 0, works.stderr
    # an analytics hook exiting: the query takes the generic path, with a warning
    sql = "SELECT count(*) AS n FROM events"
    query = run(
        venv, *netsky, "--db", "attachexit://", "query", sql, "--format", "json", tmp=tmp_path
    )
    assert query.returncode == 0, query
    assert json.loads(query.stdout) == [{"n": 0}]
    assert "failed to attach its store to DuckDB (SystemExit: 7)" in query.stderr
    answered = [listed, table, quits, works, query]
    loss_row(
        14,
        "plugins that call sys.exit() or raise BaseException",
        faults="sys.exit(3) at import, BaseException in the hook, sys.exit in a factory and in a DuckDB attach",
        inputs="backends (json, table), stats on a broken and a good backend, query",
        sent=len(answered),
        stored=sum(r.returncode in (0, 1) and "Traceback" not in r.stderr for r in answered),
        unit="commands answered (one line, right exit code)",
    )


def test_unknown_schemes_and_misspelled_hooks(tmp_path: Path) -> None:
    with pytest.raises(BackendNotFoundError) as info:
        open_storage("nosuchscheme://x")
    assert "pip install netsky-nosuchscheme" in (info.value.hint or "")

    class Misspelled:
        from netsky_core.plugins.hookspecs import hookimpl

        @staticmethod
        @hookimpl
        def netsky_register_backends(register):  # type: ignore[no-untyped-def]
            register(name="odd", schemes=["odd"], factory=lambda url, **o: None)

        @staticmethod
        @hookimpl
        def netsky_register_backend(register):  # type: ignore[no-untyped-def]  # typo
            pass

    registry = PluginRegistry()
    info = registry.register_module(Misspelled, name="odd")
    assert info.schemes == ("odd",)
    validated = registry._validate(info)
    assert validated.error and "netsky_register_backend" in validated.error


def test_a_module_without_the_hook_is_a_load_error() -> None:
    class Empty:
        pass

    with pytest.raises(PluginLoadError):
        PluginRegistry().register_module(Empty, name="empty")
