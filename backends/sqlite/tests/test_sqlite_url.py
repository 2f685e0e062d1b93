"""``sqlite:`` URLs: the quick split (no urllib import) means what urllib's parse means."""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, unquote

from hypothesis import given
from hypothesis import strategies as st
from netsky_sqlite._url import sqlite_file

text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="?"), min_size=1)
query = st.text(st.sampled_from("ab=&%+2 0_-.~"), max_size=12)


@given(path=text, q=query)
def test_the_quick_split_equals_urllib(path: str, q: str) -> None:
    url = f"sqlite:///{path}" + (f"?{q}" if q else "")
    rest, _, qs = url[len("sqlite:///") :].partition("?")
    expected = (os.path.expanduser(unquote(rest)), dict(parse_qsl(qs, keep_blank_values=True)))
    assert sqlite_file(url) == expected
