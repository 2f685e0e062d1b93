"""The kept ``pg_dump`` of every released PostgreSQL schema version
(``backends/postgres/tests/fixtures``, written by ``make_fixtures.py`` there).

The first version is kept whole, ``schema_v1.sql``; every later one as the unified diff
against the version before it, ``schema_v<N>.sql.diff``, so the text the dumps share
is kept once. ``dump_text(N)`` rebuilds dump N exactly; ``schema_sha256.txt`` holds the
SHA-256 of every rebuilt dump, so a diff that no longer rebuilds its dump is noticed.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from pathlib import Path

__all__ = ["FIXTURES", "apply_diff", "dump_name", "dump_text", "make_diff", "save_dump", "versions"]

FIXTURES = Path(__file__).resolve().parents[1] / "backends" / "postgres" / "tests" / "fixtures"
SUMS = FIXTURES / "schema_sha256.txt"
_FILE = re.compile(r"^schema_v(\d+)\.sql(\.diff)?$")
_LINES = re.compile(r"[^\n]*\n|[^\n]+\Z")  # lines end at "\n" only, kept
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")


def dump_name(version: int) -> str:
    """The dump's own name (``schema_v<N>.sql``), whether it is kept whole or as a diff."""
    return f"schema_v{version}.sql"


def versions(folder: Path = FIXTURES) -> list[int]:
    """The versions kept in ``folder``, ascending."""
    found = (_FILE.match(p.name) for p in folder.iterdir())
    return sorted({int(m.group(1)) for m in found if m})


def dump_text(version: int, folder: Path = FIXTURES) -> str:
    """The exact text of dump ``version``: the first kept whole, each later one applied
    as its diff to the one before it."""
    whole = folder / dump_name(version)
    if whole.exists():
        return _read(whole)
    diff = folder / f"{dump_name(version)}.diff"
    if not diff.exists():
        raise FileNotFoundError(f"no dump of schema version {version} in {folder}")
    return apply_diff(dump_text(version - 1, folder), _read(diff))


def save_dump(version: int, text: str, folder: Path = FIXTURES) -> Path:
    """Keep dump ``version``: whole when there is no earlier one, else as the diff
    against the earlier one. Its checksum goes into ``schema_sha256.txt``."""
    if not text.endswith("\n"):
        raise ValueError("a pg_dump ends with a newline")
    previous = [v for v in versions(folder) if v < version]
    if previous and previous[-1] != version - 1:
        raise ValueError(f"schema version {version - 1} has no dump in {folder}")
    if previous:
        out = folder / f"{dump_name(version)}.diff"
        _write(out, make_diff(dump_text(version - 1, folder), text))
    else:
        out = folder / dump_name(version)
        _write(out, text)
    sums = read_sums(folder)
    sums[dump_name(version)] = sha256(text)
    lines = [f"{digest}  {name}\n" for name, digest in sorted(sums.items())]
    _write(folder / SUMS.name, "".join(lines))
    return out


def _read(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as fh:  # no newline translation
        return fh.read()


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_sums(folder: Path = FIXTURES) -> dict[str, str]:
    """``schema_sha256.txt``: dump name -> SHA-256 of its text."""
    path = folder / SUMS.name
    if not path.exists():
        return {}
    pairs = (line.split() for line in _read(path).splitlines() if line)
    return {name: digest for digest, name in pairs}


def make_diff(old: str, new: str) -> str:
    """The unified diff (3 lines of context) that turns ``old`` into ``new``; both end
    with a newline."""
    lines = difflib.unified_diff(_LINES.findall(old), _LINES.findall(new), "old", "new")
    return "".join(lines)


def apply_diff(old: str, diff: str) -> str:
    """``old`` with the unified diff ``diff`` (of ``make_diff``) applied; ValueError when
    a context or removed line is not what ``old`` holds there."""
    src = _LINES.findall(old)
    out: list[str] = []
    at = 0  # lines of src consumed
    started = False  # the file header (---/+++) comes before the first hunk only
    for line in _LINES.findall(diff):
        hunk = _HUNK.match(line)
        if not started and not hunk and line.startswith(("--- ", "+++ ")):
            continue
        if hunk:
            started = True
            start, length = int(hunk.group(1)), int(hunk.group(2) or 1)
            target = start if length == 0 else start - 1
            if target < at:
                raise ValueError(f"hunk at line {start} overlaps the one before")
            out += src[at:target]
            at = target
        elif line[:1] in (" ", "-"):
            if at >= len(src) or src[at] != line[1:]:
                raise ValueError(f"the diff does not match line {at + 1}: {line[1:]!r}")
            if line[0] == " ":
                out.append(src[at])
            at += 1
        elif line[:1] == "+":
            out.append(line[1:])
        else:
            raise ValueError(f"not a unified diff line: {line!r}")
    return "".join(out + src[at:])
