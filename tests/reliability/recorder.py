"""Figures of the reliability tests, for RELIABILITY.md.

Every reliability test calls :func:`record` once per backend / scenario with what it
did and what it found. The figures are printed (``pytest -s`` shows them) and, when
``NETSKY_RELIABILITY_REPORT`` names a file, appended to it as JSON lines;
``scripts/reliability`` renders that file into ``RELIABILITY.md``.

``NETSKY_RELIABILITY=full`` selects the long versions (documented loads and trial
counts); the default is a short version that runs in CI.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

FULL = os.environ.get("NETSKY_RELIABILITY", "").lower() == "full"


def scale(short: int, full: int) -> int:
    """``full`` under ``NETSKY_RELIABILITY=full``, else ``short``."""
    return full if FULL else short


def attempt(run: Callable[[], object]) -> BaseException | None:
    """Run ``run``; what it raised (to record, then raise again), else None."""
    try:
        run()
    except BaseException as exc:
        return exc
    return None


def outcome(failure: BaseException | None, passed: str) -> str:
    """``record``'s ``result``: ``passed``, else the failure's type and first line."""
    if failure is None:
        return passed
    return f"FAIL: {type(failure).__name__}: {str(failure).splitlines()[0][:200]}"


def record(
    *,
    test: str,
    backend: str,
    load: str,
    faults: str,
    inputs: str,
    lost: int,
    duplicated: int,
    result: str,
    **figures: Any,
) -> None:
    """Report one scenario's figures (``lost`` / ``duplicated`` events must be 0)."""
    row = {
        "test": test,
        "backend": backend,
        "load": load,
        "faults": faults,
        "inputs": inputs,
        "lost": lost,
        "duplicated": duplicated,
        "result": result,
        "mode": "full" if FULL else "short",
        "at": time.strftime("%Y-%m-%d %H:%M:%S"),
        **figures,
    }
    print(f"\nRELIABILITY {json.dumps(row, sort_keys=True)}")
    path = os.environ.get("NETSKY_RELIABILITY_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, sort_keys=True) + "\n")
