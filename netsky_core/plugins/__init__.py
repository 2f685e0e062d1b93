"""Plugins: the pluggy hookspecs (``hookspecs``, the plugin author's reference) and
the registry that finds backends by URL scheme through the ``netsky`` entry points.

A plugin module implements hooks marked with :func:`hookimpl`::

    from netsky_core.plugins import hookimpl

    @hookimpl
    def netsky_register_backends(register):
        register(name="mystore", schemes=["mystore"], factory=open_mystore)
"""

from .hookspecs import hookimpl

__all__ = ["hookimpl"]
