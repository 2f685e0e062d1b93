"""Where the current day, week and month began, in the report's time zone
(``[report] timezone``, else the system's), as UTC microseconds. Weeks start on
Monday, as in ``netsky report weekly``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

__all__ = ["period_starts", "zone_of"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def zone_of(name: str | None) -> tzinfo | None:
    """The named zone (None: the system's). An unknown name is a ``ConfigError``."""
    if not name:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        from .._errors import ConfigError

        raise ConfigError(
            f"[report] timezone: unknown time zone {name!r}",
            hint="use a name such as Europe/Berlin",
        ) from None


def _us(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def period_starts(now_us: int, zone: tzinfo | None = None) -> dict[str, int]:
    """``{"day": ..., "week": ..., "month": ...}``: when each period holding ``now_us``
    began (local midnight of its first day)."""
    now = (_EPOCH + timedelta(microseconds=now_us)).astimezone(zone)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)

    def start(day: datetime) -> int:  # the day's midnight, with that day's UTC offset
        local = datetime(day.year, day.month, day.day, tzinfo=zone)
        if zone is None:
            local = datetime(day.year, day.month, day.day).astimezone()
        return _us(local)

    return {
        "day": start(midnight),
        "week": start(midnight - timedelta(days=midnight.weekday())),
        "month": start(midnight.replace(day=1)),
    }
