"""The one error tree of netsky.

Every error netsky raises on purpose derives from :class:`NetskyError`. Backends
translate their driver's exceptions into the :class:`StorageError` branch, so a
caller never needs to import a driver to handle a failure.

    NetskyError
    ├── ConfigError
    │   ├── InvalidURLError
    │   └── DurationError          (also a ValueError)
    ├── PluginError
    │   ├── BackendNotFoundError
    │   └── PluginLoadError
    ├── RecordError                (also a ValueError)
    └── StorageError
        ├── StorageConnectionError
        ├── StorageQueryError
        ├── SchemaVersionError
        ├── NotANetskyStoreError
        ├── StorageIntegrityError
        ├── ReadOnlyStorageError
        └── StorageOptionsError
"""

from __future__ import annotations


class NetskyError(Exception):
    """Base of every error netsky raises on purpose.

    ``hint`` is an optional short suggestion of what to do next; the CLI prints it
    after the message.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class ConfigError(NetskyError):
    """The configuration (flags, environment, config file) is invalid."""


class InvalidURLError(ConfigError):
    """A storage URL cannot be parsed or names no usable location."""


class DurationError(ConfigError, ValueError):
    """A duration string such as ``30d`` is malformed."""


class PluginError(NetskyError):
    """A storage plugin could not be found or loaded."""


class BackendNotFoundError(PluginError):
    """No installed plugin handles the URL scheme."""


class PluginLoadError(PluginError):
    """A plugin raised while being imported or registering its backends."""


class RecordError(NetskyError, ValueError):
    """A record (event, session, position) holds an invalid value."""


class StorageError(NetskyError):
    """A storage backend failed."""


class StorageConnectionError(StorageError):
    """The store cannot be reached, or the connection dropped mid-call.

    A call that failed before its commit was sent committed nothing; when the
    connection drops while the commit itself is in flight, the message says the
    outcome is unknown (retrying is safe: stores deduplicate events by key).
    """


class StorageQueryError(StorageError):
    """The backend rejected a statement."""


class SchemaVersionError(StorageError):
    """The store's schema is newer than this netsky understands (or unusable)."""


class StoreNeedsMigrationError(SchemaVersionError):
    """A store opened read-only has an older schema: a writable open migrates it."""


class NoStoreError(StorageError):
    """There is no netsky store at the URL (and a read-only open creates none)."""


class NotANetskyStoreError(StorageError):
    """The location holds data that is not a netsky store; it was left untouched."""


class StorageIntegrityError(StorageError):
    """The store's data violates an invariant (corruption, constraint failure)."""


class ReadOnlyStorageError(StorageError):
    """A write was attempted on a store opened read-only."""


class StorageOptionsError(StorageError):
    """The backend's factory does not accept an option it was given (e.g. a
    third-party backend without the standard ``timeout`` or ``read_only``)."""
