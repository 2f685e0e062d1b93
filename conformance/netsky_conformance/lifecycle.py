"""Lifecycle: protocol shape, schema version, info, close, threads, persistence."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from netsky_core import (
    Capability,
    EventQuery,
    EventType,
    ReadOnlyStorageError,
    SessionQuery,
    Storage,
    StorageError,
    StorageInfo,
)

from .base import StorageFixtures, requires
from .builders import api, at, ev


class LifecycleConformance(StorageFixtures):
    def test_satisfies_the_protocol(self, storage: Storage) -> None:
        assert isinstance(storage, Storage)

    def test_schema_version_is_a_positive_int(self, storage: Storage) -> None:
        assert isinstance(storage.schema_version, int) and storage.schema_version >= 1

    def test_capabilities_are_declared(self, storage: Storage) -> None:
        caps = storage.capabilities
        assert isinstance(caps, frozenset)
        assert all(isinstance(c, Capability) for c in caps)

    def test_migrate_is_idempotent(self, storage: Storage) -> None:
        result = storage.migrate()
        assert result.to_version == storage.schema_version
        assert not storage.migrate().changed

    def test_info(self, storage: Storage) -> None:
        storage.insert_many([ev(t=5), ev(t=1, session_id="s2"), api(3)])
        info = storage.info()
        assert isinstance(info, StorageInfo)
        assert info.tables["events"] == 3 and info.tables["sessions"] == 2
        assert info.schema_version == storage.schema_version <= info.latest_schema_version
        assert (info.oldest_event, info.newest_event) == (at(1), at(5))
        assert "***" in info.url or "@" not in info.url

    def test_info_counts_project_usage(self, storage: Storage) -> None:
        requires(storage, Capability.PROJECT_USAGE)
        storage.insert_many([api(1, cwd="/w/a"), api(2, cwd="/w/b")])
        tables = storage.info().tables
        assert tables["project_usage"] == len(storage.project_usage())
        assert tables["project_usage"] >= 2

    def test_context_manager_closes(self, open_store: Callable[..., Storage]) -> None:
        with open_store() as store:
            store.insert(ev())
        with pytest.raises(StorageError):
            store.insert(ev())
        with pytest.raises(StorageError):
            store.query(EventQuery())
        store.close()  # closing twice is harmless

    def test_concurrent_threads(self, storage: Storage) -> None:
        errors: list[BaseException] = []

        def work(n: int) -> None:
            try:
                for i in range(50):
                    storage.insert(
                        ev(EventType.PRE_TOOL_USE, i, session_id=f"s{n % 3}", uuid=f"{n}-{i}")
                    )
                    if i % 10 == 0:
                        storage.insert_many([api(i, session_id=f"s{n % 3}", uuid=f"a{n}-{i}")] * 2)
                        storage.list_sessions(SessionQuery())
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert storage.count() == 6 * 55
        sessions = storage.list_sessions(SessionQuery())
        assert sum(s.event_count for s in sessions) == 6 * 55
        assert sum(s.api_request_count for s in sessions) == 30

    def test_data_survives_reopening(
        self, open_store: Callable[..., Storage], new_url: Callable[[], str]
    ) -> None:
        url = new_url()
        store = open_store(url)
        requires(store, Capability.PERSISTENT)
        store.insert_many([ev(t=1), api(2)])
        before = store.list_sessions(SessionQuery())
        store.close()
        again = open_store(url)
        assert again.count() == 2
        assert again.list_sessions(SessionQuery()) == before
        assert again.schema_version == store.schema_version

    def test_read_only_store_refuses_writes(
        self, open_store: Callable[..., Storage], new_url: Callable[[], str]
    ) -> None:
        url = new_url()
        store = open_store(url)
        requires(store, Capability.READ_ONLY, Capability.PERSISTENT)
        store.insert(ev(t=1))
        store.close()
        ro = open_store(url, read_only=True)
        assert ro.count() == 1
        with pytest.raises(ReadOnlyStorageError):
            ro.insert(ev(t=2))
        assert ro.count() == 1

    def test_vacuum_keeps_data(self, storage: Storage) -> None:
        requires(storage, Capability.VACUUM)
        storage.insert_many([ev(t=i) for i in range(20)])
        storage.vacuum()
        assert storage.count() == 20

    def test_size_on_disk_is_known(self, storage: Storage) -> None:
        requires(storage, Capability.SIZE_ON_DISK)
        storage.insert(ev())
        size = storage.info().size_bytes
        assert isinstance(size, int) and size > 0
