"""In-memory netsky store: ``memory://`` opens a fresh, private, thread-safe store."""

from ._engine import MemoryEngine, open_memory

__all__ = ["MemoryEngine", "open_memory"]
