"""Time zones and calendar days: what ``--since / --until / --timezone`` of reports mean."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .._errors import ConfigError
from ._errors import TimezoneError

__all__ = ["DateError", "day_range", "parse_day", "zone"]

_DAY = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


class DateError(ConfigError, ValueError):
    """A report date is not a calendar day (``2026-01-31`` or ``20260131``)."""


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; :class:`TimezoneError` when it is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise TimezoneError(
            f"unknown time zone {name!r}",
            hint="use an IANA name such as UTC, Europe/Berlin or America/New_York",
        ) from None


def parse_day(text: str, option: str = "date", timezone: str | None = None) -> date:
    """A report day: ``2026-01-31`` or ``20260131``, or any time value the other
    commands take (``today``, ``yesterday``, ``7d``, ``2026-01-31T14:30``, see
    ``netsky_core._timeparse``), as the day it falls on in ``timezone`` (default: the
    system's zone). :class:`DateError` otherwise."""
    from .._timeparse import TimeParseError, parse_time

    match = _DAY.fullmatch(text.strip())
    if match is None:
        tz = zone(timezone) if timezone else None
        try:
            moment = parse_time(text, tz=tz)
        except TimeParseError:
            raise DateError(
                f"{option} {text!r} is not a date or a time",
                hint="use a day such as 2026-01-31, today or yesterday, a time such as "
                "2026-01-31T14:30, or a duration ago such as 7d, 2h, 1w",
            ) from None
        return (moment.astimezone(tz) if tz is not None else moment.astimezone()).date()
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError as exc:
        raise DateError(f"{option} {text!r} is not a valid date: {exc}") from None


def day_range(
    first: date | None, last: date | None, tz: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """``[first 00:00, last + 1 day 00:00)`` in ``tz``, as UTC instants (inclusive days)."""
    if first is not None and last is not None and last < first:
        raise DateError(f"--until {last.isoformat()} is before --since {first.isoformat()}")
    since = None if first is None else datetime.combine(first, time(), tz).astimezone(UTC)
    until = (
        None
        if last is None
        else datetime.combine(last + timedelta(days=1), time(), tz).astimezone(UTC)
    )
    return since, until
