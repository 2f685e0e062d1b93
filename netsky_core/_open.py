"""``open_storage``: URL resolution, backend lookup, opening."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._config import Config, load_config
from ._errors import NetskyError, StorageError, StorageOptionsError
from .plugins._registry import default_registry, plugin_failure

if TYPE_CHECKING:
    from .storage.protocol import Storage
from ._urls import mask_url, scheme_of, scrub_secrets, url_password

__all__ = ["open_for_reading", "open_storage"]


def open_storage(
    url: str | None = None, *, config: Config | None = None, **options: Any
) -> Storage:
    """Open the store at ``url`` (or the configured / default one).

    The backend is found by the URL's scheme among installed plugins; migrations run
    unless ``migrate=False``; ``read_only=True`` opens for reading where supported.
    Options from ``[storage.<scheme>]`` in the config file apply first, then
    ``options``. The result is a context manager; ``close()`` releases everything.
    """
    if config is None:
        config = load_config(db_url=url)
    resolved = url or config.storage_url.value
    scheme = scheme_of(resolved)
    registry = default_registry(config.disabled_plugins())
    spec = registry.backend_for_scheme(scheme)
    configured = config.backend_options(scheme)
    if configured and spec.options is not None:
        from ._config_schema import check_backend_options

        check_backend_options(spec.options, configured, scheme, str(config.path))
    merged = {**configured, **options}
    try:
        engine = spec.factory(resolved, **merged)
    except NetskyError:
        raise
    except TypeError as exc:
        raise StorageOptionsError(
            f"backend {spec.name!r} rejected the options for {mask_url(resolved)}: {exc}"
        ) from None
    except BaseException as exc:  # SystemExit from a plugin too, never the user's Ctrl-C
        if not plugin_failure(exc):
            raise
        detail = scrub_secrets(f"{type(exc).__name__}: {exc}", url_password(resolved))
        raise StorageError(
            f"backend {spec.name!r} failed to open {mask_url(resolved)}: {detail}"
        ) from None
    return _as_store(engine, spec.name)


def open_for_reading(
    url: str | None = None, *, config: Config | None = None, **options: Any
) -> Storage:
    """Open the store at ``url`` for a command that only reads.

    Read-only where the backend supports it: a store in a read-only folder can be
    read, and a store that does not exist is reported (``NoStoreError``), never
    created. A store of an older schema is opened writable once, to migrate it; a
    backend that takes no ``read_only`` option is opened as it opens.
    """
    from ._errors import StoreNeedsMigrationError

    try:
        return open_storage(url, config=config, read_only=True, **options)
    except StoreNeedsMigrationError:
        return open_storage(url, config=config, **options)
    except StorageOptionsError:
        return open_storage(url, config=config, **options)


def _as_store(engine: Any, backend: str) -> Storage:
    """The Store over what a backend factory returned (an Engine)."""
    from .storage.store import Store

    if callable(getattr(engine, "write", None)) and callable(getattr(engine, "read", None)):
        return Store(engine)
    raise StorageError(
        f"backend {backend!r} returned a {type(engine).__name__}, not an Engine",
        hint="a backend factory returns a netsky_core.backend.Engine",
    )
