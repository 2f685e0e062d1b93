"""``netsky_core._timeparse.parse_time``: the ``--since`` / ``--until`` values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from netsky_core import ConfigError
from netsky_core._timeparse import TimeParseError, parse_time

NOW = datetime(2026, 3, 10, 15, 30, 0, tzinfo=UTC)
NY = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")


def p(text: str, tz: ZoneInfo = NY) -> datetime:
    return parse_time(text, now=NOW, tz=tz)


def test_dates_are_local_midnight() -> None:
    assert p("2026-01-31") == datetime(2026, 1, 31, 5, tzinfo=UTC)  # EST, UTC-5
    assert p("2026-07-01") == datetime(2026, 7, 1, 4, tzinfo=UTC)  # EDT, UTC-4
    assert p("2026-01-31", TOKYO) == datetime(2026, 1, 30, 15, tzinfo=UTC)
    assert p("2024-02-29", ZoneInfo("UTC")) == datetime(2024, 2, 29, tzinfo=UTC)


def test_naive_datetimes_are_local() -> None:
    assert p("2026-01-31T14:30") == datetime(2026, 1, 31, 19, 30, tzinfo=UTC)
    assert p("2026-01-31 14:30:05") == datetime(2026, 1, 31, 19, 30, 5, tzinfo=UTC)
    assert p("2026-01-31T14:30:05.123456") == datetime(2026, 1, 31, 19, 30, 5, 123456, tzinfo=UTC)


def test_offsets_are_kept() -> None:
    assert p("2026-01-31T14:30Z") == datetime(2026, 1, 31, 14, 30, tzinfo=UTC)
    assert p("2026-01-31T14:30z") == datetime(2026, 1, 31, 14, 30, tzinfo=UTC)
    assert p("2026-01-31T14:30:00+02:00") == datetime(2026, 1, 31, 12, 30, tzinfo=UTC)
    assert p("2026-01-31T14:30:00-08:00", TOKYO) == datetime(2026, 1, 31, 22, 30, tzinfo=UTC)
    assert p("2026-01-31T14:30:00+00:00").tzinfo is UTC


def test_durations_ago() -> None:
    assert p("2h") == NOW - timedelta(hours=2)
    assert p("3d") == NOW - timedelta(days=3)
    assert p("1w") == NOW - timedelta(weeks=1)
    assert p("1d12h") == NOW - timedelta(hours=36)
    assert p(" 90m ") == NOW - timedelta(minutes=90)


def test_words() -> None:
    assert p("now") == NOW
    assert p("today") == datetime(2026, 3, 10, 4, tzinfo=UTC)  # EDT since 2026-03-08
    # yesterday was 2026-03-09, also EDT; the day before the switch is 23 hours long
    assert p("yesterday") == datetime(2026, 3, 9, 4, tzinfo=UTC)
    monday = datetime(2026, 3, 9, 15, tzinfo=UTC)
    assert parse_time("yesterday", now=monday, tz=NY) == datetime(2026, 3, 8, 5, tzinfo=UTC)
    late = datetime(2026, 3, 10, 23, 0, tzinfo=UTC)  # already the 11th in Tokyo
    assert parse_time("today", now=late, tz=TOKYO) == datetime(2026, 3, 10, 15, tzinfo=UTC)


def test_without_tz_uses_the_system_zone() -> None:
    value = parse_time("2026-01-31")
    assert value.tzinfo is UTC
    assert value == datetime(2026, 1, 31).astimezone().astimezone(UTC)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ",
        "abc",
        "30",
        "-5d",
        "0d",
        "1mo",
        "1y",
        "5x",
        "2026-13-01",
        "2026-02-30",
        "2026-01-31T25:00",
        "2026-1-3",
        "31/01/2026",
        "last week",
        "2h ago",
    ],
)
def test_nonsense_is_refused_with_examples(text: str) -> None:
    with pytest.raises(TimeParseError) as info:
        p(text)
    assert isinstance(info.value, ConfigError) and isinstance(info.value, ValueError)
    assert "2026-01-31" in (info.value.hint or "")
    assert "3d" in (info.value.hint or "")


def test_not_a_string() -> None:
    with pytest.raises(TimeParseError):
        parse_time(5)  # type: ignore[arg-type]
