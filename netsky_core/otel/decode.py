"""OTLP/HTTP requests from coding agents -> netsky events (pure functions).

:func:`decode_logs` reads an ``ExportLogsServiceRequest`` (``application/x-protobuf``,
or ``application/json`` as the OTLP/HTTP spec writes it: lowerCamelCase names, hex
trace/span ids, int64 as strings) with the official generated classes, and turns
each agent event into one :class:`~netsky_core.Event` (``source="otel"``).
:func:`decode_metrics` and :func:`decode_traces` read and count, and store nothing.

Mapping
-------
``framework`` comes from the event name's prefix (``claude_code.`` / ``codex.``), else
from the resource's ``service.name``; a record of neither agent is *skipped*.
``session_id`` is ``session.id`` (Claude) / ``conversation.id`` (Codex);
``timestamp`` is ``event.timestamp``, else the record's time, else its observed time.
``payload`` is the record's attributes as JSON (sorted keys), less a redacted prompt;
``metadata`` always holds ``request_id``, ``message_id`` and ``prompt_id`` (null when
the record has none).

============================== ===============================================
``claude_code.api_request``    ``ApiRequest``: the four token counts as sent
                               (``input_tokens`` already excludes cache), cost =
                               the agent's ``cost_usd`` (else ``cost_usd_micros``),
                               else priced with the :class:`PriceTable`
``claude_code.api_error``      ``ApiError``
``claude_code.user_prompt``    ``UserPromptSubmit`` (``payload.prompt`` only when the
                               text was exported)
``claude_code.tool_result``    ``PostToolUse`` (``PostToolUseFailure`` when
                               ``success`` is false, as hooks and transcripts do)
``codex.sse_event`` /          ``ApiRequest`` on ``response.completed``: input =
``codex.websocket_event``      ``input_token_count - cached_token_count`` (Codex
                               counts cached tokens as input, as its rollout
                               reader does), cache read = cached, output as sent,
                               priced with the :class:`PriceTable`; a failure is an
                               ``ApiError``; other stream events are skipped
``codex.api_request`` /        ``ApiError`` when it failed, else stored under its
``codex.websocket_request``    own name (it carries no tokens)
``codex.user_prompt``          ``UserPromptSubmit``
``codex.tool_result``          ``PostToolUse`` / ``PostToolUseFailure``
``claude_code.api_response_    its own name, never billed; ``metadata.message_id``
body``                         is the ``id`` the exported body starts with: the
                               one record pairing a message id with a request id
``*.tool_decision``            its own name, with ``tool_name`` / ``tool_use_id``
anything else                  stored under its own full name
============================== ===============================================

Numbers are accepted as ``intValue``, integral ``doubleValue`` or a decimal
``stringValue`` (Claude Code sends the latter); anything else where a count is
expected (a word, a fraction, a negative number, a bool), a missing session id, an
unreadable timestamp or text no store can keep makes the record *malformed*: it is
counted, named in ``problems`` (never with its value) and skipped.

Identity
--------
``uuid`` never holds the machine id. Where the record names the thing it reports,
the uuid is the one the transcript readers and hooks give it, so the store keeps it
once: ``tool_result:<tool_use_id>`` (Claude) / ``tool_result:<call_id>`` (Codex),
``prompt:<prompt.id>`` for Claude prompts (hooks use ``prompt:<prompt_id>`` and the
transcript ``prompt:<promptId>``; that the three ids are one value is what Claude
Code's docs imply, not checked on a capture). An API request is
``api_request:<request_id>`` (``api_request:client:<client_request_id>`` without
one). Everything else, and any record without such an id, is
``otel:<blake2b of the event name, session, record time and attributes>``, so a
record delivered twice (an exporter's retry) is the same event whatever its
encoding. The transcript reader names an API response ``api:<message.id>:<requestId>``;
``claude_code.api_request`` carries ``request_id`` (== the transcript's ``requestId``)
but no message id, so the two keys cannot coincide: only a billing identity derived
from ``requestId`` (``metadata.request_id`` on both) can make the store bill them
once. Codex's OTel usage has no id shared with the rollout at all (the rollout
reader keys usage by the cumulative total, which OTel does not send).

Metrics are only counted: ``claude_code.cost.usage`` / ``token.usage`` restate the
``api_request`` events (delta by default, cumulative on request), so storing them
would bill every request twice.

What the agents send (facts, and where each came from)
------------------------------------------------------
Claude Code ("Monitoring" page of the Claude Code docs, ``monitoring-usage``,
read at its v2.1.2xx revision):

* Resource ``service.name`` is ``claude-code``; log records come from the
  ``com.anthropic.claude_code.events`` scope (seen in public receivers' fixtures).
* The page names each event by its full name (``claude_code.api_request``) and
  gives the ``event.name`` attribute as the short one (``api_request``); receivers'
  fixtures show the full name in the record's body. Standard attributes on every event: ``session.id``,
  ``app.version`` (opt-in), ``organization.id``, ``user.account_uuid``,
  ``user.account_id``, ``user.id``, ``user.email``, ``terminal.type``, plus
  ``event.timestamp`` (ISO 8601), ``event.sequence`` (per-session counter) and
  ``prompt.id`` (UUID shared by every event of one user prompt).
* ``claude_code.api_request``: ``model``, ``cost_usd`` (Claude's estimate),
  ``cost_usd_micros``, ``duration_ms``, ``input_tokens`` (without cache, as in the
  API's usage), ``output_tokens``, ``cache_read_tokens``, ``cache_creation_tokens``
  (no 5m/1h split), ``request_id`` (the API's ``request-id`` header, persisted as
  ``requestId`` on the transcript's assistant lines; absent when the API returns
  none, e.g. third-party providers), ``client_request_id`` (v2.1.214+), ``speed``
  (``fast``/``normal``), ``query_source``, ``effort``, attribution (``agent.name``,
  ``skill.name``, ``plugin.name``, ``mcp_server.name``, ...). It carries **no
  message id**.
* ``claude_code.api_error``: ``model``, ``error``, ``status_code``, ``duration_ms``,
  ``attempt``, ``request_id``, ``client_request_id``, ``speed``, ``query_source``.
  Emitted once per request, after the retries are exhausted.
* ``claude_code.user_prompt``: ``prompt_length``, ``prompt`` (redacted unless
  ``OTEL_LOG_USER_PROMPTS=1``), ``message.uuid`` (v2.1.214+), ``command_name``,
  ``command_source``.
* ``claude_code.tool_result``: ``tool_name``, ``tool_use_id`` (the id hooks and the
  transcript use), ``success`` (``"true"``/``"false"``), ``duration_ms``,
  ``error_type``, ``decision_type``, ``decision_source``, ``tool_input_size_bytes``,
  ``tool_result_size_bytes``, ``mcp_server_scope``, ``tool_parameters`` /
  ``tool_input`` (with ``OTEL_LOG_TOOL_DETAILS=1``).
* ``claude_code.tool_decision``: ``tool_name``, ``tool_use_id``, ``decision``,
  ``source``, ``tool_source``, ``tool_parameters``.
* ``claude_code.api_response_body`` (only with ``OTEL_LOG_RAW_API_BODIES``): ``body``
  (the Messages API response JSON, which starts with the message ``id``; truncated
  at 60 KB), ``body_ref``, ``body_length``, ``body_truncated``, ``model``,
  ``query_source``, ``request_id``. The only record that pairs a message id with a
  request id.
* Further events: ``assistant_response`` (``request_id``, ``message.uuid``),
  ``api_refusal``, ``api_request_body``, ``permission_mode_changed``, ``auth``,
  ``mcp_server_connection``, ``internal_error``, ``plugin_installed``,
  ``plugin_loaded``, ``skill_activated``, ``at_mention``, ``api_retries_exhausted``,
  ``hook_registered``, ``hook_execution_start``, ``hook_execution_complete``,
  ``hook_plugin_metrics``, ``compaction``, ``subagent_completed``,
  ``feedback_survey``, ``retention_sweep``.
* Metrics (default temporality **delta**, ``cumulative`` on request):
  ``claude_code.session.count``, ``lines_of_code.count``, ``pull_request.count``,
  ``commit.count``, ``cost.usage`` (USD, incremented after each API request),
  ``token.usage`` (``type`` = input/output/cacheRead/cacheCreation, after each API
  request), ``code_edit_tool.decision``, ``active_time.total``.
* Value types: the page gives ``success`` as the strings ``"true"``/``"false"`` and
  ``status_code`` / ``cost_usd_micros`` as numbers; public receivers' fixtures show
  Claude Code sending token counts, ``duration_ms`` and ``cost_usd`` as decimal
  *strings* (``stringValue: "7238"``). Both forms are accepted.

Codex CLI (``docs/config.md`` of the openai/codex repository, section
"Observability and telemetry", and the "Advanced configuration" page of the Codex
docs):

* ``[otel]`` in ``config.toml`` (``exporter = otlp-http | otlp-grpc | none``,
  ``log_user_prompt``); resource ``service.name`` is the originator
  (``codex_cli_rs`` by default; ``codex_exec``, ``codex_tui``, ``codex-cli`` are
  seen in the wild). The event name is the ``event.name`` attribute, already
  prefixed (``codex.sse_event``).
* Every event: ``event.timestamp``, ``conversation.id`` (the session id, as in the
  rollout's ``session_meta``), ``app.version``, ``auth_mode``, ``user.account_id``,
  ``user.email``, ``terminal.type``, ``model``, ``slug``.
* ``codex.conversation_starts``: ``provider_name``, ``reasoning_effort``,
  ``reasoning_summary``, ``context_window``, ``max_output_tokens``,
  ``auto_compact_token_limit``, ``approval_policy``, ``sandbox_policy``,
  ``mcp_servers``, ``active_profile``.
* ``codex.api_request``: ``attempt``, ``duration_ms``, ``http.response.status_code``,
  ``error.message`` (failures). No tokens.
* ``codex.sse_event``: ``event.kind``, ``duration_ms``, ``error.message``, and on the
  ``response.completed`` kind ``input_token_count`` (OpenAI semantics: includes the
  cached tokens), ``output_token_count`` (includes reasoning),
  ``cached_token_count``, ``reasoning_token_count``, ``tool_token_count``. No cost,
  no response id.
* ``codex.user_prompt``: ``prompt_length``, ``prompt`` (redacted unless
  ``log_user_prompt = true``).
* ``codex.tool_decision``: ``tool_name``, ``call_id``, ``decision``, ``source``.
* ``codex.tool_result``: ``tool_name``, ``call_id`` (the rollout's ``call_id``),
  ``arguments``, ``duration_ms``, ``success``, ``output``.
* Sessions on the WebSocket transport report ``codex.websocket_request`` /
  ``codex.websocket_event`` instead of ``api_request`` / ``sse_event`` (third-party
  integration pages); they are read the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from .._errors import RecordError
from .._records import Event, EventSource, EventType
from ..ingest.pricing import PriceTable, Usage
from . import _catalog as cat
from ._fields import (
    _MESSAGE_ID,
    JSON,
    PROTOBUF,
    DecodeResult,
    OtlpDecodeError,
    UnsupportedContentType,
    _attributes,
    _count,
    _duration,
    _failed,
    _Malformed,
    _meta,
    _number,
    _parse,
    _read_record,
    _Record,
    _Skip,
    _text,
    media_type,
)

__all__ = [
    "JSON",
    "PROTOBUF",
    "DecodeResult",
    "OtlpDecodeError",
    "UnsupportedContentType",
    "decode_logs",
    "decode_metrics",
    "decode_traces",
    "media_type",
]


class _Mapper:
    def __init__(self, machine_id: str, prices: PriceTable) -> None:
        self.machine_id = machine_id
        self.prices = prices

    def event(self, r: _Record) -> Event:
        handler = _HANDLERS.get(r.name)
        if handler is not None:
            return handler(self, r)
        return self.base(r, r.name, f"otel:{r.digest}", meta=_meta(r))

    def base(self, r: _Record, event_type: str, uuid: str, *, meta: str, **fields: Any) -> Event:
        a = r.attributes
        return Event(
            machine_id=self.machine_id,
            session_id=r.session_id,
            event_type=event_type,
            timestamp=r.timestamp,
            uuid=uuid,
            framework=r.framework,
            source=EventSource.OTEL,
            model=fields.pop("model", _text(a, "model")),
            duration_ms=fields.pop("duration_ms", _duration(a)),
            payload=r.payload,
            metadata=meta,
            **fields,
        )

    # Claude Code

    def claude_api_request(self, r: _Record) -> Event:
        a = r.attributes
        model = _text(a, "model")
        tokens = [
            _count(a, key)
            for key in (
                "input_tokens",
                "output_tokens",
                "cache_read_tokens",
                "cache_creation_tokens",
            )
        ]
        cost = _number(a, "cost_usd")
        cost_source: str | None = "agent"
        if cost is None:
            micros = _count(a, "cost_usd_micros")
            cost = None if micros is None else micros / 1_000_000
        if cost is None:
            cost_source = None
            if any(t is not None for t in tokens):
                inp, out, read, write = (t or 0 for t in tokens)
                usage = Usage(input=inp, output=out, cache_read=read, cache_write=write)
                cost = self.prices.cost(model, usage._replace(speed=_text(a, "speed")))
                cost_source = "priced" if cost is not None else None
        request_id = _text(a, "request_id")
        client_id = _text(a, "client_request_id")
        if request_id:
            uuid = f"api_request:{request_id}"
        elif client_id:
            uuid = f"api_request:client:{client_id}"
        else:
            uuid = f"otel:{r.digest}"
        return self.base(
            r,
            EventType.API_REQUEST,
            uuid,
            meta=_meta(r, cost_source=cost_source),
            model=model,
            tokens_input=tokens[0],
            tokens_output=tokens[1],
            tokens_cache_read=tokens[2],
            tokens_cache_write=tokens[3],
            cost_usd=cost,
        )

    def claude_api_error(self, r: _Record) -> Event:
        return self.base(r, EventType.API_ERROR, f"otel:{r.digest}", meta=_meta(r))

    def user_prompt(self, r: _Record) -> Event:
        prompt_id = _text(r.attributes, "prompt.id") if r.framework == cat.CLAUDE else None
        uuid = f"prompt:{prompt_id}" if prompt_id else f"otel:{r.digest}"
        return self.base(r, EventType.USER_PROMPT_SUBMIT, uuid, meta=_meta(r))

    def tool_result(self, r: _Record) -> Event:
        a = r.attributes
        call_id = _text(a, "tool_use_id" if r.framework == cat.CLAUDE else "call_id")
        failed = _failed(a)
        return self.base(
            r,
            EventType.POST_TOOL_USE_FAILURE if failed else EventType.POST_TOOL_USE,
            f"tool_result:{call_id}" if call_id else f"otel:{r.digest}",
            meta=_meta(r),
            tool_name=_text(a, "tool_name"),
            tool_use_id=call_id,
        )

    def tool_decision(self, r: _Record) -> Event:
        a = r.attributes
        call_id = _text(a, "tool_use_id" if r.framework == cat.CLAUDE else "call_id")
        return self.base(
            r,
            r.name,
            f"otel:{r.digest}",
            meta=_meta(r),
            tool_name=_text(a, "tool_name"),
            tool_use_id=call_id,
        )

    def claude_response_body(self, r: _Record) -> Event:
        return self.base(r, r.name, f"otel:{r.digest}", meta=_meta(r, message_id=_message_id(r)))

    # Codex

    def codex_stream(self, r: _Record) -> Event:
        a = r.attributes
        if _text(a, "error.message"):
            return self.base(r, EventType.API_ERROR, f"otel:{r.digest}", meta=_meta(r))
        if _text(a, "event.kind") != "response.completed":
            raise _Skip("stream event without usage")
        total_in = _count(a, "input_token_count")
        output = _count(a, "output_token_count")
        if total_in is None and output is None:
            raise _Skip("stream event without usage")
        cached = _count(a, "cached_token_count") or 0
        total_in = total_in or 0
        if cached > total_in:
            raise _Malformed("cached_token_count exceeds input_token_count")
        model = _text(a, "model")
        usage = Usage(input=total_in - cached, output=output or 0, cache_read=cached)
        cost = self.prices.cost(model, usage)
        meta = _meta(
            r,
            reasoning_output_tokens=_count(a, "reasoning_token_count"),
            tool_tokens=_count(a, "tool_token_count"),
            cost_source=None if cost is None else "priced",
        )
        return self.base(
            r,
            EventType.API_REQUEST,
            f"otel:{r.digest}",
            meta=meta,
            model=model,
            tokens_input=total_in - cached,
            tokens_output=output,
            tokens_cache_read=cached,
            tokens_cache_write=None,
            cost_usd=cost,
        )

    def codex_request(self, r: _Record) -> Event:
        a = r.attributes
        status = _count(a, "http.response.status_code")
        failed = bool(_text(a, "error.message")) or (status is not None and status >= 400)
        event_type = EventType.API_ERROR if failed else r.name
        return self.base(r, event_type, f"otel:{r.digest}", meta=_meta(r))


def _message_id(r: _Record) -> str | None:
    """The message id at the start of an exported Messages API response body."""
    body = r.attributes.get("body")
    if not isinstance(body, str):
        return None
    match = _MESSAGE_ID.match(body[:512].encode("utf-8", "replace"))
    return match.group(1).decode() if match else None


_HANDLERS: dict[str, Callable[[_Mapper, _Record], Event]] = {
    "claude_code.api_request": _Mapper.claude_api_request,
    "claude_code.api_error": _Mapper.claude_api_error,
    "claude_code.user_prompt": _Mapper.user_prompt,
    "claude_code.tool_result": _Mapper.tool_result,
    "claude_code.tool_decision": _Mapper.tool_decision,
    "claude_code.api_response_body": _Mapper.claude_response_body,
    "codex.sse_event": _Mapper.codex_stream,
    "codex.websocket_event": _Mapper.codex_stream,
    "codex.api_request": _Mapper.codex_request,
    "codex.websocket_request": _Mapper.codex_request,
    "codex.user_prompt": _Mapper.user_prompt,
    "codex.tool_result": _Mapper.tool_result,
    "codex.tool_decision": _Mapper.tool_decision,
}


# -- requests -------------------------------------------------------------------------------


def decode_logs(
    body: bytes, content_type: str, *, machine_id: str, prices: PriceTable
) -> DecodeResult:
    """The events of an OTLP ``ExportLogsServiceRequest``.

    Raises :class:`UnsupportedContentType` for another content type and
    :class:`OtlpDecodeError` for a body that is not such a request; a bad record
    only counts as skipped or malformed.
    """
    request = _parse(
        body, content_type, logs_service_pb2.ExportLogsServiceRequest(), "logs request"
    )
    mapper = _Mapper(machine_id, prices)
    events: list[Event] = []
    skipped = malformed = 0
    unknown: set[str] = set()
    problems: dict[str, int] = {}
    for resource_logs in request.resource_logs:
        try:
            resource = _attributes(resource_logs.resource.attributes)
            mapper.machine_id = _sender_machine(resource) or machine_id
        except _Malformed as exc:
            n = sum(len(s.log_records) for s in resource_logs.scope_logs)
            malformed += n
            problems[str(exc)] = problems.get(str(exc), 0) + n
            continue
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                try:
                    r = _read_record(record, resource)
                    event = mapper.event(r)
                except _Skip:
                    skipped += 1
                    continue
                except _Malformed as exc:
                    reason = str(exc)
                except RecordError:
                    reason = "a value no store can keep"
                else:
                    events.append(event)
                    if r.name not in cat.KNOWN_EVENTS:
                        unknown.add(r.name)
                    continue
                malformed += 1
                problems[reason] = problems.get(reason, 0) + 1
    return DecodeResult(
        events=tuple(events),
        accepted=len(events),
        skipped=skipped,
        malformed=malformed,
        unknown_event_types=frozenset(unknown),
        problems=problems,
    )


SENDER_MACHINE = "netsky.machine_id"
"""The resource attribute naming the sending machine's netsky ``machine_id``
(``OTEL_RESOURCE_ATTRIBUTES=netsky.machine_id=laptop-3f2a``); without it the events
are stored under the serving machine's id."""

_MACHINE_MAX = 200


def _sender_machine(resource: dict[str, Any]) -> str | None:
    """The machine id a resource names for itself, or None when it names none."""
    value = _text(resource, SENDER_MACHINE)
    if value is None:
        return None
    if len(value) > _MACHINE_MAX or not value.isprintable() or value != value.strip():
        raise _Malformed(f"{SENDER_MACHINE} is not a usable machine id")
    return value


_POINT_KINDS = ("gauge", "sum", "histogram", "exponential_histogram", "summary")


def decode_metrics(
    body: bytes, content_type: str, *, machine_id: str, prices: PriceTable
) -> DecodeResult:
    """Count the data points of an ``ExportMetricsServiceRequest``; no events.

    Agent metrics (``claude_code.*``, ``codex.*``) count as accepted, others as
    skipped. Nothing is stored: Claude Code's ``cost.usage`` / ``token.usage`` restate
    its ``api_request`` events, and the other metrics carry nothing an event lacks.
    """
    del machine_id, prices  # the same signature as decode_logs; metrics become no events
    request = _parse(
        body, content_type, metrics_service_pb2.ExportMetricsServiceRequest(), "metrics request"
    )
    accepted = skipped = 0
    unknown: set[str] = set()
    for resource_metrics in request.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                kind = metric.WhichOneof("data")
                points = len(getattr(metric, kind).data_points) if kind in _POINT_KINDS else 0
                if cat.framework_of_name(metric.name) is None:
                    skipped += points
                    continue
                accepted += points
                if metric.name.startswith("claude_code.") and metric.name not in cat.CLAUDE_METRICS:
                    unknown.add(metric.name)
    return DecodeResult(accepted=accepted, skipped=skipped, unknown_event_types=frozenset(unknown))


def decode_traces(body: bytes, content_type: str) -> DecodeResult:
    """Count the spans of an ``ExportTraceServiceRequest``; netsky stores no traces."""
    request = _parse(
        body, content_type, trace_service_pb2.ExportTraceServiceRequest(), "traces request"
    )
    spans = sum(
        len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans
    )
    return DecodeResult(skipped=spans)
