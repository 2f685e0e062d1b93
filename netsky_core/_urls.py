"""Storage URLs: scheme lookup and password masking.

URLs look like ``sqlite:///relative.db``, ``sqlite:////abs/path.db``, ``memory://``,
``postgresql://user:pass@host:5432/db?schema=netsky`` (``postgres://`` is an alias).
Every place that shows a URL (errors, logs, ``repr``, CLI output) shows
:func:`mask_url` of it, never the password.
"""

from __future__ import annotations

from ._errors import InvalidURLError

__all__ = [
    "SCHEME_ALIASES",
    "join_url",
    "mask_url",
    "scheme_of",
    "scrub_secrets",
    "url_password",
]

SCHEME_ALIASES = {"postgres": "postgresql"}
MASK = "***"
_SECRET_PARAMS = frozenset({"password", "pass", "passwd", "sslpassword", "token", "secret"})


def scheme_of(url: str) -> str:
    """The backend scheme of ``url`` (aliases resolved, lower case)."""
    if not isinstance(url, str) or "://" not in url:
        raise InvalidURLError(
            f"not a storage URL: {mask_url(url)!r}",
            hint="storage URLs look like sqlite:///path.db, memory:// or postgresql://host/db",
        )
    scheme = url.split("://", 1)[0].lower()
    if not scheme or not all(c.isalnum() or c in "+-." for c in scheme):
        raise InvalidURLError(f"invalid scheme in storage URL {mask_url(url)!r}")
    return SCHEME_ALIASES.get(scheme, scheme)


def join_url(scheme: str, netloc: str, path: str, query: str = "", fragment: str = "") -> str:
    """The URL of these parts, always with ``//`` after the scheme (``urlunsplit``
    drops it when the host is empty: ``postgresql:///db?host=/run/sock`` is a valid
    libpq URL that must stay one)."""
    text = f"{scheme}://{netloc}{path}"
    if query:
        text += "?" + query
    if fragment:
        text += "#" + fragment
    return text


def url_password(url: str) -> str | None:
    """The password a URL carries (userinfo or ``password=`` parameter), if any."""
    from urllib.parse import parse_qsl, urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.password:
        return parts.password
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() in _SECRET_PARAMS and value:
            return value
    return None


def mask_url(url: object) -> str:
    """``url`` with any password replaced by ``***``; safe to show anywhere."""
    from urllib.parse import parse_qsl, quote, urlencode, urlsplit

    text = str(url)
    if "://" not in text:
        return text if "password" not in text.lower() else MASK
    if url_password(text) is None and "@" not in text.split("://", 1)[1].split("/", 1)[0]:
        return text
    try:
        parts = urlsplit(text)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            if ":" in userinfo:
                user = userinfo.split(":", 1)[0]
                netloc = f"{user}:{MASK}@{host}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(k.lower() in _SECRET_PARAMS for k, _ in pairs):
                query = urlencode(
                    [(k, MASK if k.lower() in _SECRET_PARAMS else v) for k, v in pairs],
                    safe="*/:",
                    quote_via=quote,
                )
        return join_url(parts.scheme, netloc, parts.path, query, parts.fragment)
    except ValueError:
        return text.split("://", 1)[0] + "://" + MASK


def scrub_secrets(text: str, *secrets: str | None) -> str:
    """Remove every given secret (and its URL-quoted form) from ``text``."""
    from urllib.parse import quote

    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
            quoted = quote(secret, safe="")
            if quoted != secret:
                text = text.replace(quoted, MASK)
    return text
