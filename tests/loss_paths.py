"""A row in RELIABILITY.md for each loss path of the outside tester's list.

The regression test of each item calls :func:`loss_row` with what it sent, what it
found stored, and the fault it injected; ``scripts/reliability`` runs every test
marked ``loss_path`` and renders the rows beside the reliability suite's own.
"""

from __future__ import annotations

from tests.reliability.recorder import record


def loss_row(
    item: int,
    title: str,
    *,
    faults: str,
    inputs: str,
    sent: int,
    stored: int,
    backend: str = "sqlite",
    unit: str = "events",
) -> None:
    """Record one item's figures: ``sent`` events (or requests: ``unit``) went in,
    ``stored`` of them are in the store afterwards, each exactly once."""
    record(
        test=f"loss path {item}: {title}",
        backend=backend,
        load=f"{sent} {unit}",
        faults=faults,
        inputs=inputs,
        lost=max(0, sent - stored),
        duplicated=max(0, stored - sent),
        result="pass" if sent == stored else "FAIL",
        item=item,
        sent=sent,
        stored=stored,
    )
