"""Entry point of the memory backend (group ``netsky``, name ``memory``)."""

from __future__ import annotations

from typing import Any

import attrs

from netsky_core.plugins.hookspecs import hookimpl


@attrs.frozen
class MemoryOptions:
    """``[storage.memory]`` may set only the standard options."""


def _open(url: str, **options: Any) -> Any:
    from ._engine import open_memory

    return open_memory(url, **options)


@hookimpl
def netsky_register_backends(register: Any) -> None:
    register(
        name="memory",
        schemes=["memory"],
        factory=_open,
        description="In-process store; each memory:// URL opens a fresh, private store",
        options=MemoryOptions,
    )
