"""Repository-wide pytest setup: fixtures every package's tests may use."""

pytest_plugins = ["tests.fix_postgres"]
