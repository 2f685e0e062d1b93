"""``export`` formats as documented: parquet / csv files are the owner's only (0600)
like JSONL, parquet is not written to a terminal; ``db status --json`` gives
``read_only`` as a boolean."""

from __future__ import annotations

import os
import pty
import stat
import subprocess
from pathlib import Path

import pytest

from .conftest import NETSKY, Netsky


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "csv"])
def test_every_export_file_is_private(netsky: Netsky, seeded_sqlite: str, fmt: str) -> None:
    out = netsky.root / f"out.{fmt}"
    os.umask(0o022)
    netsky.ok("--db", seeded_sqlite, "export", "--format", fmt, "-o", str(out))
    assert out.stat().st_size > 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_parquet_to_a_terminal_is_refused(netsky: Netsky, seeded_sqlite: str) -> None:
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [str(NETSKY), "--db", seeded_sqlite, "export", "--format", "parquet"],
            stdout=follower,
            stderr=subprocess.PIPE,
            env=netsky.env,
            cwd=netsky.root,
            timeout=120,
            text=True,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert proc.returncode == 2
    assert proc.stderr.startswith("netsky: error: parquet is binary") and "-o FILE" in proc.stderr
    piped = subprocess.run(
        [str(NETSKY), "--db", seeded_sqlite, "export", "--format", "parquet"],
        capture_output=True,
        env=netsky.env,
        cwd=netsky.root,
        timeout=120,
        check=True,
    )
    assert piped.stdout.startswith(b"PAR1")  # to a pipe it is written


def test_an_unknown_format_lists_every_format(netsky: Netsky, seeded_sqlite: str) -> None:
    result = netsky("--db", seeded_sqlite, "export", "--format", "xml")
    assert result.returncode == 2
    assert "jsonl, parquet, csv" in result.stderr


def test_db_status_read_only_is_a_boolean(netsky: Netsky, seeded_sqlite: str) -> None:
    data = netsky.ok("--db", seeded_sqlite, "db", "status", "--json").json()
    flags = [v for k, v in _walk(data) if k == "read_only"]
    assert flags and all(isinstance(v, bool) for v in flags), data
    text = netsky.ok("--db", seeded_sqlite, "db", "status").stdout
    assert "read only" in text and ("true" in text or "false" in text)


def _walk(value: object, key: str = "") -> list[tuple[str, object]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in [(k, v), *_walk(v, k)]]
    if isinstance(value, list):
        return [p for v in value for p in _walk(v, key)]
    return []


def test_readme_and_help_agree_on_formats(netsky: Netsky) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "only format" not in readme
    help_text = netsky.ok("export", "--help").stdout
    for fmt in ("jsonl", "parquet", "csv"):
        assert fmt in help_text and f"`{fmt}`" in readme
