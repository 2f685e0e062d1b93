"""Wiring ``netsky hook`` into Claude Code's settings files (and Codex's ``notify``).

Pure logic: find, read, plan, write and remove; nothing here prints. The
``netsky hooks`` command (:mod:`netsky_core.cli.commands.hooks`) is the front end.

Facts about Claude Code this module relies on (hooks reference,
https://code.claude.com/docs/en/hooks, and Claude Code's issue tracker):

* Settings files: user ``~/.claude/settings.json`` (``CLAUDE_CONFIG_DIR`` replaces
  ``~/.claude``), project ``<dir>/.claude/settings.json`` (shared, usually committed),
  local ``<dir>/.claude/settings.local.json`` (not committed). Hooks of all of them run.
* Shape: ``"hooks": {"<Event>": [{"matcher": "...", "hooks": [{"type": "command",
  "command": "...", "timeout": <seconds>}]}]}``.
* ``matcher``: ``"*"``, ``""`` or no matcher match every occurrence. Tool events
  (PreToolUse, PostToolUse, PostToolUseFailure, PermissionRequest) match the tool
  name; other events match other fields or have no matcher at all, so netsky writes
  ``"*"`` for tool events and no matcher elsewhere.
* A settings file with an error, including an event name the running Claude Code
  does not know, is skipped whole ("Invalid key in record"): only known event names
  are ever written, and a malformed file is refused, never "repaired".
* Claude Code rewrites settings files itself and drops unknown keys inside hook
  groups, so netsky recognises its entries by their command (an executable named
  ``netsky`` followed by ``hook``), never by a marker key.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
import shlex
import shutil
import stat
import sys
import sysconfig
import tempfile
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._errors import NetskyError
from .._urls import scrub_secrets, url_password
from .hook_events import (
    DEFAULT_TIMEOUT,
    HOOK_EVENTS,
    NEWER_EVENTS,
    SELECTABLE_EVENTS,
    TOOL_EVENTS,
)
from .roots import claude_roots, codex_roots

__all__ = [
    "DEFAULT_TIMEOUT",
    "HOOK_EVENTS",
    "NEWER_EVENTS",
    "SCOPES",
    "SELECTABLE_EVENTS",
    "TOOL_EVENTS",
    "CodexPlan",
    "HookCommand",
    "Plan",
    "SettingsFile",
    "SettingsFileError",
    "WriteResult",
    "absolute_store_url",
    "apply",
    "apply_codex",
    "claude_home",
    "codex_config_path",
    "codex_notify",
    "executable_state",
    "hook_argv",
    "hook_command",
    "inspect",
    "inspect_codex",
    "installed_commands",
    "is_netsky_command",
    "mask_command",
    "netsky_executable",
    "parse_hook_command",
    "plan_codex_install",
    "plan_codex_uninstall",
    "plan_install",
    "plan_uninstall",
    "read_settings",
    "settings_path",
]

SCOPES: tuple[str, ...] = ("user", "project", "local")
BACKUP_MARK = ".netsky-backup-"
_ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_EXECUTABLE_NAMES = frozenset({"netsky", "netsky.exe"})


class SettingsFileError(NetskyError):
    """A settings file netsky will not edit (unreadable or malformed); it is left as is."""


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
    for folder in folders:
        for name in names:
            candidate = folder / name
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
    if len(words) < 2 or words[1] != "hook":
        return None
    base = words[0].replace("\\", "/").rsplit("/", 1)[-1].lower()
    if base not in _EXECUTABLE_NAMES:
        return None
    opts: dict[str, Any] = {}
    rest = iter(words[2:])
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


def absolute_store_url(url: str, cwd: str | os.PathLike[str] | None = None) -> str:
    """``url`` with a relative ``sqlite:///file`` made absolute.

    The hook runs in the agent's working directory, so a relative path baked into
    the hook command would name a different file in every project.
    """
    if not url.lower().startswith("sqlite:///"):
        return url
    rest = url[len("sqlite:///") :]
    if not rest or rest.startswith(("/", "~")):
        return url
    path, sep, query = rest.partition("?")
    if re.match(r"^[A-Za-z]:[\\/]", path):
        return url  # a Windows absolute path
    absolute = Path(cwd if cwd is not None else os.getcwd()).absolute() / path
    return "sqlite:///" + absolute.as_posix() + sep + query


# -- reading ------------------------------------------------------------------------


@dataclass
class SettingsFile:
    """One settings file as read: its data and how it was written."""

    path: Path
    target: Path
    exists: bool
    raw: bytes | None
    text: str
    data: dict[str, Any]
    indent: str | None = "  "
    newline: str = "\n"
    final_newline: bool = True
    bom: bool = False

    def render(self, data: Mapping[str, Any]) -> str:
        """``data`` as this file's text: same indentation, line ends and final newline,
        and every value that did not change kept as the original bytes."""
        body = self.text[1:] if self.bom else self.text
        rendered = _render_keeping(data, self.data, body, self.indent) if body.strip() else None
        if rendered is None:
            rendered = json.dumps(data, indent=self.indent, ensure_ascii=False)
            if self.newline != "\n":
                rendered = rendered.replace("\n", self.newline)
        return (
            ("\ufeff" if self.bom else "") + rendered + (self.newline if self.final_newline else "")
        )


_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip(text: str, i: int) -> int:
    """Index of the first non-whitespace character at or after ``i``."""
    match = _WS.match(text, i)
    return match.end() if match else i


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON (``1``, ``1.0`` and ``true`` differ; key order counts)."""
    return json.dumps(a, ensure_ascii=False) == json.dumps(b, ensure_ascii=False)


def _children(text: str, start: int) -> dict[str, tuple[int, int]] | list[tuple[int, int]] | None:
    """Spans of the members of the object (or array) starting at ``text[start]``."""
    opener = text[start]
    closer = {"{": "}", "[": "]"}.get(opener)
    if closer is None:
        return None
    members: dict[str, tuple[int, int]] = {}
    items: list[tuple[int, int]] = []
    i = _skip(text, start + 1)
    if text[i : i + 1] == closer:
        return members if opener == "{" else items
    while True:
        key = None
        if opener == "{":
            key, i = _DECODER.raw_decode(text, i)
            i = _skip(text, i)
            if not isinstance(key, str) or text[i : i + 1] != ":":
                return None
            i = _skip(text, i + 1)
        begin = i
        _value, i = _DECODER.raw_decode(text, i)
        if key is None:
            items.append((begin, i))
        else:
            members[key] = (begin, i)
        i = _skip(text, i)
        if text[i : i + 1] == ",":
            i = _skip(text, i + 1)
        elif text[i : i + 1] == closer:
            return members if opener == "{" else items
        else:
            return None


def _keep(new: Any, old: Any, text: str, span: tuple[int, int], kept: dict[str, str]) -> Any:
    """``new`` with every part equal to the original replaced by a placeholder
    that stands for the original text of that part."""
    if _same(new, old):
        token = f"\x00netsky-{len(kept)}\x00"
        kept[json.dumps(token, ensure_ascii=False)] = text[span[0] : span[1]]
        return token
    if isinstance(new, dict) and isinstance(old, dict):
        spans = _children(text, span[0])
        if not isinstance(spans, dict):
            return new
        return {
            k: _keep(v, old[k], text, spans[k], kept) if k in old and k in spans else v
            for k, v in new.items()
        }
    if isinstance(new, list) and isinstance(old, list):
        spans = _children(text, span[0])
        if not isinstance(spans, list) or len(spans) != len(old):
            return new
        out = []
        used = 0
        for index, value in enumerate(new):
            match = next((j for j in range(used, len(old)) if _same(value, old[j])), None)
            if match is not None:
                out.append(_keep(value, old[match], text, spans[match], kept))
                used = match + 1
            elif index < len(old) and index >= used and isinstance(value, dict):
                out.append(_keep(value, old[index], text, spans[index], kept))
            else:
                out.append(value)
        return out
    return new


def _render_keeping(
    data: Mapping[str, Any], old: Mapping[str, Any], body: str, indent: str | None
) -> str | None:
    """Render ``data`` reusing the original text of everything unchanged, or None."""
    try:
        start = _skip(body, 0)
        end = len(body.rstrip(" \t\n\r"))
        kept: dict[str, str] = {}
        shaped = _keep(dict(data), dict(old), body, (start, end), kept)
        newline = "\r\n" if "\r\n" in body else "\n"
        text = json.dumps(shaped, indent=indent, ensure_ascii=False)
        if newline != "\n":
            text = text.replace("\n", newline)
        for token, original in kept.items():
            text = text.replace(token, original, 1)
        if not _same(json.loads(text), dict(data)):
            return None
        return text
    except (ValueError, IndexError, KeyError, AttributeError):
        return None


def _indent_of(text: str) -> str | None:
    if "\n" not in text.strip():
        return None  # one line: keep it one line
    match = re.search(r"\n([ \t]+)\S", text)
    return match.group(1) if match else "  "


def read_settings(path: str | os.PathLike[str]) -> SettingsFile:
    """Read and check a settings file. A missing file reads as ``{}``.

    Raises :class:`SettingsFileError` when it is not UTF-8 JSON, not an object, or
    its ``hooks`` are not shaped as Claude Code requires (the file is not touched).
    """
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        return SettingsFile(path=path, target=target, exists=False, raw=None, text="", data={})
    except IsADirectoryError:
        raise SettingsFileError(f"{path} is a folder, not a settings file") from None
    except OSError as exc:
        raise SettingsFileError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SettingsFileError(
            f"{path} is not UTF-8 text (byte {exc.start})",
            hint="fix or move it; nothing was changed",
        ) from None
    bom = text.startswith("\ufeff")
    body = text[1:] if bom else text
    if not body.strip():
        data: Any = {}
    else:
        try:
            data = json.loads(body)
        except ValueError as exc:
            detail = str(exc)
            if isinstance(exc, json.JSONDecodeError):
                detail = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
            raise SettingsFileError(
                f"{path} is not valid JSON: {detail}", hint="fix or move it; nothing was changed"
            ) from None
    if not isinstance(data, dict):
        raise SettingsFileError(
            f"{path} does not hold a JSON object (found {type(data).__name__})",
            hint="fix or move it; nothing was changed",
        )
    _check_hooks(path, data)
    return SettingsFile(
        path=path,
        target=target,
        exists=True,
        raw=raw,
        text=text,
        data=data,
        indent=_indent_of(body) if body.strip() else "  ",
        newline="\r\n" if "\r\n" in body else "\n",
        final_newline=body.endswith("\n") or not body.strip(),
        bom=bom,
    )


def _check_hooks(path: Path, data: Mapping[str, Any]) -> None:
    if "hooks" not in data:
        return
    hooks = data["hooks"]

    def bad(where: str, what: str) -> SettingsFileError:
        return SettingsFileError(
            f"{path}: {where} is not {what}",
            hint="fix it (Claude Code skips a settings file with errors); nothing was changed",
        )

    if not isinstance(hooks, dict):
        raise bad("hooks", "an object")
    for event, groups in hooks.items():
        if not isinstance(groups, list):
            raise bad(f"hooks.{event}", "a list")
        for i, group in enumerate(groups):
            if not isinstance(group, dict):
                raise bad(f"hooks.{event}[{i}]", "an object")
            entries = group.get("hooks")
            if not isinstance(entries, list):
                raise bad(
                    f"hooks.{event}[{i}].hooks",
                    "a list" if "hooks" in group else "there (it is required)",
                )
            for j, entry in enumerate(entries):
                if not isinstance(entry, dict):
                    raise bad(f"hooks.{event}[{i}].hooks[{j}]", "an object")


def _netsky_entries(groups: list[dict[str, Any]]) -> Iterator[tuple[int, int, dict[str, Any]]]:
    for gi, group in enumerate(groups):
        for hi, entry in enumerate(group["hooks"]):
            if is_netsky_command(entry.get("command")):
                yield gi, hi, entry


# -- planning -----------------------------------------------------------------------


@dataclass
class Plan:
    """What writing a settings file would change (nothing is written until :func:`apply`)."""

    settings: SettingsFile
    data: dict[str, Any]
    text: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    modified: bool = True

    @property
    def changed(self) -> bool:
        """Whether writing would change the file (or create it)."""
        if not self.settings.exists:
            return self.modified
        return self.text != self.settings.text

    def diff(self, *, mask: bool = True) -> str:
        """The unified diff of the file (passwords of ``--db`` URLs masked)."""
        old = self.settings.text if self.settings.exists else ""
        lines = difflib.unified_diff(
            old.splitlines(keepends=True),
            self.text.splitlines(keepends=True),
            fromfile=str(self.settings.path) if self.settings.exists else "/dev/null",
            tofile=str(self.settings.path),
        )
        text = "".join(
            line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
            for line in lines
        )
        if mask:
            text = _scrub(
                text,
                _secrets(_all_commands(self.settings.data)) + _secrets(_all_commands(self.data)),
            )
        return text


def _all_commands(data: Mapping[str, Any]) -> Iterator[object]:
    hooks = data.get("hooks")
    if not isinstance(hooks, dict):
        return
    for groups in hooks.values():
        for group in groups if isinstance(groups, list) else ():
            entries = group.get("hooks") if isinstance(group, dict) else None
            for entry in entries if isinstance(entries, list) else ():
                if isinstance(entry, dict):
                    yield entry.get("command")


def _finish(sf: SettingsFile, data: dict[str, Any], modified: bool, **lists: list[str]) -> Plan:
    text = sf.render(data) if modified else sf.text
    return Plan(settings=sf, data=data, text=text, modified=modified, **lists)


def plan_install(
    sf: SettingsFile,
    command: str,
    *,
    events: Sequence[str] = HOOK_EVENTS,
    timeout: int = DEFAULT_TIMEOUT,
) -> Plan:
    """Add (or bring up to date) netsky's hook for each of ``events``.

    Everything else in the file is kept, in order. An event that already has a
    netsky entry keeps its place, group and matcher; only its command and timeout
    are brought to ``command`` / ``timeout``, and duplicates of it are removed.
    """
    data = copy.deepcopy(sf.data)
    modified = False
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    hooks = data.get("hooks")
    if hooks is None:
        hooks = {}
    for event in events:
        groups = hooks.get(event)
        if groups is None:
            groups = hooks[event] = []
        found = list(_netsky_entries(groups))
        if not found:
            group: dict[str, Any] = {"matcher": "*"} if event in TOOL_EVENTS else {}
            group["hooks"] = [{"type": "command", "command": command, "timeout": timeout}]
            groups.append(group)
            added.append(event)
            modified = True
            continue
        _gi, _hi, entry = found[0]
        changed = False
        want = {"type": "command", "command": command, "timeout": timeout}
        for key, value in want.items():
            if entry.get(key) != value:
                entry[key] = value
                changed = True
        if len(found) > 1:
            _remove(groups, [(gi, hi) for gi, hi, _ in found[1:]])
            changed = True
        if changed:
            updated.append(event)
            modified = True
        else:
            unchanged.append(event)
    if modified and "hooks" not in data:
        data["hooks"] = hooks
    return _finish(sf, data, modified, added=added, updated=updated, unchanged=unchanged)


def _remove(groups: list[dict[str, Any]], where: Iterable[tuple[int, int]]) -> None:
    """Remove entries (group, index) and the groups this empties (only those)."""
    by_group: dict[int, set[int]] = {}
    for gi, hi in where:
        by_group.setdefault(gi, set()).add(hi)
    for gi in sorted(by_group, reverse=True):
        entries = groups[gi]["hooks"]
        groups[gi]["hooks"] = [e for i, e in enumerate(entries) if i not in by_group[gi]]
        if not groups[gi]["hooks"]:
            del groups[gi]


def plan_uninstall(sf: SettingsFile, *, events: Iterable[str] | None = None) -> Plan:
    """Remove netsky's entries (of ``events``, default: all) and nothing else.

    A group, event list or ``hooks`` object that only held netsky entries goes too;
    one that was already empty is left alone.
    """
    data = copy.deepcopy(sf.data)
    hooks = data.get("hooks")
    removed: list[str] = []
    if isinstance(hooks, dict):
        wanted = None if events is None else set(events)
        for event in list(hooks):
            if wanted is not None and event not in wanted:
                continue
            groups = hooks[event]
            found = [(gi, hi) for gi, hi, _ in _netsky_entries(groups)]
            if not found:
                continue
            _remove(groups, found)
            removed.append(event)
            if not groups:
                del hooks[event]
        if removed and not hooks:
            del data["hooks"]
    return _finish(sf, data, bool(removed), removed=removed)


# -- writing ------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteResult:
    """Where a plan was written, and the backup of the previous file (if any)."""

    path: Path
    written: bool
    created: bool
    backup: Path | None
    backup_reused: bool = False


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _backup(target: Path, raw: bytes, now: datetime) -> tuple[Path, bool]:
    """Copy of the current file beside it; an identical earlier backup is reused."""
    existing = sorted(target.parent.glob(f"{_glob_escape(target.name)}{BACKUP_MARK}*"))
    for old in reversed(existing):
        try:
            if old.is_file() and old.read_bytes() == raw:
                return old, True
        except OSError:
            continue
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    backup = target.with_name(f"{target.name}{BACKUP_MARK}{stamp}")
    n = 1
    while backup.exists():
        backup = target.with_name(f"{target.name}{BACKUP_MARK}{stamp}-{n}")
        n += 1
    shutil.copy2(target, backup)
    return backup, False


def _glob_escape(name: str) -> str:
    """``name`` with glob wildcards escaped."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def _atomic_write(target: Path, text: str, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".netsky-tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(target.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def apply(
    plan: Plan,
    *,
    private_dir: bool = False,
    private_file: bool = False,
    now: datetime | None = None,
) -> WriteResult:
    """Write ``plan`` atomically (temp file + ``os.replace``, file mode kept;
    ``private_file``: readable by the owner only, for a file holding a password).

    The previous file is first copied to ``<name>.netsky-backup-<UTC time>`` unless
    an identical backup already exists. A missing folder is created (0700 when
    ``private_dir``; existing folders are never chmod-ed). If the file changed
    since it was read, nothing is written and :class:`SettingsFileError` is raised.
    A symlinked settings file is written through (the link stays a link).
    """
    sf = plan.settings
    if not plan.changed:
        return WriteResult(path=sf.path, written=False, created=False, backup=None)
    target = sf.target
    try:
        current = target.read_bytes()
    except FileNotFoundError:
        current = None
    except OSError as exc:
        raise SettingsFileError(f"cannot read {sf.path}: {exc.strerror}") from None
    if current != sf.raw:
        raise SettingsFileError(
            f"{sf.path} changed while netsky was editing it; nothing was written",
            hint="run the command again",
        )
    try:
        if not target.parent.is_dir():
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700 if private_dir else 0o777)
        backup, reused = (None, False)
        if current is not None:
            backup, reused = _backup(target, current, now or datetime.now(UTC))
            mode = stat.S_IMODE(target.stat().st_mode)
        else:
            mode = 0o666 & ~_umask()
        if private_file:
            mode &= 0o600
            if backup is not None:
                os.chmod(backup, stat.S_IMODE(os.stat(backup).st_mode) & 0o600)
        _atomic_write(target, plan.text, mode)
    except OSError as exc:
        where = exc.filename or target
        raise SettingsFileError(f"cannot write {where}: {exc.strerror}") from None
    return WriteResult(
        path=sf.path, written=True, created=current is None, backup=backup, backup_reused=reused
    )


# -- inspecting ---------------------------------------------------------------------


def inspect(sf: SettingsFile, current: Path | None = None) -> dict[str, Any]:
    """What a settings file holds: netsky's hooks per event, their commands and
    executables (see :func:`executable_state`), and how many other hooks."""
    events: dict[str, list[str]] = {}
    executables: dict[str, str] = {}
    commands: list[str] = []
    other = 0
    hooks = sf.data.get("hooks", {})
    for event, groups in hooks.items():
        for group in groups:
            for entry in group["hooks"]:
                command = entry.get("command")
                parsed = parse_hook_command(command)
                if parsed is None:
                    other += 1
                    continue
                assert isinstance(command, str)
                masked = mask_command(command)
                events.setdefault(event, []).append(masked)
                if masked not in commands:
                    commands.append(masked)
                executables.setdefault(
                    parsed.executable, executable_state(parsed.executable, current)
                )
    return {
        "events": sorted(events, key=_event_order),
        "missing_events": [e for e in HOOK_EVENTS if e not in events],
        "commands": commands,
        "executables": [{"path": p, "state": s} for p, s in executables.items()],
        "stale": any(s in ("missing", "other") for s in executables.values()),
        "other_hooks": other,
    }


def _event_order(event: str) -> tuple[int, str]:
    return (
        SELECTABLE_EVENTS.index(event) if event in SELECTABLE_EVENTS else len(SELECTABLE_EVENTS),
        event,
    )


def installed_commands(sf: SettingsFile) -> list[HookCommand]:
    """The parsed netsky hook commands of a settings file."""
    found = []
    for command in _all_commands(sf.data):
        parsed = parse_hook_command(command)
        if parsed is not None and parsed not in found:
            found.append(parsed)
    return found


# -- Codex --------------------------------------------------------------------------
# Codex runs one ``notify`` program (a list of words; the JSON notification is
# appended as the last argument) per finished turn. tomllib only reads, so the file
# is edited as text in the one case that is safe without a TOML writer: adding a
# ``notify = [...]`` line at the very top (where a key always belongs to the root
# table) when there is no ``notify`` yet, or removing/replacing a one-line netsky
# ``notify`` before the first table. Every edit is checked by parsing the result:
# the root ``notify`` must be the intended value and everything else unchanged.
# Anything else (another program's notify, a multi-line one) is left to the user.

NOTIFY_LINE = re.compile(r"^[ \t]*notify[ \t]*=.*$")


def codex_notify(argv: Sequence[str]) -> str:
    """The TOML line ``notify = [...]`` for ``argv``."""
    return "notify = [" + ", ".join(json.dumps(word, ensure_ascii=False) for word in argv) + "]"


@dataclass
class CodexPlan:
    """A planned edit of Codex's config.toml; ``text`` is None when it cannot be
    done safely (``reason`` says why and ``line`` is what the user should write)."""

    path: Path
    exists: bool
    raw: bytes | None
    old_text: str
    text: str | None
    line: str
    reason: str | None = None
    state: str = "absent"  # absent | netsky | other
    current_notify: list[Any] | None = None
    argv: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether the file would change."""
        return self.text is not None and self.text != self.old_text

    @property
    def masked_line(self) -> str:
        """:attr:`line` with the password of a ``--db`` URL shown as ``***``."""
        return _scrub(self.line, _secrets([shlex.join(self.argv)])) if self.argv else self.line

    def diff(self) -> str:
        """Unified diff of the edit (passwords masked)."""
        if self.text is None:
            return ""
        lines = difflib.unified_diff(
            self.old_text.splitlines(keepends=True),
            self.text.splitlines(keepends=True),
            fromfile=str(self.path) if self.exists else "/dev/null",
            tofile=str(self.path),
        )
        secrets = _secrets([shlex.join(self.argv)]) if self.argv else []
        if self.current_notify and all(isinstance(w, str) for w in self.current_notify):
            secrets += _secrets([shlex.join(self.current_notify)])
        return _scrub("".join(lines), secrets)


def _read_codex(path: Path) -> tuple[bool, bytes | None, str, dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return False, None, "", {}
    except OSError as exc:
        raise SettingsFileError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsFileError(
            f"{path} is not valid TOML: {exc}", hint="fix it; nothing was changed"
        ) from None
    return True, raw, text, data


def _notify_state(value: object) -> str:
    if value is None:
        return "absent"
    if isinstance(value, list) and all(isinstance(w, str) for w in value) and _parse_words(value):
        return "netsky"
    return "other"


def _root_notify_line(text: str) -> int | None:
    """Index of a one-line ``notify = [...]`` before the first table header."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("["):
            return None
        if NOTIFY_LINE.match(line.rstrip("\r\n")):
            try:
                tomllib.loads(line)
            except tomllib.TOMLDecodeError:
                return None  # spans several lines
            return i
    return None


def _verified(text: str, original: dict[str, Any], notify: list[str] | None) -> bool:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return False
    rest = {k: v for k, v in data.items() if k != "notify"}
    before = {k: v for k, v in original.items() if k != "notify"}
    return rest == before and data.get("notify") == notify


def plan_codex_install(path: Path, argv: Sequence[str]) -> CodexPlan:
    """Plan setting Codex's root ``notify`` to ``argv``."""
    exists, raw, text, data = _read_codex(path)
    line = codex_notify(argv)
    current = data.get("notify")
    state = _notify_state(current)
    plan = CodexPlan(
        path=path,
        exists=exists,
        raw=raw,
        old_text=text,
        text=None,
        line=line,
        state=state,
        current_notify=current if isinstance(current, list) else None,
        argv=list(argv),
    )
    if current == list(argv):
        plan.text = text
        return plan
    if state == "other":
        plan.reason = "notify is already set to another program (Codex runs only one)"
        return plan
    newline = "\r\n" if "\r\n" in text else "\n"
    if state == "absent":
        bom = "\ufeff" if text.startswith("\ufeff") else ""
        body = text[len(bom) :]
        new = f"{bom}# added by `netsky hooks install --framework codex`{newline}{line}{newline}"
        new += (newline if body.strip() else "") + body
    else:
        index = _root_notify_line(text)
        if index is None:
            plan.reason = "the existing netsky notify spans several lines"
            return plan
        lines = text.splitlines(keepends=True)
        ending = lines[index][len(lines[index].rstrip("\r\n")) :] or newline
        lines[index] = line + ending
        new = "".join(lines)
    if not _verified(new, data, list(argv)):
        plan.reason = "the edit could not be verified"
        return plan
    plan.text = new
    return plan


def plan_codex_uninstall(path: Path) -> CodexPlan:
    """Plan removing a netsky ``notify`` (another program's is never touched)."""
    exists, raw, text, data = _read_codex(path)
    current = data.get("notify")
    state = _notify_state(current)
    plan = CodexPlan(
        path=path,
        exists=exists,
        raw=raw,
        old_text=text,
        text=text,
        line="",
        state=state,
        current_notify=current if isinstance(current, list) else None,
    )
    if state != "netsky":
        return plan
    index = _root_notify_line(text)
    if index is None:
        plan.text = None
        plan.reason = "the netsky notify spans several lines"
        return plan
    lines = text.splitlines(keepends=True)
    del lines[index]
    marker = "# added by `netsky hooks install --framework codex`"
    if index > 0 and lines[index - 1].strip() == marker:
        del lines[index - 1]
        index -= 1
        if index == 0 and lines and not lines[0].strip():
            del lines[0]  # the blank line the install put before the old content
    new = "".join(lines)
    if not _verified(new, data, None):
        plan.text = None
        plan.reason = "the edit could not be verified"
        return plan
    plan.text = new
    return plan


def apply_codex(plan: CodexPlan, *, now: datetime | None = None) -> WriteResult:
    """Write a Codex plan (same backup / atomic rules as :func:`apply`)."""
    if plan.text is None or not plan.changed:
        return WriteResult(path=plan.path, written=False, created=False, backup=None)
    sf = SettingsFile(
        path=plan.path,
        target=Path(os.path.realpath(plan.path)) if plan.path.is_symlink() else plan.path,
        exists=plan.exists,
        raw=plan.raw,
        text=plan.old_text,
        data={},
    )
    return apply(Plan(settings=sf, data={}, text=plan.text), private_dir=True, now=now)


def inspect_codex(path: Path, current: Path | None = None) -> dict[str, Any]:
    """Whether Codex's config runs netsky as its ``notify`` program."""
    info: dict[str, Any] = {"path": str(path), "exists": path.is_file(), "error": None}
    try:
        _exists, _raw, _text, data = _read_codex(path)
    except SettingsFileError as exc:
        info.update(
            installed=False, command=None, executable_state=None, other_notify=False, error=str(exc)
        )
        return info
    value = data.get("notify")
    state = _notify_state(value)
    command = mask_command(shlex.join(value)) if state == "netsky" else None
    exe_state = executable_state(value[0], current) if state == "netsky" else None
    info.update(
        installed=state == "netsky",
        command=command,
        executable_state=exe_state,
        other_notify=state == "other",
    )
    return info
