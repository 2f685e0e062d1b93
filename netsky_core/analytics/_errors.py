"""Errors of the analytics layer (all ``NetskyError`` subclasses)."""

from __future__ import annotations

from .._errors import ConfigError, NetskyError

__all__ = ["AnalyticsError", "QueryError", "ReadOnlyQueryError", "TimezoneError"]


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (DuckDB's messages span several)."""
    return " ".join(str(exc).split())


class AnalyticsError(NetskyError):
    """Analytics could not do what was asked."""


class QueryError(AnalyticsError):
    """DuckDB rejected a query (the message is DuckDB's, on one line)."""


class ReadOnlyQueryError(QueryError):
    """A statement that would write was refused: analytics SQL is read-only."""


class TimezoneError(ConfigError):
    """A time zone name is not known."""
