"""Credential redaction at ingest: secrets go, JSON stays valid, the rest is kept."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netsky_core import ConfigError
from netsky_core.ingest.redact import Redactor

SECRETS = {
    "anthropic-key": "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "openai-key": "sk-proj-abcdefghijklmnopqrstuvwx12345",
    "aws-access-key": "AKIAIOSFODNN7EXAMPLE",
    "github-token": "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "gitlab-token": "glpat-abcdefghij0123456789",
    "slack-token": "xoxb-1234567890-abcdefghij",
    "google-api-key": "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    "stripe-key": "sk_live_abcdefghijklmnop1234",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
}


@pytest.mark.parametrize("kind", list(SECRETS))
def test_known_secrets_are_redacted_and_json_stays_valid(kind: str) -> None:
    secret = SECRETS[kind]
    payload = json.dumps(
        {"tool_input": {"command": f"export KEY={secret} && run --x", "note": "keep me"}}
    )
    out = Redactor().redact(payload)
    assert secret not in out
    assert "[REDACTED:" in out
    assert json.loads(out)["tool_input"]["note"] == "keep me"


def test_assignments_urls_bearer_and_private_keys() -> None:
    text = json.dumps(
        {
            "a": "password=hunter2hunter2 and api_key: abcdefgh12345678",
            "b": "psql postgresql://app:s3cretPassw0rd@db.example.com/prod",
            "c": "curl -H 'Authorization: Bearer abcdefghijklmnop1234567890'",
            "d": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
        }
    )
    out = Redactor().redact(text)
    for secret in (
        "hunter2hunter2",
        "abcdefgh12345678",
        "s3cretPassw0rd",
        "abcdefghijklmnop1234567890",
        "MIIEowIBAAKCAQEA",
    ):
        assert secret not in out, secret
    data = json.loads(out)
    assert data["b"].startswith("psql postgresql://app:") and "@db.example.com/prod" in data["b"]


def test_ordinary_text_is_untouched() -> None:
    text = json.dumps(
        {"prompt": "fix the failing test in src/app.py and run pytest -x; token count is 42"}
    )
    assert Redactor().redact(text) == text


def test_custom_patterns_and_bad_ones() -> None:
    assert (
        Redactor(extra=[r"ACME-[0-9]{6}"]).redact('{"x": "id ACME-123456"}')
        == '{"x": "id [REDACTED:custom]"}'
    )
    with pytest.raises(ConfigError):
        Redactor(extra=["(unclosed"])


@given(st.dictionaries(st.text(max_size=10), st.text(max_size=60), max_size=5))
def test_redacted_json_is_always_valid_json(data: dict) -> None:
    text = json.dumps(data)
    secret_text = json.dumps(
        {**data, "k": f"token={SECRETS['openai-key']} {SECRETS['github-token']}"}
    )
    assert json.loads(Redactor().redact(text)) is not None
    out = Redactor().redact(secret_text)
    assert SECRETS["openai-key"] not in out and SECRETS["github-token"] not in out
    json.loads(out)
