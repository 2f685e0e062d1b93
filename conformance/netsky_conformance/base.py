"""The fixtures every conformance class uses; ``new_url`` is the one to override."""

from __future__ import annotations

import itertools
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from netsky_core import Capability, Storage, open_storage

_counter = itertools.count()


def requires(storage: Storage, *capabilities: Capability) -> None:
    """Skip the calling test unless ``storage`` declares every capability."""
    missing = [c.value for c in capabilities if c not in storage.capabilities]
    if missing:
        pytest.skip(f"backend does not declare capability {', '.join(missing)}")


class StorageFixtures:
    """Fixtures: ``new_url`` (override), ``open_store``, ``storage``."""

    @pytest.fixture
    def new_url(self, request: pytest.FixtureRequest) -> Iterator[Callable[[], str]]:
        """A callable returning the URL of a fresh, empty store at each call.

        The default reads ``--netsky-url`` and expands ``{tmp}`` (a folder removed at
        teardown) and ``{unique}``.
        """
        template = request.config.getoption("netsky_url", default=None)
        if not template:
            pytest.skip("no store under test: pass --netsky-url or override new_url")
        root = Path(tempfile.mkdtemp(prefix="netsky-conformance-"))

        def make() -> str:
            n = next(_counter)
            folder = root / str(n)
            folder.mkdir()
            return template.replace("{tmp}", str(folder)).replace(
                "{unique}", f"t{n}_{secrets.token_hex(4)}"
            )

        yield make
        shutil.rmtree(root, ignore_errors=True)

    @pytest.fixture
    def open_store(self, new_url: Callable[[], str]) -> Iterator[Callable[..., Storage]]:
        """``open_store(url=None, **options)``: open (a fresh) store, closed at teardown."""
        opened: list[Storage] = []

        def do_open(url: str | None = None, **options: Any) -> Storage:
            store = open_storage(url or new_url(), **options)
            opened.append(store)
            return store

        yield do_open
        for store in reversed(opened):
            try:
                store.close()
            except Exception:
                pass

    @pytest.fixture
    def storage(self, open_store: Callable[..., Storage]) -> Storage:
        """One fresh, empty store."""
        return open_store()
