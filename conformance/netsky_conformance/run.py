"""Run the whole suite against ``--netsky-url``:

pytest --pyargs netsky_conformance.run --netsky-url 'sqlite:///{tmp}/t.db'
"""

from netsky_conformance import StorageConformance


class TestStorage(StorageConformance):
    """The suite against the store named by ``--netsky-url``."""
