"""The pieces of an OTLP request the decoder reads: content types, request
parsing, attribute values, and one log record's name, time, session and identity
(see :mod:`netsky_core.otel.decode` for the mapping and its sources)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import attrs
import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message

from .._errors import NetskyError
from .._records import Event
from . import _catalog as cat

_M = TypeVar("_M", bound=Message)


PROTOBUF = "application/x-protobuf"
JSON = "application/json"
INT64_MAX = (1 << 63) - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_COUNT_TEXT = re.compile(r"[0-9]{1,19}\Z")
_NUMBER_TEXT = re.compile(r"[0-9]{1,30}(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,3})?\Z")
_HEX = re.compile(r"[0-9a-fA-F]*\Z")
_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})
_MESSAGE_ID = re.compile(rb'\s*\{\s*"id"\s*:\s*"([A-Za-z0-9_\-]{1,200})"')
_MAX_DEPTH = 64


class OtlpDecodeError(NetskyError, ValueError):
    """The body is not an OTLP export request (the server answers 400)."""


class UnsupportedContentType(OtlpDecodeError):
    """The content type is neither ``application/x-protobuf`` nor ``application/json``."""


@attrs.frozen(kw_only=True)
class DecodeResult:
    """What one export request held.

    ``accepted`` records became ``events``; ``skipped`` ones are not agent events
    netsky stores (no event name, another service, a Codex stream chunk);
    ``malformed`` ones broke a rule (``problems`` counts them by reason, without
    values). ``unknown_event_types`` names agent events outside the documented
    catalog (they are stored under their own name all the same).
    """

    events: tuple[Event, ...] = ()
    accepted: int = 0
    skipped: int = 0
    malformed: int = 0
    unknown_event_types: frozenset[str] = frozenset()
    problems: dict[str, int] = attrs.field(factory=dict)

    @property
    def rejected(self) -> int:
        """Records not stored: the ``rejected_*`` count of an OTLP partial success."""
        return self.skipped + self.malformed


class _Malformed(Exception):
    """A record breaks a rule; the message is a reason without values."""


class _Skip(Exception):
    """A record that is fine but not stored."""


# -- request parsing ----------------------------------------------------------------------


def media_type(content_type: str | None) -> str:
    """:data:`PROTOBUF` or :data:`JSON` for a ``Content-Type`` header value."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind not in (PROTOBUF, JSON):
        raise UnsupportedContentType(
            "Content-Type must be application/x-protobuf or application/json"
        )
    return kind


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200]


def _ids_to_base64(data: Any) -> None:
    """OTLP/JSON writes trace and span ids in hex; protobuf's JSON form wants base64."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _ID_KEYS and isinstance(value, str):
                    if len(value) % 2 or not _HEX.match(value):
                        raise OtlpDecodeError(f"{key} is not a hex string")
                    node[key] = base64.b64encode(binascii.unhexlify(value)).decode()
                elif isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))


def _parse(body: bytes, content_type: str, message: _M, what: str) -> _M:
    kind = media_type(content_type)
    if kind == PROTOBUF:
        try:
            message.ParseFromString(body)
        except (DecodeError, RecursionError, ValueError) as exc:
            raise OtlpDecodeError(f"body is not a protobuf {what}: {_one_line(exc)}") from None
        return message
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise OtlpDecodeError(f"body is not JSON: {_one_line(exc)}") from None
    if not isinstance(data, dict):
        raise OtlpDecodeError(f"body is not a JSON {what} object")
    _ids_to_base64(data)
    try:
        json_format.ParseDict(data, message, ignore_unknown_fields=True)
    except (json_format.ParseError, RecursionError, ValueError, TypeError) as exc:
        raise OtlpDecodeError(f"body is not a JSON {what}: {_one_line(exc)}") from None
    return message


# -- attribute values ---------------------------------------------------------------------


def _value(v: Any, depth: int = 0) -> Any:
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "string_value":
        return v.string_value
    if kind == "bool_value":
        return v.bool_value
    if kind == "int_value":
        return v.int_value
    if kind == "double_value":
        return v.double_value
    if kind == "bytes_value":
        return v.bytes_value.hex()
    if depth >= _MAX_DEPTH:
        raise _Malformed("attribute nested too deeply")
    if kind == "array_value":
        return [_value(x, depth + 1) for x in v.array_value.values]
    return {kv.key: _value(kv.value, depth + 1) for kv in v.kvlist_value.values}


def _attributes(pairs: Iterable[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in pairs:
        value = _value(kv.value)
        if value is not None:
            out[kv.key] = value
    return out


def _text(attrs_: dict[str, Any], key: str) -> str | None:
    value = attrs_.get(key)
    if value is None or value == "":
        return None
    if type(value) is not str:
        raise _Malformed(f"{key} is not text")
    return value


def _count(attrs_: dict[str, Any], key: str) -> int | None:
    if key not in attrs_:
        return None
    value = attrs_[key]
    kind = type(value)
    whole = kind is float and math.isfinite(value) and value.is_integer()
    if kind is int or whole or (kind is str and _COUNT_TEXT.match(value)):
        n = int(value)
    else:
        raise _Malformed(f"{key} is not a whole number")
    if n < 0 or n > INT64_MAX:
        raise _Malformed(f"{key} is negative or too large")
    return n


def _number(attrs_: dict[str, Any], key: str) -> float | None:
    if key not in attrs_:
        return None
    value = attrs_[key]
    kind = type(value)
    if kind is int or kind is float or (kind is str and _NUMBER_TEXT.match(value)):
        n = float(value)
    else:
        raise _Malformed(f"{key} is not a number")
    if not math.isfinite(n) or n < 0:
        raise _Malformed(f"{key} is negative or not finite")
    return n


def _duration(attrs_: dict[str, Any]) -> int | None:
    value = _number(attrs_, "duration_ms")
    if value is None:
        return None
    if value > INT64_MAX:
        raise _Malformed("duration_ms is too large")
    return int(value)


def _failed(attrs_: dict[str, Any]) -> bool:
    value = attrs_.get("success")
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


# -- one record -----------------------------------------------------------------------------


@attrs.define
class _Record:
    name: str
    framework: str
    session_id: str
    timestamp: datetime
    attributes: dict[str, Any]
    digest: str
    payload: str


def _event_name(record: Any, attributes: dict[str, Any], service: Any) -> tuple[str, str]:
    body = _value(record.body) if record.HasField("body") else None
    candidates = [
        c
        for c in (getattr(record, "event_name", ""), attributes.get("event.name"), body)
        if isinstance(c, str) and c
    ]
    for name in candidates:
        framework = cat.framework_of_name(name)
        if framework is not None:
            return name, framework
    framework = cat.framework_of_service(service)
    if framework is None:
        raise _Skip("not from Claude Code or Codex")
    if not candidates:
        raise _Skip("no event name")
    return cat.PREFIX[framework] + candidates[0], framework


def _timestamp(attributes: dict[str, Any], record: Any) -> datetime:
    raw = attributes.get("event.timestamp")
    if raw is not None:
        if type(raw) is not str:
            raise _Malformed("event.timestamp is not text")
        try:
            ts = datetime.fromisoformat(raw.strip())
        except ValueError:
            raise _Malformed("event.timestamp is not ISO 8601") from None
        if ts.tzinfo is None or ts.utcoffset() is None:
            raise _Malformed("event.timestamp has no UTC offset")
        try:
            return ts.astimezone(UTC)
        except OverflowError:
            raise _Malformed("event.timestamp is out of range") from None
    ns = record.time_unix_nano or record.observed_time_unix_nano
    if not ns:
        raise _Malformed("record has no timestamp")
    try:
        return _EPOCH + timedelta(microseconds=ns // 1000)
    except OverflowError:
        raise _Malformed("record time is out of range") from None


def _session(framework: str, attributes: dict[str, Any], resource: dict[str, Any]) -> str:
    keys = ("conversation.id", "session.id") if framework == cat.CODEX else ("session.id",)
    for source in (attributes, resource):
        for key in keys:
            value = source.get(key)
            if value is None or value == "":
                continue
            if type(value) is not str:
                raise _Malformed(f"{key} is not text")
            return value
    raise _Malformed("session id missing")


def _read_record(record: Any, resource: dict[str, Any]) -> _Record:
    attributes = _attributes(record.attributes)
    name, framework = _event_name(record, attributes, resource.get("service.name"))
    session_id = _session(framework, attributes, resource)
    timestamp = _timestamp(attributes, record)
    payload_attrs = attributes
    prompt = attributes.get("prompt")
    if isinstance(prompt, str) and prompt.strip() in cat.REDACTED:
        payload_attrs = {k: v for k, v in attributes.items() if k != "prompt"}
    try:
        payload = orjson.dumps(payload_attrs, option=orjson.OPT_SORT_KEYS)
        key = orjson.dumps(
            [name, session_id, record.time_unix_nano, attributes], option=orjson.OPT_SORT_KEYS
        )
    except (TypeError, orjson.JSONEncodeError):
        raise _Malformed("attributes are not JSON") from None
    digest = hashlib.blake2b(key, digest_size=12).hexdigest()
    return _Record(name, framework, session_id, timestamp, attributes, digest, payload.decode())


def _meta(r: _Record, **extra: Any) -> str:
    a = r.attributes
    meta: dict[str, Any] = {
        "request_id": _text(a, "request_id"),
        "message_id": extra.pop("message_id", None),
        "prompt_id": _text(a, "prompt.id"),
    }
    for key in ("client_request_id", "query_source", "speed", "effort", "event.sequence"):
        value = a.get(key)
        if value is not None:
            meta[key.replace(".", "_")] = value
    meta.update({k: v for k, v in extra.items() if v is not None})
    return orjson.dumps(meta, option=orjson.OPT_SORT_KEYS).decode()
