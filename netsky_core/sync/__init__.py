"""Moving history between stores: ``copy_store``, the JSONL export format, and
``sync_store`` (continuous, incremental sync to a shared store; see ``push``).

All paths write in the same order, with the same rules:

1. **Events**, in the source's id order, in batches through ``insert_many`` (one
   transaction each). Keyed events are deduplicated by the destination; events
   without a uuid have no key, so an identical event already stored (same fields,
   same count) is skipped here. Running a copy or an import twice stores nothing new.
2. **Sessions**, joined into the destination's with ``restore_sessions``: the "when /
   latest" facts and the git context of the source's summary (which the events alone
   cannot rebuild once gc removed some) join the destination's, whose totals follow
   the events it stores. Nothing the destination knows is rolled back; a session
   whose destination summary knows more than the source's (the agent went on writing
   to the destination) is reported as kept.
3. **File positions**, unless the destination's is more recent.
"""

from ._writer import (
    DEFAULT_BATCH_SIZE,
    EXPORT_FORMAT,
    EXPORT_VERSION,
    CopyResult,
    EventCounts,
    ExportFormatError,
    ExportResult,
    ImportResult,
    SameStoreError,
)
from .copy import check_distinct, copy_store
from .jsonl import (
    EXPORT_FORMATS,
    export_jsonl,
    import_jsonl,
    open_export,
    read_export,
    write_export_file,
)
from .push import SyncMark, SyncResult, SyncStatus, sync_status, sync_store, target_key

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "EXPORT_FORMAT",
    "EXPORT_FORMATS",
    "EXPORT_VERSION",
    "CopyResult",
    "EventCounts",
    "ExportFormatError",
    "ExportResult",
    "ImportResult",
    "SameStoreError",
    "SyncMark",
    "SyncResult",
    "SyncStatus",
    "check_distinct",
    "copy_store",
    "export_jsonl",
    "import_jsonl",
    "open_export",
    "read_export",
    "sync_status",
    "sync_store",
    "target_key",
    "write_export_file",
]
