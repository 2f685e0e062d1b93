"""``sqlite:`` URLs.

``sqlite:///relative.db`` (relative to the working directory),
``sqlite:////abs/path.db``, ``sqlite:///~/x.db`` (home expanded). Query parameters
are options: ``?synchronous=FULL&busy_timeout_ms=10000``.
"""

from __future__ import annotations

import os

from netsky_core import InvalidURLError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["parse_sqlite_url", "sqlite_file", "sqlite_path"]


def parse_sqlite_url(url: str) -> tuple[Path, dict[str, str]]:
    """The database path and the options of a ``sqlite:`` URL."""
    from pathlib import Path

    path, options = sqlite_file(url)
    return Path(path), options


def sqlite_file(url: str) -> tuple[str, dict[str, str]]:
    """The database path (a string) and the options of a ``sqlite:`` URL."""
    if not url.lower().startswith("sqlite://"):
        raise InvalidURLError(f"not a sqlite URL: {url!r}")
    rest = url[len("sqlite://") :]
    if not rest.startswith("/"):
        raise InvalidURLError(
            f"sqlite URL {url!r} has a host part; SQLite files are local",
            hint="use sqlite:///relative.db or sqlite:////absolute/path.db",
        )
    rest = rest[1:]
    rest, _, query = rest.partition("?")
    if not rest:
        raise InvalidURLError(
            f"sqlite URL {url!r} names no file",
            hint="use sqlite:///relative.db or sqlite:////absolute/path.db",
        )
    if "%" not in rest and "+" not in query and "%" not in query:  # the common case, without
        # importing urllib.parse (and ipaddress): the statusline opens a store per line
        options = dict(p.partition("=")[::2] for p in query.split("&") if p)
        return os.path.expanduser(rest), options
    from urllib.parse import parse_qsl, unquote

    return os.path.expanduser(unquote(rest)), dict(parse_qsl(query, keep_blank_values=True))


def sqlite_path(url: str) -> Path:
    """The absolute path of the database file a ``sqlite:`` URL names."""
    return parse_sqlite_url(url)[0].absolute()
