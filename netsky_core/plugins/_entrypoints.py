"""Finding ``netsky`` entry points quickly.

``importlib.metadata`` costs tens of milliseconds to import and scan; a hook process
starts once per agent event, so the common case reads the installed distributions'
``entry_points.txt`` directly from ``sys.path``. When that finds nothing for a scheme,
the caller falls back to ``importlib.metadata`` for completeness.
"""

from __future__ import annotations

import os
import sys
from collections import namedtuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NamedTuple

    class _Fields(NamedTuple):
        name: str
        value: str
        distribution: str | None
        version: str | None
else:  # no runtime typing import: the statusline reads entry points on every update
    _Fields = namedtuple("_Fields", "name value distribution version")

__all__ = ["EntryPointRef", "installed_entry_points", "scan_entry_points"]


class EntryPointRef(_Fields):
    """One entry point: its name, value (``module:attr``) and distribution."""

    __slots__ = ()

    @property
    def module(self) -> str:
        return self.value.split(":", 1)[0].strip()

    @property
    def attr(self) -> str | None:
        return self.value.split(":", 1)[1].strip() if ":" in self.value else None

    def load(self) -> object:
        """Import the module and resolve ``attr`` in it (the module when there is none)."""
        import importlib

        obj: object = importlib.import_module(self.module)
        if self.attr:
            for part in self.attr.split("."):
                obj = getattr(obj, part)
        return obj


def installed_entry_points(group: str, *, one_per_name: bool = False) -> list[EntryPointRef]:
    """Every entry point of ``group`` through ``importlib.metadata`` (complete, slower
    than :func:`scan_entry_points`); the same one found twice on ``sys.path`` once, and
    with ``one_per_name`` only the first of each name."""
    from importlib.metadata import entry_points

    out: list[EntryPointRef] = []
    seen: set[object] = set()
    for ep in entry_points(group=group):
        key = ep.name if one_per_name else (ep.name, ep.value)
        if key in seen:
            continue
        seen.add(key)
        dist = getattr(ep, "dist", None)
        out.append(
            EntryPointRef(
                ep.name, ep.value, getattr(dist, "name", None), getattr(dist, "version", None)
            )
        )
    return out


def _parse(text: str, group: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            continue
        if current == group and "=" in line:
            name, value = line.split("=", 1)
            out.append((name.strip(), value.strip()))
    return out


def _dist_name_version(dirname: str) -> tuple[str | None, str | None]:
    """(name, version) of a ``name-version.dist-info`` folder, the name spelled as
    projects publish it (``netsky_sqlite`` -> ``netsky-sqlite``)."""
    stem = dirname.rsplit(".", 1)[0]
    if "-" in stem:
        name, version = stem.split("-", 1)
        return name.replace("_", "-"), version.split("-", 1)[0]
    return stem.replace("_", "-"), None


def scan_entry_points(group: str, name: str | None = None) -> list[EntryPointRef]:
    """Entry points of ``group`` (optionally only ``name``) on ``sys.path``.

    The first distribution found for a name wins, as with ``importlib.metadata``.
    """
    found: list[EntryPointRef] = []
    seen_dists: set[str] = set()
    marker = f"[{group}]"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for dirname in names:
            if not dirname.endswith((".dist-info", ".egg-info")):
                continue
            path = os.path.join(entry or ".", dirname, "entry_points.txt")
            try:
                with open(path, encoding="utf-8") as fh:
                    text = fh.read()
            except OSError:
                continue
            if marker not in text:
                continue
            dist, version = _dist_name_version(dirname)
            key = (dist or dirname).lower().replace("-", "_")
            if key in seen_dists:
                continue
            seen_dists.add(key)
            for ep_name, value in _parse(text, group):
                if name is None or ep_name == name:
                    found.append(EntryPointRef(ep_name, value, dist, version))
    return found
