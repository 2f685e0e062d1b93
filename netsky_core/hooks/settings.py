"""Claude Code settings files: read (keeping what is not ours byte for byte), plan, write, inspect."""

import copy
import difflib
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ._files import SettingsFileError, WriteResult, _atomic_write, _backup, _umask
from .command import (
    HookCommand,
    _scrub,
    _secrets,
    executable_state,
    is_netsky_command,
    mask_command,
    parse_hook_command,
)
from .events import (
    DEFAULT_TIMEOUT,
    HOOK_EVENTS,
    SELECTABLE_EVENTS,
    TOOL_EVENTS,
)

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
            hint="fix it, Claude Code skips a settings file with errors; nothing was changed",
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
        groups: list[Any] | None = hooks.get(event)
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


def plan_statusline(plan: Plan, command: str, *, force: bool = False) -> str:
    """Make ``plan`` also set ``statusLine`` to run ``command``. Returns what happens:
    ``added`` (there was none), ``updated`` (netsky's, brought up to date),
    ``unchanged``, or ``kept`` (another program's statusLine, left as it is unless
    ``force``, then ``replaced``)."""
    from .command import is_netsky_statusline

    want = {"type": "command", "command": command, "padding": 0}
    current = plan.data.get("statusLine")
    if current is None:
        outcome = "added"
    elif isinstance(current, dict) and is_netsky_statusline(current.get("command")):
        if all(current.get(k) == v for k, v in want.items()):
            return "unchanged"
        outcome = "updated"
    elif not force:
        return "kept"
    else:
        outcome = "replaced"
    plan.data["statusLine"] = want
    plan.modified = True
    plan.text = plan.settings.render(plan.data)
    return outcome


def unplan_statusline(plan: Plan) -> bool:
    """Make ``plan`` also remove ``statusLine`` when it runs ``netsky statusline``;
    True when it does."""
    from .command import is_netsky_statusline

    current = plan.data.get("statusLine")
    if not (isinstance(current, dict) and is_netsky_statusline(current.get("command"))):
        return False
    del plan.data["statusLine"]
    plan.modified = True
    plan.text = plan.settings.render(plan.data)
    return True


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
