"""Entry point of the memory backend (group ``netsky``, name ``memory``)."""

from __future__ import annotations

import attrs

from netsky_core.plugins.hookspecs import backend


@attrs.frozen
class MemoryOptions:
    """``[storage.memory]`` may set only the standard options."""


netsky_register_backends = backend(
    "memory",
    ["memory"],
    "netsky_memory._engine:open_memory",
    "In-process store; each memory:// URL opens a fresh, private store",
    options=MemoryOptions,
)
