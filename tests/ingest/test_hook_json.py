"""The hook's JSON (``netsky_core._jsonc``) reads and writes exactly what ``json`` does."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsky_core._jsonc import dumps, loads

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


def outcome(read, text):  # type: ignore[no-untyped-def]
    """What reading ``text`` gives: the value, or the kind and message of the error."""
    try:
        return ("value", repr(read(text)))  # (repr: NaN equals itself)
    except ValueError as exc:
        return ("error", type(exc), str(exc))


@settings(max_examples=300, deadline=None)
@given(VALUES, st.booleans(), st.booleans(), st.booleans())
def test_dumps_writes_what_json_writes(value, ascii_only, compact, sort_keys) -> None:  # type: ignore[no-untyped-def]
    separators = (",", ":") if compact else (", ", ": ")
    expected = json.dumps(
        value, ensure_ascii=ascii_only, separators=separators, sort_keys=sort_keys
    )
    assert dumps(value, ensure_ascii=ascii_only, compact=compact, sort_keys=sort_keys) == expected
    assert loads(expected) == json.loads(expected)


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet=' \t\n\r{}[]",:0123456789.eE+-truefalsnNaIiy\\u\ufeffé')
    | VALUES.map(json.dumps).map(lambda s: f" {s}\n")
)
def test_loads_reads_and_refuses_what_json_does(text: str) -> None:
    assert outcome(loads, text) == outcome(json.loads, text)
    data = text.encode("utf-8", "surrogatepass")
    assert outcome(loads, data) == outcome(json.loads, data)


def test_the_constants_and_errors_of_json() -> None:
    assert math.isnan(loads("NaN")) and loads("[-Infinity]") == [float("-inf")]
    with pytest.raises(json.JSONDecodeError, match="Extra data"):
        loads('{"a": 1} {"b": 2}')
    with pytest.raises(RecursionError):
        loads("[" * 200_000)
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps({"a": object()})
    # a failed call leaves nothing behind that would fail the next one
    shared = [1]
    with pytest.raises(TypeError):
        dumps([shared, object()])
    assert dumps([shared, shared]) == "[[1], [1]]"
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular"):
        dumps(loop)
