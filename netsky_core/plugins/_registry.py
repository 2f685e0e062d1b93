"""Plugin discovery: backends come only from entry points in the group ``netsky``.

Opening a URL imports just the plugin named after its scheme and calls its
``netsky_register_backends`` implementation directly (no pluggy import, no scan of
every installed package: a hook process pays for neither). Listing imports every
plugin through pluggy's ``PluginManager`` (with ``check_pending`` catching misspelled
hook names) and reports each plugin's load error instead of failing. The built-in
backends (memory, sqlite, postgres) are found exactly like a third-party plugin.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import attrs

from .._errors import BackendNotFoundError, NetskyError, PluginLoadError
from .._urls import SCHEME_ALIASES
from ._entrypoints import EntryPointRef, installed_entry_points, scan_entry_points

__all__ = ["BackendSpec", "PluginInfo", "PluginRegistry", "default_registry"]

GROUP = "netsky"
_T = TypeVar("_T")
HOOK = "netsky_register_backends"


def plugin_failure(exc: BaseException) -> bool:
    """Whether ``exc``, raised by plugin code, is the plugin's failure to report (any
    exception, ``SystemExit`` and other ``BaseException`` subclasses included) rather
    than the user's interrupt, which must stop netsky."""
    return not isinstance(exc, KeyboardInterrupt | GeneratorExit)


class BackendSpec:
    """A backend a plugin registered: name, URL schemes, factory, description, and the
    attrs class of the options ``[storage.<scheme>]`` may set (None: not declared)."""

    __slots__ = (
        "description",
        "distribution",
        "factory",
        "name",
        "options",
        "plugin",
        "schemes",
        "version",
    )

    def __init__(
        self,
        name: str,
        schemes: tuple[str, ...],
        factory: Callable[..., Any],
        description: str = "",
        plugin: str = "",
        distribution: str | None = None,
        version: str | None = None,
        options: type | None = None,
    ) -> None:
        self.name = name
        self.schemes = schemes
        self.options = options
        self.factory = factory
        self.description = description
        self.plugin = plugin
        self.distribution = distribution
        self.version = version

    def __repr__(self) -> str:
        return f"BackendSpec(name={self.name!r}, schemes={self.schemes!r}, plugin={self.plugin!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BackendSpec) and (self.name, self.schemes, self.plugin) == (
            other.name,
            other.schemes,
            other.plugin,
        )

    __hash__ = None  # type: ignore[assignment]


class Discovered:
    """What every discovered plugin has: where it came from, and its error or whether
    it is disabled."""

    __slots__ = ("disabled", "distribution", "error", "module", "name", "version")

    def __init__(
        self,
        name: str,
        module: str,
        distribution: str | None,
        version: str | None,
        error: str | None = None,
        disabled: bool = False,
    ) -> None:
        self.name = name
        self.module = module
        self.distribution = distribution
        self.version = version
        self.error = error
        self.disabled = disabled


def load_entry_point(
    ref: EntryPointRef,
    disabled: frozenset[str],
    unloaded: Callable[..., _T],
    register: Callable[[Any], _T],
) -> _T:
    """``register(obj)`` of the object ``ref`` names; ``unloaded(disabled=True)`` when
    the plugin or its distribution is disabled, ``unloaded(error=...)`` when importing
    it fails."""
    if ref.name in disabled or (ref.distribution or "") in disabled:
        return unloaded(disabled=True)
    try:
        obj = ref.load()
    except BaseException as exc:
        if not plugin_failure(exc):
            raise
        return unloaded(error=f"import failed: {type(exc).__name__}: {exc}")
    return register(obj)


class PluginInfo(Discovered):
    """One discovered plugin, as ``netsky backends`` shows it."""

    __slots__ = ("backends",)

    def __init__(
        self,
        name: str,
        module: str,
        distribution: str | None,
        version: str | None,
        backends: tuple[BackendSpec, ...] = (),
        error: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name, module, distribution, version, error, disabled)
        self.backends = backends

    def __repr__(self) -> str:
        state = f", error={self.error!r}" if self.error else ""
        return f"PluginInfo(name={self.name!r}, module={self.module!r}, schemes={self.schemes!r}{state})"

    @property
    def schemes(self) -> tuple[str, ...]:
        return tuple(s for b in self.backends for s in b.schemes)

    @property
    def description(self) -> str:
        return "; ".join(b.description for b in self.backends if b.description)


def _all_entry_points() -> list[EntryPointRef]:
    return installed_entry_points(GROUP)


class PluginRegistry:
    """Loads plugins on demand and keeps the backends they registered."""

    def __init__(self, *, disabled: Iterable[str] = ()) -> None:
        self._disabled = frozenset(disabled)
        self._lock = threading.RLock()
        self._pm: Any = None
        self._loaded: dict[str, PluginInfo] = {}
        self._modules: dict[str, Any] = {}
        self._by_scheme: dict[str, BackendSpec] = {}

    @property
    def plugin_manager(self) -> Any:
        """A pluggy ``PluginManager`` holding every plugin loaded so far (imports pluggy)."""
        with self._lock:
            if self._pm is None:
                import pluggy

                from . import hookspecs

                pm = pluggy.PluginManager(GROUP)
                pm.add_hookspecs(hookspecs)
                self._pm = pm
            for name, module in self._modules.items():
                if self._pm.get_plugin(name) is None and not self._pm.is_registered(module):
                    self._pm.register(module, name=name)
            return self._pm

    # -- loading ------------------------------------------------------------------

    def _specs_from(
        self, module: Any, name: str, distribution: str | None, version: str | None
    ) -> tuple[BackendSpec, ...]:
        impl = getattr(module, HOOK, None)
        if impl is None or not isinstance(getattr(impl, GROUP + "_impl", None), dict):
            raise PluginLoadError(
                f"plugin {name!r} ({getattr(module, '__name__', module)}) has no "
                f"@hookimpl {HOOK}(register) function"
            )
        specs: list[BackendSpec] = []

        def register(
            name: str,
            schemes: Iterable[str],
            factory: Callable[..., Any],
            description: str = "",
            options: type | None = None,
        ) -> None:
            if options is not None and not attrs.has(options):
                raise PluginLoadError(
                    f"plugin {plugin_name!r}: options of backend {name!r} must be an attrs "
                    f"class, got {options!r}"
                )
            specs.append(
                BackendSpec(
                    name,
                    tuple(s.lower() for s in schemes),
                    factory,
                    description,
                    plugin_name,
                    distribution,
                    version,
                    options,
                )
            )

        plugin_name = name
        try:
            impl(register=register)
        except NetskyError:
            raise
        except BaseException as exc:
            if not plugin_failure(exc):
                raise
            raise PluginLoadError(
                f"plugin {name!r} failed to register: {type(exc).__name__}: {exc}"
            ) from exc
        return tuple(specs)

    def register_module(
        self,
        module: Any,
        *,
        name: str,
        distribution: str | None = None,
        version: str | None = None,
    ) -> PluginInfo:
        """Register an already-imported plugin object (tests, embedders)."""
        with self._lock:
            specs = self._specs_from(module, name, distribution, version)
            info = PluginInfo(
                name,
                getattr(module, "__name__", repr(module)),
                distribution,
                version,
                backends=specs,
            )
            self._loaded[name] = info
            self._modules[name] = module
            for spec in specs:
                for scheme in spec.schemes:
                    self._by_scheme.setdefault(scheme, spec)
            return info

    def _load(self, ref: EntryPointRef) -> PluginInfo:
        cached = self._loaded.get(ref.name)
        if cached is not None and cached.module == ref.module:
            return cached

        def unloaded(**state: Any) -> PluginInfo:
            info = PluginInfo(ref.name, ref.module, ref.distribution, ref.version, **state)
            self._loaded[ref.name] = info
            return info

        def register(module: Any) -> PluginInfo:
            try:
                return self.register_module(
                    module, name=ref.name, distribution=ref.distribution, version=ref.version
                )
            except PluginLoadError as exc:
                return unloaded(error=str(exc))

        return load_entry_point(ref, self._disabled, unloaded, register)

    # -- queries ------------------------------------------------------------------

    def backend_for_scheme(self, scheme: str) -> BackendSpec:
        """The backend serving ``scheme``, importing only the plugin(s) named for it."""
        scheme = SCHEME_ALIASES.get(scheme.lower(), scheme.lower())
        with self._lock:
            spec = self._by_scheme.get(scheme)
            if spec is not None:
                return spec
            names = {scheme} | {alias for alias, real in SCHEME_ALIASES.items() if real == scheme}
            refs = [r for n in sorted(names) for r in scan_entry_points(GROUP, n)]
            if not refs:
                refs = [r for r in _all_entry_points() if r.name in names]
            errors = []
            for ref in refs:
                info = self._load(ref)
                if info.error:
                    errors.append(f"{info.name} ({info.distribution}): {info.error}")
                elif info.disabled:
                    errors.append(f"{info.name} is disabled in the configuration")
                spec = self._by_scheme.get(scheme)
                if spec is not None:
                    return spec
            if errors:
                raise PluginLoadError(
                    f"no usable backend for {scheme}://: " + "; ".join(errors),
                    hint="run `netsky backends` to see every plugin and its error",
                )
            available = sorted({s for info in self.list_plugins() for s in info.schemes})
            import difflib

            close = difflib.get_close_matches(scheme, available, n=1, cutoff=0.6)
            if close:
                hint = f"did you mean {close[0]}://? installed schemes: {', '.join(available)}"
            else:
                hint = (
                    f"installed schemes: {', '.join(available) or 'none'}; "
                    f"a plugin for {scheme} would be installed with `pip install netsky-{scheme}`"
                )
            raise BackendNotFoundError(f"no installed backend handles {scheme}:// URLs", hint=hint)

    def list_plugins(self) -> list[PluginInfo]:
        """Every discovered plugin, loading each (errors are reported, not raised).

        Each loaded plugin is also registered with pluggy, whose ``check_pending``
        reports hook implementations that match no netsky hook (a misspelling).
        """
        with self._lock:
            infos = [self._load(ref) for ref in _all_entry_points()]
            known = {i.name for i in infos}
            infos.extend(info for name, info in self._loaded.items() if name not in known)
            infos = [self._validate(info) for info in infos]
            by_module: dict[tuple[str, str | None], PluginInfo] = {}
            for info in sorted(infos, key=lambda i: i.name):
                key = (info.module, info.distribution)
                current = by_module.get(key)
                if current is None or any(b.name == info.name for b in info.backends):
                    by_module[key] = info
            return sorted(by_module.values(), key=lambda i: i.name)

    def _validate(self, info: PluginInfo) -> PluginInfo:
        if info.error or info.disabled or info.name not in self._modules:
            return info
        try:
            pm = self.plugin_manager
            pm.check_pending()
        except BaseException as exc:
            if not plugin_failure(exc):
                raise
            module = self._modules.pop(info.name)
            if self._pm is not None and self._pm.is_registered(module):
                self._pm.unregister(module)
            info.error = f"invalid plugin: {exc}"
        return info


_default: PluginRegistry | None = None
_default_lock = threading.Lock()


def default_registry(disabled: Iterable[str] = ()) -> PluginRegistry:
    """The process-wide registry (created on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = PluginRegistry(disabled=disabled)
        return _default
