"""Files that change under the reader: truncated and regrown in place, replaced under
the same name, read first with the wrong parser, starting with a BOM, lines with NULs.
Nothing is lost, nothing is counted twice.

These run the netsky command as a user would (``NETSKY_TEST_NETSKY`` names another
executable to run them against).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.loss_paths import loss_row

from .conftest import isolated_env, run_netsky, samples_or_skip

PROJECT = "-home-marco-projects-spotter"
FIRST = "d6e0bada-1959-4eec-a9d2-0bfade768d8f.jsonl"
SECOND = "491e126e-1e71-469c-ade2-fcc8af567c74.jsonl"


def _json(args: list[str], env: dict[str, str]) -> Any:
    proc = run_netsky([*args, "--json"], env)
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout)


def _setup(tmp_path: Path) -> tuple[dict[str, str], Path]:
    home = tmp_path / "claude"
    folder = home / "projects" / PROJECT
    folder.mkdir(parents=True)
    env = isolated_env(tmp_path, CLAUDE_CONFIG_DIR=str(home))
    env["NETSKY_DATABASE_URL"] = f"sqlite:///{tmp_path}/s.db"
    return env, folder


def _reference(tmp_path: Path, content: bytes) -> dict[str, Any]:
    """stats of a clean ingest of ``content`` alone."""
    env, folder = _setup(tmp_path / "ref")
    (folder / FIRST).write_bytes(content)
    _json(["ingest"], env)
    return _json(["stats"], env)


@pytest.mark.loss_path
def test_a_file_truncated_and_regrown_in_place_is_read_again(tmp_path: Path) -> None:
    samples = samples_or_skip() / "claude" / "projects" / PROJECT
    first, second = (samples / FIRST).read_bytes(), (samples / SECOND).read_bytes()
    env, folder = _setup(tmp_path)
    path = folder / FIRST
    path.write_bytes(first)
    _json(["ingest"], env)
    head = b"".join(first.splitlines(keepends=True)[:3])
    with open(path, "r+b") as fh:  # in place: same inode
        fh.truncate(len(head))
        fh.seek(0, os.SEEK_END)
        fh.write(second)
    summary = _json(["ingest"], env)
    assert summary["malformed_lines"] == 0
    expected = _reference(tmp_path, head + second)
    stats = _json(["stats"], env)
    # every response of the regrown file is there (the old ones stay: history)
    assert stats["total_tokens"] >= expected["total_tokens"]
    with_first = _reference(tmp_path / "both", first + second)
    loss_row(
        2,
        "a file truncated and regrown in place",
        faults="file truncated in place to 3 lines, another transcript appended (same inode)",
        inputs="2 sample Claude transcripts",
        sent=with_first["total_tokens"],
        stored=stats["total_tokens"],
        unit="tokens",
    )
    assert stats["total_api_requests"] == with_first["total_api_requests"]
    assert stats["total_tokens"] == with_first["total_tokens"]


def test_a_file_replaced_under_the_same_name_is_read_again(tmp_path: Path) -> None:
    samples = samples_or_skip() / "claude" / "projects" / PROJECT
    first, second = (samples / FIRST).read_bytes(), (samples / SECOND).read_bytes()
    env, folder = _setup(tmp_path)
    path = folder / FIRST
    path.write_bytes(first)
    _json(["ingest"], env)
    path.unlink()
    path.write_bytes(first[:100] + second)  # new content, maybe the same inode
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns))
    summary = _json(["ingest"], env)
    assert summary["malformed_lines"] <= 1  # the glued first line is genuinely broken
    both = _reference(tmp_path / "both", first + second)
    stats = _json(["stats"], env)
    assert stats["total_api_requests"] == both["total_api_requests"]
    assert stats["total_tokens"] == both["total_tokens"]


@pytest.mark.loss_path
def test_a_folder_read_with_the_wrong_parser_is_not_marked_read(tmp_path: Path) -> None:
    """``netsky ingest codex <claude folder>`` takes nothing from Claude files: they
    stay unread for the right parser, and the summary says so."""
    samples = samples_or_skip()
    env = isolated_env(tmp_path, NETSKY_DATABASE_URL=f"sqlite:///{tmp_path}/s.db")
    wrong = _json(["ingest", "codex", str(samples / "claude")], env)
    assert wrong["inserted"] == 0
    assert wrong.get("files_without_events", 0) == 5
    right = _json(["ingest", "claude", str(samples / "claude")], env)
    assert right["files_unchanged"] == 0 and right["files_read"] == 5
    stats = _json(["stats", "--framework", "claude"], env)
    loss_row(
        6,
        "a folder first read with the wrong parser",
        faults="`ingest codex` over the Claude samples, then `ingest claude`",
        inputs="5 sample Claude transcripts (26 API requests)",
        sent=26,
        stored=stats["total_api_requests"],
        unit="API requests",
    )
    assert (stats["total_api_requests"], stats["total_tokens"]) == (26, 757_690)


def test_rescan_reads_every_file_again_and_changes_nothing(tmp_path: Path) -> None:
    samples = samples_or_skip()
    env = isolated_env(tmp_path, NETSKY_DATABASE_URL=f"sqlite:///{tmp_path}/s.db")
    _json(["ingest", "claude", str(samples / "claude")], env)
    before = _json(["stats"], env)
    again = _json(["ingest", "--rescan", "claude", str(samples / "claude")], env)
    assert again["files_read"] == 5 and again["inserted"] == 0
    assert _json(["stats"], env) == before


@pytest.mark.loss_path
def test_a_bom_at_the_start_and_nuls_before_a_line_lose_nothing(tmp_path: Path) -> None:
    samples = samples_or_skip() / "claude" / "projects" / PROJECT
    content = (samples / FIRST).read_bytes()
    lines = content.splitlines(keepends=True)
    expected = _reference(tmp_path, content)
    env, folder = _setup(tmp_path)
    api = next(i for i, line in enumerate(lines) if b'"usage"' in line and i > 3)
    damaged = [
        b"\xef\xbb\xbf" + lines[0],
        *lines[1:api],
        b"\x00\x00\x00" + lines[api],
        *lines[api + 1 :],
    ]
    (folder / FIRST).write_bytes(b"".join(damaged))
    summary = _json(["ingest"], env)
    stats = _json(["stats"], env)
    loss_row(
        7,
        "a UTF-8 BOM and NULs before a line",
        faults="BOM before the first line, 3 NULs glued before an API response line",
        inputs="1 sample Claude transcript",
        sent=expected["total_tokens"],
        stored=stats["total_tokens"],
        unit="tokens",
    )
    assert summary["malformed_lines"] == 0
    assert stats == expected
