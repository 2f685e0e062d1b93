"""Durations such as ``30d``, ``12h``, ``1w`` and ``1d12h``.

Units: ``s`` seconds, ``m`` minutes, ``h`` hours, ``d`` days, ``w`` weeks. A bare
number, a month or year unit, a negative or a repeated unit is an error, because each
of them has more than one plausible meaning.
"""

from __future__ import annotations

import re
from datetime import timedelta

from ._errors import DurationError

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"\s*(\d+)\s*([a-zA-Z]+)\s*")
_EXAMPLES = "use a number with a unit: 30d, 12h, 1w, 1d12h (units s m h d w)"


def parse_duration(text: str, *, allow_zero: bool = False) -> timedelta:
    """Parse ``text`` into a ``timedelta``; raise ``DurationError`` with a hint."""
    if not isinstance(text, str):
        raise DurationError(f"duration must be a string, got {type(text).__name__}", hint=_EXAMPLES)
    raw = text.strip()
    if not raw:
        raise DurationError("empty duration", hint=_EXAMPLES)
    if raw.startswith("-"):
        raise DurationError(f"negative duration {text!r}", hint=_EXAMPLES)
    if raw.isdigit():
        raise DurationError(f"duration {text!r} has no unit", hint=_EXAMPLES)
    total = 0
    seen: set[str] = set()
    pos = 0
    while pos < len(raw):
        match = _PART.match(raw, pos)
        if match is None:
            raise DurationError(f"cannot read duration {text!r}", hint=_EXAMPLES)
        number, unit = match.groups()
        if unit in ("M", "mo", "mon", "month", "months", "y", "yr", "year", "years"):
            raise DurationError(
                f"duration {text!r} uses months or years, which have no fixed length",
                hint="write it in days or weeks, e.g. 30d or 52w",
            )
        if unit not in _UNITS:
            raise DurationError(f"unknown unit {unit!r} in duration {text!r}", hint=_EXAMPLES)
        if unit in seen:
            raise DurationError(f"unit {unit!r} repeated in duration {text!r}", hint=_EXAMPLES)
        seen.add(unit)
        total += int(number) * _UNITS[unit]
        pos = match.end()
    if total == 0 and not allow_zero:
        raise DurationError(f"duration {text!r} is zero", hint=_EXAMPLES)
    return timedelta(seconds=total)


def format_duration(value: timedelta) -> str:
    """The shortest ``parse_duration`` spelling of a whole-second duration."""
    seconds = int(value.total_seconds())
    if seconds < 0:
        raise DurationError("negative duration")
    if seconds == 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size:
            count, seconds = divmod(seconds, size)
            parts.append(f"{count}{unit}")
    return "".join(parts)
