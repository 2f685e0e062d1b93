"""The distributions ship every package, and the public API is what __all__ says."""

from __future__ import annotations

import tomllib
from pathlib import Path

import netsky_core

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_of_netsky_core_is_shipped() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["packages"]["find"]["include"] == ["netsky_core*"]
    assert config["package-data"]["netsky_core.data"] == ["*.json"]


def test_all_matches_what_is_exported() -> None:
    assert netsky_core.__all__ == sorted(netsky_core.__all__)
    for name in netsky_core.__all__:
        assert getattr(netsky_core, name) is not None, name
    public = {n for n in dir(netsky_core) if not n.startswith(("_", "@"))}
    modules = {
        "cli",
        "ingest",
        "analytics",
        "backend",
        "storage",
        "plugins",
        "hooks",
        "sync",
        "demo",
        "sources",
        "otel",
        "live",
    }
    assert (
        public <= set(netsky_core.__all__) | {"annotations", "importlib", "TYPE_CHECKING"} | modules
    )


def test_every_public_record_query_and_error_is_exported() -> None:
    from netsky_core import _errors, _queries, _records, _results

    for module in (_records, _queries, _results):
        for name in module.__all__:
            assert name in netsky_core.__all__, name
    for name, value in vars(_errors).items():
        if isinstance(value, type) and issubclass(value, Exception) and not name.startswith("_"):
            assert name in netsky_core.__all__, name


def test_errors_form_one_tree() -> None:
    from netsky_core import _errors

    for value in vars(_errors).values():
        if (
            isinstance(value, type)
            and issubclass(value, Exception)
            and value.__module__ == _errors.__name__
        ):
            assert issubclass(value, netsky_core.NetskyError)


def test_mypy_checks_core_every_backend_and_the_conformance_suite() -> None:
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    packages = sorted(
        p.relative_to(ROOT).as_posix()
        for p in [*ROOT.glob("backends/*/netsky_*"), *ROOT.glob("conformance/netsky_*")]
        if (p / "__init__.py").is_file()
    )
    assert sorted(mypy["files"]) == sorted(["netsky_core", *packages])
    assert not mypy.get("ignore_missing_imports"), "ignore only the modules without types"
    test_script = (ROOT / "scripts" / "test").read_text()
    assert test_script.index(".venv/bin/python -m mypy") < test_script.index("-m pytest")
