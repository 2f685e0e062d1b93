"""Ingest settings from the config file (``[ingest]`` and ``[pricing]``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._config import Config


def redactor(config: Config) -> Callable[[str], str] | None:
    """The credential redaction function when ``[ingest] redact = true``."""
    section = config.section("ingest")
    if not section.get("redact"):
        return None
    from .redact import Redactor

    return Redactor(extra=section.get("redact_patterns", [])).redact


def ingest_options(config: Config) -> dict[str, Any]:
    """Keyword arguments for ``scan.ingest`` / ``scan.discover`` from the config."""
    from .pricing import PriceTable

    section = config.section("ingest")
    pricing = config.section("pricing")
    prices = PriceTable.load(pricing.get("models"), path=pricing.get("file"))
    redact = redactor(config)
    return {
        "prices": prices,
        "store_payloads": bool(section.get("store_payloads", True)),
        "redact": redact,
        "claude_dirs": list(section.get("claude_dirs", [])),
        "codex_dirs": list(section.get("codex_dirs", [])),
    }
