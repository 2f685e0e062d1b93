"""pytest plugin (entry point ``pytest11``): the ``--netsky-url`` option."""

from __future__ import annotations

from typing import Any


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("netsky", "netsky storage conformance")
    group.addoption(
        "--netsky-url",
        action="store",
        default=None,
        help=(
            "storage URL the conformance suite tests; {tmp} becomes a fresh temporary "
            "folder and {unique} a fresh token for every store"
        ),
    )
