"""One cattrs converter (orjson) for every record, used by export, import and ``--json``.

Datetimes become ISO-8601 strings with an explicit ``+00:00`` offset and microseconds
when present; enums become their values; ``None`` stays ``null``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import orjson
from cattrs.preconf.orjson import make_converter

from ._errors import RecordError

__all__ = ["converter", "dumps", "loads", "structure", "unstructure"]

T = TypeVar("T")

converter = make_converter()
converter.register_unstructure_hook(datetime, lambda d: d.isoformat())
converter.register_structure_hook(datetime, lambda v, _: _parse_datetime(v))


def _parse_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise RecordError(f"expected an ISO-8601 timestamp, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(f"invalid timestamp {value!r}") from None
    if parsed.tzinfo is None:
        raise RecordError(f"timestamp {value!r} has no timezone")
    return parsed


def unstructure(record: Any) -> Any:
    """A record as plain JSON-ready Python values."""
    return converter.unstructure(record)


def structure(data: Any, cls: type[T]) -> T:
    """A record of type ``cls`` from plain values; invalid data raises ``RecordError``."""
    try:
        return converter.structure(data, cls)
    except RecordError:
        raise
    except Exception as exc:
        raise RecordError(f"invalid {cls.__name__}: {_describe(exc)}") from None


def dumps(record: Any) -> bytes:
    return orjson.dumps(unstructure(record))


def loads(data: bytes | str, cls: type[T]) -> T:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise RecordError(f"invalid JSON: {exc}") from None
    return structure(value, cls)


def _describe(exc: BaseException) -> str:
    subs = getattr(exc, "exceptions", None)
    if subs:
        return "; ".join(_describe(e) for e in subs[:3])
    notes = getattr(exc, "__notes__", None)
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return f"{text} ({'; '.join(notes)})" if notes else text
