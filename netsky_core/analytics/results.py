"""The values reports are: ``Report`` (rows, totals) and its kinds.

Shared by the DuckDB reports (``reports``) and the usage-bucket reports (``rollup``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import attrs

from ._errors import AnalyticsError

__all__ = ["KINDS", "TOKEN_FIELDS", "Report", "ReportRow"]

KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "daily": ("daily", ("date",)),
    "weekly": ("weekly", ("week",)),
    "monthly": ("monthly", ("month",)),
    "session": ("sessions", ("session_id",)),
    "model": ("models", ("model",)),
    "project": ("projects", ("project",)),
    "blocks": ("blocks", ("start",)),
}
"""Report kind -> (JSON list key, key fields of each row)."""

TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_tokens",
    "cache_read_tokens",
    "total_tokens",
)


def _kind(kind: str) -> tuple[str, tuple[str, ...]]:
    try:
        return KINDS[kind]
    except KeyError:
        raise AnalyticsError(
            f"unknown report {kind!r}", hint=f"reports: {', '.join(KINDS)}"
        ) from None


@attrs.frozen
class ReportRow:
    """One row: ``values`` (what JSON prints), its request counts, its per-model rows."""

    values: dict[str, Any]
    requests: int
    unpriced_requests: int
    breakdown: tuple[dict[str, Any], ...] = ()


@attrs.frozen
class Report:
    """A finished report; :meth:`to_json` gives ``{<list key>: rows, "totals": {...}}``."""

    kind: str
    list_key: str
    key_fields: tuple[str, ...]
    rows: tuple[ReportRow, ...]
    totals: dict[str, Any]
    requests: int
    unpriced_requests: int
    unpriced_models: tuple[str, ...]
    timezone: str
    since: date | None = None
    until: date | None = None
    framework: str | None = None
    breakdown: bool = False
    gaps: tuple[tuple[datetime, datetime], ...] = ()

    def only_active(self) -> Report:
        """A blocks report of its active block only: the totals are the listed
        block's, and there are no gaps between blocks left out."""
        rows = tuple(r for r in self.rows if r.values.get("is_active"))
        totals: dict[str, Any] = {}
        for key in self.totals:
            values = [r.values.get(key) for r in rows]
            known = [v for v in values if v is not None]
            totals[key] = sum(known) if known else (0 if not rows and key != "cost_usd" else None)
        models = {m for r in rows for m in r.values.get("models", ())}
        return attrs.evolve(
            self,
            rows=rows,
            totals=totals,
            requests=sum(r.requests for r in rows),
            unpriced_requests=sum(r.unpriced_requests for r in rows),
            unpriced_models=tuple(m for m in self.unpriced_models if m in models),
            gaps=(),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON document ``netsky report KIND --json`` prints."""
        rows = []
        for row in self.rows:
            values = dict(row.values)
            if self.breakdown:
                values["breakdown"] = [dict(b) for b in row.breakdown]
            rows.append(_jsonable(values))
        totals = dict(self.totals)
        totals["requests"] = self.requests
        totals["unpriced_requests"] = self.unpriced_requests
        totals["unpriced_models"] = list(self.unpriced_models)
        return {self.list_key: rows, "totals": _jsonable(totals)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
