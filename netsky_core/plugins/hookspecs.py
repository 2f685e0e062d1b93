"""Hooks a netsky plugin implements: this module is the plugin author's reference.

A plugin is a module named by an entry point in the group ``netsky``; the entry
point's *name* is the URL scheme it serves (register one entry point per scheme)::

    # pyproject.toml of netsky-mystore
    [project.entry-points.netsky]
    mystore = "netsky_mystore.plugin"

    # netsky_mystore/plugin.py
    from netsky_core.plugins.hookspecs import hookimpl

    @hookimpl
    def netsky_register_backends(register):
        register(
            name="mystore",
            schemes=["mystore"],
            factory=open_mystore,          # (url: str, **options) -> Engine
            description="My store",
        )

or, the same in one statement, with the factory imported only when a store is opened::

    netsky_register_backends = backend(
        "mystore", ["mystore"], "netsky_mystore.engine:open_mystore", "My store"
    )

Keep the plugin module cheap to import: import the driver inside the factory.
Opening a ``mystore://`` URL imports only this module; ``netsky backends`` imports
every plugin and reports the ones that fail. Run the conformance suite against the
backend with ``pytest --pyargs netsky_conformance.run --netsky-url 'mystore://...'``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

PROJECT = "netsky"
F = TypeVar("F", bound=Callable[..., Any])


def hookimpl(
    function: F | None = None,
    *,
    tryfirst: bool = False,
    trylast: bool = False,
    optionalhook: bool = False,
    specname: str | None = None,
) -> Any:
    """Mark a plugin function as a netsky hook implementation.

    Equivalent to ``pluggy.HookimplMarker("netsky")`` (it sets the same marker
    attribute pluggy reads), without importing pluggy: a hook process that opens one
    store imports the plugin module and calls its registration directly.
    """

    def mark(func: F) -> F:
        setattr(
            func,
            PROJECT + "_impl",
            {
                "wrapper": False,
                "hookwrapper": False,
                "optionalhook": optionalhook,
                "tryfirst": tryfirst,
                "trylast": trylast,
                "specname": specname,
            },
        )
        return func

    return mark(function) if function is not None else mark


def hookspec(function: F | None = None, *, firstresult: bool = False) -> Any:
    """Mark a hook specification (``pluggy.HookspecMarker("netsky")`` equivalent)."""

    def mark(func: F) -> F:
        setattr(
            func,
            PROJECT + "_spec",
            {
                "firstresult": firstresult,
                "historic": False,
                "warn_on_impl": None,
                "warn_on_impl_args": None,
            },
        )
        return func

    return mark(function) if function is not None else mark


def backend(
    name: str,
    schemes: Sequence[str],
    opener: str,
    description: str = "",
    options: type | None = None,
) -> Callable[[Any], None]:
    """A ready-made ``netsky_register_backends`` implementation for one backend.

    ``opener`` names the factory as ``"module:function"``; the module is imported on the
    first ``open``, so importing the plugin module stays cheap. Assign the result to
    ``netsky_register_backends`` in the plugin module.
    """
    module_name, _, function_name = opener.partition(":")

    def factory(url: str, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module_name), function_name)(url, **kwargs)

    @hookimpl
    def netsky_register_backends(register: Any) -> None:
        register(
            name=name,
            schemes=list(schemes),
            factory=factory,
            description=description,
            options=options,
        )

    return netsky_register_backends


@hookspec
def netsky_register_backends(register: Any) -> None:
    """Register the storage backends this plugin provides.

    Call ``register(name, schemes, factory, description="", options=None)`` once per
    backend:

    * ``name``: short backend name shown by ``netsky backends``;
    * ``schemes``: URL schemes it opens (lower case);
    * ``factory(url, **options) -> Engine``: opens a store (a
      ``netsky_core.backend.Engine``; netsky wraps it in the ``Store`` that applies
      every rule), running migrations unless ``migrate=False``; ``read_only=True``
      opens it for reading only where supported (a store that does not exist raises
      ``NoStoreError`` and nothing is created); ``timeout`` (seconds) bounds how long a
      call may wait for a lock or a connection (``netsky hook`` passes a few seconds so
      an agent never waits long). Accept these three standard options, refuse unknown
      ones with ``TypeError`` (reported as a ``StorageOptionsError``), and raise
      ``netsky_core.NetskyError`` subclasses only;
    * ``description``: one line;
    * ``options``: a frozen attrs class (defaults, validators) of the other options
      ``[storage.<scheme>]`` in the config file may set; netsky refuses unknown keys
      and bad values there before calling the factory (None: not checked).
    """


@hookspec(firstresult=True)
def netsky_duckdb_attach(storage: Any, connection: Any, tables: Any) -> Any:
    """Offer DuckDB a native way to read ``storage``'s tables (optional, analytics).

    ``tables`` names the base tables a query needs (``events``, ``sessions``,
    ``positions``). Create a DuckDB view or table for each one you can load in
    ``connection`` (e.g. by attaching the database file read-only) and return True;
    tables left out, or everything when you return None, take the generic path, which
    streams rows through the Storage protocol.
    """


@hookspec
def netsky_register_sources(register: Any) -> None:
    """Register the agent sources this plugin provides (entry-point group
    ``netsky.sources``, the entry point named after the source).

    Call ``register(source)`` once per source with a
    ``netsky_core.sources.base.AgentSource``: its ``name`` (the framework its events
    carry, as ccusage names the agent), ``title``, ``env_var`` and ``default_roots``
    (where it looks), ``find`` or ``pattern`` (discovery below the roots), the reader
    of its ``format`` (``parser`` for growing JSONL files, ``read_document`` for JSON
    files rewritten in place, ``read_database`` for another program's SQLite file) and
    ``pricing`` (one line: how its cost is known). ``netsky ingest`` reads every
    registered source (``netsky ingest NAME`` one), ``netsky sources`` lists them; a
    plugin that fails to import or register, or a source whose discovery or reader
    raises, is reported and the other sources go on. See ``netsky_core.sources.base``.
    """
