"""Hooks a netsky plugin implements: this module is the plugin author's reference.

A plugin is a module named by an entry point in the group ``netsky``; the entry
point's *name* is the URL scheme it serves (register one entry point per scheme)::

    # pyproject.toml of netsky-mystore
    [project.entry-points.netsky]
    mystore = "netsky_mystore.plugin"

    # netsky_mystore/plugin.py
    from netsky_core.hookspecs import hookimpl

    @hookimpl
    def netsky_register_backends(register):
        register(
            name="mystore",
            schemes=["mystore"],
            factory=open_mystore,          # (url: str, **options) -> Storage
            description="My store",
        )

Keep the plugin module cheap to import: import the driver inside the factory.
Opening a ``mystore://`` URL imports only this module; ``netsky backends`` imports
every plugin and reports the ones that fail. Run the conformance suite against the
backend with ``pytest --pyargs netsky_conformance.run --netsky-url 'mystore://...'``.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("netsky")
hookimpl = pluggy.HookimplMarker("netsky")


@hookspec
def netsky_register_backends(register: Any) -> None:
    """Register the storage backends this plugin provides.

    Call ``register(name, schemes, factory, description="")`` once per backend:

    * ``name``: short backend name shown by ``netsky backends``;
    * ``schemes``: URL schemes it opens (lower case);
    * ``factory(url, **options) -> Storage``: opens a store, running migrations unless
      ``migrate=False``; ``read_only=True`` opens it for reading only where supported.
      It raises ``netsky_core.NetskyError`` subclasses only;
    * ``description``: one line.
    """


@hookspec(firstresult=True)
def netsky_duckdb_attach(storage: Any, connection: Any, tables: Any) -> Any:
    """Offer DuckDB a native way to read ``storage``'s tables (optional, analytics).

    ``tables`` names the base tables a query needs (``events``, ``sessions``,
    ``positions``). Create a DuckDB view or table for each in ``connection`` (e.g.
    by attaching the database file read-only) and return True; return None to leave
    it to the generic path, which streams rows through the Storage protocol.
    """
