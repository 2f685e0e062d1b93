"""Entry point of the memory backend (group ``netsky``, name ``memory``)."""

from __future__ import annotations

from typing import Any

from netsky_core.plugins.hookspecs import hookimpl


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
    )
