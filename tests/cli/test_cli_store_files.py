"""Store files as users meet them: permissions changed and restored, a read-only
folder, a mistyped path, a damaged schema, libpq socket URLs. One clear line, the
right exit code, the store untouched.

Permission tests run ``netsky`` as an unprivileged user (root ignores file modes).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from netsky_core import EventType, open_storage
from tests.fix_postgres import PostgresServer, _unprivileged_user
from tests.loss_paths import loss_row
from tests.netsky_cli import NETSKY


def _user() -> str | None:
    try:
        return _unprivileged_user()
    except (OSError, subprocess.CalledProcessError):
        return None


_FOREIGN: dict[str, Path] = {}


def _foreign_python() -> Path:
    """A Python another user can run, seeing the packages of ``NETSKY``'s venv.

    The venv's own interpreter may live where only root can read (``/root/.pyenv``):
    a venv of the system's Python 3.11 adds that venv's site-packages instead."""
    if "python" in _FOREIGN:
        return _FOREIGN["python"]
    base = shutil.which("python3.11", path="/usr/bin:/usr/local/bin")
    if base is None:
        pytest.skip("no system Python 3.11 an unprivileged user can run")
    root = Path(tempfile.mkdtemp(prefix="netsky-foreign-", dir="/tmp"))
    subprocess.run([base, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    probe = [
        str(NETSKY.with_name("python")),
        "-c",
        "import sysconfig; print(sysconfig.get_paths()['purelib'])",
    ]
    ours = subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()
    site = next((root / "venv" / "lib").glob("python3*/site-packages"))
    (site / "zz-netsky.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            os.chmod(path, os.stat(path).st_mode | 0o055)
    _FOREIGN["python"] = root / "venv" / "bin" / "python"
    return _FOREIGN["python"]


def _run(
    args: list[str],
    home: Path,
    *,
    user: str | None = None,
    stdin: str | None = None,
    extra: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETSKY_", "XDG_"))}
    env.update(HOME=str(home), NETSKY_HOME=str(home / "nh"), NETSKY_MACHINE_ID="m", TZ="UTC")
    env["NETSKY_DRAINER_LINGER"] = "0s"  # see the root conftest.py
    env.update(extra or {})
    argv = [str(NETSKY), *args]
    if user is not None:
        python = str(_foreign_python())
        values = [f"{k}={v}" for k, v in env.items()]
        argv = ["runuser", "-u", user, "--", "env", *values, python, "-m", "netsky_core", *args]
    return subprocess.run(
        argv,
        env=env,
        cwd=home,  # not the checkout: python -m would import netsky_core from there
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        check=False,
    )


def _one_line_error(proc: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("netsky: error:"), proc.stderr
    return lines[0]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _store(db: Path) -> None:
    from netsky_conformance.builders import api, ev

    with open_storage(f"sqlite:///{db}") as store:
        store.insert_many([ev(EventType.SESSION_START, 0), api(10, uuid="api:m1:r1")])


@pytest.fixture
def unprivileged() -> Iterator[tuple[str, Path]]:
    """(user, a home folder that user owns, in a place it can reach)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run netsky as another user")
    user = _user()
    if user is None:
        pytest.skip("no unprivileged user on this machine")
    root = Path(tempfile.mkdtemp(prefix="netsky-user-", dir="/tmp"))
    os.chmod(root, 0o755)
    home = root / "home"
    home.mkdir()
    shutil.chown(home, user)
    yield user, home
    subprocess.run(["chmod", "-R", "u+rwx", str(root)], check=False)
    shutil.rmtree(root, ignore_errors=True)


HOOK = json.dumps(
    {
        "session_id": "s-perm",
        "transcript_path": "/nonexistent.jsonl",
        "cwd": "/",
        "hook_event_name": "UserPromptSubmit",
        "prompt": "hello",
    }
)


@pytest.mark.loss_path
def test_a_store_made_writable_again_takes_writes_again(unprivileged: tuple[str, Path]) -> None:
    """chmod 400 then 600 again: SQLite left -wal/-shm read-only; the next write
    repairs them (the user owns them) instead of spooling forever."""
    user, home = unprivileged
    folder = home / "data"
    db = folder / "netsky.db"
    url = f"sqlite:///{db}"
    proc = _run(["--db", url, "db", "migrate"], home, user=user)
    assert proc.returncode == 0, proc.stderr
    os.chmod(db, 0o400)
    _run(["--db", url, "stats"], home, user=user)  # a reader leaves -wal/-shm behind
    os.chmod(db, 0o600)
    proc = _run(
        ["hook"],
        home,
        user=user,
        stdin=HOOK,
        extra={"NETSKY_DATABASE_URL": url, "NETSKY_HOOK_FOREGROUND": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    proc = _run(["--db", url, "events", "--json"], home, user=user)
    assert proc.returncode == 0, proc.stderr
    stored = [e for e in json.loads(proc.stdout) if e["session_id"] == "s-perm"]
    loss_row(
        9,
        "a store made writable again",
        faults="chmod 400 on the store, a reader leaves -wal/-shm, chmod 600 again",
        inputs="1 UserPromptSubmit hook as the store's unprivileged owner",
        sent=1,
        stored=len(stored),
    )
    assert len(stored) == 1


def test_a_read_only_file_is_named_in_the_error(unprivileged: tuple[str, Path]) -> None:
    user, home = unprivileged
    folder = home / "data"
    db = folder / "netsky.db"
    url = f"sqlite:///{db}"
    assert _run(["--db", url, "db", "migrate"], home, user=user).returncode == 0
    wal = Path(str(db) + "-wal")
    wal.touch()
    shutil.chown(wal, "root")  # not the user's: cannot be repaired
    os.chmod(wal, 0o444)
    line = _one_line_error(_run(["--db", url, "db", "vacuum"], home, user=user))
    assert "netsky.db-wal" in line


def _count(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])


@pytest.mark.loss_path
def test_a_store_in_a_read_only_folder_can_still_be_read(unprivileged: tuple[str, Path]) -> None:
    user, home = unprivileged
    folder = home / "ro"
    folder.mkdir()
    db = folder / "netsky.db"
    _store(db)
    for path in folder.iterdir():
        shutil.chown(path, user)
    shutil.chown(folder, user)
    before = _digest(db)
    os.chmod(folder, 0o555)
    url = f"sqlite:///{db}"
    read = 0
    try:
        for args in (
            ["sessions", "--json"],
            ["stats", "--json"],
            ["report", "daily", "--json", "--timezone", "UTC"],
            ["db", "status", "--json"],
            ["query", "--format", "json", "SELECT count(*) AS n FROM events"],
            ["tail", "--json"],
        ):
            proc = _run(["--db", url, *args], home, user=user)
            assert proc.returncode == 0, (args, proc.stderr)
            if args[0] == "query":
                read = json.loads(proc.stdout)[0]["n"]
    finally:
        os.chmod(folder, 0o755)
    loss_row(
        10,
        "a store in a read-only folder",
        faults="chmod 555 on the store's folder; 6 read commands as its owner",
        inputs="a store of 2 events",
        sent=_count(db),
        stored=read,
    )
    assert _digest(db) == before


@pytest.mark.parametrize(
    "args",
    [
        ["sessions"],
        ["stats"],
        ["db", "status"],
        ["events"],
        ["report", "daily"],
        ["query", "SELECT 1"],
    ],
)
def test_read_commands_on_a_missing_store_create_nothing(tmp_path: Path, args: list[str]) -> None:
    home = tmp_path / "home"
    home.mkdir()
    url = f"sqlite:///{tmp_path}/nonexistent/dir/x.db"
    line = _one_line_error(_run(["--db", url, *args], home))
    assert "no netsky store" in line
    assert not (tmp_path / "nonexistent").exists()


def _damage(db: Path, how: str) -> None:
    conn = sqlite3.connect(db)
    if how == "table":
        conn.execute("DROP TABLE usage")
    elif how == "column":
        conn.execute("ALTER TABLE sessions DROP COLUMN model_at")
    elif how == "version-0":
        conn.execute("PRAGMA user_version = 0")
    else:
        conn.execute("PRAGMA user_version = -1")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


@pytest.mark.loss_path
@pytest.mark.parametrize("how", ["table", "column", "version-0", "version-minus-1"])
def test_a_damaged_schema_is_noticed_and_left_untouched(tmp_path: Path, how: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    db = tmp_path / "netsky.db"
    _store(db)
    _damage(db, how)
    before = _digest(db)
    url = f"sqlite:///{db}"
    for args in (["db", "status"], ["db", "migrate"], ["stats"]):
        line = _one_line_error(_run(["--db", url, *args], home))
        assert "is damaged" in line, line
    after = _digest(db)
    if how != "table":
        loss_row(
            12,
            f"a damaged schema ({how})",
            faults={
                "column": "sessions.model_at dropped",
                "version-0": "user_version 0 on a full store",
                "version-minus-1": "user_version -1 on a full store",
            }[how]
            + "; db status, db migrate, stats",
            inputs="a store of 2 events",
            sent=2,
            stored=_count(db) if after == before else 0,
        )
    assert after == before


@pytest.mark.loss_path
@pytest.mark.postgres
def test_libpq_socket_urls_work(postgres_server: PostgresServer, tmp_path: Path) -> None:
    if postgres_server.root is None:
        pytest.skip("needs the suite's own server (its socket folder)")
    sockets = postgres_server.root / "sock"
    home = tmp_path / "home"
    home.mkdir()
    from urllib.parse import quote

    url = (
        f"postgresql:///{postgres_server.dbname}?host={quote(str(sockets), safe='')}"
        f"&port={postgres_server.port}&user={postgres_server.user}"
        f"&password={quote(postgres_server.password, safe='')}&schema=sock_test"
    )
    made = _run(["--db", url, "db", "migrate"], home)
    assert made.returncode == 0, made.stderr
    proc = _run(
        ["hook"],
        home,
        stdin=HOOK,
        extra={"NETSKY_DATABASE_URL": url, "NETSKY_HOOK_FOREGROUND": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    proc = _run(["--db", url, "events", "--json"], home)
    assert proc.returncode == 0, proc.stderr
    loss_row(
        11,
        "libpq socket URLs",
        backend="postgres",
        faults="postgresql:///db?host=<socket folder>&port=&user=&password=",
        inputs="1 UserPromptSubmit hook",
        sent=1,
        stored=sum(e["session_id"] == "s-perm" for e in json.loads(proc.stdout)),
    )
    bare = _run(["--db", "postgresql:///nosuchdb_x", "stats"], home)
    line = _one_line_error(bare)
    assert ('missing "="' not in line and "nosuchdb_x" in line) or "connect" in line, line


def _tables(server: PostgresServer, schema: str) -> list[str]:
    with server.admin(server.dbname) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,),
        ).fetchall()
    return sorted(r[0] for r in rows)


@pytest.mark.postgres
@pytest.mark.parametrize("args", [["sessions"], ["stats"], ["db", "status"]])
def test_read_commands_on_an_empty_postgres_schema_create_nothing(
    postgres_server: PostgresServer, tmp_path: Path, args: list[str]
) -> None:
    schema = "empty_" + "_".join(args)
    postgres_server.drop_schemas([schema])
    line = _one_line_error(_run(["--db", postgres_server.url(schema), *args], tmp_path))
    assert "no netsky store" in line, line
    assert _tables(postgres_server, schema) == []


@pytest.mark.postgres
@pytest.mark.parametrize("how", ["drop table", "drop column"])
def test_a_damaged_postgres_schema_is_noticed_and_left_untouched(
    postgres_server: PostgresServer, tmp_path: Path, how: str
) -> None:
    schema = "hurt_" + how.replace(" ", "_")
    postgres_server.drop_schemas([schema])
    url = postgres_server.url(schema)
    with open_storage(url) as store:
        store.insert_many([])
    with postgres_server.admin(postgres_server.dbname) as conn:
        if how == "drop table":
            conn.execute(f"DROP TABLE {schema}.positions")
        else:
            conn.execute(f"ALTER TABLE {schema}.sessions DROP COLUMN status")
    before = _tables(postgres_server, schema)
    for args in (["stats"], ["db", "status"], ["db", "migrate"], ["sessions"]):
        line = _one_line_error(_run(["--db", url, *args], tmp_path))
        assert "is damaged" in line, line
    assert _tables(postgres_server, schema) == before
