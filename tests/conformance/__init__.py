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
            "lifecycle",
            "positions",
            "sessions",
            "stats",
        )
    )
)

from .aggregation import AggregationConformance  # noqa: E402
from .base import StorageFixtures, requires  # noqa: E402
from .events import EventsConformance  # noqa: E402
from .gc import GcConformance  # noqa: E402
from .lifecycle import LifecycleConformance  # noqa: E402
from .positions import PositionsConformance  # noqa: E402
from .sessions import SessionsConformance  # noqa: E402
from .stats import StatsConformance  # noqa: E402


class StorageConformance(
    EventsConformance,
    SessionsConformance,
    AggregationConformance,
    GcConformance,
    StatsConformance,
    PositionsConformance,
    LifecycleConformance,
):
    """Every conformance test; subclass it and override ``new_url``."""


__all__ = [
    "AggregationConformance",
    "EventsConformance",
    "GcConformance",
    "LifecycleConformance",
    "PositionsConformance",
    "SessionsConformance",
    "StatsConformance",
    "StorageConformance",
    "StorageFixtures",
    "requires",
]
