"""Streaming a query's result in Arrow record batches, interruptible by Ctrl-C.

DuckDB runs the statement on a worker thread and hands over one batch at a time
through a queue of two, so memory stays bounded by a few batches whatever the result
size. The calling thread waits on the queue, where a SIGINT arrives as
``KeyboardInterrupt`` (DuckDB's own call would block it until the query ends); closing
the iterator early (a reader that went away, an interrupt) interrupts the query.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator
from typing import Any

import attrs

from ._errors import QueryError, one_line

__all__ = ["BATCH_ROWS", "QueryStream", "stream_relation"]

BATCH_ROWS = 2048
"""Rows per record batch (DuckDB's vector size)."""

_END = object()


@attrs.define
class QueryStream:
    """A query's columns, DuckDB type names and an iterator of its record batches
    (``schema``, the Arrow schema, is set once the first batch is asked for)."""

    columns: tuple[str, ...]
    types: tuple[str, ...]
    batches: Generator[Any, None, None] = attrs.field(init=False)
    schema: Any = None


def stream_relation(connection: Any, relation: Any, batch_rows: int = BATCH_ROWS) -> QueryStream:
    """The result of ``relation`` (from ``connection.sql``) as a :class:`QueryStream`."""
    stream = QueryStream(
        columns=tuple(relation.columns), types=tuple(str(t) for t in relation.types)
    )
    stream.batches = _batches(stream, connection, relation, batch_rows)
    return stream


def _batches(
    stream: QueryStream, connection: Any, relation: Any, batch_rows: int
) -> Generator[Any, None, None]:
    handoff: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            reader = relation.to_arrow_reader(batch_rows)
            if not put(reader.schema):
                return
            for batch in reader:
                if not put(batch):
                    return
        except BaseException as exc:  # handed to the caller, raised there
            put(exc)
            return
        put(_END)

    worker = threading.Thread(target=work, name="netsky-query", daemon=True)
    worker.start()
    done = False
    try:
        while True:
            item = handoff.get()
            if stream.schema is None and not isinstance(item, BaseException) and item is not _END:
                stream.schema = item
                continue
            if item is _END:
                done = True
                return
            if isinstance(item, BaseException):
                done = True
                raise _translated(item) from None
            yield item
    finally:
        stop.set()
        if not done:
            connection.interrupt()
        worker.join()


def _translated(exc: BaseException) -> BaseException:
    import duckdb

    if isinstance(exc, duckdb.InterruptException):
        return KeyboardInterrupt()
    if isinstance(exc, (duckdb.Error, OSError)):
        return QueryError(one_line(exc))
    return exc
