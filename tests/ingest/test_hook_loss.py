"""Loss paths of ``netsky hook`` (issue 13): each spooled event reaches the store it
was for, a full or unwritable state dir, torn spool writes, and global options.

Every hook runs as the agent runs it: a fresh ``netsky hook`` process, the payload
on stdin, HOME / XDG dirs / NETSKY_HOME in tmp dirs. A store is "down" when its
SQLite file sits under a regular file (or PostgreSQL on port 1), "back" when the
file is replaced by a folder.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from netsky_core import EventQuery, open_storage
from tests.disks import fill, small_tmpfs
from tests.loss_paths import loss_row

from .conftest import NETSKY, isolated_env, run_netsky, spool_of, wait_for_drainers

DEAD_PG = "postgresql://netsky:s3cr3t-pw@127.0.0.1:1/none?connect_timeout=1"


def prompt(key: str, size: int = 0) -> bytes:
    payload = {
        "session_id": "loss",
        "hook_event_name": "UserPromptSubmit",
        "cwd": "/nonexistent/loss",
        "prompt": key + ("x" * size),
        "rel_key": key,
    }
    return json.dumps(payload).encode()


def hook(
    env: dict[str, str], payload: bytes, *args: str, fsize: int | None = None
) -> subprocess.CompletedProcess[bytes]:
    """``netsky [args] hook`` (``args`` may put options before ``hook``); ``fsize``
    caps the size of any file the hook writes (RLIMIT_FSIZE: short writes, EFBIG)."""
    argv = list(args) if "hook" in args else ["hook", *args]

    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    result = subprocess.run(
        [str(NETSKY), *argv],
        input=payload,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
        preexec_fn=limit,
    )
    assert result.returncode == 0, result.stderr  # whatever happens: never block the agent
    return result


def keys(url: str) -> Counter[str]:
    """How often each ``rel_key`` is stored in ``url``."""
    with open_storage(url) as store:
        return Counter(
            json.loads(e.payload or "{}").get("rel_key") for e in store.query(EventQuery())
        )


class Store:
    """A SQLite store that can be down (its folder is a regular file) or up."""

    def __init__(self, root: Path, name: str, *, up: bool = True) -> None:
        self.folder = root / f"store-{name}"
        self.url = f"sqlite:///{self.folder}/{name}.db"
        if up:
            self.folder.mkdir(parents=True)
        else:
            self.folder.write_text("not a folder: the store cannot be opened")

    def up(self) -> None:
        if self.folder.is_file():
            self.folder.unlink()
        self.folder.mkdir(exist_ok=True)

    def keys(self) -> Counter[str]:
        return keys(self.url) if (self.folder / Path(self.url).name).exists() else Counter()


def hook_log(env: dict[str, str]) -> str:
    path = Path(env["NETSKY_HOME"]) / "hook.log"
    return path.read_text() if path.exists() else ""


# -- item 1: every spooled record goes to the store it was for --------------------------


@pytest.mark.loss_path
def test_two_hooks_with_their_own_stores_one_down(tmp_path: Path) -> None:
    """User and project scope each run `netsky hook --db`; store B is down. A gets
    its events at once (B's back-off does not hold them), B none; once B is back,
    B gets exactly its own events and A nothing more."""
    env = isolated_env(tmp_path)
    a, b = Store(tmp_path, "a"), Store(tmp_path, "b", up=False)
    sent = [f"p{i}" for i in range(6)]
    for key in sent:  # Claude Code runs both hooks for every event
        hook(env, prompt(key), "--db", b.url)
        hook(env, prompt(key), "--db", a.url)
    wait_for_drainers(Path(env["NETSKY_HOME"]))
    assert a.keys() == Counter(sent)
    assert b.keys() == Counter()
    assert "unavailable, events stay spooled" in hook_log(env)

    b.up()
    hook({**env, "NETSKY_HOOK_FOREGROUND": "1"}, prompt("late"), "--db", b.url)
    wait_for_drainers(Path(env["NETSKY_HOME"]))
    loss_row(
        1,
        "two hooks with their own stores, one down",
        faults="store B unreachable for 6 prompts, then back",
        inputs="UserPromptSubmit hooks into A and B (`netsky hook --db`)",
        sent=2 * len(sent) + 1,
        stored=sum((a.keys() & Counter(sent)).values())
        + sum((b.keys() & Counter([*sent, "late"])).values()),
    )
    assert b.keys() == Counter([*sent, "late"])
    assert a.keys() == Counter(sent)


def test_an_env_store_outage_does_not_drain_into_the_default_store(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    default = f"sqlite:///{tmp_path}/netsky-home/netsky.db"
    for key in ("pg-1", "pg-2"):
        hook({**env, "NETSKY_DATABASE_URL": DEAD_PG}, prompt(key))
    wait_for_drainers(Path(env["NETSKY_HOME"]))
    hook({**env, "NETSKY_HOOK_FOREGROUND": "1"}, prompt("plain"))
    wait_for_drainers(Path(env["NETSKY_HOME"]))
    assert keys(default) == Counter(["plain"])
    status = json.loads(run_netsky(["spool", "status", "--json"], env).stdout)
    assert status["pending"] == 2
    (waiting,) = [t for t in status["targets"] if t["pending"]]
    assert waiting["db"].startswith("postgresql://netsky:***@127.0.0.1:1/none")
    assert "s3cr3t-pw" not in json.dumps(status)
    assert "s3cr3t-pw" not in "".join(p.name for p in (tmp_path / "netsky-home").rglob("*"))


def test_spool_replay_puts_each_spool_into_its_own_store(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    a, b = Store(tmp_path, "a", up=False), Store(tmp_path, "b", up=False)
    for key in ("x1", "x2"):
        hook(env, prompt(f"a-{key}"), "--db", a.url)
        hook(env, prompt(f"b-{key}"), "--db", b.url)
    wait_for_drainers(Path(env["NETSKY_HOME"]))
    a.up()
    only_a = run_netsky(["--db", a.url, "spool", "replay", "--json"], env)
    assert only_a.returncode == 0, only_a.stderr
    assert json.loads(only_a.stdout)["replayed"] == 2
    assert a.keys() == Counter(["a-x1", "a-x2"])
    # b still down: replaying everything stores nothing in the wrong place, exit 1
    failed = run_netsky(["spool", "replay", "--json"], env)
    assert failed.returncode == 1 and b"events stay spooled" in failed.stderr
    assert json.loads(failed.stdout)["pending"] == 2
    b.up()
    done = run_netsky(["spool", "replay", "--json"], env)
    assert done.returncode == 0, done.stderr
    assert (a.keys(), b.keys()) == (Counter(["a-x1", "a-x2"]), Counter(["b-x1", "b-x2"]))
    status = json.loads(run_netsky(["hooks", "status", "--json"], env).stdout)
    assert status["spool"]["pending"] == 0 and len(status["spool"]["targets"]) == 2


def test_records_spooled_before_targets_go_to_the_default_store(tmp_path: Path) -> None:
    """A spool written by a netsky without targets (``spool/hooks.jsonl``) is drained
    into the default store, not into the store of whichever hook runs next."""
    env = isolated_env(tmp_path)
    down = Store(tmp_path, "old", up=False)
    for key in ("old-1", "old-2"):
        hook({**env, "NETSKY_HOOK_FOREGROUND": "1"}, prompt(key), "--db", down.url)
    spool = spool_of(env, down.url)
    root = Path(env["NETSKY_HOME"]) / "spool"
    os.replace(spool.path, root / "hooks.jsonl")  # the layout before targets
    shutil.rmtree(spool.folder)
    other = Store(tmp_path, "other")
    hook({**env, "NETSKY_HOOK_FOREGROUND": "1"}, prompt("other"), "--db", other.url)
    wait_for_drainers(Path(env["NETSKY_HOME"]))
    assert other.keys() == Counter(["other"])
    default = f"sqlite:///{tmp_path}/netsky-home/netsky.db"
    assert keys(default) == Counter(["old-1", "old-2"])
    assert not (root / "hooks.jsonl").exists()


# -- item 3: a spool that cannot be written ------------------------------------------


@pytest.mark.loss_path
def test_a_full_state_file_system_stores_directly(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "state") as state:
        fill(state)
        env = isolated_env(tmp_path, NETSKY_HOME=str(state / "netsky"))
        store = Store(tmp_path, "s")
        results = [hook(env, prompt(f"full-{i}"), "--db", store.url) for i in range(6)]
        loss_row(
            3,
            "a full state file system",
            faults="the spool's 1 MB tmpfs filled; store healthy",
            inputs="6 UserPromptSubmit hooks",
            sent=6,
            stored=sum(store.keys().values()),
        )
        assert store.keys() == Counter(f"full-{i}" for i in range(6))
        assert [r.stderr for r in results] == [b""] * 6

        down = Store(tmp_path, "down", up=False)
        lost = hook(env, prompt("lost"), "--db", down.url)
        assert b"hook event LOST" in lost.stderr and b"not writable" in lost.stderr


@pytest.mark.parametrize("how", ["spool is a file", "spool file is /dev/full", "read-only"])
def test_an_unwritable_spool_stores_directly_or_says_so(tmp_path: Path, how: str) -> None:
    if how == "read-only" and os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    env = isolated_env(tmp_path)
    home = Path(env["NETSKY_HOME"])
    home.mkdir(parents=True)
    store, down = Store(tmp_path, "s"), Store(tmp_path, "down", up=False)
    spools = [] if how == "spool is a file" else [spool_of(env, s.url) for s in (store, down)]
    if how == "spool is a file":
        (home / "spool").write_text("")
    for spool in spools:
        spool.folder.mkdir(parents=True)
        if how == "spool file is /dev/full":
            spool.path.symlink_to("/dev/full")
        else:
            spool.folder.chmod(0o500)
    try:
        ok = hook(env, prompt("direct"), "--db", store.url)
        assert ok.stderr == b""
        assert store.keys() == Counter(["direct"])
        assert "stored directly" in hook_log(env)

        lost = hook(env, prompt("lost"), "--db", down.url)
        assert b"netsky: error: hook event LOST" in lost.stderr
        assert "hook event LOST" in hook_log(env)
    finally:
        for spool in spools:
            if spool.folder.is_dir():
                spool.folder.chmod(0o700)


# -- item 4: a record is whole or absent -----------------------------------------------


def _torn_sequence(env: dict[str, str], store: Store, **limits: int) -> list[bytes]:
    """good-1, BIG, good-2, good-3 into a store that is down; stderr of each."""
    out = []
    for key, size in (("good-1", 0), ("BIG", 300_000), ("good-2", 0), ("good-3", 0)):
        out.append(hook(env, prompt(key, size), "--db", store.url, **limits).stderr)
    return out


def _replayed(env: dict[str, str], store: Store) -> dict:
    # the last hook's drainer may still be trying the store that is down: let it fail
    # first, or it finds the store up and stores what this replay is meant to replay
    wait_for_drainers(Path(env["NETSKY_HOME"]))
    store.up()
    replay = run_netsky(["--db", store.url, "spool", "replay", "--json"], env)
    assert replay.returncode == 0, replay.stderr
    return json.loads(replay.stdout)


@pytest.mark.loss_path
def test_a_short_spool_write_is_cut_back_and_costs_no_other_record(tmp_path: Path) -> None:
    """The BIG record's write hits the file size limit part way (a short count,
    then EFBIG): the spool is cut back to what it was, the next records are whole."""
    env = isolated_env(tmp_path)
    store = Store(tmp_path, "s", up=False)
    stderr = _torn_sequence(env, store, fsize=200_000)
    result = _replayed(env, store)
    loss_row(
        4,
        "a torn spool write",
        faults="store down; a 300 KB record cut short by the file size limit (EFBIG)",
        inputs="good-1, BIG (reported lost on stderr), good-2, good-3",
        sent=3,
        stored=sum(store.keys().values()),
    )
    assert store.keys() == Counter(["good-1", "good-2", "good-3"])
    assert (result["replayed"], result["rejected"]) == (3, 0)
    assert b"hook event LOST" in stderr[1]  # spool full and store down: said, not silent
    assert stderr[0] == stderr[2] == stderr[3] == b""


def test_a_full_spool_file_system_cuts_a_torn_record_back(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "state") as state:
        env = isolated_env(tmp_path, NETSKY_HOME=str(state / "netsky"))
        store = Store(tmp_path, "s", up=False)
        hook(env, prompt("warm-up"), "--db", store.url)  # folders and lock files exist
        filler = fill(state, leave=100_000)
        stderr = _torn_sequence(env, store)
        filler.unlink()
        result = _replayed(env, store)
        assert store.keys() == Counter(["warm-up", "good-1", "good-2", "good-3"])
        assert result["rejected"] == 0
        assert b"hook event LOST" in stderr[1]


def test_a_torn_tail_in_the_spool_costs_only_itself(tmp_path: Path) -> None:
    """A record cut off by a crash (no newline) is followed by good ones: they start
    on a fresh line and are stored; the torn one is set aside."""
    env = isolated_env(tmp_path)
    store = Store(tmp_path, "s", up=False)
    hook(env, prompt("before"), "--db", store.url)
    (spool_file,) = (Path(env["NETSKY_HOME"]) / "spool").rglob("hooks.jsonl")
    whole = spool_file.read_bytes()
    with open(spool_file, "ab") as fh:
        fh.write(whole[: len(whole) // 2])  # a torn copy, no newline
    for key in ("after-1", "after-2"):
        hook(env, prompt(key), "--db", store.url)
    result = _replayed(env, store)
    assert (result["replayed"], result["rejected"]) == (3, 1)
    assert store.keys() == Counter(["before", "after-1", "after-2"])
    rejected = (Path(env["NETSKY_HOME"]) / "spool" / "rejected.jsonl").read_bytes()
    assert [line for line in rejected.splitlines() if line] == [whole[: len(whole) // 2]]


# -- item 5: global options before or after `hook` ------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--db", "{db}", "hook"],
        ["--db={db}", "hook"],
        ["--config", "{config}", "hook"],
        ["--debug", "hook", "--db", "{db}"],
        ["hook", "--db", "{db}", "--debug"],
        ["--debug", "--config", "{config}", "hook", "--foreground"],
    ],
    ids=["db-before", "db=-before", "config-before", "debug-before", "debug-after", "all"],
)
@pytest.mark.loss_path
def test_global_options_anywhere_store_the_event(tmp_path: Path, argv: list[str]) -> None:
    db = f"sqlite:///{tmp_path}/s.db"
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\nurl = "{db}"\n')
    env = isolated_env(tmp_path, NETSKY_HOOK_FOREGROUND="1")
    words = [w.format(db=db, config=config) for w in argv]
    result = hook(env, prompt("global"), *words)
    loss_row(
        5,
        f"global options around `hook` ({' '.join(argv)})",
        faults="--db / --config / --debug before or after `hook`",
        inputs="1 UserPromptSubmit hook",
        sent=1,
        stored=sum(keys(db).values()),
    )
    assert result.stderr == b""
    assert keys(db) == Counter(["global"])


@pytest.mark.parametrize("before", [False, True], ids=["after-hook", "before-hook"])
def test_an_unknown_hook_option_still_stores_the_event(tmp_path: Path, before: bool) -> None:
    db = f"sqlite:///{tmp_path}/s.db"
    env = isolated_env(tmp_path, NETSKY_DATABASE_URL=db, NETSKY_HOOK_FOREGROUND="1")
    words = (
        ["--option-of-a-newer-netsky", "hook"] if before else ["hook", "--option-of-a-newer-netsky"]
    )
    result = hook(env, prompt("newer"), *words)
    assert result.returncode == 0
    assert b"unknown hook option" in result.stderr
    assert keys(db) == Counter(["newer"])
