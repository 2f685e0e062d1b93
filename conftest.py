"""Repository-wide pytest setup: fixtures every package's tests may use, and the
Hypothesis profiles (``HYPOTHESIS_PROFILE=ci`` in ``scripts/test``; ``thorough`` for
long local runs)."""

import os

from hypothesis import HealthCheck, settings

pytest_plugins = ["tests.fix_postgres"]

settings.register_profile(
    "ci",
    max_examples=50,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.register_profile("dev", max_examples=25, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
