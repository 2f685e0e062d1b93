"""ccusage, the reference the totals are held to, run as a real subprocess.

``scripts/bootstrap --test`` installs the pinned version into ``.venv/ccusage`` with
npm. Tests that need it skip when it is absent, unless ``NETSKY_REQUIRE_CCUSAGE=1``
(CI sets it), which makes a missing ccusage a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

VERSION = "20.0.24"
ROOT = Path(__file__).resolve().parents[1]


def find_ccusage() -> str | None:
    """NETSKY_CCUSAGE, then the one bootstrap installs, then PATH."""
    explicit = os.environ.get("NETSKY_CCUSAGE")
    if explicit:
        return explicit if Path(explicit).is_file() else shutil.which(explicit)
    local = ROOT / ".venv" / "ccusage" / "node_modules" / ".bin" / "ccusage"
    if local.is_file():
        return str(local)
    return shutil.which("ccusage")


def run_ccusage(args: list[str], home: Path, **env: str) -> dict[str, Any]:
    """``ccusage ARGS --json --offline`` with HOME=``home``, TZ=UTC and ``env``."""
    exe = find_ccusage()
    if exe is None:
        message = (
            f"ccusage not found (run `scripts/bootstrap --test`, which installs ccusage@{VERSION}"
            " with npm, or set NETSKY_CCUSAGE)"
        )
        if os.environ.get("NETSKY_REQUIRE_CCUSAGE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    home.mkdir(exist_ok=True)
    full_env = {"HOME": str(home), "TZ": "UTC", "PATH": os.environ.get("PATH", ""), **env}
    out = subprocess.run(
        [exe, *args, "--json", "--offline"],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)
