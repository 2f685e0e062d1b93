"""Where a store lives: the libpq URL, the netsky ``schema=`` and the open options.

``schema=NAME`` is netsky's own query parameter; it is removed before the URL goes
to libpq. Everything else in the URL (``sslmode``, ``options``, ...) is passed on
unchanged. Nothing here imports psycopg.
"""

from __future__ import annotations

import hashlib
import math
from urllib.parse import unquote, urlsplit

import attrs

from netsky_core import ConfigError, InvalidURLError, mask_url
from netsky_core._urls import join_url, url_password

__all__ = ["Options", "Target", "parse_target", "quote_ident"]

DEFAULT_SCHEMA = "public"
SCHEMES = ("postgresql", "postgres")
_MAX_IDENT_BYTES = 63


def quote_ident(name: str) -> str:
    """``name`` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@attrs.frozen(repr=False)
class Target:
    """A parsed store URL. ``conninfo`` carries the password: never show it."""

    url: str
    conninfo: str
    schema: str
    password: str | None
    has_application_name: bool
    url_connect_timeout: str | None

    @property
    def masked(self) -> str:
        return mask_url(self.url)

    @property
    def schema_sql(self) -> str:
        """The quoted schema name for SQL text (``%`` doubled: always pass params)."""
        return quote_ident(self.schema).replace("%", "%%")

    def table(self, name: str) -> str:
        """The qualified, quoted name of a table for SQL text (``%`` doubled)."""
        return f"{self.schema_sql}.{quote_ident(name)}"

    def regclass(self, name: str) -> str:
        """The qualified, quoted name of a table as a parameter value."""
        return f"{quote_ident(self.schema)}.{quote_ident(name)}"

    @property
    def lock_key(self) -> int:
        """The advisory lock that serializes migrations of this schema."""
        digest = hashlib.blake2b(f"netsky-migrate:{self.schema}".encode(), digest_size=8)
        return int.from_bytes(digest.digest(), "big", signed=True)

    def __repr__(self) -> str:
        return f"Target({self.masked!r}, schema={self.schema!r})"


def _check_schema(name: str, url: str) -> str:
    problem = None
    if not name:
        problem = "is empty"
    elif "\x00" in name:
        problem = "contains a NUL character"
    elif len(name.encode()) > _MAX_IDENT_BYTES:
        problem = f"is longer than {_MAX_IDENT_BYTES} bytes"
    elif name.lower().startswith("pg_"):
        problem = "starts with pg_ (reserved by PostgreSQL)"
    if problem:
        raise InvalidURLError(
            f"schema name {name!r} in {mask_url(url)} {problem}",
            hint="use ?schema=NAME with a short name such as netsky",
        )
    return name


def parse_target(url: str) -> Target:
    """Parse a ``postgresql://`` / ``postgres://`` URL (raises InvalidURLError)."""
    if not isinstance(url, str) or "://" not in url:
        raise InvalidURLError(f"not a PostgreSQL URL: {mask_url(url)!r}")
    scheme = url.split("://", 1)[0].lower()
    if scheme not in SCHEMES:
        raise InvalidURLError(
            f"not a PostgreSQL URL: {mask_url(url)!r}",
            hint="PostgreSQL URLs start with postgresql:// or postgres://",
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - validates the port
    except ValueError as exc:
        raise InvalidURLError(f"invalid PostgreSQL URL {mask_url(url)!r}: {exc}") from None
    schema: str | None = None
    kept: list[str] = []
    app_name = False
    url_timeout: str | None = None
    for item in parts.query.split("&") if parts.query else ():
        if not item:
            continue
        raw_key, _, raw_value = item.partition("=")
        key = unquote(raw_key)
        value = unquote(raw_value)
        if key == "schema":
            if schema is not None:
                raise InvalidURLError(f"schema= is given twice in {mask_url(url)}")
            schema = value
            continue
        if key == "application_name":
            app_name = True
        elif key == "connect_timeout":
            url_timeout = value
        kept.append(item)
    schema = _check_schema(DEFAULT_SCHEMA if schema is None else schema, url)
    conninfo = join_url("postgresql", parts.netloc, parts.path, "&".join(kept), parts.fragment)
    return Target(
        url=url,
        conninfo=conninfo,
        schema=schema,
        password=url_password(url),
        has_application_name=app_name,
        url_connect_timeout=url_timeout,
    )


@attrs.frozen
class Options:
    """The factory options, validated."""

    read_only: bool = False
    migrate: bool = True
    pool_min: int = 1
    pool_max: int = 4
    connect_timeout: float = 5.0
    pool_timeout: float = 30.0
    lock_timeout: float | None = None

    @property
    def libpq_connect_timeout(self) -> int:
        return max(1, math.ceil(self.connect_timeout))


def make_options(
    target: Target,
    *,
    read_only: bool = False,
    migrate: bool = True,
    pool_min: int = 1,
    pool_max: int = 4,
    connect_timeout: float | None = None,
    pool_timeout: float | None = None,
    timeout: float | None = None,
) -> Options:
    """Validate the factory options (unknown names raise TypeError at the call).

    ``timeout`` is netsky's standard option: it bounds how long a call waits for a
    lock (PostgreSQL's ``lock_timeout``) or a connection, unless ``connect_timeout``
    / ``pool_timeout`` say otherwise.
    """
    for name, value in (("read_only", read_only), ("migrate", migrate)):
        if type(value) is not bool:
            raise ConfigError(f"postgres option {name} must be true or false, got {value!r}")
    for name, count in (("pool_min", pool_min), ("pool_max", pool_max)):
        if type(count) is not int or count < 0:
            raise ConfigError(f"postgres option {name} must be an int >= 0, got {count!r}")
    if pool_max < 1 or pool_max < pool_min:
        raise ConfigError(
            f"postgres option pool_max must be >= 1 and >= pool_min, got {pool_max!r}"
        )
    if timeout is not None:
        _check_seconds("timeout", timeout)
    if pool_timeout is None:
        pool_timeout = 30.0 if timeout is None else timeout
    if connect_timeout is None:
        connect_timeout = 5.0 if timeout is None else min(5.0, timeout)
        if target.url_connect_timeout:
            try:
                connect_timeout = float(target.url_connect_timeout)
            except ValueError:
                raise InvalidURLError(
                    f"connect_timeout in {target.masked} must be a number of seconds"
                ) from None
    _check_seconds("connect_timeout", connect_timeout)
    _check_seconds("pool_timeout", pool_timeout)
    return Options(
        read_only=read_only,
        migrate=migrate,
        pool_min=pool_min,
        pool_max=pool_max,
        connect_timeout=float(connect_timeout),
        pool_timeout=float(pool_timeout),
        lock_timeout=None if timeout is None else float(timeout),
    )


def _check_seconds(name: str, value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ConfigError(f"postgres option {name} must be a positive number, got {value!r}")
