"""The outer part of the whole-file readers: a module gives the body that reads its
format, these make the module's ``read_document`` / ``read_database`` of it (the event
factory, the result, the JSON or the read-only database, what cannot be read counted)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, Protocol

from ..ingest.pricing import PriceTable
from ._common import DocumentResult, EventFactory, Redact, SourceSpec, SourceUnavailable
from ._sqlite import open_database
from ._values import decode_json

__all__ = ["database_reader", "document_reader", "json_object", "object_reader"]


class DocumentRead(Protocol):
    """A module's ``read_document``: the events of one whole file's bytes."""

    def __call__(
        self,
        data: bytes,
        *,
        path: str,
        machine_id: str,
        prices: PriceTable,
        store_payloads: bool = True,
        redact: Redact = None,
    ) -> DocumentResult: ...


class DatabaseRead(Protocol):
    """A module's ``read_database``: the events of one database (read-only, never
    locking)."""

    def __call__(
        self,
        path: str,
        *,
        machine_id: str,
        prices: PriceTable,
        store_payloads: bool = True,
        redact: Redact = None,
    ) -> DocumentResult: ...


def _read(
    spec: SourceSpec,
    body: Callable[[EventFactory, DocumentResult], None],
    path: str,
    options: dict[str, Any],
) -> DocumentResult:
    result = DocumentResult()
    f = EventFactory(framework=spec.name, path=path, **options)
    body(f, result)
    result.unknown_models |= f.unknown_models
    return result


def document_reader(
    spec: SourceSpec, body: Callable[[EventFactory, DocumentResult, bytes], None], doc: str
) -> DocumentRead:
    """``read_document`` of ``spec``: ``body`` adds the events of the file's bytes to the
    result (``EventFactory.path`` is the file's path)."""

    def read_document(data: bytes, *, path: str, **options: Any) -> DocumentResult:
        return _read(spec, lambda f, result: body(f, result, data), path, options)

    read_document.__doc__ = doc
    return read_document


def json_object(data: bytes, result: DocumentResult) -> dict[str, Any] | None:
    """The JSON object of ``data``; None (counted as malformed) for anything else."""
    try:
        value = decode_json(data)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        result.malformed += 1
        return None
    return value


def object_reader(
    spec: SourceSpec,
    body: Callable[[EventFactory, DocumentResult, dict[str, Any], bytes], None],
    doc: str,
) -> DocumentRead:
    """``document_reader`` of a file holding one JSON object, given to ``body`` with the
    bytes; a file that is not one is malformed."""

    def read(f: EventFactory, result: DocumentResult, data: bytes) -> None:
        value = json_object(data, result)
        if value is not None:
            body(f, result, value, data)

    return document_reader(spec, read, doc)


# SQLite's primary result codes of a read that may work later: BUSY, LOCKED, NOMEM,
# INTERRUPT, IOERR, FULL, CANTOPEN, PROTOCOL
_PASSING = frozenset({5, 6, 7, 9, 10, 13, 14, 15})


def database_reader(
    spec: SourceSpec,
    body: Callable[[sqlite3.Connection, EventFactory, DocumentResult], None],
    doc: str,
) -> DatabaseRead:
    """``read_database`` of ``spec``: ``body`` reads the tables over a connection from
    ``open_database``; a file that is no database (empty, corrupt) or of a schema the
    body cannot read is malformed. One that cannot be read for a passing reason (busy,
    locked, an I/O error, no room for the private copy) raises ``SourceUnavailable``:
    the file is not marked read, so the next ingest reads it."""

    def read_database(path: str, **options: Any) -> DocumentResult:
        def read(f: EventFactory, result: DocumentResult) -> None:
            try:
                with open_database(path) as conn:
                    body(conn, f, result)
            except (OSError, sqlite3.Error) as exc:
                code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
                if isinstance(exc, OSError) or code in _PASSING:
                    raise SourceUnavailable(
                        f"cannot be read now, read again next ingest: {exc}"
                    ) from exc
                result.malformed += 1  # not a database, corrupt, or another schema

        return _read(spec, read, path, options)

    read_database.__doc__ = doc
    return read_database
