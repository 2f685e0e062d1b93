"""Points in time as people type them: ``--since`` / ``--until`` values.

Accepted forms (the result is always a timezone-aware UTC ``datetime``):

* an ISO date, ``2026-01-31``: midnight local time at the start of that day;
* an ISO date and time, ``2026-01-31T14:30`` or ``2026-01-31 14:30:05``: local time
  when it has no offset, else as given (``2026-01-31T14:30Z``, ``...+02:00``);
* a duration (``30m``, ``2h``, ``3d``, ``1w``, ``1d12h``, see ``parse_duration``):
  that long before now;
* ``now``, ``today`` (local midnight) and ``yesterday`` (the local midnight before).

Anything else raises :class:`TimeParseError` with examples.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from ._durations import parse_duration
from ._errors import ConfigError, DurationError

__all__ = ["TIME_EXAMPLES", "TimeParseError", "parse_time"]

TIME_EXAMPLES = "use a date (2026-01-31), a local or offset time (2026-01-31T14:30, 2026-01-31T14:30Z) or a duration ago (2h, 3d, 1w)"

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DURATION = re.compile(r"\d+\s*[a-zA-Z]")


class TimeParseError(ConfigError, ValueError):
    """A time value such as ``--since 2d`` cannot be read."""


def _local_midnight(day: date, tz: tzinfo | None) -> datetime:
    naive = datetime.combine(day, time())
    return _localize(naive, tz)


def _localize(naive: datetime, tz: tzinfo | None) -> datetime:
    # ``astimezone`` on a naive value interprets it in the system's local zone.
    aware = naive.replace(tzinfo=tz) if tz is not None else naive.astimezone()
    return aware.astimezone(UTC)


def parse_time(text: str, *, now: datetime | None = None, tz: tzinfo | None = None) -> datetime:
    """``text`` as a UTC datetime; ``now`` and ``tz`` (default: the local zone) for tests."""
    if not isinstance(text, str):
        raise TimeParseError(
            f"time must be a string, got {type(text).__name__}", hint=TIME_EXAMPLES
        )
    raw = text.strip()
    if not raw:
        raise TimeParseError("empty time value", hint=TIME_EXAMPLES)
    current = (now or datetime.now(UTC)).astimezone(UTC)
    word = raw.lower()
    if word == "now":
        return current
    if word in ("today", "yesterday"):
        local_now = current.astimezone(tz) if tz is not None else current.astimezone()
        day = local_now.date() - timedelta(days=1 if word == "yesterday" else 0)
        return _local_midnight(day, tz)
    if _DATE.fullmatch(raw):
        try:
            return _local_midnight(date.fromisoformat(raw), tz)
        except ValueError:
            raise TimeParseError(f"invalid date {text!r}", hint=TIME_EXAMPLES) from None
    if _DATE.match(raw):
        iso = raw[:-1] + "+00:00" if raw[-1] in "zZ" else raw
        try:
            parsed = datetime.fromisoformat(iso)
        except ValueError:
            raise TimeParseError(f"invalid date and time {text!r}", hint=TIME_EXAMPLES) from None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            return _localize(parsed, tz)
        return parsed.astimezone(UTC)
    if _DURATION.match(raw) or raw.startswith("-") or raw.isdigit():
        try:
            return current - parse_duration(raw)
        except DurationError as exc:
            raise TimeParseError(f"cannot read time {text!r}: {exc}", hint=TIME_EXAMPLES) from None
    raise TimeParseError(f"cannot read time {text!r}", hint=TIME_EXAMPLES)
