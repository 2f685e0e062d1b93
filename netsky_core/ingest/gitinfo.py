"""Git context of a working directory, read straight from ``.git`` (no ``git`` process).

Agent hooks run in a fresh process for every event, so spawning ``git`` (several
milliseconds each time, more on a cold cache) is too slow. This module reads the few
files it needs by hand:

* ``.git`` found by walking up from the working directory (a directory, or a
  ``gitdir: <path>`` file as in linked worktrees and submodules);
* ``commondir`` inside a linked worktree's git dir, which points at the shared git
  dir that holds ``config`` and the refs;
* ``HEAD`` for the current branch;
* the shared ``config`` for the ``origin`` remote's URL.

Everything is best effort: unreadable, missing or malformed files give ``None`` for
the facts they would have given, and no function here raises because of what is (or
is not) on disk.

Deliberately not handled, to stay small and fast: the ``GIT_DIR`` / ``GIT_WORK_TREE``
/ ``GIT_CEILING_DIRECTORIES`` environment variables, discovery stopping at filesystem
boundaries, bare repositories, ``include`` / ``includeIf`` and the user's global
config (so a global ``url.<base>.insteadOf`` is not applied; the repository's own is),
per-worktree ``config.worktree`` files, and the current branch of repositories that
use the ``reftable`` ref backend (their ``HEAD`` file is a placeholder; the branch is
reported as unknown).

Main entry point: :func:`read_git_context`.
"""

from __future__ import annotations

import os
import stat

from .git_names import GITHUB_HOSTS, branch_info, branch_numbers, github_repo_from_url

TYPE_CHECKING = False
if TYPE_CHECKING:  # the records are built only by the wrappers: the hook's fast path
    from collections.abc import Iterable  # uses plain facts (no attrs, no typing import)
    from typing import Any

    from .._records import GitBranchInfo, GitContext


__all__ = [
    "GITHUB_HOSTS",
    "GitDirs",
    "branch_info",
    "branch_numbers",
    "find_git_dir",
    "github_repo_from_url",
    "read_branch",
    "read_git_context",
    "read_git_facts",
    "read_origin_url",
]

# --------------------------------------------------------------------------- files

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO planted as HEAD must not hang the hook
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_MAX_SMALL_FILE = 64 * 1024  # HEAD, .git files, commondir
_MAX_CONFIG = 1024 * 1024


def _read_file(path: str, limit: int) -> bytes | None:
    """The content of a regular file of at most ``limit`` bytes, else None."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except (OSError, ValueError):
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            return None
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _read_path_file(path: str) -> str | None:
    """A file holding one path (``.git`` file, ``commondir``): its first line, or None."""
    data = _read_file(path, _MAX_SMALL_FILE)
    if not data:
        return None
    line = os.fsdecode(data).split("\n", 1)[0].rstrip("\r")
    return line or None


# --------------------------------------------------------------------------- discovery


class GitDirs(tuple):
    """Where a repository's pieces live, as found by :func:`find_git_dir`.

    All paths are absolute and free of symbolic links. Fields: ``work_tree`` (root of
    the checked-out tree, the folder holding ``.git``), ``git_dir`` (this work tree's
    git dir, holding ``HEAD``: ``<main>/.git/worktrees/<name>`` for a linked worktree,
    ``<super>/.git/modules/<name>`` for a submodule), ``common_dir`` (the git dir shared
    by all worktrees, holding ``config`` and the refs; equal to ``git_dir`` except in
    linked worktrees) and ``is_linked_worktree``. A plain tuple (not a
    ``typing.NamedTuple``): the hook's fast path does not import ``typing``.
    """

    __slots__ = ()

    def __new__(
        cls, work_tree: str, git_dir: str, common_dir: str, is_linked_worktree: bool
    ) -> GitDirs:
        return tuple.__new__(cls, (work_tree, git_dir, common_dir, is_linked_worktree))

    def __repr__(self) -> str:
        return "GitDirs(work_tree={!r}, git_dir={!r}, common_dir={!r}, is_linked_worktree={!r})".format(
            *self
        )

    @property
    def work_tree(self) -> str:
        return self[0]

    @property
    def git_dir(self) -> str:
        return self[1]

    @property
    def common_dir(self) -> str:
        return self[2]

    @property
    def is_linked_worktree(self) -> bool:
        return self[3]


def find_git_dir(cwd: str | os.PathLike[str]) -> GitDirs | None:
    """Find the repository containing ``cwd`` by walking up to the nearest ``.git``.

    ``.git`` may be a directory, or a file ``gitdir: <path>`` (linked worktrees,
    submodules; a relative path is taken relative to the folder holding the file). A
    ``commondir`` file in the git dir names the shared git dir of a linked worktree.

    ``cwd`` is made absolute and its symbolic links are resolved first, as git does. A
    ``cwd`` that does not exist is walked up all the same, so a deleted folder inside a
    repository still finds the repository. Returns None outside any repository, and
    for a ``.git`` file that is malformed or points at a missing folder (git refuses
    those too).
    """
    try:
        start = os.path.realpath(os.path.abspath(os.fsdecode(cwd)))
    except (OSError, ValueError):
        return None
    folder = start
    while True:
        dot_git = os.path.join(folder, ".git")
        try:
            mode = os.lstat(dot_git).st_mode
            if stat.S_ISLNK(mode):
                mode = os.stat(dot_git).st_mode
                dot_git = os.path.realpath(dot_git)
        except (OSError, ValueError):
            mode = 0
        if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
            try:
                if stat.S_ISDIR(mode):
                    return _git_dirs(folder, dot_git)
                return _git_dirs_from_file(folder, dot_git)
            except (OSError, ValueError):  # e.g. a NUL byte in a path read from a file
                return None
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _git_dirs_from_file(work_tree: str, dot_git_file: str) -> GitDirs | None:
    line = _read_path_file(dot_git_file)
    if line is None or not line.startswith("gitdir: "):
        return None
    target = line[len("gitdir: ") :]
    if not target:
        return None
    git_dir = os.path.realpath(os.path.join(work_tree, target))
    if not os.path.isdir(git_dir):
        return None
    return _git_dirs(work_tree, git_dir)


def _git_dirs(work_tree: str, git_dir: str) -> GitDirs | None:
    common = _read_path_file(os.path.join(git_dir, "commondir"))
    if common is None:
        return GitDirs(work_tree, git_dir, git_dir, False)
    common_dir = os.path.realpath(os.path.join(git_dir, common))
    if not os.path.isdir(common_dir):
        return None
    return GitDirs(work_tree, git_dir, common_dir, common_dir != git_dir)


# --------------------------------------------------------------------------- branch

_HEADS = "refs/heads/"
_BAD_REF_CHARS = frozenset([chr(code) for code in range(0x21)] + list("\x7f~^:?*[\\"))


def _is_branch_name(name: str) -> bool:
    """What git's check-ref-format demands, as far as it tells a branch from garbage."""
    if not name or len(name) > 1024 or name == "@" or name[0] == "-" or name[-1] == ".":
        return False
    if ".." in name or "@{" in name or not _BAD_REF_CHARS.isdisjoint(name):
        return False
    return all(part and part[0] != "." and not part.endswith(".lock") for part in name.split("/"))


def read_branch(git_dirs: GitDirs) -> str | None:
    """The checked-out branch (``main``, ``fix/123-thing``), or None.

    None for a detached HEAD, a missing or malformed ``HEAD``, a HEAD naming something
    other than a local branch, and reftable repositories. An unborn branch (no commit
    yet) is still reported. Old-style symbolic-link HEADs are understood.
    """
    head = os.path.join(git_dirs.git_dir, "HEAD")
    data = _read_file(head, _MAX_SMALL_FILE)
    if data is None:
        return None
    try:
        text = data.decode("utf-8").rstrip()
    except UnicodeDecodeError:
        return None
    if text.startswith("ref:"):
        ref = text[4:].lstrip()
    else:
        try:  # very old repositories: HEAD -> refs/heads/<name>
            ref = os.readlink(head) if os.path.islink(head) else ""
        except (OSError, ValueError):
            return None
    if not ref.startswith(_HEADS):
        return None
    name = ref[len(_HEADS) :]
    return name if _is_branch_name(name) else None


# --------------------------------------------------------------------------- config

_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_SECTION_CHARS = _ALNUM | {"-", "."}
_KEY_CHARS = _ALNUM | {"-"}
_VALUE_ESCAPES = {"n": "\n", "t": "\t", "b": "\b", '"': '"', "\\": "\\"}


def _parse_value(first: str, lines: list[str], index: int) -> tuple[str | None, int]:
    """Decode a config value that starts with ``first`` (the text after ``=``).

    Follows git's rules: surrounding blanks dropped, inner blanks kept, ``"..."``
    quoting, ``\\n \\t \\b \\" \\\\`` escapes, ``#`` / ``;`` comments outside quotes,
    and a trailing backslash continuing on the next line. Returns the value (None when
    malformed: open quote, unknown escape) and the index of the next unread line.
    """
    out: list[str] = []
    quoted = False
    blanks = 0
    text = first
    while True:
        size = len(text)
        pos = 0
        continued = False
        while pos < size:
            char = text[pos]
            pos += 1
            if not quoted:
                if char == " " or char == "\t":
                    if out:
                        blanks += 1
                    continue
                if char == "#" or char == ";":
                    return "".join(out), index
            if blanks:
                out.append(" " * blanks)
                blanks = 0
            if char == "\\":
                if pos == size:
                    continued = True
                    break
                escaped = _VALUE_ESCAPES.get(text[pos])
                if escaped is None:
                    return None, index
                out.append(escaped)
                pos += 1
            elif char == '"':
                quoted = not quoted
            else:
                out.append(char)
        if continued and index < len(lines):
            text = lines[index]
            index += 1
            continue
        if quoted:
            return None, index
        return "".join(out), index


def _section_header(line: str) -> tuple[str, str | None, str] | None:
    """Parse the ``[name]`` / ``[name "subsection"]`` opening ``line``.

    Returns (lower-cased name, subsection or None, rest of the line), or None when
    git would reject the header. The old ``[name.subsection]`` form gives a
    lower-cased subsection, as in git.
    """
    size = len(line)
    pos = 1
    while pos < size and line[pos] in _SECTION_CHARS:
        pos += 1
    name = line[1:pos].lower()
    if not name or pos == size:
        return None
    if line[pos] == "]":
        if "." in name:
            name, _, subsection = name.partition(".")
            return name, subsection, line[pos + 1 :]
        return name, None, line[pos + 1 :]
    if line[pos] not in " \t":
        return None
    while pos < size and line[pos] in " \t":
        pos += 1
    if pos == size or line[pos] != '"':
        return None
    pos += 1
    chars: list[str] = []
    while pos < size and line[pos] != '"':
        if line[pos] == "\\":  # backslash keeps the next character as is
            pos += 1
            if pos == size:
                return None
        chars.append(line[pos])
        pos += 1
    if line[pos + 1 : pos + 2] != "]":  # also catches a missing closing quote
        return None
    return name, "".join(chars), line[pos + 2 :]


def _remotes_and_rewrites(text: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """From config text: ``{remote: first url}`` in file order, and the
    ``(insteadOf prefix, replacement base)`` pairs. Bad lines are skipped."""
    remotes: dict[str, str] = {}
    rewrites: list[tuple[str, str]] = []
    lines = text.replace("\r\n", "\n").split("\n")
    section: str | None = None
    subsection: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index].lstrip(" \t")
        index += 1
        if not line or line[0] in "#;":
            continue
        if line[0] == "[":
            header = _section_header(line)
            if header is None:
                section = subsection = None
                continue
            section, subsection, line = header
            line = line.lstrip(" \t")  # a variable may follow on the same line
            if not line or line[0] in "#;":
                continue
        if section is None or not line[0].isalpha():
            continue
        end = 1
        while end < len(line) and line[end] in _KEY_CHARS:
            end += 1
        key = line[:end].lower()
        rest = line[end:].lstrip(" \t")
        if not rest.startswith("="):
            continue  # "name" alone means true, never a URL; anything else is junk
        value, index = _parse_value(rest[1:], lines, index)
        if not value or subsection is None:
            continue
        if section == "remote" and key == "url":
            remotes.setdefault(subsection, value)
        elif section == "url" and key == "insteadof":
            rewrites.append((value, subsection))
    return remotes, rewrites


def read_origin_url(git_dirs: GitDirs) -> str | None:
    """The fetch URL of the ``origin`` remote, else of the first remote with a URL.

    Read from the shared ``config`` (git-config syntax: ``[remote "origin"]`` sections,
    case-insensitive names, quoted values, ``#`` / ``;`` comments, backslash
    continuation lines). ``url.<base>.insteadOf`` rules from the same file are applied.
    None when there is no remote or the config is unreadable.

    The URL is returned as configured and may carry credentials
    (``https://user:token@host/...``): do not log or store it; use
    :func:`github_repo_from_url`.
    """
    data = _read_file(os.path.join(git_dirs.common_dir, "config"), _MAX_CONFIG)
    if not data:
        return None
    text = data.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    remotes, rewrites = _remotes_and_rewrites(text)
    url = remotes.get("origin")
    if url is None:
        url = next(iter(remotes.values()), None)
    if url is None:
        return None
    best: tuple[str, str] | None = None
    for prefix, base in rewrites:
        if url.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, base)
    if best is not None:
        url = best[1] + url[len(best[0]) :]
    return url


# --------------------------------------------------------------------------- all together


def _text(value: str) -> str | None:
    """``value`` if it can be stored (valid UTF-8, no NUL), else None."""
    if "\x00" in value:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes in a path (surrogate escapes)
        return None
    return value


def read_git_facts(
    cwd: str | os.PathLike[str] | None, *, enterprise_hosts: Iterable[str] = ()
) -> dict[str, Any] | None:
    """:func:`read_git_context`'s facts as a plain dict of the ``GitContext`` fields
    (stdlib values only), or None outside a repository."""
    if cwd is None or (isinstance(cwd, str | bytes) and not cwd):
        return None
    try:
        dirs = find_git_dir(cwd)
        if dirs is None:
            return None
        branch = read_branch(dirs)
        url = read_origin_url(dirs)
        repo = github_repo_from_url(url, enterprise_hosts=enterprise_hosts) if url else None
    except (OSError, ValueError, TypeError):
        return None
    pr, issue = branch_numbers(branch)
    return {
        "local_git_dir": _text(dirs.common_dir),
        "git_worktree_path": _text(dirs.work_tree),
        "github_repo": repo,
        "git_branch": branch,
        "github_pr": pr,
        "github_issue": issue,
    }


def read_git_context(
    cwd: str | os.PathLike[str] | None, *, enterprise_hosts: Iterable[str] = ()
) -> tuple[GitContext, GitBranchInfo] | None:
    """The git context of a session working in ``cwd``, or None outside a repository.

    ``local_git_dir`` is the shared git dir (``<repo>/.git`` even from a linked
    worktree; ``<super>/.git/modules/<name>`` for a submodule), ``git_worktree_path``
    the root of the work tree containing ``cwd``, ``github_repo`` the ``owner/repo`` of
    the ``origin`` remote (see :func:`github_repo_from_url`, which ``enterprise_hosts``
    is passed to), ``git_branch`` the checked-out branch (None when detached) and
    ``github_pr`` / ``github_issue`` what :func:`branch_info` finds in it. The
    ``GitBranchInfo`` is returned too, for ``update_session_git_info``; with a detached
    or unreadable HEAD it is empty, and storing it would clear the session's PR / issue
    numbers, so callers may want to skip it when ``branch`` is None.

    Never raises for odd input or odd repositories (missing or garbage ``HEAD`` /
    ``config``, permission errors, a ``cwd`` that does not exist): the facts that cannot
    be read are None. A ``cwd`` of None or ``""`` (unknown) gives None. Runs no process.
    """
    from .._records import GitBranchInfo, GitContext

    facts = read_git_facts(cwd, enterprise_hosts=enterprise_hosts)
    if facts is None:
        return None
    info = GitBranchInfo(
        branch=facts["git_branch"], pr_number=facts["github_pr"], issue_number=facts["github_issue"]
    )
    return GitContext(**facts), info
