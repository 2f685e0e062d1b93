"""Run the ``netsky`` command line with the SQLite native analytics path registered.

Until ``netsky_sqlite.plugin`` registers ``netsky_sqlite.duckdb_path`` itself, plain
``netsky`` uses the generic path; this launcher registers the hook first and then runs
the same ``netsky_core.cli.main``. Once the plugin registers it, this is plain ``netsky``.

    python benchmarks/analytics/netsky_native.py --db sqlite:////tmp/x.db report daily --json
"""

from __future__ import annotations

import sys


def register_native() -> None:
    """Register the SQLite ``netsky_duckdb_attach`` unless its plugin already does."""
    import netsky_sqlite.duckdb_path as duckdb_path
    import netsky_sqlite.plugin as plugin

    from netsky_core._plugins import default_registry

    if hasattr(plugin, "netsky_duckdb_attach"):
        return
    pm = default_registry().plugin_manager
    if not pm.is_registered(duckdb_path):
        pm.register(duckdb_path, name="sqlite-duckdb")


def main() -> int:
    register_native()
    from netsky_core.cli._main import run

    return run(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
