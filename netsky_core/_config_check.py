"""``netsky config --check``: everything a later command would refuse, checked now.

Loading the config already validated the file's schema; this adds what is checked
only when used: the price overrides against the price table, the redaction patterns,
the backend serving the storage URL (installed, loads) and every ``[storage.<scheme>]``
table against the options its backend declares. Nothing is opened or connected.
"""

from __future__ import annotations

import difflib

from ._config import Config
from ._errors import BackendNotFoundError, ConfigError
from ._urls import SCHEME_ALIASES, scheme_of

__all__ = ["check_config"]


def check_config(config: Config) -> list[str]:
    """Raise the error a later command would raise; return notes on what could not be
    checked (a ``[storage.<scheme>]`` table whose backend is not installed)."""
    from ._config_schema import check_backend_options
    from .ingest.options import ingest_options
    from .plugins._registry import default_registry

    ingest_options(config)  # prices (file, overrides), redaction patterns
    registry = default_registry(config.disabled_plugins())
    source = str(config.path)
    scheme = scheme_of(config.storage_url.value)
    registry.backend_for_scheme(scheme)
    notes: list[str] = []
    for name, table in sorted(config.section("storage").items()):
        if not isinstance(table, dict):
            continue
        try:
            spec = registry.backend_for_scheme(name)
        except BackendNotFoundError:
            installed = {s for p in registry.list_plugins() for s in p.schemes}
            installed |= {a for a, real in SCHEME_ALIASES.items() if real in installed}
            close = difflib.get_close_matches(name, sorted(installed), n=1, cutoff=0.6)
            if close:
                raise ConfigError(
                    f"{source}: [storage.{name}]: no installed backend serves {name}:// URLs",
                    hint=f"did you mean [storage.{close[0]}]?",
                ) from None
            notes.append(f"[storage.{name}] not checked: no installed backend serves {name}://")
            continue
        if spec.options is not None:
            check_backend_options(spec.options, table, name, source)
        else:
            notes.append(f"[storage.{name}] not checked: backend {spec.name!r} declares no options")
    return notes
