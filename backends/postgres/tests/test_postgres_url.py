"""URLs and options: the netsky ``schema=`` parameter, libpq pass-through, validation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from netsky_postgres._target import make_options, parse_target, quote_ident

from netsky_core import (
    ConfigError,
    Event,
    EventQuery,
    FilePosition,
    InvalidURLError,
    StorageError,
    open_storage,
)
from tests.fix_postgres import PostgresServer


def test_schema_is_taken_out_of_the_libpq_url() -> None:
    t = parse_target("postgresql://u:secret@db.example:6543/netsky?sslmode=require&schema=team")
    assert t.schema == "team"
    assert t.conninfo == "postgresql://u:secret@db.example:6543/netsky?sslmode=require"
    assert t.password == "secret"
    assert "secret" not in repr(t) and "secret" not in t.masked


def test_other_parameters_pass_through_byte_for_byte() -> None:
    url = "postgres://u@h/db?options=-c%20statement_timeout%3D5000&schema=s1&application_name=x"
    t = parse_target(url)
    assert t.schema == "s1"
    assert (
        t.conninfo == "postgresql://u@h/db?options=-c%20statement_timeout%3D5000&application_name=x"
    )
    assert t.has_application_name


def test_default_schema_is_public() -> None:
    assert parse_target("postgresql:///netsky").schema == "public"


def test_schema_names_are_quoted() -> None:
    t = parse_target('postgresql://h/db?schema=we"ird%20name')
    assert t.schema == 'we"ird name'
    assert t.schema_sql == '"we""ird name"'
    assert quote_ident("a%b") == '"a%b"'
    assert parse_target("postgresql://h/db?schema=a%25b").table("events") == '"a%%b"."events"'


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://h/db?schema=",
        "postgresql://h/db?schema=pg_catalog",
        "postgresql://h/db?schema=" + "x" * 64,
        "postgresql://h/db?schema=a&schema=b",
        "postgresql://h:notaport/db",
        "mysql://h/db",
        "not a url",
    ],
)
def test_bad_urls_are_clear_errors(url: str) -> None:
    with pytest.raises(InvalidURLError):
        parse_target(url)


def test_options_are_validated() -> None:
    t = parse_target("postgresql://h/db?connect_timeout=7")
    assert make_options(t).connect_timeout == 7.0
    assert make_options(t, connect_timeout=2.5).libpq_connect_timeout == 3
    assert make_options(parse_target("postgresql://h/db")).connect_timeout == 5.0
    with pytest.raises(ConfigError):
        make_options(t, pool_min=5, pool_max=2)
    with pytest.raises(ConfigError):
        make_options(t, pool_max=0)
    with pytest.raises(ConfigError):
        make_options(t, connect_timeout=0)
    with pytest.raises(ConfigError):
        make_options(t, read_only="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        make_options(t, bogus=1)  # type: ignore[call-arg]


# -- against a server -------------------------------------------------------------------

pg = pytest.mark.postgres


@pg
def test_unknown_option_is_a_clear_error(postgres_url: Callable[..., str]) -> None:
    with pytest.raises(StorageError, match="rejected the options"):
        open_storage(postgres_url(), no_such_option=True)


@pg
def test_postgres_alias_scheme_and_odd_schema_name(postgres_server: PostgresServer) -> None:
    url = postgres_server.url('odd "schema" 100%').replace("postgresql://", "postgres://", 1)
    with open_storage(url) as store:
        store.insert(_event())
        assert store.count() == 1
        store.set_transcript_position(FilePosition(machine_id="m", path="/p"))
        store.vacuum()
        assert store.info().tables["events"] == 1
    with open_storage(url) as again:
        assert again.count() == 1
    postgres_server.drop_schemas(['odd "schema" 100%'])


@pg
def test_libpq_parameters_are_honoured(postgres_url: Callable[..., str]) -> None:
    # A connection TimeZone far from UTC, set through libpq's options= parameter.
    url = postgres_url(options="-c TimeZone=Asia/Kolkata", sslmode="disable")
    local = datetime(2026, 5, 5, 1, 2, 3, 456789, tzinfo=timezone(timedelta(hours=-7)))
    with open_storage(url) as store:
        store.insert(_event(timestamp=local))
        (stored,) = store.query(EventQuery())
        assert stored.timestamp == local and stored.timestamp.tzinfo is UTC
        session = store.get_session_by_key("m", "s")
        assert session is not None and session.last_activity is not None
        assert session.last_activity.tzinfo is UTC
        assert store.info().newest_event == local


@pg
def test_tables_live_in_the_named_schema(
    postgres_server: PostgresServer, postgres_url: Callable[..., str]
) -> None:
    url = postgres_url()
    schema = parse_target(url).schema
    with open_storage(url) as store:
        store.insert(_event())
    with postgres_server.admin(postgres_server.dbname) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
        }
    assert tables == {"events", "sessions", "positions", "usage", "project_usage", "netsky_meta"}


def _event(**fields: object) -> Event:
    values: dict[str, object] = dict(
        machine_id="m",
        session_id="s",
        event_type="PreToolUse",
        timestamp=datetime(2026, 1, 1, tzinfo=UTC),
        uuid="u1",
    )
    values.update(fields)
    return Event(**values)  # type: ignore[arg-type]
