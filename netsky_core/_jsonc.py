"""``json.loads`` / ``json.dumps`` without importing ``json``, for the paths that run
in a fresh process per event or line (the hook, the statusline, the config note).

Importing ``json`` imports ``re`` (and with it ``enum``, ``functools``, ``collections``):
about a third of a bare interpreter's start-up, paid by every agent event. The
standard library's C accelerator (``_json``) parses and writes the same JSON
without them; this module drives it the way ``json`` does (same results; input
that is not JSON is handed to ``json`` itself, so the errors are ``json``'s own).
Where the accelerator is missing (another Python implementation), ``json`` is used.
``orjson`` is no help here: importing it imports ``json``, ``dataclasses`` and ``uuid``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["dumps", "loads"]

_WHITESPACE = " \t\n\r"  # JSON's whitespace, which ``json`` skips around the value
_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


class _Context:
    """What ``_json.make_scanner`` reads from a ``json.JSONDecoder``."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_CONSTANTS.__getitem__)


def _default(value: object) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_scan: Any = None
try:
    from _json import encode_basestring, encode_basestring_ascii, make_encoder, make_scanner

    _scan = make_scanner(_Context())  # type: ignore[arg-type]  # what it reads of a decoder
except (ImportError, TypeError):  # pragma: no cover - no C accelerator of this shape
    pass


def loads(data: str | bytes) -> Any:
    """``json.loads(data)``."""
    text: str | None = data if isinstance(data, str) else None
    if isinstance(data, bytes) and data[:3] != b"\xef\xbb\xbf" and b"\x00" not in data[:4]:
        text = data.decode("utf-8", "surrogatepass")  # (json detects a BOM and UTF-16/32)
    if _scan is not None and text is not None and not text.startswith("\ufeff"):
        start = len(text) - len(text.lstrip(_WHITESPACE))
        try:
            value, end = _scan(text, start)
        except Exception:  # not JSON: ``json`` says why (its errors need it imported)
            pass
        else:
            if not text[end:].strip(_WHITESPACE):
                return value
    import json

    return json.loads(data)


def dumps(
    value: Any, *, ensure_ascii: bool = True, compact: bool = False, sort_keys: bool = False
) -> str:
    """``json.dumps(value, ensure_ascii=..., sort_keys=...)``; ``compact``: the
    separators ``(",", ":")`` instead of ``(", ", ": ")``."""
    if _scan is None:  # pragma: no cover
        import json

        separators = (",", ":") if compact else (", ", ": ")
        return json.dumps(
            value, ensure_ascii=ensure_ascii, separators=separators, sort_keys=sort_keys
        )
    encode = make_encoder(
        {},  # json's check_circular: a fresh dict per call, as a failed call leaves marks
        _default,
        encode_basestring_ascii if ensure_ascii else encode_basestring,
        None,  # indent
        ":" if compact else ": ",
        "," if compact else ", ",
        sort_keys,
        False,  # skipkeys
        True,  # allow_nan
    )
    return "".join(encode(value, 0))
