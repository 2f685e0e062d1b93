"""Tests for netsky_core.ingest.gitinfo: git context read from ``.git`` without git.

Repositories are made with the real ``git`` command (isolated from the user's and the
system's git config), and where it helps git itself is asked what the answer should be.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsky_core import GitBranchInfo, GitContext
from netsky_core.ingest import gitinfo
from netsky_core.ingest.gitinfo import (
    GitDirs,
    branch_info,
    find_git_dir,
    github_repo_from_url,
    read_branch,
    read_git_context,
    read_origin_url,
)

GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="git is not installed")

_GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_TERMINAL_PROMPT": "0",
}
for _name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_INDEX_FILE"):
    _GIT_ENV.pop(_name, None)


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` and return its stripped stdout."""
    done = subprocess.run(
        [GIT or "git", "-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always", *args],
        cwd=cwd,
        env=_GIT_ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def make_repo(path: Path, *, commit: bool = True) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    if commit:
        (path / "README").write_text("hello\n")
        git(path, "add", "README")
        git(path, "commit", "-q", "-m", "init")
    return path


def real(path: Path | str) -> str:
    return os.path.realpath(path)


def git_truth(cwd: Path) -> tuple[str, str, str]:
    """What git says: (work tree root, git dir, common git dir), symlinks resolved."""
    top, git_dir, common = git(
        cwd, "rev-parse", "--show-toplevel", "--absolute-git-dir", "--git-common-dir"
    ).splitlines()
    return real(top), real(git_dir), real(os.path.join(cwd, common))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def context(cwd: Path | str) -> GitContext:
    result = read_git_context(cwd)
    assert result is not None
    ctx, info = result
    assert info.branch == ctx.git_branch
    assert info.pr_number == ctx.github_pr
    assert info.issue_number == ctx.github_issue
    return ctx


# --------------------------------------------------------------------------- discovery


def test_plain_repo(repo: Path) -> None:
    result = read_git_context(repo)
    assert result is not None
    ctx, info = result
    assert ctx == GitContext(
        local_git_dir=real(repo / ".git"),
        git_worktree_path=real(repo),
        github_repo=None,
        git_branch="main",
        github_pr=None,
        github_issue=None,
    )
    assert info == GitBranchInfo(branch="main")
    dirs = find_git_dir(repo)
    assert dirs == GitDirs(real(repo), real(repo / ".git"), real(repo / ".git"), False)
    assert (dirs.work_tree, dirs.git_dir, dirs.common_dir) == git_truth(repo)


def test_cwd_deep_inside_the_tree(repo: Path) -> None:
    deep = repo / "a" / "b" / "c" / "d"
    deep.mkdir(parents=True)
    ctx = context(deep)
    assert ctx.local_git_dir == real(repo / ".git")
    assert ctx.git_worktree_path == real(repo)
    dirs = find_git_dir(deep)
    assert dirs is not None
    assert (dirs.work_tree, dirs.git_dir, dirs.common_dir) == git_truth(deep)


def test_cwd_inside_the_git_dir_finds_the_repo(repo: Path) -> None:
    assert context(repo / ".git" / "refs" / "heads").local_git_dir == real(repo / ".git")


def test_path_like_and_bytes_cwd(repo: Path) -> None:
    assert context(repo).git_branch == "main"
    assert context(str(repo)).git_branch == "main"
    assert context(os.fsencode(repo)).git_branch == "main"  # type: ignore[arg-type]


def test_relative_cwd(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "sub").mkdir()
    monkeypatch.chdir(repo)
    assert context("sub").git_worktree_path == real(repo)


def test_symlinked_cwd_is_resolved(repo: Path, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(repo, target_is_directory=True)
    ctx = context(link)
    assert ctx.git_worktree_path == real(repo)
    assert ctx.local_git_dir == real(repo / ".git")


def test_dot_git_symlink_to_a_directory(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / ".git").rename(tmp_path / "store")
    (repo / ".git").symlink_to(tmp_path / "store", target_is_directory=True)
    ctx = context(repo)
    assert ctx.local_git_dir == real(tmp_path / "store")
    assert ctx.git_worktree_path == real(repo)
    assert ctx.git_branch == "main"


def test_cwd_outside_any_repo(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    if (
        subprocess.run(
            [GIT or "git", "rev-parse"], cwd=outside, env=_GIT_ENV, capture_output=True
        ).returncode
        == 0
    ):
        pytest.skip("the temporary folder is itself inside a git repository")
    assert find_git_dir(outside) is None
    assert read_git_context(outside) is None


def test_cwd_that_does_not_exist(tmp_path: Path, repo: Path) -> None:
    if find_git_dir(tmp_path) is None:
        assert read_git_context(tmp_path / "no" / "such" / "dir") is None
    # a folder deleted inside a repository still belongs to it
    assert context(repo / "deleted" / "folder").git_worktree_path == real(repo)


@pytest.mark.parametrize("cwd", [None, "", b"", "bad\x00path", 42, object()])
def test_odd_cwd_values_give_none(cwd: object, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)  # "" must not silently mean the process's own folder
    assert read_git_context(cwd) is None  # type: ignore[arg-type]


def test_unborn_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "fresh", commit=False)
    assert context(repo).git_branch == "main"


def test_branch_with_slashes(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "alice/fix/123-thing")
    ctx = context(repo)
    assert ctx.git_branch == "alice/fix/123-thing"
    assert ctx.github_issue == 123
    assert ctx.github_pr is None


def test_pr_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "pr/67")
    ctx = context(repo)
    assert (ctx.git_branch, ctx.github_pr, ctx.github_issue) == ("pr/67", 67, None)


def test_detached_head(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    result = read_git_context(repo)
    assert result is not None
    ctx, info = result
    assert ctx.git_branch is None
    assert info == GitBranchInfo()
    assert ctx.local_git_dir == real(repo / ".git")
    assert ctx.git_worktree_path == real(repo)


def test_branch_packed_after_gc_still_read_from_head(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "issue-45")
    git(repo, "pack-refs", "--all")
    assert context(repo).github_issue == 45


# --------------------------------------------------------------------------- worktrees, submodules


def test_linked_worktree(repo: Path, tmp_path: Path) -> None:
    git(repo, "remote", "add", "origin", "git@github.com:acme/widgets.git")
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "feature/45-login", str(wt))
    (wt / "sub").mkdir()

    dirs = find_git_dir(wt / "sub")
    assert dirs is not None
    assert dirs.is_linked_worktree
    assert dirs.work_tree == real(wt)
    assert dirs.common_dir == real(repo / ".git")
    assert os.path.dirname(dirs.git_dir) == real(repo / ".git" / "worktrees")
    assert (dirs.work_tree, dirs.git_dir, dirs.common_dir) == git_truth(wt / "sub")

    ctx = context(wt / "sub")
    assert ctx == GitContext(
        local_git_dir=real(repo / ".git"),
        git_worktree_path=real(wt),
        github_repo="acme/widgets",
        git_branch="feature/45-login",
        github_pr=None,
        github_issue=45,
    )
    # the main worktree keeps its own branch
    assert context(repo).git_branch == "main"
    assert context(repo).local_git_dir == ctx.local_git_dir


def test_linked_worktree_detached(repo: Path, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "--detach", str(wt))
    ctx = context(wt)
    assert ctx.git_branch is None
    assert ctx.git_worktree_path == real(wt)
    assert ctx.local_git_dir == real(repo / ".git")


def test_real_submodule(repo: Path, tmp_path: Path) -> None:
    lib = make_repo(tmp_path / "lib")
    git(repo, "submodule", "add", "-q", str(lib), "vendor/lib")
    sub = repo / "vendor" / "lib"
    assert (sub / ".git").is_file()

    dirs = find_git_dir(sub)
    assert dirs is not None
    assert not dirs.is_linked_worktree
    assert dirs.work_tree == real(sub)
    assert dirs.git_dir == dirs.common_dir == real(repo / ".git" / "modules" / "vendor" / "lib")
    assert (dirs.work_tree, dirs.git_dir, dirs.common_dir) == git_truth(sub)

    assert context(sub).github_repo is None  # origin is a local path
    git(sub, "remote", "set-url", "origin", "https://github.com/acme/lib.git")
    ctx = context(sub)
    assert ctx.github_repo == "acme/lib"
    assert ctx.local_git_dir == dirs.common_dir
    # the superproject is unaffected
    assert context(repo).git_worktree_path == real(repo)
    assert context(repo).github_repo is None


def test_hand_written_relative_git_file(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "checkout")
    store = tmp_path / "elsewhere" / "store.git"
    store.parent.mkdir()
    (repo / ".git").rename(store)
    (repo / ".git").write_text("gitdir: ../elsewhere/store.git\n")
    git(repo, "remote", "add", "origin", "https://github.com/o/r")

    dirs = find_git_dir(repo / ".")
    assert dirs == GitDirs(real(repo), real(store), real(store), False)
    assert (dirs.work_tree, dirs.git_dir, dirs.common_dir) == git_truth(repo)
    ctx = context(repo)
    assert (ctx.github_repo, ctx.git_branch) == ("o/r", "main")


def test_git_file_with_crlf(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "checkout")
    (repo / ".git").rename(tmp_path / "store")
    (repo / ".git").write_bytes(b"gitdir: " + os.fsencode(tmp_path / "store") + b"\r\n")
    assert context(repo).local_git_dir == real(tmp_path / "store")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"garbage",
        b"gitdir:",
        b"gitdir: ",
        b"gitdir: /no/such/dir\n",
        b"gitdir: a\x00b\n",
        b"\xff\xfe\x00\x01",
    ],
)
def test_bad_git_file(tmp_path: Path, content: bytes) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / ".git").write_bytes(content)
    assert find_git_dir(work) is None
    assert read_git_context(work) is None


@pytest.mark.parametrize("commondir", [b"../../../../no/such/place\n", b"x\x00y\n"])
def test_bad_commondir(repo: Path, tmp_path: Path, commondir: bytes) -> None:
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(wt))
    dirs = find_git_dir(wt)
    assert dirs is not None
    Path(dirs.git_dir, "commondir").write_bytes(commondir)
    assert find_git_dir(wt) is None
    assert read_git_context(wt) is None


# --------------------------------------------------------------------------- odd HEAD / config


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"\x00\x01\x02garbage\xff",
        b"ref: ",
        b"ref: refs/heads/",
        b"ref: refs/remotes/origin/main\n",
        b"ref: refs/heads/.invalid\n",  # what reftable repositories leave in HEAD
        b"ref: refs/heads/a..b\n",
        b"ref: refs/heads/x\nmore junk\n",
        b"ref: refs/heads/bad name\n",
        b"0123456789abcdef0123456789abcdef01234567\n",
        b"ref: refs/heads/" + b"x" * 70000,
    ],
)
def test_corrupted_head(repo: Path, head: bytes) -> None:
    (repo / ".git" / "HEAD").write_bytes(head)
    result = read_git_context(repo)
    assert result is not None
    ctx, info = result
    assert ctx.git_branch is None
    assert info == GitBranchInfo()
    assert ctx.local_git_dir == real(repo / ".git")


def test_head_with_crlf_and_no_space(repo: Path) -> None:
    (repo / ".git" / "HEAD").write_bytes(b"ref:refs/heads/fix/9-x\r\n")
    assert context(repo).git_branch == "fix/9-x"


def test_missing_head(repo: Path) -> None:
    (repo / ".git" / "HEAD").unlink()
    ctx = context(repo)
    assert ctx.git_branch is None
    assert ctx.git_worktree_path == real(repo)


def test_head_is_a_directory(repo: Path) -> None:
    (repo / ".git" / "HEAD").unlink()
    (repo / ".git" / "HEAD").mkdir()
    assert context(repo).git_branch is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.timeout(10)
def test_head_is_a_fifo_does_not_block(repo: Path) -> None:
    (repo / ".git" / "HEAD").unlink()
    os.mkfifo(repo / ".git" / "HEAD")
    assert context(repo).git_branch is None


def test_legacy_symlink_head(repo: Path) -> None:
    git(repo, "branch", "old/7-style")
    head = repo / ".git" / "HEAD"
    head.unlink()
    head.symlink_to("refs/heads/old/7-style")
    ctx = context(repo)
    assert (ctx.git_branch, ctx.github_issue) == ("old/7-style", 7)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores file permissions"
)
def test_unreadable_files(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "https://github.com/o/r")
    head = repo / ".git" / "HEAD"
    config = repo / ".git" / "config"
    head.chmod(0)
    config.chmod(0)
    try:
        ctx = context(repo)
        assert (ctx.git_branch, ctx.github_repo) == (None, None)
        assert ctx.local_git_dir == real(repo / ".git")
    finally:
        head.chmod(0o644)
        config.chmod(0o644)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores file permissions"
)
def test_unsearchable_folder(repo: Path) -> None:
    inner = repo / "locked" / "inner"
    inner.mkdir(parents=True)
    (repo / "locked").chmod(0)
    try:
        result = read_git_context(inner)
        assert result is None or result[0].git_worktree_path == real(repo)
    finally:
        (repo / "locked").chmod(0o755)


def test_permission_errors_simulated(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same as the two tests above, for runs as root: the OS calls fail with EACCES."""
    git(repo, "remote", "add", "origin", "https://github.com/o/r")
    (repo / "locked" / "inner").mkdir(parents=True)
    real_open, real_lstat = os.open, os.lstat

    def denying_open(path: str, *args: object, **kwargs: object) -> int:
        if os.path.basename(path) in ("HEAD", "config"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    def denying_lstat(path: str, *args: object, **kwargs: object) -> os.stat_result:
        if "locked" in str(path):
            raise PermissionError(13, "Permission denied", path)
        return real_lstat(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", denying_open)
    monkeypatch.setattr(os, "lstat", denying_lstat)
    ctx = context(repo / "locked" / "inner")
    assert (ctx.git_branch, ctx.github_repo) == (None, None)
    assert ctx.local_git_dir == real(repo / ".git")
    assert ctx.git_worktree_path == real(repo)


@pytest.mark.parametrize(
    "config",
    [
        b"\x00\xff\xfe garbage \x01\x02",
        b'[remote "origin"]\n\turl = "https://github.com/o/r\n',  # open quote
        b'[remote "origin"]\n\turl = https://github.com/o/r\\q\n',  # unknown escape
        b'[remote "origin\n\turl = https://github.com/o/r\n',  # broken header
        b"url = https://github.com/o/r\n",  # no section
        b'[remote "origin"]\n\turl\n',  # boolean, not a URL
        b'[remote "origin"]\n\turl =\n',
        b'[remote "origin"]\n\tpushurl = https://github.com/o/r\n',
        b"[remote]\n\turl = https://github.com/o/r\n",  # no remote name
        b'[ remote "origin" ]\n\turl = https://github.com/o/r\n',  # git refuses the blanks
        b"[" * 5000,
    ],
)
def test_corrupted_config(repo: Path, config: bytes) -> None:
    (repo / ".git" / "config").write_bytes(config)
    ctx = context(repo)
    assert ctx.github_repo is None
    assert ctx.git_branch == "main"


def test_corrupted_config_keeps_the_good_parts(repo: Path) -> None:
    (repo / ".git" / "config").write_bytes(
        b"[core\n\tbare = false\n"
        b'[remote "origin"]\n\turl = "broken\n'
        b'[remote "upstream"]\n\tjunk line with spaces\n\turl = git@github.com:o/up.git\n'
    )
    assert context(repo).github_repo == "o/up"


def test_config_missing_or_a_directory(repo: Path) -> None:
    config = repo / ".git" / "config"
    config.unlink()
    assert context(repo).github_repo is None
    config.mkdir()
    assert context(repo).github_repo is None


def test_huge_config_is_ignored(repo: Path) -> None:
    (repo / ".git" / "config").write_bytes(
        b'[remote "origin"]\n\turl = https://github.com/o/r\n' + b"#" * (2 * 1024 * 1024)
    )
    assert context(repo).github_repo is None


# --------------------------------------------------------------------------- remotes

URL_FORMS = [
    ("https://github.com/o/r.git", "o/r"),
    ("https://github.com/o/r", "o/r"),
    ("https://github.com/o/r/", "o/r"),
    ("https://github.com/o/r.git/", "o/r"),
    ("http://github.com/o/r.git", "o/r"),
    ("https://www.github.com/o/r", "o/r"),
    ("HTTPS://GitHub.COM/Owner-1/Repo.Name_2.git", "Owner-1/Repo.Name_2"),
    ("https://github.com:443/o/r.git", "o/r"),
    ("https://user:ghp_s3cretT0ken@github.com/o/r.git", "o/r"),
    ("https://x-access-token:tok@github.com/o/r", "o/r"),
    ("https://ghp_tokenonly@github.com/o/r", "o/r"),
    ("https://user:p@ss@github.com/o/r", "o/r"),
    ("git@github.com:o/r.git", "o/r"),
    ("git@github.com:o/r", "o/r"),
    ("git@github.com:/o/r.git", "o/r"),
    ("github.com:o/r.git", "o/r"),
    ("org-12345@github.com:o/r.git", "o/r"),
    ("git@github.com-work:o/r.git", "o/r"),
    ("ssh://git@github.com/o/r.git", "o/r"),
    ("ssh://git@github.com:22/o/r", "o/r"),
    ("ssh://git@ssh.github.com:443/o/r.git", "o/r"),
    ("ssh://git@www.github.com/o/r", "o/r"),
    ("ssh://git@github.com-personal/o/r.git", "o/r"),
    ("git+ssh://git@github.com/o/r.git", "o/r"),
    ("ssh+git://git@github.com/o/r.git", "o/r"),
    ("git://github.com/o/r", "o/r"),
    ("git://github.com/o/r.git", "o/r"),
    ("  https://github.com/o/r.git  ", "o/r"),
    ("https://github.com/o/.github", "o/.github"),
    ("https://github.com/o/r.js", "o/r.js"),
    ("https://github.com./o/r", "o/r"),
    # not github.com
    ("https://gitlab.com/o/r.git", None),
    ("git@gitlab.com:o/r.git", None),
    ("https://bitbucket.org/o/r.git", None),
    ("git@bitbucket.org:o/r.git", None),
    ("https://github.example.com/o/r.git", None),
    ("https://github.acme.com/o/r.git", None),
    ("git@github.acme.com:o/r.git", None),
    ("https://acme.ghe.com/o/r.git", None),
    ("https://api.github.com/repos/o/r", None),
    ("https://gist.github.com/o/abc123", None),
    ("https://github.com.evil.example/o/r", None),
    ("https://evil.example/github.com/o/r", None),
    ("https://github.com-work/o/r", None),  # aliases are an SSH thing
    ("https://evil.example@github.com.evil.example/o/r", None),
    ("file:///srv/github.com/o/r.git", None),
    ("/srv/git/o/r.git", None),
    ("../r.git", None),
    ("./github.com:o/r", None),
    ("C:/repos/r", None),
    ("ftp://github.com/o/r", None),
    # not owner/repo
    ("https://github.com/o", None),
    ("https://github.com/", None),
    ("https://github.com", None),
    ("https://github.com/o/r/tree/main", None),
    ("https://github.com/o/r?tab=readme", None),
    ("https://github.com/o/r#readme", None),
    ("https://github.com//r", None),
    ("https://github.com/o/..", None),
    ("https://github.com/-o/r", None),
    ("https://github.com/o.o/r", None),
    ("https://github.com/o/r%20x", None),
    ("https://github.com/o/r x", None),
    ("https://github.com/o/r\nx", None),
    ("https://github.com:abc/o/r", None),
    ("git@github.com:o", None),
    ("", None),
    ("   ", None),
    (None, None),
]


@pytest.mark.parametrize(("url", "expected"), URL_FORMS)
def test_github_repo_from_url(url: str | None, expected: str | None) -> None:
    assert github_repo_from_url(url) == expected


def test_github_enterprise_is_opt_in() -> None:
    url = "git@github.acme.com:platform/api.git"
    assert github_repo_from_url(url) is None
    assert github_repo_from_url(url, enterprise_hosts=["GitHub.Acme.com"]) == "platform/api"
    assert (
        github_repo_from_url(
            "https://tok@github.acme.com/p/a", enterprise_hosts={"github.acme.com"}
        )
        == "p/a"
    )
    assert (
        github_repo_from_url("https://gitlab.com/p/a", enterprise_hosts=["github.acme.com"]) is None
    )
    assert github_repo_from_url("https://github.acme.com/p/a", enterprise_hosts="github.acme.com")
    # github.com keeps working when enterprise hosts are given
    assert github_repo_from_url("https://github.com/o/r", enterprise_hosts=["x.y"]) == "o/r"


def test_enterprise_hosts_through_read_git_context(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "https://github.acme.com/p/a.git")
    assert context(repo).github_repo is None
    result = read_git_context(repo, enterprise_hosts=("github.acme.com",))
    assert result is not None
    assert result[0].github_repo == "p/a"


@pytest.mark.parametrize(
    ("url", "expected"),
    [(url, expected) for url, expected in URL_FORMS if url and url.strip() and "\n" not in url],
)
def test_remote_url_forms_in_a_real_repo(repo: Path, url: str, expected: str | None) -> None:
    git(repo, "remote", "add", "origin", url.strip())
    assert read_origin_url(find_git_dir(repo)) == url.strip()  # type: ignore[arg-type]
    assert context(repo).github_repo == expected


def test_no_remote(repo: Path) -> None:
    assert read_origin_url(find_git_dir(repo)) is None  # type: ignore[arg-type]
    assert context(repo).github_repo is None


def test_non_github_remote(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "git@gitlab.com:o/r.git")
    assert context(repo).github_repo is None


def test_origin_is_preferred(repo: Path) -> None:
    git(repo, "remote", "add", "upstream", "https://github.com/up/r.git")
    git(repo, "remote", "add", "origin", "https://github.com/me/r.git")
    assert context(repo).github_repo == "me/r"


def test_first_remote_without_origin(repo: Path) -> None:
    git(repo, "remote", "add", "upstream", "https://github.com/up/r.git")
    git(repo, "remote", "add", "fork", "https://github.com/me/r.git")
    assert context(repo).github_repo == "up/r"


def test_first_of_several_origin_urls(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "https://github.com/a/r.git")
    git(repo, "config", "--add", "remote.origin.url", "https://github.com/b/r.git")
    assert context(repo).github_repo == "a/r"


def test_origin_on_gitlab_is_not_replaced_by_another_remote(repo: Path) -> None:
    git(repo, "remote", "add", "mirror", "https://github.com/m/r.git")
    git(repo, "remote", "add", "origin", "https://gitlab.com/o/r.git")
    assert context(repo).github_repo is None


CONFIG_SYNTAX = [
    # quoting, comments, case-insensitive names, blanks
    '[remote "origin"]\n\tURL = "https://github.com/o/r.git" ; comment\n',
    '[Remote "origin"]\n  Url="https://github.com/o/r.git"#comment\n',
    '[remote "origin"]\n\turl = https://github.com/o/r.git # trailing comment\n',
    '[remote "origin"]\n\turl = "https://github.com/o/r;x.git"\n',
    '# leading comment\n; another\n\n[core]\n\tbare = false\n[remote "origin"]\n'
    "\tfetch = +refs/heads/*:refs/remotes/origin/*\n\turl = git@github.com:o/r.git\n",
    # legacy section syntax and a key on the header line
    "[remote.origin]\n\turl = https://github.com/o/r\n",
    '[remote "origin"] url = https://github.com/o/r\n',
    '[remote   "origin"]\n\turl = https://github.com/o/r\n',
    # continuation, escapes
    '[remote "origin"]\n\turl = https://github.com/\\\n o/r.git\n',
    '[remote "origin"]\n\turl = "https://github.com/o/\\"r\\".git"\n',
    # Windows line endings, BOM
    '\ufeff[remote "origin"]\r\n\turl = https://github.com/o/r.git\r\n',
    # escaped subsection name
    '[remote "we\\"ird"]\n\turl = https://github.com/o/weird.git\n',
    # insteadOf rewriting, longest prefix wins
    '[url "https://github.com/"]\n\tinsteadOf = gh:\n[remote "origin"]\n\turl = gh:o/r\n',
    '[url "https://gitlab.com/"]\n\tinsteadOf = g\n[url "git@github.com:"]\n\tinsteadOf = gh:\n'
    '[remote "origin"]\n\turl = gh:o/r\n',
    '[remote "origin"]\n\turl = https://github.com/o/r\n[url "https://example.com/"]\n'
    "\tinsteadOf = https://github.com/\n",
]


@pytest.mark.parametrize("config", CONFIG_SYNTAX)
def test_config_syntax_agrees_with_git(repo: Path, config: str) -> None:
    (repo / ".git" / "config").write_text(config, newline="")
    remote = git(repo, "remote").splitlines()
    name = "origin" if "origin" in remote else remote[0]
    expected = git(repo, "remote", "get-url", name)
    url = read_origin_url(find_git_dir(repo))  # type: ignore[arg-type]
    assert url == expected
    assert context(repo).github_repo == github_repo_from_url(expected)


# --------------------------------------------------------------------------- no processes


_spawn_forbidden = False
_spawn_seen: list[str] = []
_SPAWN_EVENTS = frozenset(
    {
        "subprocess.Popen",
        "os.system",
        "os.posix_spawn",
        "os.exec",
        "os.fork",
        "os.forkpty",
        "os.spawn",
        "os.startfile",
        "pty.spawn",
    }
)


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _spawn_forbidden and event in _SPAWN_EVENTS:
        _spawn_seen.append(event)
        raise RuntimeError(f"read_git_context must not start processes ({event})")


sys.addaudithook(_audit)


@contextlib.contextmanager
def no_processes() -> Iterator[None]:
    """Fail if anything starts a process (audit events, plus the usual functions)."""
    global _spawn_forbidden

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a process was started")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(subprocess, "Popen", refuse)
        for name in ("posix_spawn", "posix_spawnp", "fork", "system", "popen", "execv", "execvp"):
            if hasattr(os, name):
                mp.setattr(os, name, refuse)
        _spawn_seen.clear()
        _spawn_forbidden = True
        try:
            yield
        finally:
            _spawn_forbidden = False
    assert _spawn_seen == []


def test_no_process_is_started(repo: Path, tmp_path: Path) -> None:
    git(repo, "remote", "add", "origin", "git@github.com:o/r.git")
    git(repo, "checkout", "-q", "-b", "fix/12-x")
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "pr/3", str(wt))
    with no_processes():
        main = read_git_context(repo / "nested" / "missing")
        linked = read_git_context(wt)
        outside = read_git_context(tmp_path / "not-a-repo")
    assert main is not None and main[0].github_issue == 12 and main[0].github_repo == "o/r"
    assert linked is not None and linked[0].github_pr == 3
    assert outside is None or outside[0].git_worktree_path != real(repo)


def test_the_process_guard_works() -> None:
    with pytest.raises((AssertionError, RuntimeError)), no_processes():
        subprocess.run([GIT or "git", "--version"], capture_output=True)
    _spawn_seen.clear()


def test_module_does_not_import_subprocess() -> None:
    assert "subprocess" not in vars(gitinfo)


# --------------------------------------------------------------------------- branch names

BRANCHES = [
    # (branch, pr, issue)
    ("main", None, None),
    ("master", None, None),
    ("develop", None, None),
    ("fix/123-thing", None, 123),
    ("issue-45", None, 45),
    ("issue_45", None, 45),
    ("issue45", None, 45),
    ("Issue-45-crash", None, 45),
    ("issues/45", None, 45),
    ("issue/45-crash", None, 45),
    ("gh-45-x", None, 45),
    ("GH-45", None, 45),
    ("gh45", None, 45),
    ("gh#45", None, 45),
    ("#45", None, 45),
    ("fix/#45-x", None, 45),
    ("45-some-feature", None, 45),
    ("45_some_feature", None, 45),
    ("45", None, 45),
    ("alice/45-x", None, 45),
    ("alice/fix-45", None, 45),
    ("fix-45", None, 45),
    ("fix-#45", None, 45),
    ("fix#45", None, 45),
    ("fixes-45", None, 45),
    ("bug-45", None, 45),
    ("bugfix/45-x", None, 45),
    ("bugfix-45", None, 45),
    ("hotfix-45-x", None, 45),
    ("feat-45", None, 45),
    ("feature/45-login", None, 45),
    ("feature-45", None, 45),
    ("closes-45", None, 45),
    ("resolves_45", None, 45),
    ("copilot/fix-45", None, 45),
    ("claude/issue-45-20250101-1234", None, 45),
    ("alice/12-x/34-y", None, 12),
    ("45-dev-tools", None, 45),
    ("12-release-notes", None, 12),
    # pull requests
    ("pr/67", 67, None),
    ("pr/67-x", 67, None),
    ("pull/67/head", 67, None),
    ("pull/67/merge", 67, None),
    ("pulls/67", 67, None),
    ("pr-67", 67, None),
    ("PR-67", 67, None),
    ("pr_67", 67, None),
    ("pr67", 67, None),
    ("pr#67", 67, None),
    ("pull-67", 67, None),
    ("pull-request-67", 67, None),
    ("pull-request/67", 67, None),
    ("claude/pr-67-20250101-1234", 67, None),
    ("gh-readonly-queue/main/pr-67-0123456789abcdef", 67, None),
    ("pr-67/fix-45", 67, 45),
    ("fix-45/pr-67", 67, 45),
    # Jira keys are not GitHub issues
    ("feature/ABC-12", None, None),
    ("ABC-12-login", None, None),
    ("FIX-12", None, None),
    ("BUG-12", None, None),
    ("feature/ABC-12/45-x", None, 45),
    # versions, dates, bots, releases
    ("renovate/lodash-4.x", None, None),
    ("renovate/major-react-monorepo", None, None),
    ("renovate/node-18.x", None, None),
    ("renovate/12-x", None, None),
    ("dependabot/npm_and_yarn/lodash-4.17.21", None, None),
    ("dependabot/pip/requests-2.32.0", None, None),
    ("dependabot/github_actions/actions/checkout-4", None, None),
    ("release/1.2.3", None, None),
    ("release/7", None, None),
    ("release-2024-06/45-x", None, None),
    ("releases/v2", None, None),
    ("stable/3", None, None),
    ("hotfix/2.0.1", None, None),
    ("v1.2.3", None, None),
    ("2.x", None, None),
    ("1.0", None, None),
    ("3-stable", None, None),
    ("7-1-stable", None, None),
    ("2-dev", None, None),
    ("1-rc2", None, None),
    ("2024-01-15-notes", None, None),
    ("2024_01_15", None, None),
    ("revert-123-fix/45-x", None, None),
    ("backport-123-to-v2", None, None),
    ("snyk-fix-0123abcd", None, None),
    # not ids
    ("gh-pages", None, None),
    ("feature/oauth2", None, None),
    ("feature/2fa-login", None, None),
    ("feature2", None, None),
    ("fix2", None, None),
    ("upgrade-to-python-3", None, None),
    ("python3.12", None, None),
    ("007-bond", None, None),
    ("0", None, None),
    ("12345678-x", None, None),
    ("copilot/fix-20250101123456", None, None),
    ("pr/0", None, None),
    ("pr/abc", None, None),
    ("prefix-12", None, None),
    ("ghost-12", None, None),
    ("sprint/S12-x", None, None),
    ("x/y/z", None, None),
    ("", None, None),
    ("/", None, None),
    ("//45//", None, 45),
]


@pytest.mark.parametrize(("branch", "pr", "issue"), BRANCHES)
def test_branch_info(branch: str, pr: int | None, issue: int | None) -> None:
    assert branch_info(branch) == GitBranchInfo(branch=branch, pr_number=pr, issue_number=issue)


def test_branch_info_none() -> None:
    assert branch_info(None) == GitBranchInfo()


@pytest.mark.parametrize(("branch", "pr", "issue"), [b for b in BRANCHES if b[0]])
def test_branch_names_git_accepts_are_read_back(
    tmp_path: Path, branch: str, pr: int | None, issue: int | None
) -> None:
    if (
        subprocess.run(
            [GIT or "git", "check-ref-format", "--branch", branch],
            env=_GIT_ENV,
            capture_output=True,
        ).returncode
        != 0
    ):
        pytest.skip("not a valid branch name for git")
    git_dir = tmp_path / ".git"
    git_dir.mkdir()
    (git_dir / "HEAD").write_text(f"ref: refs/heads/{branch}\n")
    dirs = GitDirs(str(tmp_path), str(git_dir), str(git_dir), False)
    assert read_branch(dirs) == branch


# --------------------------------------------------------------------------- properties

_OWNER_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*/[A-Za-z0-9._-]+")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_branch_info_never_raises(branch: str) -> None:
    info = branch_info(branch)
    assert info.branch == branch
    for number in (info.pr_number, info.issue_number):
        assert number is None or 0 < number < 10_000_000


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["fix/{}-thing", "issue-{}", "{}-x", "gh-{}", "a/b/#{}"]),
    st.integers(1, 9_999_999),
)
def test_issue_numbers_round_trip(template: str, number: int) -> None:
    assert branch_info(template.format(number)).issue_number == number


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["pr/{}", "pull/{}/head", "pr-{}", "x/pr-{}-y"]), st.integers(1, 9_999_999))
def test_pr_numbers_round_trip(template: str, number: int) -> None:
    info = branch_info(template.format(number))
    assert (info.pr_number, info.issue_number) == (number, None)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_github_repo_from_any_text_is_safe(url: str) -> None:
    repo = github_repo_from_url(url)
    assert repo is None or _OWNER_REPO.fullmatch(repo)


_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20).filter(
    lambda s: not s.startswith("-")
)
_secrets = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:@/!$%", min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(
    _names,
    _names,
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=20),
    _secrets,
    st.sampled_from(["https", "http", "ssh", "git+ssh"]),
    st.sampled_from(["", ".git", "/", ".git/"]),
)
def test_credentials_never_leak(
    owner: str, name: str, user: str, secret: str, scheme: str, suffix: str
) -> None:
    url = f"{scheme}://{user}:{secret}@github.com/{owner}/{name}{suffix}"
    repo = github_repo_from_url(url)
    if "/" in secret:  # then the authority ends inside the password: refused
        assert repo is None or repo == f"{owner}/{name}"
    else:
        assert repo == f"{owner}/{name}"
    assert repo is None or ("@" not in repo and ":" not in repo and secret not in repo)
    assert repo is None or user not in repo


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_any_config_or_head_bytes_never_raise(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        git_dir = os.path.join(tmp, ".git")
        os.mkdir(git_dir)
        for name in ("config", "HEAD"):
            with open(os.path.join(git_dir, name), "wb") as f:
                f.write(data)
        dirs = GitDirs(tmp, git_dir, git_dir, False)
        url = read_origin_url(dirs)
        branch = read_branch(dirs)
        assert url is None or isinstance(url, str)
        assert branch is None or (branch and "\n" not in branch and "\x00" not in branch)
        result = read_git_context(tmp)
        assert result is not None
        assert result[0].local_git_dir == os.path.realpath(git_dir)


# --------------------------------------------------------------------------- speed


@pytest.mark.benchmark_smoke
def test_read_git_context_speed(repo: Path, request: pytest.FixtureRequest) -> None:
    try:
        benchmark = request.getfixturevalue("benchmark")
    except pytest.FixtureLookupError:
        pytest.skip("pytest-benchmark is not active")
    git(repo, "remote", "add", "origin", "git@github.com:o/r.git")
    git(repo, "checkout", "-q", "-b", "fix/12-x")
    deep = repo / "src" / "pkg" / "sub"
    deep.mkdir(parents=True)
    result = benchmark(read_git_context, deep)
    assert result is not None and result[0].github_repo == "o/r"
