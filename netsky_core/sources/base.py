"""What a source plugin registers: an ``AgentSource`` (one agent or framework whose
history netsky reads) and the ``SourceFile`` it finds.

A source plugin is a module named by an entry point in the group ``netsky.sources``
(the entry point's name is the source's name); it implements the hook
``netsky_register_sources(register)`` and calls ``register(source)`` once per source::

    # pyproject.toml of netsky-myagent
    [project.entry-points."netsky.sources"]
    myagent = "netsky_myagent.plugin"

    # netsky_myagent/plugin.py
    from netsky_core.plugins import hookimpl
    from netsky_core.sources.base import AgentSource

    @hookimpl
    def netsky_register_sources(register):
        register(AgentSource(
            name="myagent", title="My Agent", env_var="MYAGENT_HOME",
            default_roots=("~/.myagent",), pattern="logs/**/*.jsonl",
            format="lines", parser=MyParser, pricing="LiteLLM list prices",
        ))

Readers, by ``format`` (see ``netsky_core.ingest.scan`` for how each is read
incrementally and exactly once):

* ``lines``: a growing JSONL file; ``parser(machine_id=, path=, prices=,
  store_payloads=, redact=, state=)`` returns an object whose ``parse(line: bytes) ->
  list[Event]`` never raises for bad input (counts ``malformed`` / ``skipped``) and
  whose ``state`` (flat JSON) lets a new parser continue where it stopped;
* ``document``: a whole JSON file rewritten in place; ``read_document(data, path=,
  machine_id=, prices=, store_payloads=, redact=)`` returns a ``DocumentResult``;
* ``database``: another program's SQLite file; ``read_database(path, machine_id=,
  prices=, store_payloads=, redact=)`` returns a ``DocumentResult`` (open it with
  ``netsky_core.sources._sqlite.open_database``: read-only, never locking).

Every event needs a deterministic ``uuid`` (the same record read again gives the same
uuid), so a file read twice, rewritten or copied is counted once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

__all__ = ["FORMATS", "AgentSource", "SourceFile"]

FORMATS = ("lines", "document", "database")


@attrs.frozen(order=True)
class SourceFile:
    """One file (or database) a source found, and how it is read."""

    path: str
    source: str
    format: str = attrs.field(default="lines", order=False)


def _no_files(roots: list[Path]) -> list[SourceFile]:
    return []


@attrs.frozen(kw_only=True)
class AgentSource:
    """One agent source.

    * ``name``: the framework name its events carry (as ccusage names the agent);
    * ``title``: the agent's name for people;
    * ``env_var``: the variable that replaces ``default_roots`` (comma-separated
      folders; None: none);
    * ``default_roots``: where the agent keeps its data (``~`` expanded);
    * ``locate(environ) -> list[Path]``: the roots, when choosing them takes more than
      the variable and the defaults (optional);
    * ``find(roots) -> list[SourceFile]``: the files below the roots, in reading order
      (or give ``pattern``, a glob below each root, with ``format``);
    * ``parser`` / ``read_document`` / ``read_database``: the readers of its formats;
    * ``pricing``: one line on how its cost is known (the agent's own cost, LiteLLM
      list prices, credits, ...), shown by ``netsky sources``;
    * ``fields``: the event fields it fills (documentation, ``netsky sources --json``).
    """

    name: str
    title: str = ""
    env_var: str | None = None
    default_roots: tuple[str, ...] = ()
    find: Callable[[list[Path]], list[SourceFile]] | None = attrs.field(
        default=None, eq=False, repr=False
    )
    locate: Callable[[Mapping[str, str]], list[Path]] | None = attrs.field(
        default=None, eq=False, repr=False
    )
    pattern: str | None = None
    format: str = attrs.field(default="lines", validator=attrs.validators.in_(FORMATS))
    parser: Callable[..., Any] | None = attrs.field(default=None, eq=False, repr=False)
    read_document: Callable[..., Any] | None = attrs.field(default=None, eq=False, repr=False)
    read_database: Callable[..., Any] | None = attrs.field(default=None, eq=False, repr=False)
    pricing: str = ""
    fields: tuple[str, ...] = ()
    plugin: str = attrs.field(default="", eq=False)
    distribution: str | None = attrs.field(default=None, eq=False)
    version: str | None = attrs.field(default=None, eq=False)

    def roots(
        self, environ: Mapping[str, str] | None = None, extra: Iterable[str] = ()
    ) -> list[Path]:
        """The folders to look in: ``env_var``'s comma-separated list, else the
        defaults; plus ``extra`` (the config file)."""
        env = os.environ if environ is None else environ
        if self.locate is not None:
            return [*self.locate(env), *(Path(p).expanduser() for p in extra)]
        value = env.get(self.env_var, "") if self.env_var else ""
        parts = [p.strip() for p in value.split(",") if p.strip()]
        chosen = parts or list(self.default_roots)
        return [Path(p).expanduser() for p in (*chosen, *extra)]

    def env_value(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The variable's value when it is set (non-blank)."""
        env = os.environ if environ is None else environ
        value = env.get(self.env_var, "") if self.env_var else ""
        return value if value.strip() else None

    def discover(
        self,
        environ: Mapping[str, str] | None = None,
        *,
        roots: Iterable[str | Path] | None = None,
        extra: Iterable[str] = (),
    ) -> list[SourceFile]:
        """The files to read: below ``roots`` when given, else below ``self.roots()``;
        each file once."""
        where = (
            [Path(r).expanduser() for r in roots]
            if roots is not None
            else self.roots(environ, extra)
        )
        if self.find is not None:
            found = self.find(where)
        elif self.pattern is not None:
            found = [
                SourceFile(str(p), self.name, self.format)
                for root in where
                for p in sorted(root.glob(self.pattern))
                if p.is_file()
            ]
        else:
            found = _no_files(where)
        seen: set[str] = set()
        out: list[SourceFile] = []
        for item in found:
            key = os.path.realpath(item.path)
            if key not in seen:
                seen.add(key)
                out.append(item)
        return out

    def reader_of(self, fmt: str) -> Callable[..., Any] | None:
        """The reader of ``fmt`` files (None: the source has none)."""
        return {
            "lines": self.parser,
            "document": self.read_document,
            "database": self.read_database,
        }[fmt]
