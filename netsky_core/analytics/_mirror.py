"""The columnar mirror: a DuckDB file holding a copy of a store's events.

``netsky query``, ``netsky export`` and the reports read the events from the mirror
instead of loading them from the store on every run; sessions and positions (small)
are still loaded from the store each time.

Where: beside a file store (``<file>.mirror.duckdb``), else in the state directory
(``mirrors/<hash of the masked URL>.duckdb``); a store that does not persist has none.

Kept current through the Storage protocol (``Store.events_version``, one snapshot):
rows above the mirror's largest id are appended (by the backend's native loader
when it has one); after transactions that rewrote or deleted events (a row
superseded, repriced, billed again: the Store logs each with the smallest id it
rewrote) the rows from that id on are loaded again; after a gc (logged with the
smallest id it deleted) the rows the store no longer holds are dropped, found by
reading only the store's ids from there on; the mirror is rebuilt when a reload
would be most of it, when the log no longer reaches back to the mirror's last
refresh, or when the rows up to the mirror's largest id no longer number what it
holds (a server store committed a smaller id late). A store that does not offer
``events_version`` is loaded as before.

Safety: refreshes are serialized by a lock file; an append is one DuckDB
transaction, a rebuild writes a new file and renames it over the old one, so a
reader sees the old mirror or the new one, never half of one. Every file is mode
0600. After each refresh a seal (size and mtime of the file) is written beside it;
a file that does not match its seal, or that DuckDB cannot open, is rebuilt.
Readers attach the file read-only.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import orjson

from .._paths import replace_private_file
from .._records import Capability
from ._errors import AnalyticsError
from ._tables import RAW_SCHEMA, TableRequest, base_columns

__all__ = [
    "MIRROR_CATALOG",
    "MIRROR_ENV",
    "Mirror",
    "MirrorRefresh",
    "MirrorStatus",
    "MirrorUnavailable",
    "mirror_enabled",
    "mirror_for",
    "mirror_location",
    "mirror_status",
    "rebuild_mirror",
]

MIRROR_CATALOG = "netsky_mirror"
"""The name the mirror file is attached under in an analytics connection."""
MIRROR_ENV = "NETSKY_MIRROR"
"""``0``, ``false``, ``off`` or ``no`` turns the mirror off (loads as before)."""
FORMAT = 1
_STATE = "mirror_state"
_TABLE = f'{RAW_SCHEMA}."events"'
_BUSY_SECONDS = 300.0  # waiting for another refresh beats loading from the store
_ATTACH_WAIT = 5.0
_BUILD = "netsky_mirror_build"
_KEPT = "main.kept_ids"  # in a resync's staging file: the store's ids from the gc'd one on
_ROW_GROUP = 16_384
_RESYNC_ROWS = 50_000  # below this many rows to load again, never a rebuild
_CONFIG: dict[str, Any] = {
    "autoinstall_known_extensions": False,
    # a rebuild streams the whole store through: bounded memory, spilling to disk
    "memory_limit": "128MB",
    "preserve_insertion_order": False,
    "threads": 1,
}
_OFF = frozenset({"0", "false", "off", "no"})

Progress = Callable[[str], None]


class MirrorUnavailable(AnalyticsError):
    """The mirror cannot be used now (unwritable place, busy): load as before."""


@attrs.frozen(kw_only=True)
class MirrorRefresh:
    """What one refresh did: ``action`` is ``fresh``, ``appended``, ``resynced`` (rows
    from the smallest rewritten id on loaded again) or ``rebuilt``."""

    action: str
    rows: int
    added: int
    seconds: float
    reason: str | None = None


@attrs.frozen(kw_only=True)
class MirrorStatus:
    """What ``netsky db mirror status`` shows."""

    path: str | None
    enabled: bool
    exists: bool
    state: str  # fresh, stale, missing, damaged, off, unsupported
    rows: int | None = None
    store_rows: int | None = None
    max_id: int | None = None
    store_max_id: int | None = None
    size_bytes: int | None = None
    refreshed_at: float | None = None
    reason: str | None = None


def mirror_enabled(config: Any = None, environ: Any = None) -> bool:
    """False when ``NETSKY_MIRROR`` or ``[analytics] mirror`` turns the mirror off."""
    env = os.environ if environ is None else environ
    value = env.get(MIRROR_ENV)
    if value is not None and value.strip().lower() in _OFF:
        return False
    if config is not None:
        section = config.section("analytics")
        if section.get("mirror") is False:
            return False
    return True


def mirror_location(storage: Any) -> Path | None:
    """Where ``storage``'s mirror lives (None: a store that does not persist)."""
    engine = getattr(storage, "engine", None)
    path = getattr(engine, "path", None)  # a store in one local file: beside it
    if isinstance(path, (str, os.PathLike)) and str(path) not in ("", ":memory:"):
        file = Path(path)
        return file.with_name(file.name + ".mirror.duckdb")
    capabilities: frozenset[Capability] = getattr(storage, "capabilities", frozenset())
    if Capability.PERSISTENT not in capabilities:
        return None
    from .._paths import state_dir
    from .._urls import mask_url

    url = mask_url(getattr(engine, "url", None) or getattr(storage, "url", ""))
    digest = hashlib.sha256(url.encode()).hexdigest()[:24]
    return state_dir() / "mirrors" / f"{digest}.duckdb"


def mirror_for(storage: Any, path: str | os.PathLike[str] | None = None) -> Mirror | None:
    """The mirror of ``storage`` (at ``path``, else its default place), or None when
    the store cannot keep one (no ``events_version``, nowhere to put it)."""
    if not callable(getattr(storage, "events_version", None)):
        return None
    where = Path(path) if path is not None else mirror_location(storage)
    return None if where is None else Mirror(where)


def _columns_sql() -> str:
    return ", ".join(f'"{c.name}"' for c in base_columns("events"))


class Mirror:
    """One mirror file (see the module documentation)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.seal_path = self.path.with_name(self.path.name + ".seal")
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def __repr__(self) -> str:
        return f"Mirror({str(self.path)!r})"

    # -- locking and files ---------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self, wait: float = _BUSY_SECONDS) -> Iterator[None]:
        """Hold the mirror's lock (one refresh at a time); ``MirrorUnavailable`` when
        it cannot be had (an unwritable place, ``wait`` seconds passed)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise MirrorUnavailable(f"cannot write {self.path.parent}: {exc.strerror}") from None
        try:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise MirrorUnavailable("another netsky is refreshing it") from None
                    time.sleep(0.02)
            yield
        finally:
            os.close(fd)

    def _seal(self) -> dict[str, Any]:
        st = self.path.stat()
        return {"format": FORMAT, "size": st.st_size, "mtime_ns": st.st_mtime_ns}

    def _write_seal(self) -> None:
        replace_private_file(self.seal_path, orjson.dumps(self._seal()))

    def _sealed(self) -> str | None:
        """Why the file cannot be trusted (None: it matches its seal)."""
        if not self.path.exists():
            return "missing"
        wal = self.path.with_name(self.path.name + ".wal")
        if wal.exists():
            return "damaged: an unfinished write"
        try:
            seal = orjson.loads(self.seal_path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return "damaged: no seal"
        if seal != self._seal():
            return "damaged: changed since it was written"
        return None

    # -- reading ---------------------------------------------------------------------------

    def _read_state(self, connection: Any, catalog: str) -> dict[str, Any]:
        rows = connection.execute(f'SELECT name, value FROM "{catalog}".main.{_STATE}').fetchall()
        state = {str(k): orjson.loads(v) for k, v in rows}
        if state.get("format") != FORMAT:
            raise ValueError("an unknown mirror format")
        return state

    def state(self) -> dict[str, Any] | None:
        """The mirror's recorded state (None: missing or not to be trusted)."""
        import duckdb

        if self._sealed() is not None:
            return None
        try:
            with duckdb.connect(str(self.path), read_only=True) as con:
                return self._read_state(con, _current(con))
        except (duckdb.Error, ValueError, OSError):
            return None

    def status(self, storage: Any, *, enabled: bool = True) -> MirrorStatus:
        """How the mirror stands against ``storage`` now (nothing is written)."""
        exists = self.path.exists()
        size = self.path.stat().st_size if exists else None
        version = storage.events_version()
        common = {
            "path": str(self.path),
            "enabled": enabled,
            "exists": exists,
            "size_bytes": size,
            "store_rows": version.rows,
            "store_max_id": version.max_id,
        }
        why = self._sealed()
        state = None if why is not None else self.state()
        if state is None:
            kind = "missing" if not exists else "damaged"
            return MirrorStatus(state=kind, reason=why or "DuckDB cannot read it", **common)
        stale = _plan(state, storage.events_version(upto=state.get("max_id")))[0]
        return MirrorStatus(
            state="stale" if stale else "fresh",
            rows=state["rows"],
            max_id=state["max_id"],
            refreshed_at=state.get("refreshed_at"),
            reason=stale,
            **common,
        )

    # -- keeping it current ----------------------------------------------------------------

    def refresh(
        self,
        storage: Any,
        *,
        rebuild: bool = False,
        native: bool = True,
        progress: Progress | None = None,
    ) -> MirrorRefresh:
        """Bring the mirror up to ``storage``'s events (``rebuild``: from scratch)."""
        with self.locked():
            state = None if rebuild else self.state()
            return self._refresh(storage, state, rebuild, native, progress)

    def _refresh(
        self,
        storage: Any,
        state: dict[str, Any] | None,
        rebuild: bool,
        native: bool,
        progress: Progress | None,
        version: Any = None,
    ) -> MirrorRefresh:
        started = time.perf_counter()
        if rebuild:
            reason: str | None = "asked for"
        elif state is None:
            reason = self._sealed() or "DuckDB cannot read it"
        else:
            if version is None:
                version = storage.events_version(upto=state["max_id"])
            reason, low, dropped = _plan(state, version)
            if reason is None:
                return MirrorRefresh(
                    action="fresh", rows=state["rows"], added=0, seconds=_since(started)
                )
            if low is not None:
                try:
                    rows, added = self._resync(storage, state, low, dropped, native)
                except _Rebuild as why:
                    reason = f"{reason}; {why}"
                else:
                    return MirrorRefresh(
                        action="appended" if reason == NEW_EVENTS else "resynced",
                        rows=rows,
                        added=added,
                        seconds=_since(started),
                        reason=reason,
                    )
        rows = self._rebuild(storage, native, progress)
        return MirrorRefresh(
            action="rebuilt", rows=rows, added=rows, seconds=_since(started), reason=reason
        )

    def _rebuild(self, storage: Any, native: bool, progress: Progress | None) -> int:
        import duckdb

        from ._load import load_tables

        version = storage.events_version()  # before the rows: a later change shows
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        _unlink_db(tmp)
        if progress is not None:
            progress(f"building the analytics mirror of {version.rows:,} events")
        try:
            with _private(), duckdb.connect(":memory:", config=_CONFIG) as con:
                quoted = str(tmp).replace("'", "''")
                # small row groups: a group of payloads is held in memory until written
                con.execute("SET enable_progress_bar = false")
                con.execute(f"ATTACH '{quoted}' AS {_BUILD} (ROW_GROUP_SIZE {_ROW_GROUP})")
                con.execute(f"USE {_BUILD}")
                load_tables(storage, con, TableRequest({"events"}), native=native)
                con.execute(f"USE {_BUILD}")
                _materialize(con)
                rows = _write_state(con, _BUILD, version)
                con.execute("USE memory")
                con.execute(f"DETACH {_BUILD}")
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
            self._write_seal()
        finally:
            _unlink_db(tmp)
        if progress is not None:
            progress(f"analytics mirror built: {rows:,} events")
        return rows

    def _resync(
        self,
        storage: Any,
        state: dict[str, Any],
        low: int,
        dropped: int | None,
        native: bool,
    ) -> tuple[int, int]:
        """Load again the rows with ``id >= low`` (the others are unchanged), after
        dropping the rows from ``dropped`` on that the store no longer holds (gc); the
        rows the mirror then holds and how many were loaded. ``_Rebuild`` when that
        would not make it equal to the store, or would cost about as much as a rebuild."""
        import duckdb

        from ._load import load_tables

        for _ in range(3):  # the rows below ``low`` and the log, on one snapshot
            version = storage.events_version(upto=low - 1)
            _reason, again, also = _plan(state, version)
            if _reason is not None and again is None:
                raise _Rebuild(_reason)
            if also is not None and (dropped is None or also < dropped):
                dropped = also
            if again is None or again >= low:
                break
            low = again
        else:
            raise _Rebuild("the store keeps changing")
        reload = version.rows - (version.rows_upto or 0)
        if reload > max(_RESYNC_ROWS, int(state["rows"]) // 2):
            raise _Rebuild(f"{reload:,} rows to load again")
        staging = self.path.with_name(f".{self.path.name}.{os.getpid()}.staging")
        _unlink_db(staging)
        try:
            with _private(), duckdb.connect(str(staging), config=_CONFIG) as con:
                if dropped is not None and dropped < low:
                    _load_ids(storage, con, dropped, native)
                load_tables(storage, con, TableRequest({"events"}, after_id=low - 1), native=native)
                target = str(self.path).replace("'", "''")
                _retry_busy(lambda: con.execute(f"ATTACH '{target}' AS {MIRROR_CATALOG}"))
                mirrored = f"{MIRROR_CATALOG}.{_TABLE}"
                con.execute("BEGIN")
                if dropped is not None and dropped < low:  # rows gc deleted
                    con.execute(
                        f"DELETE FROM {mirrored} WHERE id >= {dropped} AND id < {low} "
                        f"AND id NOT IN (SELECT id FROM {_KEPT})"
                    )
                (below,) = con.execute(
                    f"SELECT count(*) FROM {mirrored} WHERE id < {low}"
                ).fetchall()[0]
                if below != version.rows_upto:  # a smaller id committed late
                    con.execute("ROLLBACK")
                    raise _Rebuild("events committed out of id order")
                con.execute(f"DELETE FROM {mirrored} WHERE id >= {low}")
                # a loader may load more than asked: the id bound again
                (added,) = con.execute(
                    f"INSERT INTO {mirrored} SELECT {_columns_sql()} "
                    f"FROM {_TABLE} WHERE id >= {low}"
                ).fetchall()[0]
                rows = _write_state(con, MIRROR_CATALOG, version)
                con.execute("COMMIT")
                con.execute(f"DETACH {MIRROR_CATALOG}")
            self._write_seal()
        finally:
            _unlink_db(staging)
        return rows, int(added)

    # -- using it --------------------------------------------------------------------------

    def attach(self, connection: Any) -> dict[str, Any]:
        """Attach the mirror read-only to ``connection`` and put ``netsky_raw.events``
        over it; its state."""
        target = str(self.path).replace("'", "''")
        _retry_busy(
            lambda: connection.execute(f"ATTACH '{target}' AS {MIRROR_CATALOG} (READ_ONLY)")
        )
        try:
            state = self._read_state(connection, MIRROR_CATALOG)
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
            connection.execute(
                f"CREATE VIEW {_TABLE} AS SELECT {_columns_sql()} FROM {MIRROR_CATALOG}.{_TABLE}"
            )
        except BaseException:
            self.detach(connection)
            raise
        return state

    def detach(self, connection: Any) -> None:
        """Undo :meth:`attach` (nothing happens when it is not attached)."""
        connection.execute(f"DROP VIEW IF EXISTS {_TABLE}")
        connection.execute(f"DETACH DATABASE IF EXISTS {MIRROR_CATALOG}")

    def attach_current(
        self,
        storage: Any,
        connection: Any,
        *,
        native: bool = True,
        progress: Progress | None = None,
    ) -> tuple[MirrorRefresh, int]:
        """Refresh the mirror as needed and attach it (see :meth:`attach`), with
        :meth:`locked` held by the caller; what the refresh did and the rows attached."""
        import duckdb

        started = time.perf_counter()
        state = None
        if self._sealed() is None:
            try:
                state = self.attach(connection)
            except (duckdb.Error, ValueError):
                self.detach(connection)  # damaged: rebuilt below
        if state is not None:
            version = storage.events_version(upto=state["max_id"])
            if _plan(state, version)[0] is None:
                done = MirrorRefresh(
                    action="fresh", rows=state["rows"], added=0, seconds=_since(started)
                )
                return done, int(state["rows"])
            self.detach(connection)
            done = self._refresh(storage, state, False, native, progress, version)
        else:
            done = self._refresh(storage, None, False, native, progress)
        return done, int(self.attach(connection)["rows"])


NEW_EVENTS = "new events"


class _Rebuild(Exception):
    """The mirror is to be built again (the message says why)."""


def _log(raw: str | None) -> list[list[Any]]:
    """The store's rewrite log: ``[sequence, token, smallest id]`` entries."""
    if not raw:
        return []
    try:
        log = orjson.loads(raw)
        return [[int(e[0]), str(e[1]), _id(e[2]), _id(e[3]) if len(e) > 3 else None] for e in log]
    except (orjson.JSONDecodeError, TypeError, ValueError, IndexError, KeyError):
        return [[-1, raw, 0, None]]  # not a log: a rebuild, once


def _load_ids(storage: Any, con: Any, low: int, native: bool) -> None:
    """The ids (only) of the store's events from ``low`` on, as table ``_KEPT``."""
    from ._load import load_tables

    request = TableRequest({"events"}, after_id=low - 1, event_columns=("id",))
    load_tables(storage, con, request, native=native)
    con.execute(f"CREATE TABLE {_KEPT} AS SELECT id FROM {_TABLE} WHERE id >= {low}")
    con.execute(f"DROP TABLE {_TABLE}")


def _id(value: Any) -> int | None:
    return None if value is None else int(value)


def _last(raw: str | None) -> list[Any] | None:
    log = _log(raw)
    return log[-1][:2] if log else None


def _plan(state: dict[str, Any], version: Any) -> tuple[str | None, int | None, int | None]:
    """Why a mirror in ``state`` does not equal the store at ``version`` (None: it
    does); the smallest id from which loading the rows again makes it equal (None: a
    rebuild); and the smallest id from which rows the store no longer holds are to be
    dropped (None: none were deleted)."""
    log = _log(version.rewritten)
    seen = state.get("rewritten")
    if (log[-1][:2] if log else None) != seen:
        if seen is None:
            newer = log if log and log[0][0] == 1 else None
        else:
            at = [i for i, e in enumerate(log) if e[:2] == seen]
            newer = log[at[0] + 1 :] if at else None
        if not newer:
            return "rewritten past what the store still logs", None, None
        rewrote = [e[2] for e in newer if e[2] is not None]
        removed = [e[3] for e in newer if e[3] is not None]
        top = state["max_id"]
        low = min(rewrote, default=(0 if top is None else int(top) + 1))
        dropped = max(0, min(removed)) if removed else None
        reason = "events rewritten" if rewrote else "events deleted"
        return reason, max(0, low), dropped
    if not state["rows"]:
        return (None, None, None) if not version.rows else (NEW_EVENTS, 0, None)
    if version.rows_upto != state["rows"]:
        return "events committed out of id order", None, None
    if _jsonable(version.first) != state.get("first"):
        return "a different store", None, None
    if version.max_id == state["max_id"]:
        if _jsonable(version.last) != state.get("last"):
            return "a different store", None, None
        return None, None, None
    if version.max_id is None or version.max_id < state["max_id"]:
        return "a different store", None, None
    return NEW_EVENTS, int(state["max_id"]) + 1, None


def _jsonable(value: Any) -> Any:
    return None if value is None else list(value)


def _edge_sql(catalog: str, direction: str) -> str:
    return (
        "SELECT machine_id, session_id, coalesce(uuid, ''), "
        "strftime(timezone('UTC', timestamp), '%Y-%m-%dT%H:%M:%S.%f') "
        f'FROM "{catalog}".{_TABLE} ORDER BY id {direction} LIMIT 1'
    )


def _write_state(con: Any, catalog: str, version: Any) -> int:
    """Record what the mirror now holds (its rows, largest id, first and last rows)
    and the store's ``rewritten`` token it was read after; the rows it holds."""
    rows, max_id = con.execute(f'SELECT count(*), max(id) FROM "{catalog}".{_TABLE}').fetchall()[0]
    edges = {}
    for name, direction in (("first", "ASC"), ("last", "DESC")):
        found = con.execute(_edge_sql(catalog, direction)).fetchall()
        edges[name] = [*found[0][:3], _iso(found[0][3])] if found else None
    values = {
        "format": FORMAT,
        "rewritten": _last(version.rewritten),
        "rows": int(rows),
        "max_id": None if max_id is None else int(max_id),
        **edges,
        "refreshed_at": time.time(),
    }
    table = f'"{catalog}".main.{_STATE}'
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} (name VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute(f"DELETE FROM {table}")
    con.executemany(
        f"INSERT INTO {table} VALUES (?, ?)",
        [[k, orjson.dumps(v).decode()] for k, v in values.items()],
    )
    return int(rows)


def _iso(text: str) -> str:
    """DuckDB's UTC text as ``datetime.isoformat()`` writes an aware UTC value."""
    from datetime import UTC, datetime

    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC).isoformat()


def _current(con: Any) -> str:
    return str(con.execute("SELECT current_database()").fetchall()[0][0])


def _since(started: float) -> float:
    return time.perf_counter() - started


@contextlib.contextmanager
def _private() -> Iterator[None]:
    """Files (the database, its WAL) created meanwhile are the owner's only."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def _retry_busy(attach: Callable[[], Any]) -> None:
    """Run ``attach``, waiting while another process reads the file (DuckDB's lock)."""
    import duckdb

    deadline = time.monotonic() + _ATTACH_WAIT
    while True:
        try:
            attach()
            return
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise  # not the lock: a damaged file
            if time.monotonic() > deadline:
                raise MirrorUnavailable("it is in use by another query") from None
            time.sleep(0.05)


def _materialize(con: Any) -> None:
    kind = con.execute(
        "SELECT table_type FROM information_schema.tables "
        "WHERE table_schema = ? AND table_name = 'events'",
        [RAW_SCHEMA],
    ).fetchall()[0][0]
    columns = _columns_sql()
    if "VIEW" in str(kind).upper():
        con.execute(f"CREATE TABLE {RAW_SCHEMA}.events_copy AS SELECT {columns} FROM {_TABLE}")
        con.execute(f"DROP VIEW {_TABLE}")
        con.execute(f"ALTER TABLE {RAW_SCHEMA}.events_copy RENAME TO events")


def _unlink_db(path: Path) -> None:
    for file in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            file.unlink()


def mirror_status(
    storage: Any, *, config: Any = None, path: str | os.PathLike[str] | None = None
) -> MirrorStatus:
    """How ``storage``'s mirror stands (``state`` ``unsupported`` when it has none)."""
    enabled = mirror_enabled(config)
    mirror = mirror_for(storage, path)
    if mirror is None:
        return MirrorStatus(
            path=None,
            enabled=enabled,
            exists=False,
            state="unsupported",
            reason="this store keeps no mirror (it does not persist, or cannot tell "
            "its events' version)",
        )
    return mirror.status(storage, enabled=enabled)


def rebuild_mirror(
    storage: Any,
    *,
    path: str | os.PathLike[str] | None = None,
    native: bool = True,
    progress: Progress | None = None,
) -> tuple[Mirror, MirrorRefresh]:
    """Build ``storage``'s mirror again from the store."""
    mirror = mirror_for(storage, path)
    if mirror is None:
        raise MirrorUnavailable("this store keeps no mirror")
    return mirror, mirror.refresh(storage, rebuild=True, native=native, progress=progress)
