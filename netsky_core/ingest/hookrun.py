"""``netsky hook``: store one agent hook event, from a fresh process, fast.

Claude Code starts the hook once per event with the payload on stdin (Codex's
``notify`` passes it as the last argument). The hook:

1. turns the payload into an event (ids shared with the transcript parser),
2. reads the session's git context from ``.git`` directly (no ``git`` process),
3. stores the event and the git context,
4. on Stop / SubagentStop / PreCompact / SessionEnd, ingests the session's
   transcript incrementally in a detached child process, so the agent never waits,
5. replays the spool if earlier events are waiting there.

It never makes the agent fail or wait on storage trouble: whatever happens it exits
0; an event it could not store goes to the spool (fsync'd) and the error to the hook
log, and the next successful hook or ``netsky spool replay`` stores it exactly once.
Only what the hook path needs is imported (no argparse, cattrs, duckdb, rich, or
pluggy scans of installed packages).
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["main"]

TRANSCRIPT_TRIGGERS = frozenset({"Stop", "SubagentStop", "PreCompact", "SessionEnd"})
LOG_LIMIT = 5 << 20
HOOK_TIMEOUT_S = 5.0
USAGE = (
    "usage: netsky hook [--framework claude|codex] [--db URL] [--config PATH] "
    "[--foreground] [--no-transcript] [PAYLOAD_JSON]"
)


def _parse(argv: list[str]) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "framework": "claude",
        "db": None,
        "config": None,
        "foreground": bool(os.environ.get("NETSKY_HOOK_FOREGROUND")),
        "transcript": True,
        "payload": None,
    }
    it = iter(argv)
    for arg in it:
        if arg in ("--framework", "--db", "--config"):
            value = next(it, None)
            if value is None:
                raise SystemExit(f"netsky: error: {arg} needs a value\n{USAGE}")
            opts[arg[2:]] = value
        elif arg.startswith(("--framework=", "--db=", "--config=")):
            key, value = arg[2:].split("=", 1)
            opts[key] = value
        elif arg == "--foreground":
            opts["foreground"] = True
        elif arg == "--no-transcript":
            opts["transcript"] = False
        elif arg in ("-h", "--help"):
            sys.stdout.write(
                USAGE
                + "\n\nStore one agent hook event (payload on stdin). Always exits 0; an event "
                "that cannot be stored waits in the spool (see `netsky spool`).\n"
                "example (Claude Code settings.json command): /path/to/netsky hook\n"
            )
            raise SystemExit(0)
        elif not arg.startswith("-") and opts["payload"] is None:
            opts["payload"] = arg
        else:
            raise SystemExit(f"netsky: error: unknown hook option {arg!r}\n{USAGE}")
    if opts["framework"] not in ("claude", "codex"):
        raise SystemExit(f"netsky: error: --framework must be claude or codex\n{USAGE}")
    return opts


def _log(message: str) -> None:
    """One line in the hook log (0600, rotated at 5 MB); never raises."""
    try:
        from .._paths import ensure_private_dir, state_dir

        folder = ensure_private_dir(state_dir())
        path = folder / "hook.log"
        try:
            if path.stat().st_size > LOG_LIMIT:
                os.replace(path, folder / "hook.log.1")
        except FileNotFoundError:
            pass
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            os.write(fd, f"{stamp} pid={os.getpid()} {' '.join(message.split())}\n".encode())
        finally:
            os.close(fd)
    except Exception:
        pass


def _git(cwd: str | None) -> tuple[Any, Any] | None:
    if not cwd:
        return None
    try:
        from .gitinfo import read_git_context

        return read_git_context(cwd)
    except Exception as exc:  # a broken repo never stops the event
        _log(f"git context of {cwd!r} unreadable: {exc}")
        return None


def _record(
    opts: dict[str, Any],
    raw: str,
    received_at: datetime,
    random_id: str,
    machine_id: str,
    pid: Any,
    start: Any,
    git: Any,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "v": 1,
        "framework": opts["framework"],
        "raw": raw,
        "received_at": received_at.isoformat(),
        "random_id": random_id,
        "machine_id": machine_id,
        "pid": pid,
        "process_start_time": start,
    }
    if git is not None:
        ctx = git[0]
        record["git"] = {
            "local_git_dir": ctx.local_git_dir,
            "git_worktree_path": ctx.git_worktree_path,
            "github_repo": ctx.github_repo,
            "git_branch": ctx.git_branch,
            "github_pr": ctx.github_pr,
            "github_issue": ctx.github_issue,
        }
    return record


def store_records(store: Any, records: list[dict[str, Any]]) -> int:
    """Store spooled hook records (rebuilding each event exactly as at receipt)."""
    import json

    from .._records import GitContext
    from .hookevent import HookInputError, to_event

    events = []
    contexts = []
    for rec in records:
        try:
            payload = json.loads(rec["raw"])
            git = rec.get("git")
            event = to_event(
                payload,
                raw=rec["raw"],
                framework=rec.get("framework", "claude"),
                machine_id=rec["machine_id"],
                received_at=datetime.fromisoformat(rec["received_at"]),
                random_id=rec["random_id"],
                pid=rec.get("pid"),
                process_start_time=rec.get("process_start_time"),
                git_branch=git.get("git_branch") if git else None,
            )
        except (KeyError, ValueError, TypeError, HookInputError) as exc:
            _log(f"spooled record unreadable, dropped: {exc}")
            continue
        events.append(event)
        if git:
            contexts.append((event, GitContext(**git)))
    if events:
        store.insert_many(events)
    for event, ctx in contexts:
        store.upsert_session_git_context(
            event.machine_id, event.session_id, ctx, at=event.timestamp
        )
    return len(events)


def _open(config: Any) -> Any:
    from .._errors import StorageError
    from .._open import open_storage

    try:
        return open_storage(config=config, timeout=HOOK_TIMEOUT_S)
    except StorageError as exc:
        if "rejected the options" not in str(exc):
            raise
        return open_storage(config=config)  # a backend without the standard timeout option


def _transcripts(event: Any, payload: dict[str, Any]) -> list[str]:
    paths = []
    for key in ("transcript_path", "agent_transcript_path"):
        value = payload.get(key)
        if isinstance(value, str) and value and os.path.isfile(value):
            paths.append(value)
    return paths


def _codex_rollout(payload: dict[str, Any]) -> list[str]:
    thread = payload.get("thread-id") or payload.get("session_id")
    if not isinstance(thread, str) or not thread:
        return []
    from .scan import codex_roots

    for root in codex_roots():
        for folder in ("sessions", "archived_sessions"):
            base = root / folder
            if not base.is_dir():
                continue
            for dirpath, _dirs, files in os.walk(base):
                for name in files:
                    if name.endswith(f"{thread}.jsonl"):
                        return [os.path.join(dirpath, name)]
    return []


def _after_store(opts: dict[str, Any], config: Any, event: Any, payload: dict[str, Any]) -> None:
    """Transcript ingest and spool replay (in the detached child, or in-process)."""
    from .spool import default_spool

    hooks = config.section("hooks")
    paths: list[str] = []
    if (
        opts["transcript"]
        and hooks.get("ingest_transcripts", True)
        and event.event_type in TRANSCRIPT_TRIGGERS
    ):
        paths = (
            _transcripts(event, payload)
            if opts["framework"] == "claude"
            else _codex_rollout(payload)
        )
    spool = default_spool(hooks.get("spool_dir"))
    if not paths and not spool.pending():
        return
    store = _open(config)
    try:
        if spool.pending():
            n, bad = spool.replay(lambda recs: store_records(store, recs))
            if n or bad:
                _log(f"spool replayed: {n} events stored, {bad} unreadable lines set aside")
        if paths:
            from .options import ingest_options
            from .scan import Source, ingest

            options = ingest_options(config)
            options.pop("claude_dirs")
            options.pop("codex_dirs")
            kind = "codex" if opts["framework"] == "codex" else "claude"
            summary = ingest(
                store, [Source(p, kind) for p in paths], machine_id=event.machine_id, **options
            )
            if summary.errors:
                _log(f"transcript ingest: {'; '.join(summary.errors[:3])}")
    finally:
        store.close()


def _detach() -> bool:
    """Fork a detached child; True in the child. The parent returns at once."""
    if not hasattr(os, "fork"):
        return True  # no fork: do the work in-process
    sys.stdout.flush()
    pid = os.fork()
    if pid:
        return False
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    return True


def main(argv: list[str]) -> int:
    try:
        opts = _parse(argv)
    except SystemExit as exc:
        if exc.code:
            sys.stderr.write(f"{exc.code}\n")
        return 0 if exc.code in (0, None) else 2
    try:
        raw_bytes = (
            opts["payload"].encode() if opts["payload"] is not None else sys.stdin.buffer.read()
        )
    except Exception as exc:
        _log(f"cannot read hook input: {exc}")
        return 0
    received_at = datetime.now(UTC)
    try:
        return _run(opts, raw_bytes, received_at)
    except BaseException as exc:  # the agent must never fail because of netsky
        _log(f"hook failed unexpectedly: {type(exc).__name__}: {exc}")
        return 0


def _run(opts: dict[str, Any], raw_bytes: bytes, received_at: datetime) -> int:
    import json

    from .._config import load_config, resolve_machine_id
    from .._errors import NetskyError
    from .._urls import mask_url
    from .hookevent import HookInputError, agent_process, to_event
    from .spool import default_spool

    raw = raw_bytes.decode("utf-8", errors="replace")
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        _log(f"hook input is not JSON ({exc}); set aside in the spool's rejected.jsonl")
        _reject(raw_bytes)
        return 0
    try:
        config = load_config(db_url=opts["db"], config_path=opts["config"])
        machine_id = resolve_machine_id(config).value
    except NetskyError as exc:
        _log(f"configuration error: {exc}")
        config, machine_id = None, None
    random_id = os.urandom(8).hex()
    pid, start = agent_process()
    git = _git(payload.get("cwd") if isinstance(payload, dict) else None)
    if config is not None and not config.section("hooks").get("git_context", True):
        git = None
    try:
        event = to_event(
            payload,
            raw=raw,
            framework=opts["framework"],
            machine_id=machine_id or "unknown",
            received_at=received_at,
            random_id=random_id,
            pid=pid,
            process_start_time=start,
            git_branch=git[0].git_branch if git else None,
        )
    except (HookInputError, ValueError) as exc:
        _log(f"hook input rejected: {exc}")
        _reject(raw_bytes)
        return 0
    record = _record(opts, raw, received_at, random_id, event.machine_id, pid, start, git)
    if config is None:
        default_spool().append(record)
        return 0
    spool = default_spool(config.section("hooks").get("spool_dir"))
    try:
        store = _open(config)
        try:
            store.insert(event)
            if git is not None:
                store.upsert_session_git_context(
                    event.machine_id, event.session_id, git[0], at=received_at
                )
        finally:
            store.close()
    except NetskyError as exc:
        spool.append(record)
        _log(
            f"{event.event_type} of session {event.session_id} spooled: "
            f"{mask_url(str(config.storage_url.value))}: {exc}"
        )
        return 0
    needs_work = (opts["transcript"] and event.event_type in TRANSCRIPT_TRIGGERS) or spool.pending()
    if not needs_work:
        return 0
    if opts["foreground"] or _detach():
        try:
            _after_store(opts, config, event, payload)
        except BaseException as exc:
            _log(f"after storing {event.event_type}: {type(exc).__name__}: {exc}")
        if not opts["foreground"] and hasattr(os, "fork"):
            os._exit(0)
    return 0


def _reject(raw: bytes) -> None:
    try:
        from .._paths import ensure_private_dir, state_dir

        folder = ensure_private_dir(state_dir() / "spool")
        fd = os.open(Path(folder) / "rejected.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, raw.replace(b"\n", b" ") + b"\n")
        finally:
            os.close(fd)
    except Exception:
        pass


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
