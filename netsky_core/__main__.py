"""``python -m netsky_core``: the ``netsky`` command."""

from .cli import main

raise SystemExit(main())
