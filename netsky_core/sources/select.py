"""Choosing sources and their files: what ``netsky ingest`` and ``netsky sources`` do
with the registered source plugins (``netsky_core.plugins._sources``).

A plugin that failed to load, or a source whose discovery raises, becomes a
``SourceProblem`` and the other sources go on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from .._records import FilePosition
from ..ingest.scan import Source
from .base import AgentSource, SourceFile

__all__ = [
    "Discovered",
    "IngestPlan",
    "SourceProblem",
    "discover_source",
    "file_status",
    "installed_sources",
    "plan_ingest",
    "sources_status",
    "to_scan",
]


@attrs.frozen
class SourceProblem:
    """A source plugin or source that could not be used, and why."""

    name: str
    error: str
    distribution: str | None = None


@attrs.frozen
class Discovered:
    """What one source found: its files (``error``: discovery failed)."""

    source: AgentSource
    roots: tuple[str, ...]
    files: tuple[SourceFile, ...] = ()
    error: str | None = None


def installed_sources(
    names: Iterable[str] | None = None, *, disabled: Iterable[str] = ()
) -> tuple[list[AgentSource], list[SourceProblem]]:
    """The registered sources (of the plugins ``names``; None: all) and the plugins
    that could not be loaded. A disabled plugin is neither."""
    from ..plugins._sources import default_sources

    registry = default_sources(disabled)
    sources: list[AgentSource] = []
    problems: list[SourceProblem] = []
    for plugin in registry.plugins(None if names is None else list(names)):
        if plugin.disabled:
            continue
        if plugin.error:
            problems.append(SourceProblem(plugin.name, plugin.error, plugin.distribution))
            continue
        sources.extend(plugin.sources)
    if names is not None:
        wanted = list(names)
        sources.sort(key=lambda s: wanted.index(s.plugin) if s.plugin in wanted else len(wanted))
    return sources, problems


def discover_source(
    source: AgentSource,
    *,
    environ: Mapping[str, str] | None = None,
    paths: Iterable[str] | None = None,
    extra: Iterable[str] = (),
) -> Discovered:
    """The files of ``source``: below its roots, or in ``paths`` (files, or folders
    taken as roots). An exception in the source's discovery is reported, not raised."""
    where = list(paths) if paths is not None else None
    roots = (
        [Path(p).expanduser() for p in where] if where is not None else source.roots(environ, extra)
    )
    try:
        files: list[SourceFile] = []
        folders = [r for r in roots if not r.is_file()]
        if folders or not roots:
            files += source.discover(roots=folders)
        for file in (r for r in roots if r.is_file()):
            files += _file_of(source, file)
    except Exception as exc:
        return Discovered(
            source,
            tuple(str(r) for r in roots),
            error=f"discovery failed: {type(exc).__name__}: {exc}",
        )
    unique: dict[str, SourceFile] = {}
    for f in files:
        unique.setdefault(os.path.realpath(f.path), f)
    return Discovered(source, tuple(str(r) for r in roots), tuple(unique.values()))


def _file_of(source: AgentSource, path: Path) -> list[SourceFile]:
    """A file given by hand: as its source's discovery takes it when it finds it from
    the file's folder, else in the source's main format."""
    full = os.path.realpath(path)
    for found in source.discover(roots=[path.parent]):
        if os.path.realpath(found.path) == full:
            return [found]
    return [SourceFile(str(path.absolute()), source.name, source.format)]


def to_scan(source: AgentSource, files: Iterable[SourceFile]) -> list[Source]:
    """The ingest inputs of ``files`` (Claude and Codex files read as they always were)."""
    out: list[Source] = []
    for f in files:
        if (
            source.reader_of(f.format) is None
            and f.format == "lines"
            and f.source
            in (
                "claude",
                "codex",
            )
        ):
            out.append(Source(f.path, f.source))
        else:
            out.append(Source(f.path, f.source, f.format, source.reader_of(f.format)))
    return out


def file_status(path: str, position: FilePosition | None) -> str:
    """``new`` (never read), ``changed`` (grown or rewritten since) or ``read``."""
    if position is None:
        return "new"
    try:
        st = os.stat(path)
    except OSError:
        return "missing"
    if position.size != st.st_size or position.mtime_ns != st.st_mtime_ns:
        return "changed"
    state: Any = position.state
    if state and '"wal"' in state:
        from ..ingest.scan import _state_of
        from ._sqlite import database_signature

        if _state_of(position).get("wal") != database_signature(path):
            return "changed"
    return "read"


@attrs.define
class IngestPlan:
    """The files one ``netsky ingest`` reads, per source, and what went wrong."""

    files: list[Source] = attrs.Factory(list)
    found: dict[str, int] = attrs.Factory(dict)
    problems: list[SourceProblem] = attrs.Factory(list)


def plan_ingest(
    names: list[str],
    paths: list[str],
    *,
    extra: Mapping[str, Iterable[str]] | None = None,
    environ: Mapping[str, str] | None = None,
    disabled: Iterable[str] = (),
) -> IngestPlan:
    """Which files to ingest.

    * no names, no paths: every installed source, where it looks;
    * names: those sources (``paths``, when given, replace where they look);
    * only paths: Claude Code and Codex files in them, the parser guessed per file.
    """
    from ..ingest.scan import discover

    extra = extra or {}
    plan = IngestPlan()
    if paths and not names:
        plan.files = discover(
            None,
            paths,
            claude_extra=extra.get("claude", ()),
            codex_extra=extra.get("codex", ()),
        )
        for f in plan.files:
            plan.found[f.kind] = plan.found.get(f.kind, 0) + 1
        return plan
    sources, problems = installed_sources(names or None, disabled=disabled)
    plan.problems += problems
    for source in sources:
        if paths and source.name in ("claude", "codex") and source.plugin == source.name:
            files = discover(source.name, paths)
            plan.files += files
            plan.found[source.name] = plan.found.get(source.name, 0) + len(files)
            continue
        found = discover_source(
            source,
            environ=environ,
            paths=paths or None,
            extra=extra.get(source.name, ()),
        )
        if found.error:
            plan.problems.append(SourceProblem(source.name, found.error, source.distribution))
            continue
        plan.files += to_scan(source, found.files)
        plan.found[source.name] = plan.found.get(source.name, 0) + len(found.files)
    return plan


def sources_status(
    *,
    positions: Mapping[str, FilePosition] | None,
    environ: Mapping[str, str] | None = None,
    extra: Mapping[str, Iterable[str]] | None = None,
    disabled: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Every installed source (and every plugin that failed): where it looks (roots,
    the variable and whether it is set), what it found and how much of it is still to
    read (``positions``: the store's positions by path; None: no store yet, so every
    file is new). One dict per source or broken plugin, as ``netsky sources --json``
    prints it."""
    extra = extra or {}
    sources, problems = installed_sources(disabled=disabled)
    out: list[dict[str, Any]] = []
    for source in sorted(sources, key=lambda s: s.name):
        found = discover_source(source, environ=environ, extra=extra.get(source.name, ()))
        counts = {"new": 0, "changed": 0, "read": 0, "missing": 0}
        for f in found.files:
            pos = None if positions is None else positions.get(f.path)
            counts[file_status(f.path, pos)] += 1
        formats: dict[str, int] = {}
        for f in found.files:
            formats[f.format] = formats.get(f.format, 0) + 1
        out.append(
            {
                "name": source.name,
                "title": source.title,
                "plugin": source.plugin,
                "distribution": source.distribution,
                "version": source.version,
                "env_var": source.env_var,
                "env_set": source.env_value(environ) is not None,
                "roots": [
                    {"path": r, "exists": os.path.exists(os.path.expanduser(r))}
                    for r in found.roots
                ],
                "files": len(found.files),
                "formats": formats,
                "pending": counts["new"] + counts["changed"],
                "new": counts["new"],
                "changed": counts["changed"],
                "pricing": source.pricing,
                "error": found.error,
            }
        )
    for problem in problems:
        out.append(
            {
                "name": problem.name,
                "title": None,
                "plugin": problem.name,
                "distribution": problem.distribution,
                "version": None,
                "env_var": None,
                "env_set": False,
                "roots": [],
                "files": 0,
                "formats": {},
                "pending": 0,
                "new": 0,
                "changed": 0,
                "pricing": "",
                "error": problem.error,
            }
        )
    return out
