"""The ``netsky`` command. Parsing and printing only: no SQL, no business rules."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from ._main import run

    return run(sys.argv[1:] if argv is None else argv)
