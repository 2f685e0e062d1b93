"""Project usage: API usage per working directory, git branch and 15 minutes.

What per-project and per-branch budgets read. A response counts under the working
directory (``cwd``) and git branch its own event carries (None when it names none),
so the rows follow from the events alone: a store keeps them with the events in the
same transaction as every insert, supersession, billing change, reprice and gc, by
the rule of :func:`project_deltas`, as it keeps the usage buckets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import attrs

from .._records import Event, EventType
from .._results import ProjectUsage
from .fold import PICO
from .usage import usage_window

__all__ = [
    "PROJECT_USAGE_FIELDS",
    "PROJECT_USAGE_SUMS",
    "ProjectKey",
    "apply_project_usage",
    "project_deltas",
]

PROJECT_USAGE_FIELDS: tuple[str, ...] = tuple(f.name for f in attrs.fields(ProjectUsage))
"""Project usage fields a backend persists: the key (project, branch, start) then the sums."""

PROJECT_USAGE_SUMS: tuple[str, ...] = PROJECT_USAGE_FIELDS[3:]
"""The summed fields, in the order of a delta list."""

ProjectKey = tuple["str | None", "str | None", datetime]

_API = EventType.API_REQUEST
_N = len(PROJECT_USAGE_SUMS)


def project_deltas(changes: Iterable[tuple[int, Iterable[Event]]]) -> dict[ProjectKey, list[int]]:
    """What signed sets of events do to the project usage rows.

    ``changes`` is ``(sign, events)`` pairs (1: added to the kept set, -1: removed).
    Per key ``(cwd, git_branch, window start)`` a list of :data:`PROJECT_USAGE_SUMS`
    to add. Only ``ApiRequest`` events count (a response billed elsewhere is an
    ``ApiRequestRepeated``); an empty cwd or branch counts as None.
    """
    out: dict[ProjectKey, list[int]] = {}
    for sign, events in changes:
        for e in events:
            if e.event_type != _API:
                continue
            key = (e.cwd or None, e.git_branch or None, usage_window(e.timestamp))
            d = out.get(key)
            if d is None:
                d = out[key] = [0] * _N
            d[0] += sign
            d[2] += sign * (
                (e.tokens_input or 0)
                + (e.tokens_output or 0)
                + (e.tokens_cache_read or 0)
                + (e.tokens_cache_write or 0)
                + (e.tokens_reasoning or 0)
            )
            if e.cost_usd is not None:
                d[1] += sign
                d[3] += sign * round(e.cost_usd * PICO)
    return {k: v for k, v in out.items() if any(v)}


def apply_project_usage(
    row: ProjectUsage | None, key: ProjectKey, delta: list[int]
) -> ProjectUsage | None:
    """``row`` (None: absent) plus ``delta``; None when it no longer holds a request."""
    base = [0] * _N if row is None else [getattr(row, f) for f in PROJECT_USAGE_SUMS]
    values = [a + b for a, b in zip(base, delta)]
    if values[0] <= 0:
        return None
    project, branch, start = key
    return ProjectUsage(
        project=project, branch=branch, start=start, **dict(zip(PROJECT_USAGE_SUMS, values))
    )


def merge_project_deltas(
    *parts: Mapping[ProjectKey, list[int]],
) -> dict[ProjectKey, list[int]]:
    """The sum of several delta maps (keys whose sum is all zero dropped)."""
    out: dict[ProjectKey, list[int]] = {}
    for part in parts:
        for key, delta in part.items():
            d = out.get(key)
            out[key] = list(delta) if d is None else [a + b for a, b in zip(d, delta)]
    return {k: v for k, v in out.items() if any(v)}
