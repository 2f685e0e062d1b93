"""Translation of psycopg / pool errors into the netsky error tree.

Messages are one line, name the masked URL where it helps, and never carry the
password (the driver text is scrubbed; callers raise the result outside the
``except`` block so no driver exception rides along in the chain).
"""

from __future__ import annotations

import psycopg
from psycopg import errors as pg
from psycopg_pool import PoolTimeout

from netsky_core import (
    InvalidURLError,
    NetskyError,
    ReadOnlyStorageError,
    RecordError,
    SchemaVersionError,
    StorageConnectionError,
    StorageError,
    StorageIntegrityError,
    StorageQueryError,
)
from netsky_core._urls import scrub_secrets

from ._target import Target

__all__ = ["connection_lost", "driver_detail", "is_connection_error", "translate"]

_CONNECTION_STATES = ("08", "57P01", "57P02", "57P03")
_HINT_CONNECT = (
    "check that the server is running and that the URL's host, port, database, user "
    "and password are right"
)


def driver_detail(exc: BaseException, target: Target) -> str:
    """The first line of a driver error, without secrets."""
    diag = getattr(exc, "diag", None)
    text = getattr(diag, "message_primary", None) if diag is not None else None
    if not text:
        text = str(exc)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[0] if lines else type(exc).__name__
    for prefix in ("connection failed: ", "connection is bad: "):
        if line.startswith(prefix):
            line = line[len(prefix) :]
    line = line.replace("FATAL:  ", "")
    return scrub_secrets(line, target.password, target.conninfo)


def is_connection_error(exc: BaseException, conn: psycopg.Connection | None = None) -> bool:
    """Whether ``exc`` means the connection (not the statement) failed."""
    if conn is not None and (conn.broken or conn.closed):
        return True
    if isinstance(exc, PoolTimeout):
        return True
    state = getattr(exc, "sqlstate", None)
    if state and state.startswith(_CONNECTION_STATES):
        return True
    return isinstance(exc, psycopg.OperationalError) and state is None


def connection_lost(
    target: Target, detail: str, *, committing: bool = False
) -> StorageConnectionError:
    if committing:
        outcome = "the connection dropped while committing, so the call may have taken effect"
    else:
        outcome = "nothing of this call was committed"
    return StorageConnectionError(
        f"lost the connection to PostgreSQL at {target.masked}: {detail}; {outcome}",
        hint="the next call reconnects once the server is reachable again",
    )


def translate(
    exc: BaseException,
    target: Target,
    *,
    conn: psycopg.Connection | None = None,
    connecting: bool = False,
    committing: bool = False,
) -> NetskyError:
    """The netsky error for a driver exception."""
    if isinstance(exc, NetskyError):
        return exc
    detail = driver_detail(exc, target)
    if isinstance(exc, PoolTimeout):
        return StorageConnectionError(
            f"no connection to PostgreSQL at {target.masked} became available: {detail}",
            hint=_HINT_CONNECT,
        )
    if connecting:
        if detail.startswith(("invalid ", "missing ")) or isinstance(exc, psycopg.ProgrammingError):
            return InvalidURLError(
                f"invalid PostgreSQL URL {target.masked}: {detail}",
                hint="see libpq's connection URIs: postgresql://user:pass@host:5432/db?param=value",
            )
        return StorageConnectionError(
            f"cannot connect to PostgreSQL at {target.masked}: {detail}", hint=_HINT_CONNECT
        )
    if is_connection_error(exc, conn):
        return connection_lost(target, detail, committing=committing)
    if isinstance(exc, pg.DiskFull):
        return StorageConnectionError(
            f"the PostgreSQL server of {target.masked} has no room left: {detail}",
            hint="make room on the server and run again: what was stored is kept whole",
        )
    if isinstance(exc, pg.LockNotAvailable):
        return StorageConnectionError(
            f"the store at {target.masked} stayed locked by another writer: {detail}",
            hint="another netsky process holds a long write; retry later",
        )
    if isinstance(exc, pg.ReadOnlySqlTransaction):
        return ReadOnlyStorageError(
            f"the store at {target.masked} is read-only: {detail}",
        )
    if isinstance(exc, pg.UndefinedTable | pg.InvalidSchemaName):
        return SchemaVersionError(
            f"the store at {target.masked} (schema {target.schema!r}) is not initialized: {detail}",
            hint="open it once without migrate=False, or run `netsky db migrate`",
        )
    if isinstance(exc, pg.InsufficientPrivilege):
        return StorageError(
            f"PostgreSQL refused access at {target.masked}: {detail}",
            hint="grant the role the needed privileges, or use a schema it owns (?schema=)",
        )
    if isinstance(
        exc,
        pg.NumericValueOutOfRange | pg.CharacterNotInRepertoire | pg.UntranslatableCharacter,
    ) or (isinstance(exc, psycopg.DataError) and getattr(exc, "sqlstate", None) is None):
        return RecordError(f"a value cannot be stored in PostgreSQL: {detail}")
    if isinstance(exc, psycopg.IntegrityError):
        return StorageIntegrityError(f"PostgreSQL integrity error at {target.masked}: {detail}")
    if isinstance(exc, OverflowError):
        return RecordError(f"a value cannot be stored in PostgreSQL: {detail}")
    if isinstance(exc, UnicodeEncodeError):
        return RecordError(f"a text value is not valid Unicode (lone surrogate?): {detail}")
    return StorageQueryError(f"PostgreSQL error at {target.masked}: {detail}")
