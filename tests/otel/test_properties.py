"""Any valid records, posted in any split into requests and in any order (protobuf,
JSON or gzip), give the same stored events and session summaries."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsky_core import open_storage
from netsky_core.otel import OtlpServer

from .conftest import MACHINE
from .otlp import CODEX_SERVICE, JSON, PROTOBUF, log_record, logs_request, otlp_json, post, stored

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SESSIONS = ["sess-1", "sess-2"]


@attrs.define
class Target:
    store: object = None

    def insert_many(self, events):
        return self.store.insert_many(events)


@pytest.fixture(scope="module")
def target() -> Iterator[tuple[OtlpServer, Target]]:
    holder = Target()
    with OtlpServer(holder.insert_many, machine_id=MACHINE, port=0) as server:
        yield server, holder


counts = st.integers(0, 2_000_000)
number = st.one_of(counts, counts.map(str))  # Claude Code sends decimal strings
moments = st.integers(0, 600).map(lambda s: T0 + timedelta(seconds=s))


def _stamp(ts: datetime) -> str:
    return ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@st.composite
def claude_api(draw):
    attributes = {
        "session.id": draw(st.sampled_from(SESSIONS)),
        "event.name": "api_request",
        "event.timestamp": _stamp(draw(moments)),
        "model": draw(st.sampled_from(["claude-opus-4-6", "claude-sonnet-4-5", "unknown-model"])),
        "input_tokens": draw(number),
        "output_tokens": draw(number),
        "cache_read_tokens": draw(number),
        "cache_creation_tokens": draw(number),
    }
    request_id = draw(st.sampled_from(["req_a", "req_b", "req_c", None]))
    if request_id:
        attributes["request_id"] = request_id
    if draw(st.booleans()):
        attributes["cost_usd"] = draw(st.floats(0, 50, allow_nan=False).map(repr))
    return ("claude", log_record("claude_code.api_request", attributes))


@st.composite
def claude_other(draw):
    session = draw(st.sampled_from(SESSIONS))
    when = _stamp(draw(moments))
    if draw(st.booleans()):
        attributes = {
            "session.id": session,
            "event.name": "user_prompt",
            "event.timestamp": when,
            "prompt.id": draw(st.sampled_from(["p1", "p2"])),
            "prompt": draw(st.sampled_from(["hello", "run the tests", "<REDACTED>"])),
        }
        return ("claude", log_record("claude_code.user_prompt", attributes))
    attributes = {
        "session.id": session,
        "event.name": "tool_result",
        "event.timestamp": when,
        "tool_name": draw(st.sampled_from(["Bash", "Edit"])),
        "tool_use_id": draw(st.sampled_from(["toolu_1", "toolu_2"])),
        "success": draw(st.sampled_from(["true", "false"])),
        "duration_ms": draw(number),
    }
    return ("claude", log_record("claude_code.tool_result", attributes))


@st.composite
def codex_usage(draw):
    total = draw(counts)
    attributes = {
        "event.name": "codex.sse_event",
        "event.kind": "response.completed",
        "event.timestamp": _stamp(draw(moments)),
        "conversation.id": draw(st.sampled_from(SESSIONS)),
        "model": "gpt-5.2-codex",
        "input_token_count": total,
        "cached_token_count": draw(st.integers(0, total)),
        "output_token_count": draw(counts),
    }
    return ("codex", log_record(None, attributes))


records = st.lists(st.one_of(claude_api(), claude_other(), codex_usage()), min_size=1, max_size=12)


def _requests(items):
    """One request per service, as each agent exports its own."""
    out = []
    for service, name in (("claude", "claude-code"), ("codex", CODEX_SERVICE)):
        group = [r for s, r in items if s == service]
        if group:
            out.append(logs_request(group, service=name))
    return out


def _deliver(url, request, encoding):
    if encoding == "json":
        return post(url, otlp_json(request), JSON)
    return post(url, request.SerializeToString(), PROTOBUF, gzipped=encoding == "gzip")


def _result(server, holder, deliveries):
    store = open_storage("memory://")
    holder.store = store
    try:
        for request, encoding in deliveries:
            assert _deliver(server.url + "/v1/logs", request, encoding).status == 200
        sessions = [store.get_session_by_key(MACHINE, s) for s in SESSIONS]
        return stored(store), sessions
    finally:
        store.close()


@settings(deadline=None)
@given(
    items=records,
    order=st.randoms(use_true_random=False),
    cuts=st.lists(st.integers(0, 12), max_size=4),
    encodings=st.lists(st.sampled_from(["protobuf", "json", "gzip"]), min_size=6, max_size=6),
    repeat=st.booleans(),
)
def test_any_split_and_order_stores_the_same(target, items, order, cuts, encodings, repeat):
    server, holder = target
    expected = _result(server, holder, [(r, "protobuf") for r in _requests(items)])

    shuffled = list(items)
    order.shuffle(shuffled)
    if repeat:  # an exporter retrying a batch
        shuffled += shuffled[: len(shuffled) // 2]
    bounds = sorted({0, len(shuffled), *(c for c in cuts if c < len(shuffled))})
    chunks = [shuffled[a:b] for a, b in itertools.pairwise(bounds)]
    deliveries = [
        (request, encodings[i % len(encodings)])
        for i, chunk in enumerate(chunks)
        for request in _requests(chunk)
    ]
    assert _result(server, holder, deliveries) == expected
