"""The netsky Storage conformance suite.

Every backend passes it; so can yours. Two ways to run it:

* No code: ``pytest --pyargs netsky_conformance.run --netsky-url 'mystore://...'``.
  In the URL, ``{tmp}`` becomes a fresh temporary folder and ``{unique}`` a fresh
  token, so each test gets an empty store (e.g. ``sqlite:///{tmp}/t.db``).
* Subclass, overriding the one fixture ``new_url``::

      import pytest
      from netsky_conformance import StorageConformance

      class TestMyStore(StorageConformance):
          @pytest.fixture
          def new_url(self, tmp_path):
              counter = iter(range(10**9))
              return lambda: f"mystore:///{tmp_path}/{next(counter)}"

Tests a backend cannot pass because it lacks an optional ability are skipped by the
capabilities it declares (``Storage.capabilities``), never passed silently. Test names
are public API: they only change with a major version.

Model-based differential testing (``netsky_conformance.differential``): random
sequences of every Storage operation run against your store and the reference (the
memory backend) at once, every result must agree, and after every step the rules'
invariants must hold on your store (``check_invariants``: each response billed once,
totals equal to the stored events, nothing older than the gc horizon). Add the
class next to the suite (it uses the same ``new_url``)::

    from netsky_conformance import DifferentialConformance, StorageConformance

    class TestMyStore(StorageConformance, DifferentialConformance):
        ...  # the same new_url fixture as above

or override its ``open_stores`` fixture (a callable returning fresh stores) to compare
several stores, or call ``run_differential(open_stores, max_examples=..., steps=...)``
/ ``make_differential_test(open_stores)`` directly. ``NETSKY_DIFFERENTIAL_EXAMPLES``
and ``NETSKY_DIFFERENTIAL_STEPS`` size the run.
"""

import pytest

pytest.register_assert_rewrite(
    *(
        f"netsky_conformance.{name}"
        for name in (
            "aggregation",
            "base",
            "builders",
            "events",
            "gc",
            "invariants",
            "lifecycle",
            "positions",
            "projects",
            "sessions",
            "stats",
            "usage",
        )
    )
)

from .aggregation import AggregationConformance  # noqa: E402
from .base import StorageFixtures, requires  # noqa: E402
from .differential import (  # noqa: E402
    DifferentialConformance,
    DifferentialStats,
    make_differential_test,
    run_differential,
)
from .events import EventsConformance  # noqa: E402
from .gc import GcConformance  # noqa: E402
from .invariants import check_invariants  # noqa: E402
from .lifecycle import LifecycleConformance  # noqa: E402
from .positions import PositionsConformance  # noqa: E402
from .projects import ProjectUsageConformance  # noqa: E402
from .sessions import SessionsConformance  # noqa: E402
from .stats import StatsConformance  # noqa: E402
from .usage import UsageConformance  # noqa: E402


class StorageConformance(
    EventsConformance,
    SessionsConformance,
    AggregationConformance,
    GcConformance,
    StatsConformance,
    PositionsConformance,
    UsageConformance,
    ProjectUsageConformance,
    LifecycleConformance,
):
    """Every conformance test; subclass it and override ``new_url``."""


__all__ = [
    "AggregationConformance",
    "DifferentialConformance",
    "DifferentialStats",
    "EventsConformance",
    "GcConformance",
    "LifecycleConformance",
    "PositionsConformance",
    "ProjectUsageConformance",
    "SessionsConformance",
    "StatsConformance",
    "StorageConformance",
    "StorageFixtures",
    "UsageConformance",
    "check_invariants",
    "make_differential_test",
    "requires",
    "run_differential",
]
