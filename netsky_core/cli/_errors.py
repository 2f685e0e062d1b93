"""CLI-only errors: usage mistakes exit 2, everything else 1."""

from __future__ import annotations

from .._errors import NetskyError


class UsageError(NetskyError):
    """The command line is wrong (exit code 2)."""
