"""Values as ccusage 20.0.24 reads them: token counts, numbers, strings, timestamps, the
rule for a larger ``total``, the token counts of one usage record (``Tokens``), JSON."""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from typing import Any

import attrs
import orjson

from ..ingest.pricing import Usage

__all__ = [
    "Tokens",
    "content_id",
    "count",
    "decode_json",
    "json_text",
    "mapping",
    "number",
    "parse_iso",
    "parse_time",
    "text",
    "total_fallback",
]


def count(value: Any) -> int:
    """A token count as ccusage reads it: a finite number, truncated, at least 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    if isinstance(value, float):
        if not math.isfinite(value):
            return 0
        value = int(value)
    return value if value > 0 else 0


def number(value: Any) -> float | None:
    """A finite JSON number as a float, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def mapping(value: Any) -> dict[str, Any]:
    """A JSON object as itself; anything else as an empty dict."""
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str | None:
    """A non-empty (after strip) string, else None."""
    if isinstance(value, str) and value.strip():
        return value
    return None


_EPOCH_MS_LIMIT = 1e12


def parse_time(value: Any, *, unit: str = "auto") -> datetime | None:
    """An aware UTC datetime from an ISO-8601 string or an epoch number.

    ``unit``: ``s`` or ``ms`` for numbers; ``auto`` takes numbers above 1e12 as
    milliseconds (as ccusage does). Unparseable values give None.
    """
    if isinstance(value, str):
        raw = value.strip()
        if not raw:
            return None
        try:
            parsed = datetime.fromisoformat(raw[:-1] + "+00:00" if raw[-1:] in "zZ" else raw)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    seconds = number(value)
    if seconds is None:
        return None
    if unit == "ms" or (unit == "auto" and seconds > _EPOCH_MS_LIMIT):
        seconds = math.trunc(seconds) / 1000.0
    millis = math.trunc(seconds * 1000)
    if millis <= 0:
        return None
    try:
        return datetime.fromtimestamp(millis / 1000.0, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def parse_iso(value: Any) -> datetime | None:
    """An ISO-8601 timestamp string as an aware UTC datetime; anything else None."""
    return parse_time(value) if isinstance(value, str) else None


def total_fallback(known: int, output: int, extra: int, total: int) -> tuple[int, int]:
    """ccusage's rule for a reported ``total`` larger than the parts it knows.

    ``known`` is input + output + cache writes + cache reads. The missing tokens go to
    output when output is 0, else to the extra (reasoning) count. Returns the new
    ``(output, extra)``.
    """
    missing = total - known - extra
    if missing <= 0:
        return output, extra
    if output == 0:
        return missing, extra
    return output, extra + missing


@attrs.frozen(kw_only=True)
class Tokens:
    """The token counts of one usage record. ``extra`` is reasoning (or what a ``total``
    adds) reported apart from output; a cache count the agent does not report is None."""

    input: int = 0
    output: int = 0
    cache_read: int | None = 0
    cache_write: int | None = 0
    extra: int = 0

    @classmethod
    def read(
        cls,
        *,
        input: Any,
        output: Any,
        cache_read: Any = 0,
        cache_write: Any = 0,
        extra: Any = 0,
        total: Any = 0,
    ) -> Tokens:
        """Counts of JSON values (``count``), with ccusage's rule for a larger ``total``."""
        tok = cls(
            input=count(input),
            output=count(output),
            cache_read=count(cache_read),
            cache_write=count(cache_write),
        )
        out, extra_count = total_fallback(tok.known, tok.output, count(extra), count(total))
        return attrs.evolve(tok, output=out, extra=extra_count)

    @property
    def known(self) -> int:
        """Input, output and both cache counts (not ``extra``)."""
        return self.input + self.output + (self.cache_read or 0) + (self.cache_write or 0)

    def __bool__(self) -> bool:
        return bool(self.known or self.extra)

    def usage(self, *, price_extra: bool = True) -> Usage:
        """What is priced: ``extra`` as output unless ``price_extra`` is false."""
        return Usage(
            input=self.input,
            output=self.output + (self.extra if price_extra else 0),
            cache_read=self.cache_read or 0,
            cache_write=self.cache_write or 0,
        )


def content_id(*parts: Any) -> str:
    """A short stable hash of ``parts`` (JSON-encoded), for ids built from content."""
    raw = orjson.dumps(parts, option=orjson.OPT_NON_STR_KEYS)
    return hashlib.blake2b(raw, digest_size=12).hexdigest()


def json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def decode_json(data: bytes | str) -> Any:
    """JSON value of ``data``; ValueError when it is not JSON text."""
    try:
        return orjson.loads(data)
    except (orjson.JSONDecodeError, TypeError, RecursionError) as exc:
        raise ValueError(str(exc)) from None
