"""The password never shows: not in errors, their chains, reprs, info or log lines."""

from __future__ import annotations

import logging
import socket
import time
import traceback
from collections.abc import Callable

import pytest

from netsky_core import NetskyError, StorageConnectionError, open_storage
from tests.fix_postgres import PostgresServer

pytestmark = pytest.mark.postgres


def _everything_shown(exc: BaseException) -> str:
    """Every text an error carries: message, hint, chain, formatted traceback."""
    parts = ["".join(traceback.format_exception(exc))]
    seen: BaseException | None = exc
    while seen is not None:
        parts.append(repr(seen))
        parts.append(str(getattr(seen, "hint", "")))
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_wrong_password(postgres_server: PostgresServer, caplog: pytest.LogCaptureFixture) -> None:
    secret = "Wr0ng-pass-7f3a9c"
    url = postgres_server.url("s").replace(postgres_server.password, secret)
    caplog.set_level(logging.DEBUG)
    try:
        open_storage(url).close()
    except StorageConnectionError as exc:
        error = exc
    else:
        pytest.skip("the server under test accepts any password (trust authentication)")
    shown = _everything_shown(error)
    assert secret not in shown
    assert "password authentication failed" in str(error)
    assert "***" in str(error)
    assert error.__cause__ is None and error.__context__ is None
    assert "\n" not in str(error)
    assert error.hint
    assert secret not in caplog.text


def test_password_in_query_parameter(postgres_server: PostgresServer) -> None:
    secret = "Qu3ry-pass-51e0"
    url = (
        f"postgresql://{postgres_server.user}@{postgres_server.host}:{postgres_server.port}/"
        f"{postgres_server.dbname}?password={secret}&schema=s"
    )
    with pytest.raises(StorageConnectionError) as info:
        open_storage(url)
    assert secret not in _everything_shown(info.value)


def test_unreachable_server_fails_fast_without_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "Unre4chable-9d2b"
    url = f"postgresql://netsky:{secret}@127.0.0.1:{_closed_port()}/netsky?schema=x"
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    with pytest.raises(StorageConnectionError) as info:
        open_storage(url, connect_timeout=2)
    assert time.monotonic() - started < 5
    message = str(info.value)
    assert secret not in _everything_shown(info.value)
    assert message.startswith("cannot connect to PostgreSQL at postgresql://netsky:***@127.0.0.1")
    assert "\n" not in message
    assert secret not in caplog.text


def test_unknown_host_is_a_connection_error() -> None:
    secret = "N0-such-host-11aa"
    url = f"postgresql://u:{secret}@no-such-host.invalid/db"
    with pytest.raises(StorageConnectionError) as info:
        open_storage(url, connect_timeout=2)
    assert secret not in _everything_shown(info.value)


def test_repr_info_and_query_errors_hide_the_password(
    postgres_server: PostgresServer, postgres_url: Callable[..., str]
) -> None:
    password = postgres_server.password
    with open_storage(postgres_url()) as store:
        assert password not in repr(store)
        assert password not in store.info().url and "***" in store.info().url
        # A statement error (a value too large for a bigint column) names the store.
        from datetime import UTC, datetime

        from netsky_core import Event

        with pytest.raises(NetskyError) as info:
            store.insert(
                Event(
                    machine_id="m",
                    session_id="s",
                    event_type="X",
                    timestamp=datetime(2026, 1, 1, tzinfo=UTC),
                    pid=2**70,
                )
            )
        assert password not in _everything_shown(info.value)
        assert store.count() == 0
