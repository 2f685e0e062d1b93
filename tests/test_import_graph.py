"""The modules form a layered graph: no import cycle, every module imports.

Every ``import`` counts, at module level or inside a function (a lazy import still
ties two modules together). Layers, from ``design.md``: the core never imports a
backend; a backend imports only ``netsky_core`` and its backend-author surface.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "netsky_core": ROOT / "netsky_core",
    "netsky_memory": ROOT / "backends" / "memory" / "netsky_memory",
    "netsky_sqlite": ROOT / "backends" / "sqlite" / "netsky_sqlite",
    "netsky_postgres": ROOT / "backends" / "postgres" / "netsky_postgres",
    "netsky_conformance": ROOT / "conformance" / "netsky_conformance",
}


def _modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            if "__pycache__" in path.parts:
                continue
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The modules of ours ``name`` imports (``from pkg import mod`` resolved)."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [module] + [f"{module}.{a.name}" for a in node.names]
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _parents(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def test_no_import_cycles() -> None:
    # a package's __init__ importing its own submodules is not a cycle
    edges = {
        n: {t for t in ts if t not in _parents(n) and n not in _parents(t)}
        for n, ts in GRAPH.items()
    }
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for t in sorted(edges.get(n, ())):
            if state.get(t) == 1:
                cycles.append([*stack[stack.index(t) :], t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[n] = 2

    for n in sorted(edges):
        if n not in state:
            visit(n)
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles[:20])


def test_the_core_never_imports_a_backend() -> None:
    wrong = {
        (n, t)
        for n, ts in GRAPH.items()
        if n.startswith("netsky_core")
        for t in ts
        if t.startswith(("netsky_memory", "netsky_sqlite", "netsky_postgres"))
    }
    assert wrong == set()


def test_backends_use_only_the_backend_author_surface() -> None:
    allowed = {"netsky_core", "netsky_core.backend", "netsky_core.plugins.hookspecs"}
    allowed |= {"netsky_core._urls", "netsky_core.analytics"}  # masking URLs; native analytics
    wrong = {
        (n, t)
        for n, ts in GRAPH.items()
        if n.startswith(("netsky_memory", "netsky_sqlite", "netsky_postgres"))
        for t in ts
        if t.startswith("netsky_core") and t not in allowed
    }
    assert wrong == set(), sorted(wrong)


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not n.endswith("__main__")))
def test_every_module_imports(name: str) -> None:
    importlib.import_module(name)


def test_every_relative_import_names_a_module_that_exists() -> None:
    """Lazy imports inside functions too (a moved module must not leave one behind)."""
    missing = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
                if module in MODULES:
                    continue
                names = [f"{module}.{a.name}" for a in node.names]
                if not all(n in MODULES for n in names):
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno}: {module}")
    assert missing == []
