"""Schema and migrations of the SQLite store.

Files are marked with ``PRAGMA application_id`` and versioned with
``PRAGMA user_version``. Migrations run inside ``BEGIN IMMEDIATE`` and re-read the
version after taking the write lock, so two processes opening a fresh file at once
both succeed and the schema is created exactly once. Timestamps are stored as
integer microseconds since the Unix epoch (UTC).
"""

from __future__ import annotations

from netsky_core import NotANetskyStoreError, SchemaVersionError, StorageIntegrityError

from . import _version

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

APPLICATION_ID = 0x4E534B59  # "NSKY"
SQLITE_HEADER = b"SQLite format 3\x00"

_EVENTS = """
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    machine_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    uuid TEXT,
    framework TEXT,
    source TEXT NOT NULL,
    tool_use_id TEXT,
    tool_name TEXT,
    spawned_agent_id TEXT,
    subagent_type TEXT,
    permission_mode TEXT,
    transcript_path TEXT,
    pid INTEGER,
    process_start_time INTEGER,
    cwd TEXT,
    git_branch TEXT,
    model TEXT,
    tokens_input INTEGER,
    tokens_output INTEGER,
    tokens_cache_read INTEGER,
    tokens_cache_write INTEGER,
    cost_usd REAL,
    duration_ms INTEGER,
    is_sidechain INTEGER NOT NULL DEFAULT 0,
    payload TEXT,
    metadata TEXT
)"""

_SESSIONS = """
CREATE TABLE sessions (
    machine_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    framework TEXT,
    first_activity INTEGER,
    last_activity INTEGER,
    first_started_at INTEGER,
    last_started_at INTEGER,
    first_ended_at INTEGER,
    last_ended_at INTEGER,
    revival_count INTEGER NOT NULL DEFAULT 0,
    status TEXT,
    status_updated_at INTEGER,
    pid INTEGER,
    process_start_time INTEGER,
    pid_at INTEGER,
    cwd TEXT,
    cwd_at INTEGER,
    local_git_dir TEXT,
    git_branch TEXT,
    git_branch_at INTEGER,
    git_worktree_path TEXT,
    github_repo TEXT,
    github_issue INTEGER,
    github_pr INTEGER,
    first_user_message TEXT,
    first_user_message_at INTEGER,
    last_user_message TEXT,
    last_user_message_at INTEGER,
    model TEXT,
    model_at INTEGER,
    transcript_path TEXT,
    transcript_path_at INTEGER,
    event_count INTEGER NOT NULL DEFAULT 0,
    hook_event_count INTEGER NOT NULL DEFAULT 0,
    transcript_event_count INTEGER NOT NULL DEFAULT 0,
    otel_event_count INTEGER NOT NULL DEFAULT 0,
    api_event_count INTEGER NOT NULL DEFAULT 0,
    import_event_count INTEGER NOT NULL DEFAULT 0,
    message_count INTEGER NOT NULL DEFAULT 0,
    prompts_hook INTEGER NOT NULL DEFAULT 0,
    prompts_transcript INTEGER NOT NULL DEFAULT 0,
    prompts_other INTEGER NOT NULL DEFAULT 0,
    compaction_count INTEGER NOT NULL DEFAULT 0,
    compactions_hook INTEGER NOT NULL DEFAULT 0,
    compactions_transcript INTEGER NOT NULL DEFAULT 0,
    compactions_other INTEGER NOT NULL DEFAULT 0,
    tool_call_count INTEGER NOT NULL DEFAULT 0,
    api_request_count INTEGER NOT NULL DEFAULT 0,
    api_error_count INTEGER NOT NULL DEFAULT 0,
    usage_event_count INTEGER NOT NULL DEFAULT 0,
    tokens_input INTEGER,
    tokens_output INTEGER,
    tokens_cache_read INTEGER,
    tokens_cache_write INTEGER,
    priced_event_count INTEGER NOT NULL DEFAULT 0,
    unpriced_request_count INTEGER NOT NULL DEFAULT 0,
    cost_picousd INTEGER,
    cost_usd REAL,
    PRIMARY KEY (machine_id, session_id)
)"""

_POSITIONS = """
CREATE TABLE positions (
    machine_id TEXT NOT NULL,
    path TEXT NOT NULL,
    "offset" INTEGER NOT NULL,
    line_number INTEGER NOT NULL,
    last_uuid TEXT,
    size INTEGER,
    mtime_ns INTEGER,
    inode INTEGER,
    state TEXT,
    updated_at INTEGER,
    PRIMARY KEY (machine_id, path)
)"""

_USAGE = """
CREATE TABLE usage (
    machine_id TEXT NOT NULL,
    framework TEXT NOT NULL,
    model TEXT NOT NULL,
    start INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    unpriced_requests INTEGER NOT NULL,
    priced_requests INTEGER NOT NULL,
    tokens_input INTEGER NOT NULL,
    tokens_output INTEGER NOT NULL,
    tokens_cache_read INTEGER NOT NULL,
    tokens_cache_write INTEGER NOT NULL,
    cost_picousd INTEGER NOT NULL,
    PRIMARY KEY (machine_id, framework, model, start)
)"""


_V2_EVENT_COLUMNS = (
    "id, machine_id, session_id, event_type, timestamp, uuid, framework, source, "
    "tool_use_id, tool_name, spawned_agent_id, subagent_type, permission_mode, "
    "transcript_path, pid, process_start_time, cwd, git_branch, model, tokens_input, "
    "tokens_output, tokens_cache_read, tokens_cache_write, cost_usd, duration_ms, "
    "is_sidechain, payload, metadata"
)


def _v2_api_requests(conn: Any) -> list[Any]:
    """The ApiRequest events of a version 2 store, as Events (its columns then)."""
    from netsky_core import Event

    from ._rows import dt

    names = [c.strip() for c in _V2_EVENT_COLUMNS.split(",")]
    out = []
    for row in conn.execute(
        f"SELECT {_V2_EVENT_COLUMNS} FROM events WHERE event_type = 'ApiRequest'"
    ):
        values = dict(zip(names, row))
        values["timestamp"] = dt(values["timestamp"])
        values["is_sidechain"] = bool(values["is_sidechain"])
        out.append(Event(**values))
    return out


def _backfill_usage(conn: Any) -> None:
    """Fill the usage buckets from the stored API requests (by the core's rule, so a
    migrated store holds exactly what incremental maintenance would have)."""
    from netsky_core.backend import USAGE_SUMS, usage_deltas

    from ._rows import usage_key_row

    sums = USAGE_SUMS[:7] + USAGE_SUMS[8:]  # version 2 buckets had no reasoning column
    values = [
        (*usage_key_row(k), *(d[USAGE_SUMS.index(name)] for name in sums))
        for k, d in usage_deltas([(1, _v2_api_requests(conn))]).items()
    ]
    conn.executemany("INSERT INTO usage VALUES (" + ", ".join("?" * 12) + ")", values)


def _backfill_billing_keys(conn: Any) -> None:
    """Index every stored response by its billing key (the core's rule)."""
    from netsky_core import Event
    from netsky_core.backend import billing_key

    from ._rows import dt

    rows = conn.execute(
        "SELECT id, machine_id, session_id, event_type, timestamp, uuid FROM events "
        "WHERE event_type IN ('ApiRequest', 'ApiRequestRepeated') AND uuid IS NOT NULL"
    ).fetchall()
    updates = []
    for i, m, s, t, ts, u in rows:
        key = billing_key(Event(machine_id=m, session_id=s, event_type=t, timestamp=dt(ts), uuid=u))
        updates.append((key, i))
    conn.executemany("UPDATE events SET bill_key = ? WHERE id = ?", updates)


from ._projects import MIGRATION as _PROJECT_USAGE  # noqa: E402

# One entry per schema version: the steps (SQL statements or functions of the
# connection) that bring version N-1 to N. Released versions never change.
MIGRATIONS: tuple[tuple[Any, ...], ...] = (
    (
        _EVENTS,
        "CREATE UNIQUE INDEX events_key ON events (machine_id, session_id, uuid)",
        "CREATE INDEX events_session_time ON events (session_id, timestamp)",
        "CREATE INDEX events_time ON events (timestamp)",
        "CREATE INDEX events_type_time ON events (event_type, timestamp)",
        "CREATE INDEX events_uuid ON events (uuid)",
        _SESSIONS,
        "CREATE INDEX sessions_last_activity ON sessions (last_activity, machine_id, session_id)",
        "CREATE INDEX sessions_started ON sessions "
        "(coalesce(first_started_at, first_activity), machine_id, session_id)",
        "CREATE INDEX sessions_cost ON sessions (cost_picousd, machine_id, session_id)",
        "CREATE INDEX sessions_session_id ON sessions (session_id, last_activity)",
        "CREATE INDEX sessions_pid ON sessions (pid, last_activity) WHERE pid IS NOT NULL",
        "CREATE INDEX sessions_github ON sessions (github_repo) WHERE github_repo IS NOT NULL",
        _POSITIONS,
    ),
    (
        _USAGE,
        "CREATE INDEX usage_start ON usage (start)",
        _backfill_usage,
    ),
    (
        # reasoning tokens reported apart from output; responses indexed by their
        # billing key (billed once per store); the gc horizon and other store facts
        "ALTER TABLE events ADD COLUMN tokens_reasoning INTEGER",
        "ALTER TABLE events ADD COLUMN bill_key TEXT",
        "ALTER TABLE sessions ADD COLUMN tokens_reasoning INTEGER",
        "ALTER TABLE usage ADD COLUMN tokens_reasoning INTEGER NOT NULL DEFAULT 0",
        "UPDATE sessions SET tokens_reasoning = 0 WHERE usage_event_count > 0",
        _backfill_billing_keys,
        "CREATE INDEX events_bill ON events (bill_key) WHERE bill_key IS NOT NULL",
        "DROP INDEX events_uuid",
        "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ),
    _PROJECT_USAGE,  # usage per working directory, git branch and 15 minutes (budgets)
)
LATEST = len(MIGRATIONS)
if LATEST != _version.LATEST:  # the live reader's copy of the number must follow
    raise ImportError(
        f"netsky_sqlite._version.LATEST is {_version.LATEST}, the migrations make {LATEST}"
    )


def check_header(data: bytes, path: str) -> None:
    """Refuse a file that is not an SQLite database (before SQLite touches it)."""
    if data and not data.startswith(SQLITE_HEADER[: len(data)]):
        raise NotANetskyStoreError(
            f"{path} is not an SQLite database; refusing to open it as a netsky store",
            hint="point --db at a new file or an existing netsky database",
        )


def read_version(conn: Any, path: str) -> int:
    """The schema version, after checking the file is (or can become) ours."""
    # One statement, so one snapshot: another process may be creating the schema
    # right now, and reading the marks and the tables apart could see half of it.
    app_id, version, has_tables = conn.execute(
        "SELECT (SELECT application_id FROM pragma_application_id),"
        " (SELECT user_version FROM pragma_user_version),"
        " (SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%')"
    ).fetchone()
    if app_id == APPLICATION_ID:
        if version <= 0 and (has_tables or version < 0):
            raise StorageIntegrityError(
                f"{path} is damaged: its netsky schema version is {version} but it holds "
                "tables; it was left untouched",
                hint="restore a backup (or `netsky export` from a copy of it)",
            )
        if version > LATEST:
            raise SchemaVersionError(
                f"{path} has netsky schema version {version}, newer than this netsky "
                f"understands ({LATEST}); it was left untouched",
                hint="upgrade netsky (pip install -U netsky)",
            )
        return version
    if app_id != 0 or has_tables:
        raise NotANetskyStoreError(
            f"{path} is an SQLite database but not a netsky store; it was left untouched",
            hint="point --db at a new file or an existing netsky database",
        )
    return 0


def expected_columns() -> dict[str, tuple[str, ...]]:
    """The columns of every table at ``LATEST``."""
    from ._projects import COLUMNS as PROJECT_USAGE_COLUMNS
    from ._rows import EVENT_WRITE_COLUMNS, POSITION_COLUMNS, SESSION_COLUMNS, USAGE_COLUMNS

    return {
        "events": ("id", *EVENT_WRITE_COLUMNS),
        "sessions": tuple(SESSION_COLUMNS),
        "positions": tuple(POSITION_COLUMNS),
        "usage": tuple(USAGE_COLUMNS),
        "meta": ("name", "value"),
        "project_usage": PROJECT_USAGE_COLUMNS,
    }


def verify(conn: Any, path: str) -> None:
    """Refuse a store whose tables or columns are not what ``LATEST`` has (a table or
    a column dropped by hand): one line, and the file is not written to."""
    for table, columns in expected_columns().items():
        found = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if not found:
            raise StorageIntegrityError(
                f"{path} is damaged: table {table} is missing; it was left untouched",
                hint="restore a backup (or `netsky export` from a copy of it)",
            )
        missing = [c for c in columns if c not in found]
        if missing:
            raise StorageIntegrityError(
                f"{path} is damaged: table {table} lacks column(s) {', '.join(missing)}; "
                "it was left untouched",
                hint="restore a backup (or `netsky export` from a copy of it)",
            )


PAGE_SIZE = 16384
"""Page size of a new store. Events carry their payload (about 1 KB on average, up to
many): with SQLite's default 4 KiB a big ingest writes four times the pages and WAL
frames, each a system call and, in a new block of the WAL, a zeroing of partial pages
by the kernel. 1 GB cold ingest, interleaved: 14.0 / 15.2 / 15.9 s with 4 KiB, 11.7 /
13.6 / 15.3 s with 16 KiB (8 KiB: 14.1 / 17.7 / 16.3 s). A store made earlier keeps its
page size (``VACUUM`` does not change it in WAL mode)."""


def migrate(conn: Any, path: str) -> tuple[int, int]:
    """Bring the schema to ``LATEST`` inside ``BEGIN IMMEDIATE``; returns (from, to).

    The caller holds no transaction. Busy errors propagate for the caller to retry.
    A new (empty) database is made with pages of ``PAGE_SIZE`` bytes.
    """
    if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    conn.execute("BEGIN IMMEDIATE")
    try:
        before = read_version(conn, path)
        if before > 0 and before == LATEST:
            conn.execute("COMMIT")
            return before, LATEST
        for version in range(before + 1, LATEST + 1):
            for step in MIGRATIONS[version - 1]:
                if callable(step):
                    step(conn)
                else:
                    conn.execute(step)
        if before < LATEST:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {LATEST}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return before, LATEST
