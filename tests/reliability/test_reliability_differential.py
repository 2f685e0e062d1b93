"""Model-based differential testing: memory, SQLite (files) and PostgreSQL side by side.

``netsky_conformance.differential`` drives random sequences of every Storage
operation against the three stores and the core-rules model at once; every result
must agree. Short: 25 examples of up to 40 steps; full: 400 examples of up to 100.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from netsky_conformance.differential import DifferentialStats, run_differential

from netsky_core import Storage, open_storage

from .recorder import record, scale

pytestmark = pytest.mark.postgres

TEST = "Model-based differential"


def test_memory_sqlite_and_postgres_agree_with_the_model(
    tmp_path: Path, postgres_url: Callable[..., str]
) -> None:
    examples = scale(25, 400)
    steps = scale(40, 100)
    counter = itertools.count()

    def open_stores() -> list[Storage]:
        n = next(counter)
        return [
            open_storage("memory://"),
            open_storage(f"sqlite:///{tmp_path}/differential-{n}.db"),
            open_storage(postgres_url()),
        ]

    stats = DifferentialStats()
    failure: AssertionError | None = None
    try:
        run_differential(open_stores, max_examples=examples, steps=steps, stats=stats)
    except AssertionError as exc:
        failure = exc
    operations = sorted(stats.rules)
    record(
        test=TEST,
        backend="memory + sqlite + postgres",
        load=f"{examples} examples x up to {steps} steps ({stats.steps} steps run)",
        faults="none (random operation sequences)",
        inputs=(
            f"{len(operations)} kinds of operation; duplicate and competing versions in "
            "batches; unicode and SQL-looking text in every text field"
        ),
        lost=stats.lost,
        duplicated=stats.duplicated,
        result="pass" if failure is None else f"FAIL: {str(failure).splitlines()[0][:200]}",
        examples_run=stats.examples,
        steps_run=stats.steps,
        comparisons=stats.checks,
        full_comparisons=stats.full_checks,
        events_offered=stats.events_offered,
        largest_store_events=stats.max_events,
    )
    if failure is not None:
        raise failure
    assert stats.steps > 0 and stats.full_checks >= stats.examples
    assert stats.lost == 0 and stats.duplicated == 0
