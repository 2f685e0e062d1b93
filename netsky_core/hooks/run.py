"""``netsky hook``: store one agent hook event without making the agent wait.

Claude Code starts the hook once per event with the payload on stdin (Codex's
``notify`` passes it as the last argument). The agent waits for this process, so the
hook does only cheap, stdlib-only work before it exits:

1. validate the payload (invalid input is logged and set aside, never fatal),
2. note what is only true now: the receipt time, a random id for events that have
   no id of their own, the agent's pid, and the git context read from ``.git``,
3. append that record to the spool (one fsync'd JSON line),
4. make sure one drainer runs: a detached child that imports netsky, stores every
   spooled record in the configured store (the same event and git context as at
   receipt), and ingests the transcript incrementally after Stop / SubagentStop /
   PreCompact / SessionEnd. Only one drainer runs at a time; a burst of hooks is
   stored by the one already running. When none runs, it is started as soon as the
   payload is valid: its imports and the opening of the store overlap steps 2 and 3,
   and it stores once the record is spooled.

Whatever happens it exits 0. When the store is unreachable the records simply stay
in the spool (the error goes to the hook log) until a later drainer or
``netsky spool replay`` stores them; every record keeps its receipt-time id, so each
event is stored exactly once. ``--foreground`` (or ``NETSKY_HOOK_FOREGROUND=1``, and
always where ``fork`` is missing) stores in-process before exiting.
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # no runtime typing import on the hook's fast path
    from collections.abc import Sequence
    from typing import Any

__all__ = ["command_index", "hook_arguments", "main", "replay_spool", "store_records"]

TRANSCRIPT_TRIGGERS = frozenset({"Stop", "SubagentStop", "PreCompact", "SessionEnd"})
LOG_LIMIT = 5 << 20
HOOK_TIMEOUT_S = 5.0
USAGE = (
    "usage: netsky hook [--framework claude|codex] [--db URL] [--config PATH] "
    "[--foreground] [--no-transcript] [--debug] [PAYLOAD_JSON]"
)


_GLOBAL_VALUE = ("--db", "--config")


def hook_arguments(args: list[str]) -> list[str] | None:
    """The hook's own arguments when ``args`` (after the program name) run
    ``netsky [global options] hook ...``, else None. The global options before
    ``hook`` come first, so that one given after ``hook`` wins, as with argparse."""
    i = command_index(args, lenient=True)
    if i is None or args[i] != "hook":
        return None
    return args[:i] + args[i + 1 :]


def command_index(args: Sequence[str], *, lenient: bool = False) -> int | None:
    """Where the command word of ``args`` (after the program name) is, past the global
    options (``--db URL``, ``--config PATH``, ``--db=URL``, ``--debug``); None when
    there is none, or an option comes first that is ``--help``/``--version`` or (unless
    ``lenient``: a hook skips an option of a newer netsky) not a global one."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in _GLOBAL_VALUE:
            i += 2
        elif arg == "--debug" or arg.startswith(("--db=", "--config=")):
            i += 1
        elif arg.startswith("-"):
            if not lenient or arg in ("-h", "--help", "--version"):
                return None
            i += 1
        else:
            return i
    return None


def _parse(argv: list[str]) -> dict[str, Any]:
    """The hook's options. A wrong option is a warning (``problems``), never the end
    of the event: a hook command written by another netsky version still stores."""
    opts: dict[str, Any] = {
        "framework": "claude",
        "db": None,
        "config": None,
        "foreground": bool(os.environ.get("NETSKY_HOOK_FOREGROUND")),
        "transcript": True,
        "debug": bool(os.environ.get("NETSKY_DEBUG")),
        "payload": None,
        "problems": [],
    }
    it = iter(argv)
    for arg in it:
        if arg in ("--framework", "--db", "--config"):
            value = next(it, None)
            if value is None:
                opts["problems"].append(f"{arg} needs a value")
            else:
                opts[arg[2:]] = value
        elif arg.startswith(("--framework=", "--db=", "--config=")):
            key, value = arg[2:].split("=", 1)
            opts[key] = value
        elif arg == "--foreground":
            opts["foreground"] = True
        elif arg == "--no-transcript":
            opts["transcript"] = False
        elif arg == "--debug":
            opts["debug"] = True
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
            opts["problems"].append(f"unknown hook option {arg!r} ignored")
    if opts["framework"] not in ("claude", "codex"):
        opts["problems"].append(f"--framework must be claude or codex, not {opts['framework']!r}")
        opts["framework"] = "claude"
    return opts


def _log(message: str) -> None:
    """One line in the hook log (0600, rotated at 5 MB); never raises."""
    try:
        from .._paths import ensure_private_dir, state_path

        folder = os.fspath(ensure_private_dir(state_path()))
        path = os.path.join(folder, "hook.log")
        try:
            if os.stat(path).st_size > LOG_LIMIT:
                os.replace(path, os.path.join(folder, "hook.log.1"))
        except FileNotFoundError:
            pass
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            stamp = _utc_now_iso(fraction=False)
            os.write(fd, f"{stamp} pid={os.getpid()} {' '.join(message.split())}\n".encode())
        finally:
            os.close(fd)
    except Exception:
        pass


def _git(cwd: Any) -> dict[str, Any] | None:
    if not isinstance(cwd, str) or not cwd:
        return None
    try:
        from ..ingest.gitinfo import read_git_facts

        return read_git_facts(cwd)
    except Exception as exc:  # a broken repo never stops the event
        _log(f"git context of {cwd!r} unreadable: {exc}")
        return None


def _reject(raw: bytes, reason: str) -> None:
    _log(f"hook input rejected ({reason}); set aside in the spool's rejected.jsonl")
    try:
        from .spool import REJECTED, append_whole, spool_root

        append_whole(spool_root(), REJECTED, raw.replace(b"\n", b" ") + b"\n")
    except Exception:
        pass


# -- storing (in the drainer, `spool replay` and --foreground) ------------------------------


def store_records(
    store: Any,
    records: list[dict[str, Any]],
    machine_id: str | None = None,
    redact: Any = None,
) -> list[tuple[Any, dict[str, Any]]]:
    """Store spooled hook records, rebuilding each event exactly as at receipt
    (``redact``: the ``[ingest] redact`` function applied to the stored payload).

    Returns ``(event, record)`` for every record stored (the caller may ingest the
    transcripts of the Stop-like ones).
    """
    from datetime import datetime

    from .._jsonc import loads
    from .._records import GitContext
    from .payload import HookInputError, to_event

    built: list[tuple[Any, dict[str, Any]]] = []
    contexts = []
    for rec in records:
        try:
            raw = rec["raw"]
            git = rec.get("git")
            event = to_event(
                loads(raw),
                raw=redact(raw) if redact is not None else raw,
                framework=rec.get("framework", "claude"),
                machine_id=rec.get("machine_id") or machine_id or "unknown",
                received_at=datetime.fromisoformat(rec["received_at"]),
                random_id=rec["random_id"],
                pid=rec.get("pid"),
                process_start_time=rec.get("process_start_time"),
                git_branch=git.get("git_branch") if git else None,
            )
        except (KeyError, ValueError, TypeError, RecursionError, HookInputError) as exc:
            _log(f"spooled record unreadable, dropped: {exc}")
            continue
        built.append((event, rec))
        if git:
            contexts.append((event, GitContext(**git)))
    if built:  # the events and their git facts: one write transaction
        git = [(e.machine_id, e.session_id, ctx, e.timestamp) for e, ctx in contexts]
        store.insert_many([event for event, _ in built], git=git)
    return built


def _open(config: Any) -> Any:
    from .._errors import StorageOptionsError
    from .._open import open_storage

    try:
        return open_storage(config=config, timeout=HOOK_TIMEOUT_S)
    except StorageOptionsError:
        return open_storage(config=config)  # a backend without the standard timeout option


def replay_spool(spool: Any, config: Any) -> tuple[int, int]:
    """Store one spool's records in the store of ``config`` (``netsky spool replay``).
    Returns (records stored, unreadable lines set aside)."""
    from .._config import resolve_machine_id
    from ..ingest.options import redactor

    machine_id = resolve_machine_id(config).value
    redact = redactor(config)
    store = _open(config)
    try:
        return spool.replay(lambda records: store_records(store, records, machine_id, redact))
    finally:
        store.close()


def _codex_rollout(payload: dict[str, Any]) -> list[str]:
    thread = payload.get("thread-id") or payload.get("session_id")
    if not isinstance(thread, str) or not thread:
        return []
    from ..ingest.roots import codex_roots

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


def _transcripts(stored: list[tuple[Any, dict[str, Any]]]) -> dict[str, str]:
    """Transcript files to ingest after these events: path -> parser kind."""
    from .._jsonc import loads

    found: dict[str, str] = {}
    for event, rec in stored:
        if event.event_type not in TRANSCRIPT_TRIGGERS or not rec.get("transcript", True):
            continue
        payload = loads(rec["raw"])
        if rec.get("framework") == "codex":
            for path in _codex_rollout(payload):
                found[path] = "codex"
            continue
        for key in ("transcript_path", "agent_transcript_path"):
            value = payload.get(key)
            if isinstance(value, str) and value and os.path.isfile(value):
                found[value] = "claude"
    return found


def _ingest_pending(store: Any, config: Any, machine_id: str) -> None:
    """Read what is new in every transcript and rollout (``[hooks]
    ingest_pending_on_start``, after a SessionStart, in the detached drainer), so the
    agents' cleanup never deletes history netsky has not read."""
    from ..ingest.options import ingest_options
    from ..ingest.scan import discover, ingest

    options = ingest_options(config)
    sources = discover(
        claude_extra=options.pop("claude_dirs"), codex_extra=options.pop("codex_dirs")
    )
    summary = ingest(store, sources, machine_id=machine_id, **options)
    _log(f"pending history read at session start: {summary.inserted} new events")
    if summary.errors:
        _log(f"pending history: {'; '.join(summary.errors[:3])}")


def drain(config: Any, spool: Any, store: Any = None) -> tuple[int, bool]:
    """Store everything in the spool, then ingest the transcripts Stop-like events name
    (``store``: the store of ``config`` opened already, closed here).

    Records that cannot be stored stay in the spool. Returns (records stored, whether
    the store was unreachable).
    """
    from .._config import resolve_machine_id
    from .._errors import NetskyError
    from ..ingest.options import redactor

    machine_id = resolve_machine_id(config).value
    redact = redactor(config)
    stored_total = 0
    failed = False
    transcripts: dict[str, str] = {}
    started: list[bool] = []
    on_start = bool(config.section("hooks").get("ingest_pending_on_start", False))
    try:
        while spool.pending():
            if store is None:
                store = _open(config)

            def keep(records: list[dict[str, Any]], store: Any = store) -> None:
                stored = store_records(store, records, machine_id, redact)
                transcripts.update(_transcripts(stored))
                if on_start and any(e.event_type == "SessionStart" for e, _ in stored):
                    started.append(True)

            n, bad = spool.replay(keep)
            stored_total += n
            if bad:
                _log(f"{bad} unreadable spool lines set aside")
            if n == 0 and not bad:
                break
        if transcripts and store is not None:
            from ..ingest.options import ingest_options
            from ..ingest.scan import Source, ingest

            if config.section("hooks").get("ingest_transcripts", True):
                options = ingest_options(config)
                options.pop("claude_dirs")
                options.pop("codex_dirs")
                summary = ingest(
                    store,
                    [Source(path, kind) for path, kind in sorted(transcripts.items())],
                    machine_id=machine_id,
                    **options,
                )
                if summary.errors:
                    _log(f"transcript ingest: {'; '.join(summary.errors[:3])}")
        if started and store is not None:
            _ingest_pending(store, config, machine_id)
        spool.note_failure(False)
    except NetskyError as exc:
        from .._urls import mask_url

        failed = True
        spool.note_failure(True)
        _log(
            f"store {mask_url(str(config.storage_url.value))} unavailable, events stay spooled: {exc}"
        )
    finally:
        if store is not None:
            store.close()
    return stored_total, failed


def _drainer(spool: Any, *, once: bool = False, first: tuple[Any, Any] | None = None) -> None:
    """Drain while holding the drainer lock (in the detached child, or in-process
    with ``once``: one pass, then what other hooks spooled meanwhile goes to a
    detached drainer, so a foreground hook's wait stays bounded). ``first``: the
    config and open store of the first pass (see :func:`_prepare`).

    Records spooled by a netsky without targets are moved to the default target's
    spool first, and drained too when this drainer can take that spool."""
    from .spool import migrate_legacy

    try:
        legacy = migrate_legacy()
    except OSError as exc:
        legacy = None
        _log(f"old spool records not moved: {exc}")
    try:
        _drain_spool(spool, once=once, first=first)
    finally:
        if (
            legacy is not None
            and legacy.folder != spool.folder
            and not legacy.backing_off()
            and legacy.try_drainer()
        ):
            _drain_spool(legacy, once=once)


def _drain_spool(spool: Any, *, once: bool, first: tuple[Any, Any] | None = None) -> None:
    from .._errors import NetskyError

    wake: int | None = None  # the FIFO a lingering drainer waits on
    try:
        while True:
            try:
                while True:
                    store = None
                    if first is not None:  # read and opened while the hook spooled
                        (config, store), first = first, None
                    else:
                        try:  # read for each pass: a change (redaction turned on) applies now
                            config = spool.load_config()
                        except NetskyError as exc:
                            _log(f"configuration error, events stay spooled: {exc}")
                            return
                    linger = 0.0 if once else _linger(config)
                    if wake is None and linger > 0:
                        wake = spool.open_wake()
                    # each pass opens the store afresh (under a millisecond once
                    # imported), so a lingering drainer sees a migration or a restore
                    _stored, failed = drain(config, spool, store)
                    # linger: a hook soon after finds this drainer running and wakes
                    # it, so its event is stored in milliseconds, without imports
                    if failed or wake is None or not spool.wait_for_records(wake, linger):
                        break
            finally:
                spool.release_drainer()
            # an event spooled while we were finishing (its hook saw us running) is
            # ours to store; after a failure the events wait for a later hook or a replay
            if failed or not spool.pending() or not spool.try_drainer():
                return
            if once and hasattr(os, "fork"):
                if _detach():
                    try:
                        _drain_spool(spool, once=False)
                    finally:
                        os._exit(0)
                spool.forget_drainer()
                return
    finally:
        if wake is not None:
            os.close(wake)


DEFAULT_LINGER = "30s"
LINGER_ENV = "NETSKY_DRAINER_LINGER"


def _linger(config: Any) -> float:
    """Seconds a detached drainer waits for more records after the spool is empty
    (``NETSKY_DRAINER_LINGER``, else ``[hooks] drainer_linger``; 0 exits at once)."""
    from .._durations import parse_duration
    from .._errors import NetskyError

    text = os.environ.get(LINGER_ENV) or config.section("hooks").get("drainer_linger")
    try:
        return parse_duration(text or DEFAULT_LINGER, allow_zero=True).total_seconds()
    except NetskyError as exc:
        _log(f"{LINGER_ENV}: {exc}; the drainer does not linger")
        return 0.0


def _start_drainer(spool: Any) -> list[int]:
    """Start this spool's drainer before the record is spooled, when none runs and
    the store was not just unreachable: a detached child that reads the config and
    opens the store, then waits for :func:`_spooled` on the pipe returned (``[fd]``).
    ``[]`` when it did not start (one runs, or no fork): the hook then goes on as
    before, starting a drainer once it spooled."""
    if not hasattr(os, "fork"):
        return []
    try:
        if spool.backing_off() or not spool.try_drainer():
            return []
    except OSError:  # an unwritable spool: the append says what becomes of the event
        return []
    try:
        ready, spooled = os.pipe()
    except OSError as exc:
        spool.release_drainer()
        _log(f"drainer not started early: {exc}")
        return []
    try:
        child = _detach()
    except OSError as exc:
        os.close(ready)
        os.close(spooled)
        spool.release_drainer()
        _log(f"drainer not started early: {exc}")
        return []
    if not child:
        os.close(ready)
        spool.forget_drainer()  # the child holds the lock now
        return [spooled]
    try:
        os.close(spooled)
        _drain_once_spooled(spool, ready)
    except BaseException as exc:
        _log(f"drainer failed: {type(exc).__name__}: {exc}")
    finally:
        os._exit(0)


def _spooled(fd: int) -> bool:
    """Tell the drainer :func:`_start_drainer` started that the record is spooled;
    False if it is gone (it failed: a drainer is started as without it)."""
    try:
        os.write(fd, b"1")
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _drain_once_spooled(spool: Any, ready: int) -> None:
    """In the drainer started early: read the config and open the store, wait until
    the hook has spooled its record (its word, or the pipe closing: it stored the
    event itself, or failed), then drain. It drains either way: another hook may have
    spooled a record meanwhile, finding this drainer running."""
    first = _prepare(spool)
    try:
        os.read(ready, 1)
    finally:
        os.close(ready)
    _drainer(spool, first=first)


def _prepare(spool: Any) -> tuple[Any, Any] | None:
    """The config and open store of a drainer's first pass, or None when either
    fails (the pass then reads and opens again, and says why)."""
    try:
        config = spool.load_config()
        return config, _open(config)
    except Exception:
        return None


def _detach() -> bool:
    """Fork a detached child; True in the child. False in the parent (or no fork)."""
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
    except SystemExit:  # --help
        return 0
    # Even a wrong command line exits 0 and stores the event: for PreToolUse, Claude
    # Code reads exit code 2 as "block this tool call", and netsky must never change
    # what the agent does.
    for problem in opts["problems"]:
        sys.stderr.write(f"netsky: warning: {problem}\n{USAGE}\n")
        _log(f"hook option problem: {problem}")
    try:
        raw_bytes = (
            opts["payload"].encode() if opts["payload"] is not None else sys.stdin.buffer.read()
        )
        return _run(opts, raw_bytes, _utc_now_iso())
    except BaseException as exc:  # the agent must never fail because of netsky
        _log(f"hook failed unexpectedly: {type(exc).__name__}: {exc}")
        if opts["debug"]:
            import traceback

            traceback.print_exc()
        return 0


def _utc_now_iso(*, fraction: bool = True) -> str:
    """``datetime.now(UTC).isoformat()`` (``timespec="seconds"`` without ``fraction``),
    without importing ``datetime``: every agent event starts this process afresh."""
    seconds, ns = divmod(time.time_ns(), 1_000_000_000)
    us = ns // 1000 if fraction else 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + (
        f".{us:06d}+00:00" if us else "+00:00"
    )


def _store_now(spool: Any, record: dict[str, Any], spool_error: OSError) -> None:
    """Store one record in this process (its spool could not be written); if that
    fails too, say so where the user may see it: stderr (Claude Code shows it) and
    the hook log, if it can be written."""
    try:
        config = spool.load_config()
        from .._config import resolve_machine_id
        from ..ingest.options import redactor

        store = _open(config)
        try:
            stored = store_records(
                store, [record], resolve_machine_id(config).value, redactor(config)
            )
        finally:
            store.close()
        if stored:
            _log(f"spool not writable ({spool_error}); the event was stored directly")
            return
        problem = "the event is unreadable"
    except Exception as exc:
        problem = f"the store failed too: {type(exc).__name__}: {' '.join(str(exc).split())}"
    message = (
        f"hook event LOST: the spool {spool.folder} is not writable ({spool_error}) and {problem}"
    )
    sys.stderr.write(f"netsky: error: {message}\n")
    _log(message)


BUDGET_EVENTS = frozenset({"UserPromptSubmit", "PreToolUse"})


def _mentions_budget(path: str) -> bool:
    """Whether the config file's text names a budget at all (a byte search, much
    cheaper than importing the TOML parser); an unreadable file goes on to the full
    reader, which says why."""
    try:
        with open(path, "rb") as fh:
            return b"budget" in fh.read()
    except OSError:
        return True


def _budget_check(
    opts: dict[str, Any],
    event_type: str,
    session_id: str,
    machine: str | None,
    cwd: Any = None,
    branch: Any = None,
) -> None:
    """When ``[budget]`` sets limits and one that applies to the work in ``cwd`` on
    ``branch`` is reached, print Claude Code's hook output (a warning, or with
    ``mode = "block"`` a block decision). Reads the precomputed usage only; a failure
    is logged, never the agent's problem."""
    try:
        from .._settings import config_file, light_settings

        path = config_file(opts["config"], os.environ)
        if path is None or not _mentions_budget(path):
            return  # no [budget] table: no TOML parse on the agent's every prompt and tool
        settings = light_settings(opts["db"], opts["config"])
        from ..live.budget import budget_limits, hook_answer

        if not budget_limits(settings.section("budget")):
            return
        from ..live.reader import open_reader
        from ..live.snapshot import take_snapshot

        reader = open_reader(settings.url)
        try:
            snap = take_snapshot(
                reader,
                settings,
                machine_id=machine or settings.machine_id,
                session_id=session_id,
                with_block=False,
                cwd=cwd if isinstance(cwd, str) and cwd else None,
                branch=branch if isinstance(branch, str) and branch else None,
            )
        finally:
            reader.close()
        answer = hook_answer(snap.budget, snap.mode, event_type)
        if answer is not None:
            from .._jsonc import dumps

            sys.stdout.write(dumps(answer) + "\n")
            sys.stdout.flush()
    except Exception as exc:
        _log(f"budget check failed: {type(exc).__name__}: {' '.join(str(exc).split())}")


def _run(opts: dict[str, Any], raw_bytes: bytes, received_at: str) -> int:
    from .._jsonc import loads
    from .payload import HookInputError, check_payload
    from .spool import hook_spool

    raw = raw_bytes.decode("utf-8", errors="replace")
    try:
        payload = loads(raw)
        event_type, session_id = check_payload(payload, opts["framework"])
    except (ValueError, RecursionError, HookInputError) as exc:
        if raw_bytes.strip():
            _reject(raw_bytes, str(exc))
        return 0
    spool = hook_spool(opts["db"], opts["config"])
    # the drainer starts now, when none runs: its imports and the store's opening (most
    # of its time) overlap this process's own work, and it drains once we spooled
    early = [] if opts["foreground"] else _start_drainer(spool)
    try:
        event = (event_type, session_id, payload, raw, received_at)
        return _spool_event(opts, event, spool, early)
    finally:
        for fd in early:  # not spooled (a failure): the drainer drains what others spooled
            os.close(fd)


def _spool_event(
    opts: dict[str, Any], event: tuple[str, str, Any, str, str], spool: Any, early: list[int]
) -> int:
    """Spool the event (type, session id, payload, raw text, receipt time), then make
    sure a drainer stores it (``early``: the pipe of the drainer :func:`_start_drainer`
    started, if it did)."""
    from .payload import agent_process

    event_type, session_id, payload, raw, received_at = event
    pid, start = agent_process()
    record: dict[str, Any] = {
        "v": 1,
        "framework": opts["framework"],
        "raw": raw,
        "received_at": received_at,
        "random_id": os.urandom(8).hex(),
        "pid": pid,
        "process_start_time": start,
        "transcript": opts["transcript"],
    }
    machine = os.environ.get("NETSKY_MACHINE_ID")
    if machine:
        record["machine_id"] = machine
    git = _git(payload.get("cwd"))
    if git is not None:
        record["git"] = git
    try:
        spool.append(record)
    except OSError as exc:  # a full or unwritable state dir: store it now instead
        _store_now(spool, record, exc)
        return 0
    started = bool(early) and _spooled(early.pop())
    if event_type in BUDGET_EVENTS and opts["framework"] == "claude":
        branch = None if git is None else git.get("git_branch")
        _budget_check(opts, event_type, session_id, machine, payload.get("cwd"), branch)
    if started:
        return 0
    if opts["foreground"] or not hasattr(os, "fork"):
        if spool.try_drainer():
            _drainer(spool, once=True)
        return 0
    if spool.backing_off():
        return 0  # the store was just unreachable: the next hook after a pause retries
    if spool.try_drainer():
        if _detach():
            try:
                _drainer(spool)
            except BaseException as exc:
                _log(f"drainer failed: {type(exc).__name__}: {exc}")
            finally:
                os._exit(0)
        spool.forget_drainer()  # the child holds the lock now
    else:
        spool.wake_drainer()  # one runs: if it lingers, it stores this record now
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
