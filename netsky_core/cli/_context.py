"""What every command gets: parsed global options, config, the store, output."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .._config import Config, load_config

if TYPE_CHECKING:  # (a report read by a backend's own reader opens no Store)
    from ..storage.protocol import Storage


class Context:
    """Lazily resolved configuration and storage for one invocation."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(db_url=self.args.db, config_path=self.args.config)
        return self._config

    @property
    def url(self) -> str:
        return str(self.config.storage_url.value)

    @property
    def machine_id(self) -> str:
        """This machine's id as the config resolves it (flag, env, file, default)."""
        from .._config import resolve_machine_id

        return str(resolve_machine_id(self.config).value)

    @contextmanager
    def storage(
        self, url: str | None = None, *, read: bool = False, **options: Any
    ) -> Iterator[Storage]:
        """Open the configured store (or ``url``) for the duration of a command.

        ``read``: the command only reads, so the store is opened read-only (it works in
        a read-only folder, and a store that does not exist is reported, not
        created); a store of an older schema is opened writable once to migrate it.
        """
        from .._open import open_for_reading, open_storage

        target = url or self.url
        opener = open_for_reading if read else open_storage
        store = opener(target, config=self.config, **options)
        try:
            yield store
        finally:
            store.close()

    @property
    def json(self) -> bool:
        return bool(getattr(self.args, "json", False))

    @property
    def interactive(self) -> bool:
        return sys.stdout.isatty()
