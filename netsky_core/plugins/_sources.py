"""Source plugins: agent sources come only from entry points in the group
``netsky.sources`` (the built-in ones too, see ``netsky_core.sources.builtin``).

``netsky ingest gemini`` imports only the plugin named ``gemini``; listing every source
imports every plugin. A plugin that fails to import or to register is reported with
its error (``netsky sources``) and never stops the others, as for backends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from ._entrypoints import EntryPointRef, installed_entry_points, scan_entry_points
from ._registry import Discovered, load_entry_point, plugin_failure

__all__ = ["SOURCE_GROUP", "SourcePlugin", "SourceRegistry"]

SOURCE_GROUP = "netsky.sources"
SOURCE_HOOK = "netsky_register_sources"


class SourcePlugin(Discovered):
    """One discovered source plugin: the sources it registered, or its error."""

    __slots__ = ("sources",)

    def __init__(
        self,
        name: str,
        module: str,
        distribution: str | None,
        version: str | None,
        sources: tuple[Any, ...] = (),
        error: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name, module, distribution, version, error, disabled)
        self.sources = sources

    def __repr__(self) -> str:
        state = f", error={self.error!r}" if self.error else ""
        return f"SourcePlugin(name={self.name!r}, module={self.module!r}{state})"


def _all_refs() -> list[EntryPointRef]:
    return installed_entry_points(SOURCE_GROUP, one_per_name=True)


class SourceRegistry:
    """Loads source plugins on demand and keeps what they registered."""

    def __init__(self, *, disabled: Iterable[str] = ()) -> None:
        self._disabled = frozenset(disabled)
        self._lock = threading.RLock()
        self._loaded: dict[str, SourcePlugin] = {}

    def register_object(
        self,
        plugin: Any,
        *,
        name: str,
        module: str = "",
        distribution: str | None = None,
        version: str | None = None,
    ) -> SourcePlugin:
        """Register an already-imported plugin object (tests, embedders)."""
        from ..sources.base import AgentSource

        impl = getattr(plugin, SOURCE_HOOK, None)
        info = SourcePlugin(
            name, module or getattr(plugin, "__name__", repr(plugin)), distribution, version
        )
        if impl is None or not isinstance(getattr(impl, "netsky_impl", None), dict):
            info.error = f"plugin {name!r} has no @hookimpl {SOURCE_HOOK}(register) function"
            self._loaded[name] = info
            return info
        found: list[AgentSource] = []

        def register(source: Any) -> None:
            if not isinstance(source, AgentSource):
                raise TypeError(f"register() takes an AgentSource, got {type(source).__name__}")
            import attrs

            found.append(
                attrs.evolve(
                    source,
                    plugin=name,
                    distribution=source.distribution or distribution,
                    version=source.version or version,
                )
            )

        try:
            impl(register=register)
        except BaseException as exc:
            if not plugin_failure(exc):
                raise
            info.error = f"failed to register: {type(exc).__name__}: {exc}"
        else:
            info.sources = tuple(found)
        self._loaded[name] = info
        return info

    def _load(self, ref: EntryPointRef) -> SourcePlugin:
        cached = self._loaded.get(ref.name)
        if cached is not None:
            return cached

        def unloaded(**state: Any) -> SourcePlugin:
            info = SourcePlugin(ref.name, ref.value, ref.distribution, ref.version, **state)
            self._loaded[ref.name] = info
            return info

        def register(obj: Any) -> SourcePlugin:
            return self.register_object(
                obj,
                name=ref.name,
                module=ref.value,
                distribution=ref.distribution,
                version=ref.version,
            )

        return load_entry_point(ref, self._disabled, unloaded, register)

    def plugins(self, names: Iterable[str] | None = None) -> list[SourcePlugin]:
        """The plugins of ``names`` (entry point names; None: every installed one),
        loaded; a name no plugin has is left out (see ``known``)."""
        with self._lock:
            if names is None:
                infos = [self._load(ref) for ref in _all_refs()]
                known = {i.name for i in infos}
                infos += [i for n, i in self._loaded.items() if n not in known]
                return sorted(infos, key=lambda i: i.name)
            out: list[SourcePlugin] = []
            for name in names:
                if name in self._loaded:
                    out.append(self._loaded[name])
                    continue
                refs = scan_entry_points(SOURCE_GROUP, name) or [
                    r for r in _all_refs() if r.name == name
                ]
                out += [self._load(ref) for ref in refs[:1]]
            return out

    def known(self) -> list[str]:
        """Names of every installed source plugin (imports nothing)."""
        with self._lock:
            return sorted({r.name for r in _all_refs()} | set(self._loaded))


_default: SourceRegistry | None = None
_default_lock = threading.Lock()


def default_sources(disabled: Iterable[str] = ()) -> SourceRegistry:
    """The process-wide source registry (created on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = SourceRegistry(disabled=disabled)
        return _default
