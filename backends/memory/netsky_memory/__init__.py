"""In-memory netsky store: ``memory://`` opens a fresh, private, thread-safe store."""

from ._store import MemoryStorage, open_memory

__all__ = ["MemoryStorage", "open_memory"]
