"""netsky: store and query what AI coding agents do.

    >>> import netsky_core
    >>> with netsky_core.open_storage("memory://") as store:
    ...     ...

Names are imported lazily, so ``import netsky_core`` stays cheap for the hook path.
"""

from __future__ import annotations

TYPE_CHECKING = False  # (not typing.TYPE_CHECKING: importing typing costs a hook ~3 ms)

__version__ = "0.2.0"

_EXPORTS: dict[str, str] = {
    # opening and configuration
    "open_storage": "._open",
    "Config": "._config",
    "Setting": "._config",
    "load_config": "._config",
    "resolve_machine_id": "._config",
    "default_storage_url": "._config",
    "mask_url": "._urls",
    "parse_duration": "._durations",
    "format_duration": "._durations",
    # plugins
    "BackendSpec": ".plugins._registry",
    "PluginInfo": ".plugins._registry",
    "PluginRegistry": ".plugins._registry",
    "list_plugins": ".plugins._list",
    # protocol
    "Storage": ".storage.protocol",
    "Store": ".storage.store",
    "iter_events": ".storage.protocol",
    "EventFollower": ".storage.protocol",
    # rules
    "fold_session": ".storage.fold",
    "version_rank": ".storage.versions",
    "aggregate_events": ".storage.fold",
    # records
    "Capability": "._records",
    "Event": "._records",
    "EventSource": "._records",
    "EventType": "._records",
    "EventsVersion": "._results",
    "FilePosition": "._records",
    "GcResult": "._results",
    "GitBranchInfo": "._records",
    "GitContext": "._records",
    "InsertResult": "._records",
    "MigrationResult": "._results",
    "ProjectUsage": "._results",
    "Session": "._records",
    "SessionStatus": "._records",
    "StorageInfo": "._results",
    "StorageStats": "._results",
    "UsageBucket": "._results",
    "UsageQuery": "._queries",
    # queries
    "ApiFilter": "._queries",
    "EventOrder": "._queries",
    "EventQuery": "._queries",
    "Order": "._queries",
    "SessionOrder": "._queries",
    "SessionQuery": "._queries",
    "StorageStatsQuery": "._queries",
    # serialization
    "converter": "._convert",
    # errors
    "BackendNotFoundError": "._errors",
    "ConfigError": "._errors",
    "DurationError": "._errors",
    "InvalidURLError": "._errors",
    "NetskyError": "._errors",
    "NotANetskyStoreError": "._errors",
    "NoStoreError": "._errors",
    "StoreNeedsMigrationError": "._errors",
    "PluginError": "._errors",
    "PluginLoadError": "._errors",
    "ReadOnlyStorageError": "._errors",
    "StorageOptionsError": "._errors",
    "RecordError": "._errors",
    "SchemaVersionError": "._errors",
    "StorageConnectionError": "._errors",
    "StorageError": "._errors",
    "StorageIntegrityError": "._errors",
    "StorageQueryError": "._errors",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'netsky_core' has no attribute {name!r}")
    import importlib  # here, not at the top: the hook's fast path never needs it

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ._config import Config, Setting, default_storage_url, load_config, resolve_machine_id
    from ._convert import converter
    from ._durations import format_duration, parse_duration
    from ._errors import (
        BackendNotFoundError,
        ConfigError,
        DurationError,
        InvalidURLError,
        NetskyError,
        NoStoreError,
        NotANetskyStoreError,
        PluginError,
        PluginLoadError,
        ReadOnlyStorageError,
        RecordError,
        SchemaVersionError,
        StorageConnectionError,
        StorageError,
        StorageIntegrityError,
        StorageOptionsError,
        StorageQueryError,
        StoreNeedsMigrationError,
    )
    from ._open import open_storage
    from ._queries import (
        ApiFilter,
        EventOrder,
        EventQuery,
        Order,
        SessionOrder,
        SessionQuery,
        StorageStatsQuery,
        UsageQuery,
    )
    from ._records import (
        Capability,
        Event,
        EventSource,
        EventType,
        FilePosition,
        GitBranchInfo,
        GitContext,
        InsertResult,
        Session,
        SessionStatus,
    )
    from ._results import (
        EventsVersion,
        GcResult,
        MigrationResult,
        ProjectUsage,
        StorageInfo,
        StorageStats,
        UsageBucket,
    )
    from .plugins._list import list_plugins
    from .plugins._registry import BackendSpec, PluginInfo, PluginRegistry
    from .storage.fold import aggregate_events, fold_session
    from .storage.protocol import EventFollower, Storage, iter_events
    from .storage.store import Store
    from .storage.versions import version_rank
