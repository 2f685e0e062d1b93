"""The receiver over real loopback HTTP into real stores: storage, dedup, security."""

from __future__ import annotations

import threading
import time
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from netsky_core import ConfigError, EventSource, EventType, open_storage
from netsky_core.otel import OtlpServer

from .conftest import MACHINE
from .otlp import (
    JSON,
    PROTOBUF,
    claude_attrs,
    log_record,
    logs_request,
    metrics_request,
    otlp_json,
    post,
    raw_request,
    stored,
)

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
TOKEN = "s3cret-token-for-tests-0123456789"


def api_request(session: str, request_id: str, *, at: datetime = T0, **tokens: object):
    values = {
        "model": "claude-opus-4-6",
        "input_tokens": 12,
        "output_tokens": 340,
        "cache_read_tokens": 20_000,
        "cache_creation_tokens": 1_500,
        "cost_usd": 0.0421,
        "duration_ms": 2100,
        "request_id": request_id,
        **tokens,
    }
    return log_record("claude_code.api_request", claude_attrs("api_request", session, at, **values))


def session_request(n: int = 3, session: str = "sess-a"):
    records = [
        log_record(
            "claude_code.user_prompt",
            claude_attrs(
                "user_prompt",
                session,
                T0,
                prompt="fix the flaky test",
                prompt_length=18,
                prompt__id="p-1",
            ),
        )
    ]
    records += [api_request(session, f"req_{i}", at=T0 + timedelta(seconds=i)) for i in range(n)]
    records.append(
        log_record(
            "claude_code.tool_result",
            claude_attrs(
                "tool_result",
                session,
                T0 + timedelta(seconds=9),
                tool_name="Bash",
                tool_use_id="toolu_01",
                success="true",
                duration_ms=87,
            ),
        )
    )
    return logs_request(records)


def test_protobuf_request_is_stored_with_tokens_cost_and_session_totals(receiver, store):
    reply = post(receiver.url + "/v1/logs", session_request().SerializeToString())
    assert reply.status == 200
    assert reply.headers["Content-Type"] == PROTOBUF
    response = logs_service_pb2.ExportLogsServiceResponse.FromString(reply.body)
    assert not response.HasField("partial_success")

    events = stored(store)
    assert [e.event_type for e in events] == [
        EventType.API_REQUEST,
        EventType.API_REQUEST,
        EventType.API_REQUEST,
        EventType.USER_PROMPT_SUBMIT,
        EventType.POST_TOOL_USE,
    ]
    assert {e.source for e in events} == {EventSource.OTEL}
    assert {e.framework for e in events} == {"claude"}
    api = events[0]
    assert api.uuid == "api_request:req_0"
    assert (api.tokens_input, api.tokens_output, api.tokens_cache_read, api.tokens_cache_write) == (
        12,
        340,
        20_000,
        1_500,
    )
    assert api.cost_usd == 0.0421
    assert api.duration_ms == 2100
    assert api.timestamp == T0
    prompt, tool = events[3], events[4]
    assert prompt.uuid == "prompt:p-1"
    assert tool.uuid == "tool_result:toolu_01" and tool.tool_name == "Bash"

    session = store.get_session_by_key(MACHINE, "sess-a")
    assert session.api_request_count == 3
    assert session.tokens_input == 36 and session.tokens_output == 1020
    assert session.tokens_cache_read == 60_000 and session.tokens_cache_write == 4_500
    assert session.cost_usd == pytest.approx(3 * 0.0421)
    assert session.otel_event_count == 5
    assert session.first_user_message == "fix the flaky test"
    assert session.framework == "claude"


def test_json_request_stores_the_same_events(receiver, store):
    request = session_request()
    request.resource_logs[0].scope_logs[0].log_records[1].trace_id = bytes(range(16))
    request.resource_logs[0].scope_logs[0].log_records[1].span_id = bytes(range(8))
    reply = post(receiver.url + "/v1/logs", otlp_json(request), JSON)
    assert reply.status == 200
    assert reply.headers["Content-Type"] == JSON
    assert reply.body == b"{}"
    other = open_storage("memory://")
    with OtlpServer(other.insert_many, machine_id=MACHINE, port=0) as second:
        assert post(second.url + "/v1/logs", request.SerializeToString()).status == 200
    assert stored(store) == stored(other)


def test_hand_written_json_as_claude_code_sends_it(receiver, store):
    body = b"""{"resourceLogs":[{"resource":{"attributes":[
        {"key":"service.name","value":{"stringValue":"claude-code"}}]},
      "scopeLogs":[{"scope":{"name":"com.anthropic.claude_code.events"},"logRecords":[{
        "timeUnixNano":"1772357400000000000","observedTimeUnixNano":"1772357400001000000",
        "body":{"stringValue":"claude_code.api_request"},
        "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
        "attributes":[
          {"key":"session.id","value":{"stringValue":"sess-json"}},
          {"key":"event.name","value":{"stringValue":"api_request"}},
          {"key":"event.timestamp","value":{"stringValue":"2026-03-01T09:30:00.250Z"}},
          {"key":"event.sequence","value":{"intValue":"7"}},
          {"key":"model","value":{"stringValue":"claude-opus-4-6"}},
          {"key":"input_tokens","value":{"stringValue":"9"}},
          {"key":"output_tokens","value":{"intValue":"7238"}},
          {"key":"cache_read_tokens","value":{"stringValue":"0"}},
          {"key":"cache_creation_tokens","value":{"stringValue":"41530"}},
          {"key":"cost_usd","value":{"stringValue":"0.4405575"}},
          {"key":"duration_ms","value":{"doubleValue":135933}},
          {"key":"request_id","value":{"stringValue":"req_011CY19MkANpyt2u4izgrtjS"}}]}]}]}]}"""
    assert post(receiver.url + "/v1/logs", body, "application/json; charset=utf-8").status == 200
    (event,) = stored(store)
    assert event.uuid == "api_request:req_011CY19MkANpyt2u4izgrtjS"
    assert (event.tokens_input, event.tokens_output, event.tokens_cache_write) == (9, 7238, 41530)
    assert event.cost_usd == 0.4405575 and event.duration_ms == 135933
    assert event.timestamp == datetime(2026, 3, 1, 9, 30, 0, 250000, tzinfo=UTC)


def test_the_same_request_delivered_twice_stores_nothing_new(receiver, store):
    body = session_request().SerializeToString()
    assert post(receiver.url + "/v1/logs", body).status == 200
    first, session = stored(store), store.get_session_by_key(MACHINE, "sess-a")
    assert post(receiver.url + "/v1/logs", body).status == 200  # an exporter's retry
    assert (
        post(receiver.url + "/v1/logs", otlp_json(session_request_from(body)), JSON).status == 200
    )
    assert stored(store) == first
    again = store.get_session_by_key(MACHINE, "sess-a")
    assert (again.event_count, again.tokens_output, again.cost_picousd) == (
        session.event_count,
        session.tokens_output,
        session.cost_picousd,
    )


def session_request_from(body: bytes):
    return logs_service_pb2.ExportLogsServiceRequest.FromString(body)


def test_gzip_bodies_are_inflated(receiver, store):
    reply = post(receiver.url + "/v1/logs", session_request().SerializeToString(), gzipped=True)
    assert reply.status == 200
    assert len(stored(store)) == 5


def test_bad_records_are_counted_and_skipped_and_the_server_keeps_serving(receiver, store):
    good = api_request("sess-b", "req_good")
    bad = [
        api_request("sess-b", "req_words", input_tokens="twelve"),
        api_request("sess-b", "req_fraction", output_tokens=1.5),
        api_request("sess-b", "req_negative", cache_read_tokens=-3),
        api_request("sess-b", "req_cost", cost_usd=-0.5),
        log_record("claude_code.api_request", {"event.name": "api_request", "input_tokens": 3}),
        log_record(
            "claude_code.api_request",
            claude_attrs("api_request", "sess-b", T0, event__timestamp="yesterday"),
        ),
        log_record(
            "claude_code.api_request", claude_attrs("api_request", "sess-b", T0, session__id=[7])
        ),
    ]
    reply = post(receiver.url + "/v1/logs", logs_request([*bad, good]).SerializeToString())
    assert reply.status == 200
    partial = logs_service_pb2.ExportLogsServiceResponse.FromString(reply.body).partial_success
    assert partial.rejected_log_records == len(bad)
    assert "session id missing: 1" in partial.error_message
    assert "twelve" not in partial.error_message  # reasons name fields, never values
    assert [e.uuid for e in stored(store)] == ["api_request:req_good"]
    assert post(receiver.url + "/v1/logs", session_request().SerializeToString()).status == 200
    assert len(stored(store)) == 6


def test_metrics_are_counted_not_stored_so_cost_is_never_billed_twice(receiver, store):
    names = ["claude_code.cost.usage", "claude_code.token.usage", "claude_code.session.count"]
    reply = post(receiver.url + "/v1/metrics", metrics_request(names).SerializeToString())
    assert reply.status == 200
    metrics_service_pb2.ExportMetricsServiceResponse.FromString(reply.body)
    reply = post(receiver.url + "/v1/metrics", otlp_json(metrics_request(names)), JSON)
    assert reply.status == 200
    assert stored(store) == []


def test_traces_are_answered_with_a_partial_success_and_not_stored(receiver, store):
    request = trace_service_pb2.ExportTraceServiceRequest()
    spans = request.resource_spans.add().scope_spans.add()
    spans.spans.add(name="claude_code.interaction", trace_id=bytes(16), span_id=bytes(8))
    reply = post(receiver.url + "/v1/traces", request.SerializeToString())
    assert reply.status == 200
    partial = trace_service_pb2.ExportTraceServiceResponse.FromString(reply.body).partial_success
    assert partial.rejected_spans == 1
    assert stored(store) == []


# -- refusals ---------------------------------------------------------------------------


def test_unknown_path_and_method(receiver):
    assert post(receiver.url + "/v1/profiles", b"").status == 404
    assert raw_request(receiver.url + "/v1/logs", "GET", {}).status == 405


def test_wrong_content_type_is_415(receiver, store):
    body = session_request().SerializeToString()
    assert post(receiver.url + "/v1/logs", body, "text/plain").status == 415
    assert post(receiver.url + "/v1/logs", body, None).status == 415
    assert post(receiver.url + "/v1/logs", body, headers={"Content-Encoding": "br"}).status == 415
    assert stored(store) == []


def test_malformed_bodies_are_400_with_a_one_line_reason(receiver, store):
    reply = post(receiver.url + "/v1/logs", b"\x0a\xff\xff\xff\xff")
    assert reply.status == 400
    assert reply.headers["Content-Type"] == PROTOBUF  # a google.rpc.Status: code 3, message
    assert reply.body.startswith(b"\x08\x03\x12") and b"not a protobuf" in reply.body
    assert b"\n" not in reply.body[4:]
    reply = post(receiver.url + "/v1/logs", b"{not json", JSON)
    assert reply.status == 400
    assert reply.body.startswith(b'{"code":3,"message":"body is not JSON')
    bad_id = b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"zz"}]}]}]}'
    assert post(receiver.url + "/v1/logs", bad_id, JSON).status == 400
    assert (
        post(
            receiver.url + "/v1/logs",
            b"\x1f\x8b\x08garbage",
            gzipped=False,
            headers={"Content-Encoding": "gzip"},
        ).status
        == 400
    )
    assert stored(store) == []


def test_oversized_body_is_refused_without_being_read(store, prices):
    with OtlpServer(
        store.insert_many, machine_id=MACHINE, prices=prices, port=0, timeout=30
    ) as server:
        started = time.monotonic()
        reply = raw_request(
            server.url + "/v1/logs",
            "POST",
            {"Content-Type": PROTOBUF, "Content-Length": str(9 << 20)},
        )  # no body is sent: a server that tried to read it would wait for 30 s
        assert reply.status == 413
        assert time.monotonic() - started < 5
        assert reply.headers.get("Connection") == "close"


def test_configurable_limit_and_gzip_bomb(store, prices):
    limit = 1 << 20
    with OtlpServer(
        store.insert_many, machine_id=MACHINE, prices=prices, port=0, max_body_bytes=limit
    ) as server:
        assert post(server.url + "/v1/logs", b"\0" * (limit + 1)).status == 413
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        bomb = (
            b"".join(compressor.compress(b"\0" * (1 << 20)) for _ in range(64)) + compressor.flush()
        )
        assert len(bomb) < limit // 4  # 64 MiB of zeros in a small body
        reply = post(server.url + "/v1/logs", bomb, headers={"Content-Encoding": "gzip"})
        assert reply.status == 413
        assert b"inflated" in reply.body
        assert (
            post(
                server.url + "/v1/logs", session_request().SerializeToString(), gzipped=True
            ).status
            == 200
        )
    assert len(stored(store)) == 5


def test_chunked_bodies_within_the_limit_are_read(receiver, store):
    body = session_request().SerializeToString()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    reply = raw_request(
        receiver.url + "/v1/logs",
        "POST",
        {"Content-Type": PROTOBUF, "Transfer-Encoding": "chunked"},
        chunked,
    )
    assert reply.status == 200
    assert len(stored(store)) == 5
    assert raw_request(receiver.url + "/v1/logs", "POST", {"Content-Type": PROTOBUF}).status == 411


def test_a_token_is_required_when_configured(store, prices):
    with OtlpServer(
        store.insert_many, machine_id=MACHINE, prices=prices, port=0, token=TOKEN
    ) as server:
        body = session_request().SerializeToString()
        url = server.url + "/v1/logs"
        missing = post(url, body)
        assert missing.status == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
        assert post(url, body, token="wrong-token").status == 401
        assert post(url, body, token=TOKEN + "x").status == 401
        assert post(url, body, headers={"Authorization": f"Basic {TOKEN}"}).status == 401
        assert stored(store) == []
        assert post(url, body, token=TOKEN).status == 200
        assert post(url, body, headers={"Authorization": f"bearer {TOKEN}"}).status == 200
    assert len(stored(store)) == 5


def test_non_loopback_bind_needs_a_token(store):
    with pytest.raises(ConfigError, match="needs a bearer token"):
        OtlpServer(store.insert_many, machine_id=MACHINE, host="0.0.0.0", port=0)
    with pytest.raises(ConfigError, match="at least 16"):
        OtlpServer(store.insert_many, machine_id=MACHINE, host="0.0.0.0", port=0, token="short")
    with pytest.raises(ConfigError, match="printable"):
        OtlpServer(store.insert_many, machine_id=MACHINE, port=0, token="has space")
    server = OtlpServer(store.insert_many, machine_id=MACHINE, host="0.0.0.0", port=0, token=TOKEN)
    server.shutdown()
    OtlpServer(store.insert_many, machine_id=MACHINE, host="localhost", port=0).shutdown()


def test_sink_failure_answers_503_and_the_retry_is_stored(store, prices):
    down = threading.Event()
    down.set()

    def sink(events):
        if down.is_set():
            raise ConnectionError("store is down")
        return store.insert_many(events)

    with OtlpServer(sink, machine_id=MACHINE, prices=prices, port=0) as server:
        body = session_request().SerializeToString()
        reply = post(server.url + "/v1/logs", body)
        assert reply.status == 503
        assert reply.headers["Retry-After"] == "5"
        assert stored(store) == []
        down.clear()
        assert post(server.url + "/v1/logs", body).status == 200
    assert len(stored(store)) == 5


def test_payloads_and_values_are_never_logged(receiver, store, caplog):
    caplog.set_level("DEBUG", logger="netsky.otel")
    request = session_request()
    bad = api_request("sess-c", "req_bad", input_tokens="secret-value-42")
    request.resource_logs[0].scope_logs[0].log_records.append(bad)
    assert post(receiver.url + "/v1/logs", request.SerializeToString()).status == 200
    assert post(receiver.url + "/v1/logs", b"{not json secret-value-42", JSON).status == 400
    text = caplog.text
    assert "accepted=5" in text and "malformed=1" in text
    for secret in ("secret-value-42", "fix the flaky test", "sess-a", "req_0", "claude-opus"):
        assert secret not in text


def test_shutdown_is_clean_and_frees_the_port(store, prices):
    server = OtlpServer(store.insert_many, machine_id=MACHINE, prices=prices, port=0).start()
    url = server.url
    assert post(url + "/v1/logs", session_request().SerializeToString()).status == 200
    server.shutdown()
    with pytest.raises(OSError):
        post(url + "/v1/logs", b"", timeout=2)
