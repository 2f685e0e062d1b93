"""Building OTLP requests the way the agents send them, and posting them over HTTP."""

from __future__ import annotations

import base64
import gzip
import http.client
import itertools
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import attrs
import orjson
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.logs.v1 import logs_pb2

from netsky_core import Event, EventQuery

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
CLAUDE_SERVICE = "claude-code"
CODEX_SERVICE = "codex_cli_rs"
_sequence = itertools.count(1)


def set_value(target: Any, value: Any) -> None:
    """Fill an ``AnyValue`` from a Python value."""
    if isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int):
        target.int_value = value
    elif isinstance(value, float):
        target.double_value = value
    elif isinstance(value, str):
        target.string_value = value
    elif isinstance(value, bytes):
        target.bytes_value = value
    elif isinstance(value, list):
        target.array_value.SetInParent()
        for item in value:
            set_value(target.array_value.values.add(), item)
    elif isinstance(value, dict):
        target.kvlist_value.SetInParent()
        for key, item in value.items():
            kv = target.kvlist_value.values.add()
            kv.key = key
            set_value(kv.value, item)
    else:
        raise TypeError(type(value).__name__)


def log_record(
    body: str | None,
    attributes: Mapping[str, Any],
    *,
    time_ns: int = 0,
    trace_id: bytes = b"",
    span_id: bytes = b"",
) -> logs_pb2.LogRecord:
    record = logs_pb2.LogRecord(time_unix_nano=time_ns, trace_id=trace_id, span_id=span_id)
    if body is not None:
        record.body.string_value = body
    for key, value in attributes.items():
        kv = record.attributes.add()
        kv.key = key
        set_value(kv.value, value)
    return record


def logs_request(
    records: Iterable[logs_pb2.LogRecord], *, service: str = CLAUDE_SERVICE
) -> logs_service_pb2.ExportLogsServiceRequest:
    request = logs_service_pb2.ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    kv = resource_logs.resource.attributes.add()
    kv.key = "service.name"
    kv.value.string_value = service
    scope = resource_logs.scope_logs.add()
    scope.scope.name = "com.anthropic.claude_code.events"
    scope.log_records.extend(records)
    return request


def _ids_to_hex(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: base64.b64decode(v).hex()
            if k in ("traceId", "spanId") and isinstance(v, str)
            else _ids_to_hex(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_ids_to_hex(v) for v in node]
    return node


def otlp_json(message: Any) -> bytes:
    """The OTLP/JSON form: lowerCamelCase, int64 as strings, hex trace and span ids."""
    return orjson.dumps(_ids_to_hex(json_format.MessageToDict(message)))


def claude_attrs(name: str, session: str, when: datetime, **attributes: Any) -> dict[str, Any]:
    """Claude Code's attributes: standard ones first, numbers as decimal strings."""
    out: dict[str, Any] = {
        "user.id": "0f" * 32,
        "session.id": session,
        "organization.id": "3c5ad0b4-0000-4000-8000-000000000000",
        "terminal.type": "tmux",
        "event.name": name,
        "event.timestamp": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "event.sequence": next(_sequence),
    }
    out.update(
        {
            k.replace("__", "."): (str(v) if isinstance(v, int | float) else v)
            for k, v in attributes.items()
            if v is not None
        }
    )
    return out


def claude_api_request(event: Event, *, cost: bool = True) -> logs_pb2.LogRecord:
    """The ``claude_code.api_request`` Claude Code sends for a transcript's response."""
    meta = orjson.loads(event.metadata or "{}")
    attributes = claude_attrs(
        "api_request",
        event.session_id,
        event.timestamp,
        model=event.model,
        input_tokens=event.tokens_input,
        output_tokens=event.tokens_output,
        cache_read_tokens=event.tokens_cache_read,
        cache_creation_tokens=event.tokens_cache_write,
        cost_usd=repr(event.cost_usd) if cost and event.cost_usd is not None else None,
        duration_ms=1500,
        request_id=meta.get("request_id"),
        speed="normal",
        query_source="repl_main_thread",
    )
    return log_record("claude_code.api_request", attributes, time_ns=_ns(event.timestamp))


def codex_response(event: Event) -> logs_pb2.LogRecord:
    """The ``codex.sse_event`` (``response.completed``) Codex sends for a usage step."""
    attributes = {
        "event.name": "codex.sse_event",
        "event.kind": "response.completed",
        "event.timestamp": event.timestamp.isoformat().replace("+00:00", "Z"),
        "conversation.id": event.session_id,
        "app.version": "0.89.0",
        "terminal.type": "xterm",
        "model": event.model,
        "slug": event.model,
        "duration_ms": 900,
        "input_token_count": (event.tokens_input or 0) + (event.tokens_cache_read or 0),
        "cached_token_count": event.tokens_cache_read or 0,
        "output_token_count": event.tokens_output or 0,
        "reasoning_token_count": 0,
        "tool_token_count": 0,
    }
    return log_record(None, attributes, time_ns=_ns(event.timestamp))


def _ns(ts: datetime) -> int:
    return int(ts.timestamp()) * 1_000_000_000 + ts.microsecond * 1000


def metrics_request(names: Iterable[str]) -> metrics_service_pb2.ExportMetricsServiceRequest:
    request = metrics_service_pb2.ExportMetricsServiceRequest()
    scope = request.resource_metrics.add().scope_metrics.add()
    for name in names:
        metric = scope.metrics.add()
        metric.name = name
        metric.sum.aggregation_temporality = 1  # delta
        point = metric.sum.data_points.add()
        point.as_double = 0.25
        point.time_unix_nano = 1_767_225_600_000_000_000
    return request


@attrs.frozen
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def post(
    url: str,
    body: bytes,
    content_type: str | None = PROTOBUF,
    *,
    token: str | None = None,
    headers: Mapping[str, str] | None = None,
    gzipped: bool = False,
    timeout: float = 10,
) -> Reply:
    send = dict(headers or {})
    if content_type is not None:
        send["Content-Type"] = content_type
    if token is not None:
        send["Authorization"] = f"Bearer {token}"
    if gzipped:
        body = gzip.compress(body)
        send["Content-Encoding"] = "gzip"
    request = urllib.request.Request(url, data=body, headers=send, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return Reply(exc.code, dict(exc.headers), exc.read())


def raw_request(url: str, method: str, headers: Mapping[str, str], body: bytes = b"") -> Reply:
    """A request with headers that ``urllib`` would not send (a lying Content-Length)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        conn.putrequest(method, parts.path, skip_accept_encoding=True)
        for key, value in headers.items():
            conn.putheader(key, value)
        conn.endheaders()
        if body:
            conn.send(body)
        response = conn.getresponse()
        return Reply(response.status, dict(response.headers), response.read())
    finally:
        conn.close()


def stored(store: Any) -> list[Event]:
    """Every stored event without its row id, in a canonical order."""
    events = [attrs.evolve(e, id=None) for e in store.query(EventQuery().with_limit(1_000_000))]
    return sorted(events, key=lambda e: (e.machine_id, e.session_id, e.uuid or "", repr(e)))


TOTALS = (
    "api_request_count",
    "usage_event_count",
    "tokens_input",
    "tokens_output",
    "tokens_cache_read",
    "tokens_cache_write",
    "cost_picousd",
)


def totals(session: Any) -> dict[str, Any]:
    return {name: getattr(session, name) for name in TOTALS}
