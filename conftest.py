"""Repository-wide pytest setup: fixtures every package's tests may use, and the
Hypothesis profiles (``HYPOTHESIS_PROFILE=ci`` in ``scripts/test``; ``thorough`` for
long local runs)."""

import os
import signal

from hypothesis import HealthCheck, settings

# A run started in the background without job control (``scripts/test &``) begins with
# SIGINT ignored, and every ``netsky`` a test starts would inherit that: the tests of
# Ctrl-C would then test nothing. Children inherit an ignored signal, never a handler,
# so this gives them the default a user's terminal gives.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# A drainer lingers (30 s by default) for the next hook's event; the tests wait for
# drainers to finish, so theirs exit at once, but for the tests of lingering itself.
os.environ["NETSKY_DRAINER_LINGER"] = "0s"

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
