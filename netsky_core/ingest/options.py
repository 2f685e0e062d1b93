"""Ingest settings from the config file (``[ingest]`` and ``[pricing]``)."""

from __future__ import annotations

from typing import Any

from .._config import Config


def ingest_options(config: Config) -> dict[str, Any]:
    """Keyword arguments for ``scan.ingest`` / ``scan.discover`` from the config."""
    from .pricing import PriceTable

    section = config.section("ingest")
    pricing = config.section("pricing")
    prices = PriceTable.load(pricing.get("models"), path=pricing.get("file"))
    redact = None
    if section.get("redact"):
        from .redact import Redactor

        redact = Redactor(extra=section.get("redact_patterns", [])).redact
    return {
        "prices": prices,
        "store_payloads": bool(section.get("store_payloads", True)),
        "redact": redact,
        "claude_dirs": list(section.get("claude_dirs", [])),
        "codex_dirs": list(section.get("codex_dirs", [])),
    }
