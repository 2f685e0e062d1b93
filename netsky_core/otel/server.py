"""An OTLP/HTTP receiver on the standard library that stores agents' events.

``POST /v1/logs`` decodes the request (:func:`~netsky_core.otel.decode.decode_logs`)
and hands the events to ``sink`` (a store's ``insert_many``); ``POST /v1/metrics``
and ``POST /v1/traces`` are read, checked and counted, and store nothing (see
:mod:`netsky_core.otel.decode` for why), answered 200 with a partial success that
says so for traces.

Answers, in the order the checks run:

=====  ===========================================================================
404    another path
405    a method other than POST
401    a token is configured and ``Authorization: Bearer <token>`` is missing or
       wrong (compared in constant time)
415    a ``Content-Type`` other than ``application/x-protobuf`` /
       ``application/json``, or a ``Content-Encoding`` other than gzip / identity
411    neither ``Content-Length`` nor chunked transfer encoding
413    a declared ``Content-Length`` above the limit (refused before reading), a
       chunked body growing past it, or a gzip body inflating past it (read in
       bounded steps: no zip bombs)
400    a body that is not an OTLP request (one-line reason), a broken gzip stream or
       chunked encoding
503    the sink raised (store down): OTLP exporters retry on 503, so nothing is lost;
       ``Retry-After`` is sent
200    an ``Export*ServiceResponse`` in the request's encoding, with
       ``partialSuccess`` counting the records not stored when there are any
=====  ===========================================================================

Error bodies are a ``google.rpc.Status`` in the request's encoding (plain text when
the encoding is unknown). Every refusal before the body was read whole closes the
connection. The server binds to ``127.0.0.1`` by default; binding any other address
needs a bearer token (of at least 16 characters) or it refuses to start. Logging
names the path, the status and the counts only: never a header, a payload or an
attribute value. ``shutdown()`` stops accepting, waits for requests in flight and
closes the socket.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from .._errors import ConfigError
from .._records import Event
from ..ingest.pricing import PriceTable
from .decode import (
    JSON,
    PROTOBUF,
    DecodeResult,
    OtlpDecodeError,
    UnsupportedContentType,
    decode_logs,
    decode_metrics,
    decode_traces,
    media_type,
)

__all__ = ["DEFAULT_MAX_BODY", "DEFAULT_PORT", "OtlpServer"]

DEFAULT_MAX_BODY = 8 << 20
LINGER_SECONDS = 2.0
LINGER_BYTES = 64 << 20
DEFAULT_PORT = 4318
MIN_TOKEN_LENGTH = 16
RETRY_AFTER_SECONDS = 5
_CHUNK_SIZE = re.compile(rb"[0-9a-fA-F]{1,16}\Z")
_PATHS = {"/v1/logs": "logs", "/v1/metrics": "metrics", "/v1/traces": "traces"}

# google.rpc.Code values used in Status bodies
_CODES = {400: 3, 401: 16, 404: 5, 405: 12, 411: 3, 413: 8, 415: 3, 503: 14}

log = logging.getLogger("netsky.otel")


class _Refusal(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def _check_token(token: str | None, loopback: bool) -> None:
    if token is None:
        if not loopback:
            raise ConfigError(
                "binding a non-loopback address needs a bearer token",
                hint="pass token=... and set OTEL_EXPORTER_OTLP_HEADERS on the agents",
            )
        return
    if not token or not token.isascii() or any(not c.isprintable() or c.isspace() for c in token):
        raise ConfigError("the bearer token must be printable ASCII without spaces")
    if not loopback and len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"the bearer token must have at least {MIN_TOKEN_LENGTH} characters "
            "when binding a non-loopback address"
        )


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _status_body(kind: str | None, status: int, message: str) -> tuple[str, bytes]:
    """A ``google.rpc.Status`` (code, message) in the request's encoding."""
    code = _CODES.get(status, 2)
    if kind == PROTOBUF:
        text = message.encode()
        return PROTOBUF, b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text
    if kind == JSON:
        return JSON, orjson.dumps({"code": code, "message": message})
    return "text/plain; charset=utf-8", (message + "\n").encode()


def _encode(message: Message, kind: str) -> bytes:
    if kind == PROTOBUF:
        return message.SerializeToString()
    return orjson.dumps(json_format.MessageToDict(message))


def _gunzip(data: bytes, limit: int) -> bytes:
    """Inflate one or more gzip members, never holding more than ``limit + 1`` bytes."""
    out = bytearray()
    while True:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending = data
        try:
            while True:
                chunk = inflater.decompress(pending, limit + 1 - len(out))
                out += chunk
                if len(out) > limit:
                    raise _Refusal(413, f"inflated body is larger than {limit} bytes")
                if inflater.eof:
                    break
                if inflater.unconsumed_tail:
                    pending = inflater.unconsumed_tail
                elif chunk:
                    pending = b""
                else:
                    raise _Refusal(400, "gzip body is truncated")
        except zlib.error:
            raise _Refusal(400, "body is not valid gzip") from None
        data = inflater.unused_data
        if not data:
            return bytes(out)


class _Handler(BaseHTTPRequestHandler):
    server_version = "netsky-otlp"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def setup(self) -> None:
        # typeshed declares timeout a ClassVar; StreamRequestHandler.setup() reads it
        # from the instance, so a per-connection value is what the stdlib supports
        self.timeout = self.server.owner.timeout  # type: ignore[misc]
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        """The default logs request lines and errors verbatim: never do that."""

    def do_POST(self) -> None:
        self.server.owner._handle(self)

    def _not_allowed(self) -> None:
        self.server.owner._answer(self, 405, None, "only POST is supported", {"Allow": "POST"})

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _not_allowed


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = False  # server_close() waits for requests in flight
    block_on_close = True

    def __init__(self, address: tuple[str, int], owner: OtlpServer, family: int) -> None:
        self.address_family = family
        self.owner = owner
        super().__init__(address, _Handler)


class OtlpServer:
    """Receives OTLP/HTTP from agents and passes the events to ``sink``.

    ``sink`` is called with a non-empty list of events, one call at a time; a raise
    answers 503. ``port=0`` picks a free port (see :attr:`address`).
    """

    def __init__(
        self,
        sink: Callable[[list[Event]], Any],
        *,
        machine_id: str,
        prices: PriceTable | None = None,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        token: str | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY,
        timeout: float = 10.0,
    ) -> None:
        if not machine_id:
            raise ConfigError("machine_id is required")
        if max_body_bytes <= 0:
            raise ConfigError("max_body_bytes must be positive")
        _check_token(token, _is_loopback(host))
        self.sink = sink
        self.machine_id = machine_id
        self.prices = prices or PriceTable.load()
        self.max_body_bytes = max_body_bytes
        self.timeout = timeout
        self._token = None if token is None else token.encode()
        self._sink_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._httpd = _HTTPServer((host, port), self, family)

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def serve_forever(self) -> None:
        self._httpd.serve_forever(poll_interval=0.2)

    def start(self) -> OtlpServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, name="netsky-otlp", daemon=True)
        self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop accepting, wait for requests in flight, close the socket."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> OtlpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # -- one request -------------------------------------------------------------------

    def _answer(
        self,
        h: _Handler,
        status: int,
        kind: str | None,
        message: str,
        headers: dict[str, str] | None = None,
        *,
        body: bytes | None = None,
        close: bool = True,
    ) -> None:
        if body is None:
            content_type, body = _status_body(kind, status, message)
        else:
            content_type = kind or JSON
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        if close:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        h.wfile.write(body)

    def _authorized(self, header: str | None) -> bool:
        if self._token is None:
            return True
        scheme, _, credentials = (header or "").strip().partition(" ")
        given = credentials.strip().encode("utf-8", "replace")
        # compare_digest runs in time independent of where the tokens differ
        return hmac.compare_digest(given, self._token) and scheme.lower() == "bearer"

    def _read_body(self, h: _Handler) -> bytes:
        limit = self.max_body_bytes
        length = h.headers.get("Content-Length")
        chunked = "chunked" in (h.headers.get("Transfer-Encoding") or "").lower()
        if chunked and length is not None:
            raise _Refusal(400, "both Content-Length and chunked Transfer-Encoding")
        if chunked:
            return self._read_chunked(h, limit)
        if length is None:
            raise _Refusal(411, "Content-Length required")
        if not length.strip().isdigit() or not length.strip().isascii():
            raise _Refusal(400, "Content-Length is not a number")
        n = int(length)
        if n > limit:
            raise _Refusal(413, f"body is larger than {limit} bytes")
        data = h.rfile.read(n)
        if len(data) != n:
            raise _Refusal(400, "body is shorter than Content-Length")
        return data

    @staticmethod
    def _read_chunked(h: _Handler, limit: int) -> bytes:
        out = bytearray()
        while True:
            line = h.rfile.readline(1024)
            size_text = line.split(b";", 1)[0].strip()
            if not line.endswith(b"\n") or not _CHUNK_SIZE.match(size_text):
                raise _Refusal(400, "malformed chunked encoding")
            size = int(size_text, 16)
            if size == 0:
                break
            if len(out) + size > limit:
                raise _Refusal(413, f"body is larger than {limit} bytes")
            data = h.rfile.read(size)
            if len(data) != size or h.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise _Refusal(400, "malformed chunked encoding")
            out += data
        for _ in range(64):  # trailers, ignored
            if h.rfile.readline(8192) in (b"\r\n", b"\n", b""):
                return bytes(out)
        raise _Refusal(400, "too many chunked trailers")

    def _handle(self, h: _Handler) -> None:
        path = h.path.split("?", 1)[0]
        signal = _PATHS.get(path)
        try:
            kind: str | None = media_type(h.headers.get("Content-Type"))
        except UnsupportedContentType:
            kind = None
        try:
            if signal is None:
                raise _Refusal(404, "unknown path: use /v1/logs, /v1/metrics or /v1/traces")
            if not self._authorized(h.headers.get("Authorization")):
                raise _Refusal(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})
            if kind is None:
                raise _Refusal(
                    415, "Content-Type must be application/x-protobuf or application/json"
                )
            encoding = (h.headers.get("Content-Encoding") or "identity").strip().lower()
            if encoding not in ("identity", "gzip"):
                raise _Refusal(415, "Content-Encoding must be gzip or identity")
            body = self._read_body(h)
        except _Refusal as refusal:
            log.info("otlp %s -> %d (%s)", signal or "?", refusal.status, refusal.message)
            self._answer(h, refusal.status, kind, refusal.message, refusal.headers)
            _linger(h)
            return
        # The body is read whole: the connection may be kept from here on.
        try:
            if encoding == "gzip":
                body = _gunzip(body, self.max_body_bytes)
            result = self._decode(signal, body, kind)
        except _Refusal as refusal:
            log.info("otlp %s -> %d (%s)", signal, refusal.status, refusal.message)
            self._answer(h, refusal.status, kind, refusal.message, close=False)
            return
        except OtlpDecodeError as exc:
            log.info("otlp %s -> 400 (not an OTLP request)", signal)
            self._answer(h, 400, kind, str(exc), close=False)
            return
        if result.events:
            try:
                with self._sink_lock:
                    self.sink(list(result.events))
            except Exception as exc:  # the store is down: let the exporter retry
                log.warning("otlp %s -> 503 (sink raised %s)", signal, type(exc).__name__)
                self._answer(
                    h,
                    503,
                    kind,
                    "storage unavailable, retry later",
                    {"Retry-After": str(RETRY_AFTER_SECONDS)},
                    close=False,
                )
                return
        log.info(
            "otlp %s -> 200 accepted=%d skipped=%d malformed=%d events=%d",
            signal,
            result.accepted,
            result.skipped,
            result.malformed,
            len(result.events),
        )
        self._answer(h, 200, kind, "", body=_encode(_response(signal, result), kind), close=False)

    def _decode(self, signal: str, body: bytes, kind: str) -> DecodeResult:
        if signal == "logs":
            return decode_logs(body, kind, machine_id=self.machine_id, prices=self.prices)
        if signal == "metrics":
            return decode_metrics(body, kind, machine_id=self.machine_id, prices=self.prices)
        return decode_traces(body, kind)


def _linger(h: _Handler) -> None:
    """After refusing a request whose body was not read, read and drop what the
    client is still sending, for a bounded time and size, before the connection
    closes: closing a socket with unread data resets it, and the client then sees a
    broken pipe instead of the answer already sent (the usual lingering close)."""
    try:
        h.wfile.flush()
        h.connection.settimeout(LINGER_SECONDS)
        deadline = time.monotonic() + LINGER_SECONDS
        drained = 0
        while drained < LINGER_BYTES and time.monotonic() < deadline:
            chunk = h.rfile.read1(1 << 16)
            if not chunk:
                break
            drained += len(chunk)
    except OSError:
        pass


def _response(signal: str, result: DecodeResult) -> Message:
    if signal == "logs":
        response = logs_service_pb2.ExportLogsServiceResponse()
        if result.rejected:
            response.partial_success.rejected_log_records = result.rejected
            response.partial_success.error_message = _summary(result)
        return response
    if signal == "metrics":
        return metrics_service_pb2.ExportMetricsServiceResponse()
    traces = trace_service_pb2.ExportTraceServiceResponse()
    if result.rejected:
        traces.partial_success.rejected_spans = result.rejected
        traces.partial_success.error_message = "netsky stores no traces"
    return traces


def _summary(result: DecodeResult) -> str:
    parts = []
    if result.skipped:
        parts.append(f"{result.skipped} skipped (not agent events netsky stores)")
    if result.malformed:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(result.problems.items()))
        parts.append(f"{result.malformed} malformed ({reasons})")
    return "; ".join(parts)
