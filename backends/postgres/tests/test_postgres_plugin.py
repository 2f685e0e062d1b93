"""The plugin: found by entry point under both schemes, cheap to import."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest

from netsky_core import Capability, PluginRegistry, open_storage


def test_importing_the_plugin_does_not_import_psycopg() -> None:
    code = (
        "import sys, netsky_postgres.plugin, netsky_postgres\n"
        "from netsky_core import PluginRegistry\n"
        "PluginRegistry().backend_for_scheme('postgres')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('psycopg', 'psycopg_pool')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_both_schemes_resolve_to_the_postgres_backend() -> None:
    registry = PluginRegistry()
    for scheme in ("postgresql", "postgres", "POSTGRES"):
        spec = registry.backend_for_scheme(scheme)
        assert spec.name == "postgres"
        assert set(spec.schemes) == {"postgresql", "postgres"}
        # (the fast entry-point scan reports the dist-info spelling, netsky_postgres)
        assert (spec.distribution or "").replace("_", "-") == "netsky-postgres"


@pytest.mark.postgres
def test_capabilities(postgres_url: Callable[..., str]) -> None:
    with open_storage(postgres_url()) as store:
        assert store.capabilities == {
            Capability.PERSISTENT,
            Capability.MULTI_PROCESS,
            Capability.READ_ONLY,
            Capability.VACUUM,
            Capability.SIZE_ON_DISK,
            Capability.PROJECT_USAGE,
        }
