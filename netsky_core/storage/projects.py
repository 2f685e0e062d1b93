"""Project usage: API usage per working directory, git branch and 15 minutes.

What per-project and per-branch budgets read. A response counts under the working
directory (``cwd``) and git branch its own event carries (None when it names none),
so the rows follow from the events alone: a store keeps them with the events in the
same transaction as every insert, supersession, billing change, reprice and gc, by
the rule of :func:`project_deltas`, as it keeps the usage buckets.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any, cast

import attrs

from .._records import Event, EventType
from .._results import ProjectUsage
from .usage import VALUE_FIELDS, merged, summed, window_sums

__all__ = [
    "PROJECT_BACKFILL_COLUMNS",
    "PROJECT_USAGE_FIELDS",
    "PROJECT_USAGE_SUMS",
    "ProjectKey",
    "apply_project_usage",
    "project_backfill",
    "project_deltas",
]

PROJECT_USAGE_FIELDS: tuple[str, ...] = tuple(f.name for f in attrs.fields(ProjectUsage))
"""Project usage fields a backend persists: the key (project, branch, start) then the sums."""

PROJECT_USAGE_SUMS: tuple[str, ...] = PROJECT_USAGE_FIELDS[3:]
"""The summed fields, in the order of a delta list."""

ProjectKey = tuple["str | None", "str | None", datetime]

_KEY = attrgetter("cwd", "git_branch")


def project_deltas(changes: Iterable[tuple[int, Iterable[Event]]]) -> dict[ProjectKey, list[int]]:
    """What signed sets of events do to the project usage rows.

    ``changes`` is ``(sign, events)`` pairs (1: added to the kept set, -1: removed).
    Per key ``(cwd, git_branch, window start)`` a list of :data:`PROJECT_USAGE_SUMS`
    to add. Only ``ApiRequest`` events count (a response billed elsewhere is an
    ``ApiRequestRepeated``); an empty cwd or branch counts as None. The sums are the
    usage buckets' (``usage.window_sums``), keyed by project instead of model.
    """
    # requests, priced requests, every token, cost (d in the order of USAGE_SUMS)
    return merged(
        ((cwd or None, branch or None, start), [d[0], d[2], sum(d[3:8]), d[8]])
        for (cwd, branch, start), d in window_sums(changes, _KEY).items()
    )


def apply_project_usage(
    row: ProjectUsage | None, key: ProjectKey, delta: list[int]
) -> ProjectUsage | None:
    """``row`` (None: absent) plus ``delta``; None when it no longer holds a request."""
    values = summed(row, PROJECT_USAGE_SUMS, delta)
    if values is None:
        return None
    project, branch, start = key
    return ProjectUsage(
        project=project, branch=branch, start=start, **dict(zip(PROJECT_USAGE_SUMS, values))
    )


PROJECT_BACKFILL_COLUMNS = ("timestamp", "cwd", "git_branch", *VALUE_FIELDS)
"""The ``events`` columns :func:`project_backfill` reads, in its order."""

# what the rule reads of an event (fields computed, so mypy cannot check them)
_Stored = namedtuple("_Stored", ("event_type", *PROJECT_BACKFILL_COLUMNS))  # type: ignore[misc]


def project_backfill(rows: Iterable[Sequence[Any]]) -> dict[ProjectKey, list[int]]:
    """The project usage rows of a store's ``ApiRequest`` events, each given as the
    values of :data:`PROJECT_BACKFILL_COLUMNS` (the timestamp a ``datetime``): what a
    migration adding the table fills it with, by the rule of :func:`project_deltas`."""
    events = cast("list[Event]", [_Stored._make((EventType.API_REQUEST, *r)) for r in rows])
    return {k: d for k, d in project_deltas([(1, events)]).items() if d[0] > 0}
