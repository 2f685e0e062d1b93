"""``netsky serve --otlp`` as a real subprocess: requests built with the official
protobuf classes, posted over loopback, stored, and reported equal to the same
session's transcript ingest; a non-loopback bind needs a token; 413 for big bodies."""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

import pytest

from netsky_core import EventQuery, EventType, open_storage
from netsky_core.ingest.scan import Source, ingest
from tests.netsky_cli import Netsky, assert_one_line_error

from .conftest import SAMPLES
from .otlp import PROTOBUF, claude_api_request, logs_request, otlp_json, post, totals

MACHINE = "test-machine"  # what the Netsky runner sets as NETSKY_MACHINE_ID
CLAUDE = sorted((SAMPLES / "claude" / "projects").glob("*/*.jsonl")) if SAMPLES.is_dir() else []


def _start(netsky: Netsky, *args: str) -> tuple[subprocess.Popen[str], str]:
    proc = netsky.popen(*args, "serve", "--otlp", "--port", "0")
    assert proc.stderr is not None
    line = proc.stderr.readline()
    match = re.search(r"on (http://\S+)", line)
    assert match, (line, proc.poll())
    return proc, match.group(1)


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return err


@pytest.mark.skipif(not CLAUDE, reason="../shared/samples is absent")
def test_served_otel_equals_the_transcript_ingest(tmp_path: Path) -> None:
    path = CLAUDE[0]
    ref_url = f"sqlite:///{tmp_path}/ref.db"
    with open_storage(ref_url) as ref:
        ingest(ref, [Source(str(path), "claude")], machine_id=MACHINE)
        responses = ref.query(EventQuery().with_event_type(EventType.API_REQUEST).with_limit(10**5))
        sessions = sorted({e.session_id for e in responses})
        expected = {s: totals(ref.get_session_by_key(MACHINE, s)) for s in sessions}
    assert responses
    netsky = Netsky(tmp_path)
    url = f"sqlite:///{tmp_path}/served.db"
    proc, base = _start(netsky, "--db", url)
    try:
        records = [claude_api_request(e) for e in responses]
        half = len(records) // 2
        proto = logs_request(records[:half]).SerializeToString()
        assert post(base + "/v1/logs", proto, PROTOBUF).status == 200
        as_json = otlp_json(logs_request(records[half:]))
        assert post(base + "/v1/logs", as_json, "application/json").status == 200
        assert post(base + "/v1/logs", proto, PROTOBUF).status == 200  # a retry: kept once
        assert post(base + "/v1/logs", b"x" * (9 << 20), PROTOBUF).status == 413
    finally:
        err = _stop(proc)
    assert "claude_code" not in err and "session.id" not in err  # no payload logged
    with open_storage(url) as served:
        got = {s: totals(served.get_session_by_key(MACHINE, s)) for s in sessions}
        assert served.count() == len(responses)
        assert {e.source for e in served.query(EventQuery())} == {"otel"}
    assert got == expected
    # the same transcript ingested into the served store too: still billed once
    with open_storage(url) as served:
        ingest(served, [Source(str(path), "claude")], machine_id=MACHINE)
        both = {s: totals(served.get_session_by_key(MACHINE, s)) for s in sessions}
    assert both == expected


def test_a_non_loopback_bind_needs_a_token(tmp_path: Path) -> None:
    netsky = Netsky(tmp_path)
    result = netsky("--db", f"sqlite:///{tmp_path}/s.db", "serve", "--otlp", "--host", "0.0.0.0")
    assert_one_line_error(result, 1, "bearer token")


def test_serve_without_otlp_is_a_usage_error(tmp_path: Path) -> None:
    result = Netsky(tmp_path)("--db", f"sqlite:///{tmp_path}/s.db", "serve")
    assert_one_line_error(result, 2, "serve --otlp")


def test_a_configured_token_is_required(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    token = "t0ken-of-at-least-16-chars"
    config.write_text(f'[serve]\ntoken = "{token}"\n')
    netsky = Netsky(tmp_path)
    proc, base = _start(netsky, "--config", str(config), "--db", f"sqlite:///{tmp_path}/s.db")
    try:
        body = logs_request([]).SerializeToString()
        assert post(base + "/v1/logs", body, PROTOBUF).status == 401
        assert post(base + "/v1/logs", body, PROTOBUF, token=token).status == 200
    finally:
        _stop(proc)
