"""Secrets and access: private files, no password anywhere, read-only queries, redaction.

* Files: SQLite stores (and their ``-wal`` / ``-shm``), the hook spool, its lock files,
  ``rejected.jsonl`` and the hook log are created 0600 in folders created 0700, even
  under ``umask 000``.
* Passwords: every ``netsky`` command (``netsky --help`` lists them) runs with ``--db``
  set to a PostgreSQL URL carrying a password (with ``@ : / % !`` and non-ASCII in it):
  against the real test server (a role with that password), with the wrong password,
  and against a closed port; also through ``NETSKY_DATABASE_URL``, the config file and
  ``--debug``. Neither the password nor its URL-quoted forms may appear in stdout,
  stderr, any file under the test's home folders, ``repr`` / ``str`` of errors (and
  their chains) or of storage objects.
* ``netsky query`` refuses every statement that would write (``DELETE``, ``DROP``,
  ``INSERT``, ``ATTACH ...; DELETE ...``, ``COPY ... TO``, ...) with a one-line message;
  the store's bytes (SQLite) or rows (PostgreSQL) are unchanged and no file appears.
* ``[ingest] redact = true``: credentials written into transcripts, rollouts and hook
  payloads are absent from every stored text, and the same events are stored as
  without redaction.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import subprocess
import sys
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import attrs
import pytest
from netsky_conformance.builders import api, ev, prompt

from netsky_core import (
    EventQuery,
    FilePosition,
    NetskyError,
    SessionQuery,
    Storage,
    load_config,
    open_storage,
)
from tests.fix_postgres import PostgresServer
from tests.ingest.conftest import isolated_env

from .recorder import record

NETSKY = Path(sys.executable).with_name("netsky")
PASSWORD = "Pa$$:w0rd/ü@!%-7f3a"  # quoting matters for every character class here
LEAK_ROLE = "netsky_leaktest"
SESSION = "sess-secret-1"


def _forms(secret: str) -> list[str]:
    """The password and the ways it may be spelled in a URL."""
    return sorted({secret, quote(secret, safe=""), quote(secret), quote_plus(secret)})


def _leaks(text: str, secret: str = PASSWORD) -> list[str]:
    return [form for form in _forms(secret) if form in text]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class Runner:
    """Runs ``netsky`` in an isolated home; keeps every run for the leak scan."""

    def __init__(self, root: Path, umask: int | None = None) -> None:
        self.root = root
        self.env = isolated_env(
            root,
            NETSKY_MACHINE_ID="secret-test",
            CLAUDE_CONFIG_DIR=str(root / "claude"),
            CODEX_HOME=str(root / "codex"),
            COLUMNS="200",
        )
        self.umask = umask
        self.runs: list[tuple[list[str], subprocess.CompletedProcess[str]]] = []

    def __call__(
        self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        umask = self.umask
        proc = subprocess.run(
            [str(NETSKY), *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=180,
            preexec_fn=None if umask is None else (lambda: os.umask(umask)),
        )
        self.runs.append((list(args), proc))
        return proc


def _scan_files(*roots: Path, secret: str = PASSWORD) -> list[str]:
    """Files under ``roots`` that contain the secret (any spelling).

    A spool's ``target.json`` is the one place meant to hold it: the drainer needs the
    full URL to reach that store later. It counts as a leak unless only its owner can
    read it (0600 in a 0700 folder)."""
    found = []
    for root in roots:
        if not root.exists():
            continue
        for path in root.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                text = data.decode("utf-8", errors="replace")
                if _leaks(text, secret) and not _private_target(path):
                    found.append(str(path))
    return found


def _private_target(path: Path) -> bool:
    return (
        path.name == "target.json"
        and path.parent.parent.name == "spool"
        and _mode(path) == 0o600
        and _mode(path.parent) == 0o700
    )


# -- 1. files are private ------------------------------------------------------------------


def test_store_spool_and_log_files_are_private_even_under_umask_000(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        db = tmp_path / "new" / "nested" / "store.db"
        store = open_storage(f"sqlite:///{db}")
        store.insert(ev())  # a write: -wal and -shm exist while the store is open
        side_files = [Path(f"{db}{s}") for s in ("-wal", "-shm") if Path(f"{db}{s}").exists()]
        modes = {str(p): _mode(p) for p in [db, *side_files]}
        dirs = {str(p): _mode(p) for p in (db.parent, db.parent.parent)}
        store.close()
    finally:
        os.umask(old)
    run = Runner(tmp_path / "cli", umask=0)
    dead = "postgresql://u:pw@127.0.0.1:9/x?connect_timeout=1"
    payload = json.dumps({"session_id": "s", "hook_event_name": "Stop"})
    run("hook", "--db", dead, stdin=payload, env={"NETSKY_HOOK_FOREGROUND": "1"})
    run("hook", stdin="not json at all")
    default_db = run("db", "migrate")  # creates the default store
    home = tmp_path / "cli" / "netsky-home"
    spool = home / "spool"
    private = [home / "hook.log", *sorted(p for p in spool.rglob("*") if p.is_file())]
    private += sorted(home.rglob("*.db"))
    modes.update({str(p): _mode(p) for p in private})
    dirs.update({str(p): _mode(p) for p in (home, spool, *spool.glob("t-*"))})
    others = {str(p.relative_to(home)): oct(_mode(p)) for p in home.iterdir() if p.is_file()}
    wrong = {p: oct(m) for p, m in modes.items() if m != 0o600}
    wrong.update({p: oct(m) for p, m in dirs.items() if m != 0o700})
    names = {Path(p).name for p in modes}
    record(
        test="Secrets: private files",
        backend="sqlite + hook spool",
        load=f"{len(modes)} files, {len(dirs)} folders",
        faults="umask 000",
        inputs="new store in a new folder; hook with a dead store; invalid hook input",
        lost=0,
        duplicated=0,
        result="pass" if not wrong else f"FAIL: {wrong}",
        files=", ".join(sorted(names)),
        other_files_in_home=json.dumps(others),
    )
    assert default_db.returncode == 0, default_db.stderr
    assert {"hook.log", "hooks.jsonl", "rejected.jsonl", ".lock", ".drainer"} <= names
    assert any(n.endswith(".db") for n in names if n != "store.db")
    assert wrong == {}


# -- 2. passwords never show ----------------------------------------------------------------


@pytest.fixture(scope="module")
def leak_role(postgres_server: PostgresServer) -> Iterator[str]:
    """A role whose password is ``PASSWORD``; yields a URL template (``{schema}``)."""
    with postgres_server.admin() as conn:
        conn.execute(f"DROP ROLE IF EXISTS {LEAK_ROLE}")
        conn.execute(
            f"CREATE ROLE {LEAK_ROLE} LOGIN PASSWORD '{PASSWORD.replace(chr(39), chr(39) * 2)}'"
        )
        conn.execute(f'GRANT CREATE, CONNECT ON DATABASE "{postgres_server.dbname}" TO {LEAK_ROLE}')
    user = quote(LEAK_ROLE, safe="")
    yield (
        f"postgresql://{user}:{quote(PASSWORD, safe='')}@{postgres_server.host}:"
        f"{postgres_server.port}/{postgres_server.dbname}?schema={{schema}}"
    )
    with postgres_server.admin(postgres_server.dbname) as conn:
        for (schema,) in conn.execute(
            "SELECT nspname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner "
            "WHERE r.rolname = %s",
            (LEAK_ROLE,),
        ).fetchall():
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.execute(f'REVOKE ALL ON DATABASE "{postgres_server.dbname}" FROM {LEAK_ROLE}')
    with postgres_server.admin() as conn:
        conn.execute(f"DROP ROLE IF EXISTS {LEAK_ROLE}")


def _transcripts(root: Path) -> None:
    """One small Claude transcript and one Codex rollout for ``ingest``."""
    claude = root / "claude" / "projects" / "-w" / f"{SESSION}.jsonl"
    claude.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        {
            "type": "user",
            "uuid": "u1",
            "sessionId": SESSION,
            "timestamp": "2026-03-01T10:00:00Z",
            "message": {"role": "user", "content": "hello"},
        },
        {
            "type": "assistant",
            "uuid": "a1",
            "sessionId": SESSION,
            "timestamp": "2026-03-01T10:00:01Z",
            "requestId": "r1",
            "message": {
                "id": "m1",
                "model": "claude-opus-4-6",
                "usage": {"input_tokens": 10, "output_tokens": 20},
                "content": [{"type": "text", "text": "hi"}],
            },
        },
    ]
    claude.write_text("".join(json.dumps(line) + "\n" for line in lines))
    codex = root / "codex" / "sessions" / "2026" / "03" / "01"
    codex.mkdir(parents=True, exist_ok=True)
    (codex / "rollout-2026-03-01T10-00-00-0000-secret.jsonl").write_text(
        json.dumps(
            {
                "timestamp": "2026-03-01T10:00:00Z",
                "type": "session_meta",
                "payload": {"id": "codex-secret-1"},
            }
        )
        + "\n"
    )


def _every_command(url: str, root: Path, *, reachable: bool) -> list[tuple[list[str], str | None]]:
    """``(argv, stdin)`` for every command of ``netsky --help`` against ``url``."""
    export = root / "export.jsonl"
    other = f"sqlite:///{root}/copy-target.db"
    db = ["--db", url]
    commands: list[tuple[list[str], str | None]] = [
        (["backends"], None),
        (["backends", "--json"], None),
        ([*db, "config"], None),
        ([*db, "config", "--json"], None),
        ([*db, "db", "status"], None),
        ([*db, "db", "status", "--json"], None),
        ([*db, "db", "migrate"], None),
        ([*db, "db", "vacuum"], None),
        ([*db, "ingest"], None),
        ([*db, "ingest", "--json"], None),
        ([*db, "sessions"], None),
        ([*db, "sessions", "--json"], None),
        ([*db, "session", SESSION], None),
        ([*db, "session", SESSION, "--json"], None),
        ([*db, "events", "--json"], None),
        ([*db, "events"], None),
        ([*db, "tail", "-n", "3"], None),
        ([*db, "stats"], None),
        ([*db, "stats", "--json"], None),
        ([*db, "report", "daily"], None),
        ([*db, "report", "session", "--json"], None),
        ([*db, "query", "SELECT count(*) AS n FROM events", "--format", "csv"], None),
        ([*db, "query", "SELECT * FROM nope_no_such_view"], None),
        ([*db, "export", "-o", str(export)], None),
        ([*db, "export", "--format", "csv", "-o", str(root / "export.csv")], None),
        ([*db, "copy", url, other], None),
        ([*db, "copy", other, url], None),
        ([*db, "import", str(export)], None),
        ([*db, "gc", "--retention", "36500d", "--dry-run"], None),
        ([*db, "gc", "--retention", "36500d", "-y", "--json"], None),
        ([*db, "hooks", "install", "--dry-run"], None),
        ([*db, "hooks", "status"], None),
        ([*db, "spool", "status"], None),
        ([*db, "spool", "replay"], None),
        (
            ["hook", "--db", url, "--foreground"],
            json.dumps({"session_id": "hook-s", "hook_event_name": "Stop"}),
        ),
        ([*db, "demo", "--generated", "--sessions", "2"], None),
        ([*db, "--debug", "db", "status"], None),
        ([*db, "--debug", "sessions", "--since", "not-a-time"], None),
    ]
    if not reachable:
        commands.append(([*db, "--debug", "events"], None))
    return commands


def _run_all(
    run: Runner, commands: list[tuple[list[str], str | None]]
) -> list[tuple[list[str], subprocess.CompletedProcess[str]]]:
    return [(argv, run(*argv, stdin=stdin)) for argv, stdin in commands]


def _judge(
    results: list[tuple[list[str], subprocess.CompletedProcess[str]]], root: Path
) -> tuple[list[str], list[str]]:
    """(commands whose output leaks, files that leak)."""
    leaking = [
        " ".join(argv).replace(PASSWORD, "<pw>")
        for argv, proc in results
        if _leaks(proc.stdout) or _leaks(proc.stderr)
    ]
    files = _scan_files(root / "home", root / "netsky-home", root / "export.jsonl")
    files += _scan_files(root / "export.csv")
    return leaking, files


@pytest.mark.postgres
def test_no_command_shows_the_password_of_a_reachable_store(leak_role: str, tmp_path: Path) -> None:
    url = leak_role.format(schema="leak_ok")
    with open_storage(url) as store:  # the role works, and the store has data
        store.insert_many([prompt("fix it", session_id=SESSION), api(1, session_id=SESSION)])
    _transcripts(tmp_path)
    run = Runner(tmp_path)
    results = _run_all(run, _every_command(url, tmp_path, reachable=True))
    env_run = run("db", "status", env={"NETSKY_DATABASE_URL": url})
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\nurl = "{url}"\n')
    file_run = run("--config", str(config), "config")
    results += [(["db", "status", "(NETSKY_DATABASE_URL)"], env_run)]
    results += [(["config", "(config file)"], file_run)]
    leaking, files = _judge(results, tmp_path)
    failed = [
        (" ".join(a), p.returncode, p.stderr.strip()[-300:])
        for a, p in results
        if p.returncode != 0 and "not-a-time" not in a and "nope_no_such_view" not in a[-1]
    ]
    record(
        test="Secrets: password never shown",
        backend="postgres (reachable)",
        load=f"{len(results)} netsky processes",
        faults="none",
        inputs="password with $ : / u-umlaut @ ! % in --db, NETSKY_DATABASE_URL, config file",
        lost=0,
        duplicated=0,
        result="pass"
        if not (leaking or files or failed)
        else f"FAIL: {leaking or files or failed}",
        commands=len(results),
    )
    assert failed == [], failed
    assert leaking == [], leaking
    # The config file written above holds the password by design; nothing else may.
    assert [f for f in files if not f.endswith("config.toml")] == [], files
    assert "***" in file_run.stdout


@pytest.mark.postgres
def test_no_command_shows_the_password_of_an_unreachable_or_refusing_store(
    leak_role: str, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    dead = (
        f"postgresql://{LEAK_ROLE}:{quote(PASSWORD, safe='')}@127.0.0.1:{closed}/netsky"
        "?connect_timeout=1&schema=x"
    )
    wrong_secret = PASSWORD[::-1]
    wrong = leak_role.format(schema="leak_wrong").replace(
        quote(PASSWORD, safe=""), quote(wrong_secret, safe="")
    )
    in_query = (
        f"postgresql://{LEAK_ROLE}@127.0.0.1:{closed}/netsky?connect_timeout=1"
        f"&password={quote(PASSWORD, safe='')}"
    )
    totals = []
    for name, url, secret in (
        ("closed port", dead, PASSWORD),
        ("wrong password", wrong, wrong_secret),
        ("password= parameter", in_query, PASSWORD),
    ):
        root = tmp_path / name.replace(" ", "-")
        root.mkdir()
        _transcripts(root)
        run = Runner(root)
        results = _run_all(run, _every_command(url, root, reachable=False))
        leaking = [
            " ".join(argv)
            for argv, proc in results
            if _leaks(proc.stdout, secret) or _leaks(proc.stderr, secret)
        ]
        files = _scan_files(root / "home", root / "netsky-home", secret=secret)
        tracebacks = [
            " ".join(a) for a, p in results if "Traceback" in p.stderr and "--debug" not in a
        ]
        totals.append((name, len(results), leaking, files, tracebacks))
        record(
            test="Secrets: password never shown",
            backend=f"postgres ({name})",
            load=f"{len(results)} netsky processes",
            faults=name,
            inputs="every command, also with --debug",
            lost=0,
            duplicated=0,
            result="pass" if not (leaking or files or tracebacks) else "FAIL",
            commands=len(results),
        )
    for name, _n, leaking, files, tracebacks in totals:
        assert leaking == [], (name, leaking)
        assert files == [], (name, files)
        assert tracebacks == [], (name, tracebacks)


def _everything_shown(exc: BaseException) -> str:
    parts = ["".join(traceback.format_exception(exc))]
    seen: BaseException | None = exc
    while seen is not None:
        parts += [repr(seen), str(seen), str(getattr(seen, "hint", ""))]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


@pytest.mark.postgres
def test_errors_and_storage_objects_hide_the_password(
    leak_role: str, postgres_server: PostgresServer
) -> None:
    shown: list[str] = []
    checked = 0
    url = leak_role.format(schema="leak_objects")
    with open_storage(url) as store:
        shown += [repr(store), str(store), repr(store.info()), str(store.info())]
        store.insert(ev())
        with postgres_server.admin(postgres_server.dbname) as conn:
            conn.execute('DROP SCHEMA "leak_objects" CASCADE')
        for call in (store.count, lambda: store.insert(ev()), store.query_transcript_positions):
            with pytest.raises(NetskyError) as info:
                call()
            shown.append(_everything_shown(info.value))
            checked += 1
    for bad in (
        url.replace(str(postgres_server.port), "9") + "&connect_timeout=1",
        url.replace(quote(PASSWORD, safe=""), quote(PASSWORD[::-1], safe="")),
        url.replace("schema=leak_objects", "schema=pg_reserved"),
        url + "&schema=twice",
        url + "&pool_max=x",
    ):
        try:
            open_storage(bad).close()
        except Exception as exc:  # every failure must hide it, whatever its type
            shown.append(_everything_shown(exc))
            checked += 1
    leaks = [text[:200] for text in shown if _leaks(text) or _leaks(text, PASSWORD[::-1])]
    record(
        test="Secrets: errors and storage objects",
        backend="postgres",
        load=f"{checked} errors, 4 object reprs",
        faults="schema dropped under an open store; unreachable; wrong password; bad URLs",
        inputs="str / repr / hint / cause chain / formatted traceback",
        lost=0,
        duplicated=0,
        result="pass" if not leaks else "FAIL",
    )
    assert checked >= 7
    assert leaks == []


def test_config_repr_hides_the_password() -> None:
    config = load_config(db_url=f"postgresql://u:{quote(PASSWORD, safe='')}@h/db")
    assert _leaks(repr(config)) == [] and _leaks(repr(config.storage_url)) == []


def test_hooks_install_does_not_leave_the_password_world_readable(tmp_path: Path) -> None:
    run = Runner(tmp_path)
    claude = tmp_path / "home" / ".claude"
    claude.mkdir(mode=0o755)
    os.chmod(claude, 0o755)
    url = f"postgresql://u:{quote(PASSWORD, safe='')}@127.0.0.1:9/x?connect_timeout=1"
    proc = run(
        "--db", url, "hooks", "install", "--scope", "user", env={"CLAUDE_CONFIG_DIR": str(claude)}
    )
    assert proc.returncode == 0, proc.stderr
    assert _leaks(proc.stdout + proc.stderr) == []
    settings = claude / "settings.json"
    assert not _leaks(settings.read_text()) or _mode(settings) & 0o077 == 0, oct(_mode(settings))


# -- 3. `netsky query` cannot write ---------------------------------------------------------


def _seed(store: Storage) -> None:
    store.insert_many([prompt("hello", session_id=SESSION), api(1, session_id=SESSION), ev(t=2)])
    store.set_transcript_position(
        FilePosition(
            machine_id="m1",
            path="/t/a.jsonl",
            offset=10,
            updated_at=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=1),
        )
    )


def _writes(db: Path | None, out: Path) -> list[str]:
    statements = [
        "DELETE FROM events",
        "DROP TABLE events",
        "DROP VIEW events",
        "INSERT INTO events (session_id) VALUES ('x')",
        "UPDATE events SET session_id = 'x'",
        "CREATE TABLE t AS SELECT * FROM events",
        "CREATE OR REPLACE VIEW events AS SELECT 1",
        "ALTER TABLE events RENAME TO e2",
        "TRUNCATE events",
        "SELECT 1; DELETE FROM events",
        "select 1;\n-- harmless?\ndelete from events",
        "/* comment */ DELETE FROM sessions",
        f"COPY events TO '{out}'",
        f"COPY (SELECT * FROM events) TO '{out}' (FORMAT csv)",
        f"EXPORT DATABASE '{out}'",
        "INSTALL sqlite",
        "LOAD sqlite",
        "SET memory_limit = '1GB'",
        "PRAGMA threads = 1",
        "CHECKPOINT",
        "CALL dbgen(sf = 0.01)",
        "DETACH memory",
    ]
    if db is not None:
        statements += [
            f"ATTACH '{db}' AS s; DELETE FROM s.events",
            f"ATTACH '{db}' AS s (TYPE sqlite); DELETE FROM s.events",
            f"ATTACH '{db}' AS s (TYPE sqlite, READ_ONLY false); DROP TABLE s.sessions",
        ]
    else:
        statements += [
            "ATTACH 'host=127.0.0.1 dbname=netsky_test' AS p (TYPE postgres); DELETE FROM p.events",
        ]
    return statements


def _sqlite_state(db: Path) -> tuple[str, list[str]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        dump = list(conn.iterdump())
    finally:
        conn.close()
    return hashlib.sha256(db.read_bytes()).hexdigest(), dump


def _check_refusals(
    run: Runner, url: str, statements: list[str], out: Path
) -> tuple[list[str], list[str]]:
    """(statements that were not refused cleanly, messages)."""
    bad: list[str] = []
    messages: list[str] = []
    for sql in statements:
        proc = run("--db", url, "query", sql)
        lines = proc.stderr.strip().splitlines()
        clean = (
            proc.returncode != 0
            and proc.stdout == ""
            and len(lines) == 1
            and lines[0].startswith("netsky: error:")
            and "Traceback" not in proc.stderr
        )
        if not clean or out.exists():
            bad.append(
                f"{sql!r}: rc={proc.returncode} out={proc.stdout[:80]!r} err={proc.stderr[:200]!r}"
            )
        else:
            messages.append(lines[0])
    return bad, messages


def test_query_cannot_write_to_a_sqlite_store(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with open_storage(f"sqlite:///{db}") as store:
        _seed(store)
    out = tmp_path / "exfiltrated"
    before = _sqlite_state(db)
    run = Runner(tmp_path)
    statements = _writes(db, out)
    bad, messages = _check_refusals(run, f"sqlite:///{db}", statements, out)
    ok = run(
        "--db", f"sqlite:///{db}", "query", "SELECT count(*) AS n FROM events", "--format", "json"
    )
    after = _sqlite_state(db)
    record(
        test="Secrets: `netsky query` is read-only",
        backend="sqlite",
        load=f"{len(statements)} write attempts",
        faults="none",
        inputs="DELETE, DROP, INSERT, UPDATE, CREATE, ALTER, multi-statement, COPY TO, "
        "EXPORT, INSTALL/LOAD, SET, ATTACH the store file; DELETE",
        lost=0 if after == before else 1,
        duplicated=0,
        result="pass" if not bad and after == before else "FAIL",
        refused=len(messages),
        example=messages[0] if messages else "",
    )
    assert bad == [], bad
    assert after == before, "the store changed"
    assert ok.returncode == 0 and json.loads(ok.stdout) == [{"n": 3}], ok
    assert all("read-only" in m or "refused" in m for m in messages), messages


def _pg_state(server: PostgresServer, schema: str) -> list[Any]:
    with server.admin(server.dbname) as conn:
        return [
            conn.execute(
                f"SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"{schema}\".{table} t"
            ).fetchone()
            for table in ("events", "sessions", "positions", "netsky_meta")
        ]


@pytest.mark.postgres
def test_query_cannot_write_to_a_postgres_store(
    postgres_server: PostgresServer, postgres_url: Callable[..., str], tmp_path: Path
) -> None:
    url = postgres_url()
    schema = url.rsplit("schema=", 1)[1]
    with open_storage(url) as store:
        _seed(store)
    out = tmp_path / "exfiltrated"
    before = _pg_state(postgres_server, schema)
    run = Runner(tmp_path)
    statements = _writes(None, out)
    bad, messages = _check_refusals(run, url, statements, out)
    after = _pg_state(postgres_server, schema)
    record(
        test="Secrets: `netsky query` is read-only",
        backend="postgres",
        load=f"{len(statements)} write attempts",
        faults="none",
        inputs="as for sqlite, and ATTACH of the server (TYPE postgres); DELETE",
        lost=0 if after == before else 1,
        duplicated=0,
        result="pass" if not bad and after == before else "FAIL",
        refused=len(messages),
    )
    assert bad == [], bad
    assert after == before
    assert all(_leaks(m, postgres_server.password) == [] for m in messages)


# -- 4. redaction end to end -----------------------------------------------------------------

SECRETS = {
    "anthropic": "sk-ant-api03-" + "A1b2C3d4E5f6G7h8I9j0" * 2,
    "openai": "sk-proj-" + "Zy98Xw76Vu54Ts32Rq10" * 2,
    "aws": "AKIAIOSFODNN7EXAMPLE",
    "github": "ghp_" + "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6",
    "gitlab": "glpat-" + "xY7zW3vU1tS9rQ5pO2nM",
    "slack": "xoxb-" + "123456789012-abcdefghij",
    "google": "AIza" + "SyB1c2D3e4F5g6H7i8J9k0L1m2N3o4P5q6R",
    "stripe": "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "bearer": "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5",
    "url": "Sup3rS3cretDbPw",
    "assignment": "hunter2hunter2xyz",
}
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7secretkeymaterialQQ\n-----END RSA PRIVATE KEY-----"


def _secret_text() -> str:
    s = SECRETS
    return (
        f"keys {s['anthropic']} {s['openai']} {s['aws']} {s['github']} {s['gitlab']} "
        f"{s['slack']} {s['google']} {s['stripe']} {s['jwt']} "
        f"Authorization: Bearer {s['bearer']} postgresql://admin:{s['url']}@db.internal/x "
        f"password={s['assignment']}\n{PRIVATE_KEY}"
    )


def _write_secret_history(root: Path) -> list[str]:
    """Transcripts, a rollout and hook payloads full of credentials; the hook stdins."""
    text = _secret_text()
    claude = root / "claude" / "projects" / "-w" / "redact-claude.jsonl"
    claude.parent.mkdir(parents=True, exist_ok=True)
    base = {"sessionId": "redact-claude", "cwd": "/w", "isSidechain": False}
    lines = [
        {
            **base,
            "type": "user",
            "uuid": "c1",
            "timestamp": "2026-03-01T10:00:00Z",
            "message": {"role": "user", "content": text},
        },
        {
            **base,
            "type": "assistant",
            "uuid": "c2",
            "timestamp": "2026-03-01T10:00:01Z",
            "requestId": "r1",
            "message": {
                "id": "m1",
                "model": "claude-opus-4-6",
                "usage": {"input_tokens": 1, "output_tokens": 2},
                "content": [
                    {"type": "tool_use", "id": "tu1", "name": "Bash", "input": {"command": text}}
                ],
            },
        },
        {
            **base,
            "type": "user",
            "uuid": "c3",
            "timestamp": "2026-03-01T10:00:02Z",
            "message": {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "tu1", "content": text}],
            },
        },
        {
            **base,
            "type": "system",
            "subtype": "local_command",
            "uuid": "c4",
            "timestamp": "2026-03-01T10:00:03Z",
            "content": text,
        },
        {
            **base,
            "type": "custom-thing",
            "uuid": "c5",
            "timestamp": "2026-03-01T10:00:04Z",
            "note": text,
        },
        {
            **base,
            "type": "user",
            "uuid": "c6",
            "timestamp": "2026-03-01T10:00:05Z",
            "message": {"role": "user", "content": f"again {text}"},
        },
    ]
    claude.write_text("".join(json.dumps(line) + "\n" for line in lines))
    codex = (
        root
        / "codex"
        / "sessions"
        / "2026"
        / "03"
        / "01"
        / "rollout-2026-03-01T10-00-00-0000-redact.jsonl"
    )
    codex.parent.mkdir(parents=True, exist_ok=True)
    rollout = [
        {
            "timestamp": "2026-03-01T11:00:00Z",
            "type": "session_meta",
            "payload": {"id": "redact-codex", "cwd": "/w"},
        },
        {
            "timestamp": "2026-03-01T11:00:01Z",
            "type": "event_msg",
            "payload": {"type": "user_message", "message": text},
        },
        {
            "timestamp": "2026-03-01T11:00:02Z",
            "type": "response_item",
            "payload": {
                "type": "function_call",
                "name": "shell",
                "call_id": "c1",
                "arguments": json.dumps({"cmd": text}),
            },
        },
        {
            "timestamp": "2026-03-01T11:00:03Z",
            "type": "response_item",
            "payload": {"type": "function_call_output", "call_id": "c1", "output": text},
        },
        {
            "timestamp": "2026-03-01T11:00:04Z",
            "type": "event_msg",
            "payload": {"type": "exec_approval_request", "detail": text},
        },
    ]
    codex.write_text("".join(json.dumps(line) + "\n" for line in rollout))
    hook = {"session_id": "redact-hook", "cwd": "/w", "transcript_path": "/nowhere.jsonl"}
    return [
        json.dumps({**hook, "hook_event_name": "UserPromptSubmit", "prompt": text}),
        json.dumps(
            {
                **hook,
                "hook_event_name": "PreToolUse",
                "tool_name": "Bash",
                "tool_use_id": "h1",
                "tool_input": {"command": text},
            }
        ),
        json.dumps(
            {
                **hook,
                "hook_event_name": "PostToolUse",
                "tool_name": "Bash",
                "tool_use_id": "h1",
                "tool_response": {"stdout": text},
            }
        ),
        json.dumps(
            {
                **hook,
                "hook_event_name": "Notification",
                "message": text,
                "notification_type": "other",
            }
        ),
    ]


def _stored_texts(db: Path) -> tuple[list[str], Counter[tuple[str, str]]]:
    """Every text stored (events and sessions) and the events by (session, type)."""
    texts: list[str] = []
    with open_storage(f"sqlite:///{db}", read_only=True) as store:
        events = store.query(EventQuery())
        for e in events:
            texts += [str(v) for v in attrs.astuple(e) if isinstance(v, str)]
        for s in store.list_sessions(SessionQuery()):
            texts += [str(v) for v in attrs.astuple(s) if isinstance(v, str)]
        keys = Counter((e.session_id, e.event_type) for e in events)
    return texts, keys


def _ingest_secret_history(
    tmp_path: Path, redact: bool
) -> tuple[Path, list[str], Counter[tuple[str, str]]]:
    root = tmp_path / ("redacted" if redact else "plain")
    root.mkdir()
    hooks = _write_secret_history(root)
    config = root / "config.toml"
    config.write_text(f"[ingest]\nredact = {'true' if redact else 'false'}\n")
    db = root / "store.db"
    run = Runner(root)
    args = ["--config", str(config), "--db", f"sqlite:///{db}"]
    proc = run(*args, "ingest", "--json")
    assert proc.returncode == 0, proc.stderr
    for payload in hooks:
        hook = run(
            "hook",
            "--config",
            str(config),
            "--db",
            f"sqlite:///{db}",
            "--foreground",
            stdin=payload,
        )
        assert hook.returncode == 0 and hook.stderr == ""
    texts, keys = _stored_texts(db)
    return db, texts, keys


def test_redaction_removes_credentials_from_transcripts_and_hooks_end_to_end(
    tmp_path: Path,
) -> None:
    _, plain_texts, plain_keys = _ingest_secret_history(tmp_path, redact=False)
    db, texts, keys = _ingest_secret_history(tmp_path, redact=True)
    everything = "\n".join(texts)
    secrets = [*SECRETS.values(), "7secretkeymaterialQQ"]
    found_plain = [s for s in secrets if s in "\n".join(plain_texts)]
    leaked = [
        name for name, s in [*SECRETS.items(), ("private-key", secrets[-1])] if s in everything
    ]
    with open_storage(f"sqlite:///{db}", read_only=True) as store:
        sessions = {s.session_id for s in store.list_sessions(SessionQuery())}
    redactions = everything.count("[REDACTED:")
    lost = sum((plain_keys - keys).values())
    record(
        test="Secrets: payload redaction end to end",
        backend="sqlite",
        load=f"{sum(keys.values())} events from a Claude transcript, a Codex rollout and 4 hooks",
        faults="none",
        inputs=f"{len(secrets)} kinds of credential in prompts, tool input/output, raw lines",
        lost=lost,
        duplicated=sum((keys - plain_keys).values()),
        result="pass" if not leaked and lost == 0 else f"FAIL: leaked {leaked}",
        redactions=redactions,
    )
    assert sorted(found_plain) == sorted(secrets), "the unredacted run must show every secret"
    assert leaked == [], leaked
    assert keys == plain_keys
    assert {"redact-claude", "redact-codex", "redact-hook"} <= sessions
    assert redactions >= len(secrets) * 4
