"""Codex's ``config.toml``: the ``notify`` program that runs ``netsky hook``."""

import difflib
import json
import os
import re
import shlex
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ._files import SettingsFileError, WriteResult
from .command import _parse_words, _scrub, _secrets, executable_state, mask_command
from .settings import Plan, SettingsFile, apply

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
    value: Any = data.get("notify")
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
