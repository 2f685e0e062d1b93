"""Redacting credentials from payloads at ingest (``[ingest] redact = true``).

Each match is replaced by ``[REDACTED:<kind>]`` inside the JSON text, so payloads stay
valid JSON (no pattern can match a quote or a backslash). The patterns:

==================  ============================================================
kind                what it matches
==================  ============================================================
anthropic-key       ``sk-ant-...`` API keys
openai-key          ``sk-...`` / ``sk-proj-...`` keys (20+ characters)
aws-access-key      ``AKIA`` / ``ASIA`` + 16 upper-case letters or digits
github-token        ``ghp_``, ``gho_``, ``ghu_``, ``ghs_``, ``ghr_`` tokens and ``github_pat_``
gitlab-token        ``glpat-`` tokens
slack-token         ``xoxb-``, ``xoxp-``, ``xoxa-``, ``xoxr-``, ``xoxs-`` tokens
google-api-key      ``AIza`` + 35 characters
stripe-key          ``sk_live_`` / ``rk_live_`` keys
jwt                 three base64url segments starting ``eyJ``
bearer              ``Bearer <token>`` (the token)
private-key         ``-----BEGIN ... PRIVATE KEY-----`` blocks (to the END line)
url-password        the password in ``scheme://user:password@host``
assignment          the value in ``password=...``, ``secret: ...``, ``api_key=...``,
                    ``token=...``, ``access_key ...`` (8+ characters, unquoted)
==================  ============================================================

``redact_patterns`` in the config file adds regular expressions (their whole match is
replaced, kind ``custom``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import partial

__all__ = ["PATTERNS", "Redactor"]

_V = r"[^\s\"\\]"  # a character a secret may contain inside JSON text
PATTERNS: tuple[tuple[str, str], ...] = (
    (
        "private-key",
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?:(?!-----END)[^\"\\]|\\[nr])*-----END [A-Z ]*PRIVATE KEY-----",
    ),
    ("anthropic-key", r"sk-ant-[A-Za-z0-9_\-]{20,}"),
    ("openai-key", r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_\-]{20,}"),
    ("stripe-key", r"\b[rs]k_live_[A-Za-z0-9]{16,}"),
    ("aws-access-key", r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    ("github-token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
    ("gitlab-token", r"\bglpat-[A-Za-z0-9_\-]{20,}"),
    ("slack-token", r"\bxox[abprs]-[A-Za-z0-9\-]{10,}"),
    ("google-api-key", r"\bAIza[A-Za-z0-9_\-]{35}"),
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    ("bearer", r"(?<=[Bb]earer )[A-Za-z0-9_\-\.=:/+]{16,}"),
    ("url-password", r"(?<=://)(?:[^\s:/@\"\\]+):([^\s/@\"\\]{1,})(?=@)"),
    (
        "assignment",
        r"(?i)(?:password|passwd|secret|api[_-]?key|access[_-]?key|auth[_-]?token|token)"
        r"(?:\\\")?\s*[:=]\s*(?!\[REDACTED)(" + _V + r"{8,})",
    ),
)


class Redactor:
    """Applies the patterns (and ``extra`` user patterns) to payload text."""

    def __init__(self, extra: Iterable[str] = ()) -> None:
        compiled = [(kind, re.compile(pattern)) for kind, pattern in PATTERNS]
        for pattern in extra:
            try:
                compiled.append(("custom", re.compile(pattern)))
            except re.error as exc:
                from .._errors import ConfigError

                raise ConfigError(
                    f"invalid [ingest] redact_patterns entry {pattern!r}: {exc}"
                ) from None
        self._patterns = compiled

    def redact(self, text: str) -> str:
        """``text`` with every credential replaced by ``[REDACTED:<kind>]``."""
        for kind, pattern in self._patterns:
            if pattern.groups:
                text = pattern.sub(partial(_replace_group, kind=kind), text)
            else:
                text = pattern.sub(f"[REDACTED:{kind}]", text)
        return text


def _replace_group(match: re.Match[str], kind: str) -> str:
    whole = match.group(0)
    start, end = match.span(1)
    offset = match.start(0)
    return whole[: start - offset] + f"[REDACTED:{kind}]" + whole[end - offset :]
