"""pytest fixtures: a throwaway PostgreSQL server for the whole test session.

``postgres_server`` starts one server (``initdb`` + ``pg_ctl`` from
``/usr/lib/postgresql/*/bin`` or ``PATH``) in a temporary folder, listening on
127.0.0.1 on a free port with password authentication, and removes it at the end.
Postgres refuses to run as root, so as root it runs as the ``postgres`` user (else
``nobody``, else a user created for it). ``NETSKY_TEST_POSTGRES_URL`` uses an existing
server instead (its role must be allowed to create schemas and databases).

When no server can be had the tests are skipped with the reason, unless
``NETSKY_REQUIRE_POSTGRES=1``, when they fail.

``postgres_url`` gives a callable returning the URL of a fresh, empty store (a new
``schema=``) at each call; the schemas are dropped when the test ends.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

ENV_URL = "NETSKY_TEST_POSTGRES_URL"
ENV_REQUIRE = "NETSKY_REQUIRE_POSTGRES"

__all__ = ["PostgresServer", "postgres_server", "postgres_url"]


class ServerUnavailable(Exception):
    """No PostgreSQL server could be started or reached."""


def _find_bin(name: str) -> str | None:
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in p.split("/")[4].split(".")],
    )
    if candidates:
        return candidates[-1]
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _unprivileged_user() -> str:
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "netsky-pg"], check=True, capture_output=True
    )
    return "netsky-pg"


class PostgresServer:
    """A running PostgreSQL server and the role / database the tests use.

    ``url(schema=...)`` is a netsky URL for the test role (password included);
    ``admin()`` a superuser connection; ``stop()`` / ``start()`` control the server
    when this fixture started it (``can_restart``).
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        user: str,
        password: str,
        dbname: str,
        admin_conninfo: str,
        pg_ctl: list[str] | None = None,
        root: Path | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.dbname = dbname
        self.admin_conninfo = admin_conninfo
        self._pg_ctl = pg_ctl
        self.root = root
        self._databases = itertools.count()

    @property
    def can_restart(self) -> bool:
        return self._pg_ctl is not None

    def url(self, schema: str | None = None, *, dbname: str | None = None, **params: str) -> str:
        """A ``postgresql://`` URL for the test role."""
        netloc = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}@{self.host}"
        netloc += f":{self.port}"
        query = dict(params)
        if schema is not None:
            query["schema"] = schema
        qs = "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
        return urlunsplit(("postgresql", netloc, "/" + (dbname or self.dbname), qs, ""))

    def admin(self, dbname: str | None = None, **kwargs: Any) -> Any:
        """A superuser psycopg connection (autocommit)."""
        import psycopg

        if dbname is not None:
            kwargs["dbname"] = dbname
        return psycopg.connect(self.admin_conninfo, autocommit=True, **kwargs)

    def create_database(self) -> str:
        """A fresh database owned by the test role; returns its name."""
        name = f"netsky_db{next(self._databases)}_{secrets.token_hex(3)}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" OWNER "{self.user}"')
        return name

    def drop_schemas(self, names: list[str]) -> None:
        if not names:
            return
        with self.admin(self.dbname) as conn:
            for name in names:
                quoted = '"' + name.replace('"', '""') + '"'
                conn.execute(f"DROP SCHEMA IF EXISTS {quoted} CASCADE")

    # -- server control (only for a server this fixture started) ----------------------

    def _ctl(self, *args: str, timeout: float = 120) -> None:
        if self._pg_ctl is None:
            raise RuntimeError("this server was not started by the test suite")
        subprocess.run([*self._pg_ctl, *args], check=True, capture_output=True, timeout=timeout)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast`` terminates sessions, ``immediate`` is a crash)."""
        self._ctl("stop", "-m", mode, "-w")

    def start(self) -> None:
        self._ctl("start", "-w", "-t", "60")

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()


def _as_user(user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--"] if user else []


def _start_server(root: Path) -> PostgresServer:
    initdb = _find_bin("initdb")
    pg_ctl = _find_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise ServerUnavailable("initdb / pg_ctl not found in /usr/lib/postgresql/*/bin or PATH")
    run_as = _unprivileged_user() if os.geteuid() == 0 else None
    data = root / "data"
    sockets = root / "sock"
    sockets.mkdir()
    if run_as:
        entry = pwd.getpwnam(run_as)
        for path in (root, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    prefix = _as_user(run_as)
    proc = subprocess.run(
        [
            *prefix,
            initdb,
            "-D",
            str(data),
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--no-sync",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        raise ServerUnavailable(f"initdb failed: {proc.stderr.strip().splitlines()[-1:]}")
    last_error = ""
    for _ in range(5):
        port = _free_port()
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-c port={port}",
                f"-c unix_socket_directories={sockets}",
                "-c fsync=off",
                "-c full_page_writes=off",
                "-c max_connections=300",
                "-c shared_buffers=256MB",
                "-c max_wal_size=2GB",
                "-c log_min_messages=warning",
            ]
        )
        ctl = [*prefix, pg_ctl, "-D", str(data), "-l", str(root / "server.log"), "-o", options]
        proc = subprocess.run(
            [*ctl, "start", "-w", "-t", "60"], capture_output=True, text=True, timeout=120
        )
        if proc.returncode == 0:
            break
        last_error = (root / "server.log").read_text(errors="replace")[-500:]
    else:
        raise ServerUnavailable(f"pg_ctl start failed: {last_error.strip()}")
    password = "pw-" + secrets.token_hex(8)
    server = PostgresServer(
        host="127.0.0.1",
        port=port,
        user="netsky",
        password=password,
        dbname="netsky_test",
        admin_conninfo=f"host={sockets} port={port} user=postgres dbname=postgres",
        pg_ctl=ctl,
        root=root,
    )
    with server.admin() as conn:
        conn.execute(f"CREATE ROLE netsky LOGIN CREATEDB PASSWORD '{password}'")
        conn.execute("CREATE DATABASE netsky_test OWNER netsky")
    return server


def _external_server(url: str) -> PostgresServer:
    import psycopg

    parts = urlsplit(url)
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            info = conn.info
            server = PostgresServer(
                host=info.host,
                port=info.port,
                user=info.user,
                password=info.password or "",
                dbname=info.dbname,
                admin_conninfo=psycopg.conninfo.make_conninfo(url),
            )
    except psycopg.Error as exc:
        raise ServerUnavailable(
            f"{ENV_URL} ({parts.hostname}:{parts.port}) is unreachable: "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None
    return server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the test session (see the module docstring)."""
    root: Path | None = None
    try:
        url = os.environ.get(ENV_URL)
        if url:
            server = _external_server(url)
        else:
            root = Path(tempfile.mkdtemp(prefix="netsky-pg-"))
            server = _start_server(root)
    except (ServerUnavailable, OSError, subprocess.SubprocessError) as exc:
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)
        reason = f"no PostgreSQL server for the tests: {exc}"
        if os.environ.get(ENV_REQUIRE) == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    try:
        yield server
    finally:
        if server.can_restart:
            with contextlib.suppress(Exception):
                server.stop("immediate")
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)


_schemas = itertools.count()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[Callable[..., str]]:
    """``make(**params)``: the URL of a fresh, empty netsky store at each call."""
    made: list[str] = []

    def make(**params: str) -> str:
        name = f"t{next(_schemas)}_{secrets.token_hex(4)}"
        made.append(name)
        return postgres_server.url(name, **params)

    yield make
    for _ in range(3):
        try:
            postgres_server.drop_schemas(made)
            break
        except Exception:  # server being restarted by the test; try again shortly
            time.sleep(1)
