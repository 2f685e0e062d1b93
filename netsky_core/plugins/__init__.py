"""Plugins: the pluggy hookspecs (``hookspecs``, the plugin author's reference) and
the registry that finds backends by URL scheme through the ``netsky`` entry points.

A plugin module implements hooks marked with :func:`hookimpl`::

    from netsky_core.plugins import hookimpl

    @hookimpl
    def netsky_register_backends(register):
        register(name="mystore", schemes=["mystore"], factory=open_mystore)
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .hookspecs import hookimpl

__all__ = ["hookimpl"]


def __getattr__(name: str) -> object:
    # lazily: a fast-path process reads entry points without importing pluggy
    if name == "hookimpl":
        from .hookspecs import hookimpl

        return hookimpl
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
