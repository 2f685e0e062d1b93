"""OTel and transcripts report the same API responses: do the totals agree?

For each real transcript in ``shared/samples`` the test builds the
``claude_code.api_request`` records Claude Code would have exported for its API
responses (same session, tokens, model, ``request_id``; ``cost_usd`` is Claude's own
estimate, taken here as the price of the same usage) and compares:

* OTel only vs transcript only: the totals must be equal;
* OTel and transcript ingested together: equal only if both name a response with one
  identity. The transcript reader keys a response ``api:<message.id>:<requestId>``;
  the OTel record carries ``request_id`` but no message id: both have the billing
  key ``request:<requestId>`` (``netsky_core.storage.billing``), so the response is
  billed once, by the transcript's version.

Codex the same way: OTel ``codex.sse_event`` usage has no id shared with the
rollout (whose usage is keyed by the cumulative total), so together they double.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from netsky_core import EventQuery, EventType, open_storage
from netsky_core.ingest.scan import Source, ingest
from netsky_core.otel import OtlpServer
from netsky_core.storage.versions import content

from .conftest import MACHINE, SAMPLES
from .otlp import CODEX_SERVICE, claude_api_request, codex_response, logs_request, post, totals

CLAUDE_FILES = (
    sorted((SAMPLES / "claude" / "projects").rglob("*.jsonl")) if SAMPLES.is_dir() else []
)
CODEX_FILES = sorted((SAMPLES / "codex" / "sessions").rglob("*.jsonl")) if SAMPLES.is_dir() else []
pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples is absent")

NEEDED = (
    "one billing identity for an Anthropic response across sources: the transcript's "
    "api:<message.id>:<requestId> and OTel's api_request:<request_id> must be billed once, "
    "keyed on requestId (metadata.request_id on both), since claude_code.api_request "
    "carries no message id"
)
NEEDED_CODEX = (
    "an id shared by a Codex rollout's token_count step and OTel's codex.sse_event "
    "response.completed; Codex exports none (the rollout keys usage by the cumulative total)"
)


def _transcript_store(path: Path, kind: str, url: str):
    store = open_storage(url)
    ingest(store, [Source(str(path), kind)], machine_id=MACHINE)
    return store


def _api_events(store) -> list:
    query = EventQuery().with_event_type(EventType.API_REQUEST).with_limit(100_000)
    return store.query(query)


def _post_all(store, records, *, service: str) -> None:
    with OtlpServer(store.insert_many, machine_id=MACHINE, port=0) as server:
        # in a few requests, as an exporter batches them
        for i in range(0, len(records), 5):
            body = logs_request(records[i : i + 5], service=service).SerializeToString()
            assert post(server.url + "/v1/logs", body).status == 200


def _session_totals(store, sessions) -> dict:
    return {s: totals(store.get_session_by_key(MACHINE, s)) for s in sorted(sessions)}


@pytest.fixture(params=["memory", "sqlite"])
def url(request, tmp_path):
    return "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/t.db"


def _check_claude(path: Path, url: str, *, both: bool) -> None:
    reference = _transcript_store(path, "claude", "memory://")
    responses = _api_events(reference)
    assert responses, "the sample has API responses"
    for e in responses:  # every response carries the id Claude's OTel record repeats
        assert orjson.loads(e.metadata)["request_id"]
    sessions = {e.session_id for e in responses}
    expected = _session_totals(reference, sessions)
    reference.close()

    store = _transcript_store(path, "claude", url) if both else open_storage(url)
    try:
        _post_all(store, [claude_api_request(e) for e in responses], service="claude-code")
        assert _session_totals(store, sessions) == expected
        held = store.query(
            EventQuery()
            .with_event_types([EventType.API_REQUEST, EventType.API_REQUEST_REPEATED])
            .with_limit(100_000)
        )
        otel = [e for e in held if e.source == "otel"]
        assert len(otel) == len(responses)
        # billed once: with the transcript read too, its version bills each response
        # and the OTel one is kept in the repeated form (same billing key: requestId)
        billed_here = {EventType.API_REQUEST_REPEATED if both else EventType.API_REQUEST}
        assert {e.event_type for e in otel} == billed_here
        by_request = {orjson.loads(e.metadata)["request_id"]: e for e in map(content, otel)}
        for e in responses:
            twin = by_request[orjson.loads(e.metadata)["request_id"]]
            assert twin.uuid == "api_request:" + orjson.loads(e.metadata)["request_id"]
            assert orjson.loads(twin.metadata)["message_id"] is None
    finally:
        store.close()


@pytest.mark.parametrize("path", CLAUDE_FILES, ids=lambda p: p.name[:8])
def test_claude_otel_only_totals_equal_transcript_only_totals(path, url):
    _check_claude(path, url, both=False)


@pytest.mark.parametrize("path", CLAUDE_FILES, ids=lambda p: p.name[:8])
def test_claude_otel_and_transcript_together_bill_each_response_once(path, url):
    _check_claude(path, url, both=True)


def test_claude_otel_without_cost_is_priced_from_tokens(url):
    """Without ``cost_usd`` the price table prices the usage (no 5m/1h split in OTel)."""
    path = (
        SAMPLES
        / "claude/projects/-Users-philipp-dev-studio/609efeca-2f51-4118-b077-e91c9fe63f73.jsonl"
    )
    reference = _transcript_store(path, "claude", "memory://")
    responses = _api_events(reference)
    # this sample writes only 5-minute cache entries, so OTel's total prices the same
    assert all(orjson.loads(e.metadata).get("cache_write_1h") == 0 for e in responses)
    expected = _session_totals(reference, {e.session_id for e in responses})
    reference.close()
    store = open_storage(url)
    try:
        _post_all(
            store, [claude_api_request(e, cost=False) for e in responses], service="claude-code"
        )
        got = _session_totals(store, expected)
        assert got.keys() == expected.keys()
        for session, values in expected.items():
            assert got[session]["cost_picousd"] == pytest.approx(values["cost_picousd"], rel=1e-9)
            assert {k: v for k, v in got[session].items() if k != "cost_picousd"} == {
                k: v for k, v in values.items() if k != "cost_picousd"
            }
    finally:
        store.close()


def _check_codex(path: Path, url: str, *, both: bool) -> None:
    reference = _transcript_store(path, "codex", "memory://")
    steps = _api_events(reference)
    assert steps
    sessions = {e.session_id for e in steps}
    expected = _session_totals(reference, sessions)
    reference.close()
    store = _transcript_store(path, "codex", url) if both else open_storage(url)
    try:
        _post_all(store, [codex_response(e) for e in steps], service=CODEX_SERVICE)
        assert _session_totals(store, sessions) == expected
    finally:
        store.close()


@pytest.mark.parametrize("path", CODEX_FILES, ids=lambda p: p.name[-14:-6])
def test_codex_otel_only_totals_equal_rollout_only_totals(path, url):
    _check_codex(path, url, both=False)


@pytest.mark.xfail(strict=True, reason=NEEDED_CODEX)
@pytest.mark.parametrize("path", CODEX_FILES, ids=lambda p: p.name[-14:-6])
def test_codex_otel_and_rollout_together_bill_each_step_once(path, url):
    _check_codex(path, url, both=True)
