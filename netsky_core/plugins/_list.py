"""Small public helpers that need the configuration."""

from __future__ import annotations

from .._config import Config, load_config
from ._registry import PluginInfo, default_registry

__all__ = ["list_plugins"]


def list_plugins(config: Config | None = None) -> list[PluginInfo]:
    """Every installed netsky plugin with its backends, version and load error."""
    config = config or load_config()
    return default_registry(config.disabled_plugins()).list_plugins()
