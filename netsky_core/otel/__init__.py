"""OpenTelemetry from coding agents: an OTLP/HTTP receiver that stores netsky events.

:mod:`.decode` turns OTLP export requests into events (pure functions);
:mod:`.server` receives them over HTTP and hands the events to a sink (a store's
``insert_many``).
"""

from .decode import (
    JSON,
    PROTOBUF,
    DecodeResult,
    OtlpDecodeError,
    UnsupportedContentType,
    decode_logs,
    decode_metrics,
    decode_traces,
)
from .server import DEFAULT_MAX_BODY, OtlpServer

__all__ = [
    "DEFAULT_MAX_BODY",
    "JSON",
    "PROTOBUF",
    "DecodeResult",
    "OtlpDecodeError",
    "OtlpServer",
    "UnsupportedContentType",
    "decode_logs",
    "decode_metrics",
    "decode_traces",
]
