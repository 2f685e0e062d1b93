"""The kept PostgreSQL dumps (``tests/pg_dumps.py``): v1 whole, later versions as diffs
that rebuild every dump exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import pg_dumps

# Lines as a pg_dump has them: comments ("-- ..."), tabs of COPY rows, blank lines.
_LINE = st.sampled_from(["--\n", "-- Name: x\n", "\n", "a\tb\tc\n", "CREATE TABLE t (\n", ");\n"])
_TEXT = st.lists(st.one_of(_LINE, st.text(max_size=5).map(lambda t: t.replace("\n", "") + "\n")))


def test_every_kept_dump_rebuilds_to_its_checksum() -> None:
    sums = pg_dumps.read_sums()
    kept = pg_dumps.versions()
    assert kept and kept == list(range(1, kept[-1] + 1))
    assert sorted(sums) == sorted(pg_dumps.dump_name(v) for v in kept)
    for version in kept:
        text = pg_dumps.dump_text(version)
        assert pg_dumps.sha256(text) == sums[pg_dumps.dump_name(version)], version
        assert text.startswith("--\n-- PostgreSQL database dump\n"), version


@given(_TEXT, _TEXT)
def test_a_diff_rebuilds_the_new_text(old: list[str], new: list[str]) -> None:
    a, b = "".join(old), "".join(new)
    assert pg_dumps.apply_diff(a, pg_dumps.make_diff(a, b)) == b


def test_a_diff_of_other_text_is_refused() -> None:
    diff = pg_dumps.make_diff("a\nb\nc\n", "a\nB\nc\n")
    with pytest.raises(ValueError, match="does not match"):
        pg_dumps.apply_diff("a\nx\nc\n", diff)


def test_saved_dumps_are_whole_then_diffs(tmp_path: Path) -> None:
    texts = {1: "--\nv1\n\tone\n", 2: "--\nv1\n\tone\n\ttwo\n", 3: "--\nv3\n\ttwo\n"}
    for version, text in texts.items():
        pg_dumps.save_dump(version, text, tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "schema_sha256.txt",
        "schema_v1.sql",
        "schema_v2.sql.diff",
        "schema_v3.sql.diff",
    ]
    assert {v: pg_dumps.dump_text(v, tmp_path) for v in texts} == texts
    assert pg_dumps.read_sums(tmp_path)["schema_v3.sql"] == pg_dumps.sha256(texts[3])
    with pytest.raises(ValueError, match="version 4 has no dump"):
        pg_dumps.save_dump(5, "x\n", tmp_path)
