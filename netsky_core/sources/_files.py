"""Finding a source's files below its roots."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["discover_all", "file_at", "glob_files", "walk_files"]


def walk_files(root: Path, accept: Callable[[Path], bool]) -> list[Path]:
    """Files below ``root`` (any depth, symlinked folders not followed) ``accept`` takes,
    sorted."""
    found: list[Path] = []
    if root.is_file():
        return [root] if accept(root) else []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            candidate = Path(dirpath) / name
            if accept(candidate) and candidate.is_file():
                found.append(candidate)
    return sorted(found)


def discover_all(roots: list[Path], finder: Callable[[Path], list[Path]]) -> list[Path]:
    """``finder`` over every root, each file once, in order."""
    seen: set[Path] = set()
    out: list[Path] = []
    for root in roots:
        for path in finder(Path(root).expanduser()):
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                out.append(path)
    return out


def glob_files(root: Path, pattern: str) -> list[Path]:
    """The files ``pattern`` names below ``root``, sorted."""
    return sorted(p for p in root.glob(pattern) if p.is_file())


def file_at(root: Path, *parts: str) -> list[Path]:
    """``root/parts`` when it is a file, else nothing."""
    path = root.joinpath(*parts)
    return [path] if path.is_file() else []
