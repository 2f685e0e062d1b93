"""The ``netsky hook`` command line written into agents' settings, and where they live."""

import json
import os
import shlex
import shutil
import sys
import sysconfig
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import NetskyError
from .._urls import scrub_secrets, url_password
from ..ingest.roots import claude_roots, codex_roots
from ._files import _ENV_ASSIGNMENT, _EXECUTABLE_NAMES, SCOPES
from .run import hook_arguments

# -- where things are ---------------------------------------------------------------


def claude_home(environ: Mapping[str, str] | None = None) -> Path:
    """Claude Code's user folder: the first root of ``CLAUDE_CONFIG_DIR``, else ``~/.claude``."""
    return claude_roots(environ)[0]


def settings_path(
    scope: str,
    *,
    cwd: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """The settings file of ``scope`` (``user``, ``project`` or ``local``)."""
    if scope == "user":
        return claude_home(environ) / "settings.json"
    base = Path(cwd if cwd is not None else os.getcwd()).absolute() / ".claude"
    if scope == "project":
        return base / "settings.json"
    if scope == "local":
        return base / "settings.local.json"
    raise ValueError(f"unknown scope {scope!r} (expected one of {', '.join(SCOPES)})")


def codex_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """Codex's ``config.toml``: in ``CODEX_HOME``, else ``~/.codex``."""
    return codex_roots(environ)[0] / "config.toml"


def netsky_executable() -> Path:
    """The absolute, resolved path of this installation's ``netsky`` console script.

    First the script beside ``sys.executable`` (a venv's ``bin``; ``sys.executable``
    itself is not resolved, that would leave the venv), then this interpreter's
    script folders, then ``PATH``. The hook command names it directly so that no
    interpreter shim (pyenv's ``python3`` costs ~150 ms) runs on every agent event.
    """
    names = ("netsky.exe", "netsky") if os.name == "nt" else ("netsky",)
    folders: list[Path] = [Path(sys.executable).parent]
    for scheme in (None, f"{os.name}_user"):
        try:
            folder = (
                sysconfig.get_path("scripts")
                if scheme is None
                else sysconfig.get_path("scripts", scheme)
            )
        except KeyError:
            continue
        if folder:
            folders.append(Path(folder))
    for scripts in folders:
        for name in names:
            candidate = scripts / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate.resolve()
    found = shutil.which("netsky")
    if found:
        return Path(found).resolve()
    raise NetskyError(
        f"cannot find the netsky executable (looked beside {sys.executable} and on PATH)",
        hint="install netsky with pip or pipx so that its `netsky` script exists",
    )


# -- the hook command ---------------------------------------------------------------


@dataclass(frozen=True)
class HookCommand:
    """What a netsky hook command says (parsed from a settings entry)."""

    executable: str
    framework: str = "claude"
    db: str | None = None
    config: str | None = None
    transcript: bool = True


def hook_command(
    executable: str | os.PathLike[str],
    *,
    db: str | None = None,
    config: str | os.PathLike[str] | None = None,
    transcript: bool = True,
    framework: str = "claude",
) -> str:
    """The shell command Claude Code runs: ``<netsky> hook [options]``, safely quoted."""
    return shlex.join(
        hook_argv(executable, db=db, config=config, transcript=transcript, framework=framework)
    )


def statusline_command(
    executable: str | os.PathLike[str],
    *,
    db: str | None = None,
    config: str | os.PathLike[str] | None = None,
) -> str:
    """The ``statusLine`` command: ``<netsky> statusline [--db URL] [--config PATH]``."""
    argv = [str(executable), "statusline"]
    if db:
        argv += ["--db", db]
    if config:
        argv += ["--config", str(config)]
    return shlex.join(argv)


def is_netsky_statusline(command: object) -> bool:
    """Whether a ``statusLine`` command runs ``netsky statusline`` (any folder)."""
    if not isinstance(command, str):
        return False
    words = _words(command)
    if len(words) < 2 or words[1] != "statusline":
        return False
    return words[0].replace("\\", "/").rsplit("/", 1)[-1].lower() in _EXECUTABLE_NAMES


def hook_argv(
    executable: str | os.PathLike[str],
    *,
    db: str | None = None,
    config: str | os.PathLike[str] | None = None,
    transcript: bool = True,
    framework: str = "claude",
) -> list[str]:
    """The words of :func:`hook_command` (Codex's ``notify`` takes them as a list)."""
    argv = [str(executable), "hook"]
    if framework != "claude":
        argv += ["--framework", framework]
    if db:
        argv += ["--db", db]
    if config:
        argv += ["--config", str(config)]
    if not transcript:
        argv.append("--no-transcript")
    return argv


def _words(command: str, *, posix: bool = True) -> list[str]:
    words: list[str] = []
    if posix:
        try:
            words = shlex.split(command)
        except ValueError:
            posix = False
    if not posix:
        words = command.split()
    while words and _ENV_ASSIGNMENT.match(words[0]):
        words.pop(0)  # FOO=bar /path/netsky hook
    return words


def _parse_words(words: Sequence[str]) -> HookCommand | None:
    args = hook_arguments(list(words[1:])) if len(words) >= 2 else None
    if args is None:  # not `netsky [--db URL] [--config PATH] [--debug] hook ...`
        return None
    base = words[0].replace("\\", "/").rsplit("/", 1)[-1].lower()
    if base not in _EXECUTABLE_NAMES:
        return None
    opts: dict[str, Any] = {}
    rest = iter(args)
    for word in rest:
        if word in ("--db", "--config", "--framework"):
            opts[word[2:]] = next(rest, None)
        elif word.startswith(("--db=", "--config=", "--framework=")):
            key, value = word[2:].split("=", 1)
            opts[key] = value
        elif word == "--no-transcript":
            opts["transcript"] = False
    return HookCommand(
        executable=words[0],
        framework=opts.get("framework") or "claude",
        db=opts.get("db"),
        config=opts.get("config"),
        transcript=opts.get("transcript", True),
    )


def parse_hook_command(command: object) -> HookCommand | None:
    """The netsky hook a settings ``command`` runs, or None when it is not netsky's.

    Recognised: an executable named ``netsky`` (any folder, even one that no longer
    exists) whose first argument is ``hook``, optionally after ``NAME=value`` words.
    """
    if not isinstance(command, str):
        return None
    # shell words first; plain words too, for unquoted Windows paths (C:\x\netsky.exe)
    return _parse_words(_words(command)) or _parse_words(_words(command, posix=False))


def is_netsky_command(command: object) -> bool:
    """Whether a settings ``command`` is a netsky hook (see :func:`parse_hook_command`)."""
    return parse_hook_command(command) is not None


def _secrets(commands: Iterable[object]) -> list[str]:
    found = []
    for command in commands:
        parsed = parse_hook_command(command)
        if parsed and parsed.db:
            secret = url_password(parsed.db)
            if secret:
                found.append(secret)
    return found


def _scrub(text: str, secrets: Iterable[str]) -> str:
    from urllib.parse import unquote

    for secret in secrets:
        forms = {secret, unquote(secret), json.dumps(secret)[1:-1], shlex.quote(secret)}
        text = scrub_secrets(text, *sorted(forms, key=len, reverse=True))
    return text


def mask_command(command: str) -> str:
    """``command`` with the password of a ``--db`` URL replaced by ``***``."""
    return _scrub(command, _secrets([command]))


def executable_state(executable: str, current: Path | None) -> str:
    """``current`` (this netsky), ``other`` (another existing netsky), ``missing``
    (the file is gone: the hook fails on every event) or ``path`` (a bare name,
    found through ``PATH`` at run time)."""
    if "/" not in executable and "\\" not in executable:
        return "path"
    path = Path(executable).expanduser()
    if not path.exists():
        return "missing"
    if current is not None and os.path.realpath(path) == os.path.realpath(current):
        return "current"
    return "other"
