"""The pure decoder: mapping rules, identity, and what counts as malformed."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from netsky_core import EventType
from netsky_core.ingest.pricing import Usage
from netsky_core.otel import (
    OtlpDecodeError,
    UnsupportedContentType,
    decode_logs,
    decode_metrics,
    decode_traces,
)

from .otlp import (
    CODEX_SERVICE,
    JSON,
    PROTOBUF,
    claude_attrs,
    log_record,
    logs_request,
    metrics_request,
    otlp_json,
)

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
M = "machine-1"


def decode(records, prices, *, service="claude-code", kind=PROTOBUF):
    request = logs_request(records, service=service)
    body = request.SerializeToString() if kind == PROTOBUF else otlp_json(request)
    return decode_logs(body, kind, machine_id=M, prices=prices)


def codex(name, **attributes):
    base = {
        "event.name": name,
        "event.timestamp": "2026-01-25T10:32:05.123456Z",
        "conversation.id": "019bf4b5-e7b0-75a0-8bf2-05fbf1b13c9b",
        "model": "gpt-5.2-codex",
    }
    return log_record(None, {**base, **attributes})


def test_codex_usage_subtracts_cached_input_and_is_priced(prices):
    record = codex(
        "codex.sse_event",
        **{
            "event.kind": "response.completed",
            "input_token_count": 10_000,
            "cached_token_count": 8_000,
            "output_token_count": 300,
            "reasoning_token_count": 120,
        },
    )
    result = decode([record], prices, service=CODEX_SERVICE)
    (event,) = result.events
    assert event.event_type == EventType.API_REQUEST and event.framework == "codex"
    assert (event.tokens_input, event.tokens_cache_read, event.tokens_output) == (2_000, 8_000, 300)
    assert event.tokens_cache_write is None
    assert event.session_id == "019bf4b5-e7b0-75a0-8bf2-05fbf1b13c9b"
    assert event.timestamp == datetime(2026, 1, 25, 10, 32, 5, 123456, tzinfo=UTC)
    usage = Usage(input=2_000, output=300, cache_read=8_000)
    assert event.cost_usd == prices.cost("gpt-5.2-codex", usage)
    assert orjson.loads(event.metadata)["reasoning_output_tokens"] == 120


def test_codex_stream_chunks_are_skipped_and_failures_are_errors(prices):
    records = [
        codex("codex.sse_event", **{"event.kind": "response.output_text.delta"}),
        codex("codex.sse_event", **{"event.kind": "response.failed", "error.message": "boom"}),
        codex(
            "codex.api_request", attempt=1, duration_ms=200, **{"http.response.status_code": 200}
        ),
        codex("codex.api_request", attempt=2, **{"http.response.status_code": 500}),
        codex("codex.tool_result", tool_name="shell", call_id="call_9", success="false"),
        codex("codex.user_prompt", prompt="[REDACTED]", prompt_length=12),
    ]
    result = decode(records, prices, service=CODEX_SERVICE)
    assert result.skipped == 1 and result.malformed == 0
    types = [e.event_type for e in result.events]
    assert types == [
        EventType.API_ERROR,
        "codex.api_request",
        EventType.API_ERROR,
        EventType.POST_TOOL_USE_FAILURE,
        EventType.USER_PROMPT_SUBMIT,
    ]
    tool = result.events[3]
    assert tool.uuid == "tool_result:call_9" and tool.tool_use_id == "call_9"
    assert "prompt" not in orjson.loads(result.events[4].payload)  # redacted text is dropped


def test_claude_ids_match_the_transcript_readers_and_hooks(prices):
    records = [
        log_record(
            "claude_code.tool_result",
            claude_attrs(
                "tool_result", "s", T0, tool_name="Edit", tool_use_id="toolu_7", success="false"
            ),
        ),
        log_record(
            "claude_code.user_prompt",
            claude_attrs("user_prompt", "s", T0, prompt="<REDACTED>", prompt__id="abc"),
        ),
        log_record(
            "claude_code.api_error",
            claude_attrs(
                "api_error", "s", T0, model="claude-opus-4-6", status_code=529, request_id="req_e"
            ),
        ),
    ]
    tool, prompt, error = decode(records, prices).events
    assert (tool.event_type, tool.uuid) == (EventType.POST_TOOL_USE_FAILURE, "tool_result:toolu_7")
    assert (prompt.event_type, prompt.uuid) == (EventType.USER_PROMPT_SUBMIT, "prompt:abc")
    assert "prompt" not in orjson.loads(prompt.payload)
    assert error.event_type == EventType.API_ERROR and error.uuid.startswith("otel:")
    meta = orjson.loads(error.metadata)
    assert (meta["request_id"], meta["message_id"], meta["prompt_id"]) == ("req_e", None, None)


def test_api_request_identity(prices):
    def one(**attributes):
        record = log_record(
            "claude_code.api_request",
            claude_attrs("api_request", "s", T0, input_tokens=1, output_tokens=2, **attributes),
        )
        return decode([record], prices).events[0]

    assert one(request_id="req_1").uuid == "api_request:req_1"
    assert one(client_request_id="c-1").uuid == "api_request:client:c-1"
    no_id = one()
    assert no_id.uuid.startswith("otel:") and M not in no_id.uuid
    meta = orjson.loads(one(request_id="req_1", prompt__id="p-9").metadata)
    assert (meta["request_id"], meta["message_id"], meta["prompt_id"]) == ("req_1", None, "p-9")


def test_the_same_record_has_the_same_uuid_in_both_encodings(prices):
    record = log_record(
        "claude_code.tool_decision", claude_attrs("tool_decision", "s", T0, decision="accept")
    )
    a = decode([record], prices).events
    b = decode([record], prices, kind=JSON).events
    assert a == b and a[0].uuid.startswith("otel:")
    assert a[0].event_type == "claude_code.tool_decision"


def test_the_response_body_pairs_message_and_request_ids(prices):
    body = '{"id":"msg_01ABC","type":"message","role":"assistant","content":[{"type":"te'
    record = log_record(
        "claude_code.api_response_body",
        claude_attrs(
            "api_response_body", "s", T0, body=body, body_truncated="true", request_id="req_2"
        ),
    )
    (event,) = decode([record], prices).events
    meta = orjson.loads(event.metadata)
    assert (meta["message_id"], meta["request_id"]) == ("msg_01ABC", "req_2")
    assert event.tokens_input is None  # never billed: the api_request record bills


def test_framework_from_service_name_and_unknown_event_types(prices):
    short = log_record(None, claude_attrs("brand_new_event", "s", T0))
    (event,) = (result := decode([short], prices)).events
    assert event.event_type == "claude_code.brand_new_event" and event.framework == "claude"
    assert result.unknown_event_types == {"claude_code.brand_new_event"}
    other = log_record("GET /health", {"session.id": "x"})
    assert decode([other], prices, service="nginx").skipped == 1
    assert decode([log_record(None, {"session.id": "x"})], prices).skipped == 1


def test_timestamp_falls_back_to_the_record_time(prices):
    attributes = claude_attrs("tool_decision", "s", T0)
    del attributes["event.timestamp"]
    ns = 1_772_357_400_123_456_789
    (event,) = decode(
        [log_record("claude_code.tool_decision", attributes, time_ns=ns)], prices
    ).events
    assert event.timestamp == datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)
    result = decode([log_record("claude_code.tool_decision", attributes)], prices)
    assert result.malformed == 1 and result.problems == {"record has no timestamp": 1}


@pytest.mark.parametrize(
    ("attributes", "reason"),
    [
        ({"input_tokens": "12abc"}, "input_tokens is not a whole number"),
        ({"input_tokens": True}, "input_tokens is not a whole number"),
        ({"output_tokens": -1}, "output_tokens is negative or too large"),
        ({"cache_read_tokens": 2.5}, "cache_read_tokens is not a whole number"),
        ({"cost_usd": "NaN"}, "cost_usd is not a number"),
        ({"cost_usd": float("inf")}, "cost_usd is negative or not finite"),
        ({"duration_ms": -4}, "duration_ms is negative or not finite"),
        ({"model": 5}, "model is not text"),
        ({"session.id": ""}, "session id missing"),
        ({"event.timestamp": "2026-03-01T09:30:00"}, "event.timestamp has no UTC offset"),
        ({"event.timestamp": 1772357400}, "event.timestamp is not text"),
        ({"model": "claude\x00opus"}, "a value no store can keep"),
    ],
)
def test_bad_values_make_the_record_malformed(prices, attributes, reason):
    base = claude_attrs("api_request", "s", T0, input_tokens=1, request_id="r")
    record = log_record("claude_code.api_request", {**base, **attributes})
    result = decode([record], prices)
    assert (result.accepted, result.malformed, result.problems) == (0, 1, {reason: 1})


def test_numbers_as_ints_doubles_or_decimal_strings_are_the_same(prices):
    forms = [{"input_tokens": 42}, {"input_tokens": 42.0}, {"input_tokens": "42"}]
    got = set()
    for form in forms:
        base = claude_attrs("api_request", "s", T0, request_id="r")
        record = log_record("claude_code.api_request", {**base, **form})
        got.add(decode([record], prices).events[0].tokens_input)
    assert got == {42}


def test_not_an_otlp_request(prices):
    with pytest.raises(UnsupportedContentType):
        decode_logs(b"", "text/plain", machine_id=M, prices=prices)
    with pytest.raises(OtlpDecodeError, match="not JSON"):
        decode_logs(b"[", JSON, machine_id=M, prices=prices)
    with pytest.raises(OtlpDecodeError, match="not a JSON logs request object"):
        decode_logs(b"[]", JSON, machine_id=M, prices=prices)
    with pytest.raises(OtlpDecodeError, match="not a JSON logs request"):
        decode_logs(b'{"resourceLogs": 42}', JSON, machine_id=M, prices=prices)
    with pytest.raises(OtlpDecodeError, match="spanId is not a hex"):
        body = b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"spanId":"abc"}]}]}]}'
        decode_logs(body, JSON, machine_id=M, prices=prices)
    empty = decode_logs(b"", PROTOBUF, machine_id=M, prices=prices)
    assert (empty.accepted, empty.rejected) == (0, 0)


def test_metrics_and_traces_store_nothing(prices):
    names = [
        "claude_code.cost.usage",
        "claude_code.token.usage",
        "claude_code.new.metric",
        "http.server.duration",
    ]
    body = metrics_request(names).SerializeToString()
    result = decode_metrics(body, PROTOBUF, machine_id=M, prices=prices)
    assert (result.events, result.accepted, result.skipped) == ((), 3, 1)
    assert result.unknown_event_types == {"claude_code.new.metric"}
    assert decode_traces(b"", PROTOBUF).rejected == 0


def test_the_log_record_event_name_field_is_read(prices):
    record = log_record(None, claude_attrs("api_request", "s", T0, input_tokens=3, request_id="r9"))
    record.event_name = "claude_code.api_request"
    del record.attributes[4]  # event.name: newer SDKs send only the record field
    assert all(kv.key != "event.name" for kv in record.attributes)
    (event,) = decode([record], prices, service="unknown_service:node").events
    assert (event.event_type, event.framework, event.tokens_input) == (
        EventType.API_REQUEST,
        "claude",
        3,
    )


def _with_resource(records, **attributes):
    request = logs_request(records)
    for key, value in attributes.items():
        kv = request.resource_logs[0].resource.attributes.add()
        kv.key = key
        kv.value.string_value = value
    return request.SerializeToString()


def test_a_sender_naming_its_machine_id_gets_its_events_stored_under_it(prices):
    record = log_record(None, claude_attrs("tool_decision", "s", T0, tool_name="Bash"))
    body = _with_resource([record], **{"netsky.machine_id": "laptop-3f2a"})
    (event,) = decode_logs(body, PROTOBUF, machine_id=M, prices=prices).events
    assert event.machine_id == "laptop-3f2a"
    (plain,) = decode([record], prices).events
    assert plain.machine_id == M
    assert plain.uuid == event.uuid  # the same record, whoever sent it


@pytest.mark.parametrize("bad", ["x" * 201, "two\nlines", " padded"])
def test_an_unusable_sender_machine_id_makes_its_records_malformed(prices, bad):
    record = log_record(None, claude_attrs("tool_decision", "s", T0, tool_name="Bash"))
    result = decode_logs(
        _with_resource([record], **{"netsky.machine_id": bad}),
        PROTOBUF,
        machine_id=M,
        prices=prices,
    )
    assert (result.accepted, result.malformed) == (0, 1)
    assert bad not in str(result.problems)
