"""Spool files: a torn record costs only itself (property tests over real files)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from netsky_core.hooks.spool import Spool, hook_target, parse_spool, target_key

RECORDS = st.lists(
    st.fixed_dictionaries(
        {
            "v": st.just(1),
            "raw": st.text(),
            "random_id": st.text("0123456789abcdef", min_size=16, max_size=16),
            "pid": st.none() | st.integers(0, 2**31),
        }
    ),
    min_size=1,
    max_size=8,
)


def line(record: dict) -> bytes:
    """A record as the hook writes it (``v`` first)."""
    return json.dumps(
        {"v": record["v"], **record}, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8", "surrogatepass")


@given(records=RECORDS, data=st.data())
def test_torn_records_cost_only_themselves(records: list[dict], data: st.DataObject) -> None:
    """Any records cut short (a crash mid-write), followed by a newline or glued onto
    the next record (spools written before records started on a fresh line): every
    whole record is read, in order; every torn one is set aside."""
    torn = data.draw(st.lists(st.booleans(), min_size=len(records), max_size=len(records)))
    glued = data.draw(st.lists(st.booleans(), min_size=len(records), max_size=len(records)))
    out = b""
    for record, is_torn, is_glued in zip(records, torn, glued, strict=True):
        whole = line(record)
        if is_torn:
            cut = data.draw(st.integers(1, len(whole) - 1))
            out += whole[:cut] + (b"" if is_glued else b"\n")
        else:
            out += whole + b"\n"
    got, bad = parse_spool(out)
    kept = [r for r, t in zip(records, torn, strict=True) if not t]
    assert got == kept
    assert (1 if any(torn) else 0) <= len(bad) <= sum(torn)  # torn ones glued: one line


@settings(max_examples=25, deadline=None)
@given(records=RECORDS, cut=st.integers(1, 200))
def test_appends_after_a_torn_tail_start_on_a_fresh_line(records: list[dict], cut: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        spool = Spool(Path(tmp) / "spool")
        first, *rest = records
        whole = line(first)
        spool.folder.mkdir()
        spool.path.write_bytes(whole[: min(cut, len(whole) - 1)])  # a crash mid-write
        for record in rest:
            spool.append(record)
        seen: list[dict] = []
        assert spool.replay(seen.extend) == (len(rest), 1)
        assert seen == rest and spool.count() == 0


@given(
    password=st.text(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~", min_size=1
    ),
    config=st.none() | st.text(min_size=1, alphabet=st.characters(blacklist_characters="\0")),
)
def test_a_target_key_is_a_file_name_without_the_password(
    password: str, config: str | None
) -> None:
    """The key names the spool folder: a file name, the same whatever the password."""
    key = target_key(hook_target(f"postgresql://user:{password}@host/db", config, environ={}))
    assert key.startswith("t-") and len(key) == 18 and key[2:].isalnum()
    assert key == target_key(hook_target("postgresql://user:other@host/db", config, environ={}))
    assert key != target_key(hook_target("postgresql://user:other@host/db2", config, environ={}))
