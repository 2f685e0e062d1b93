"""Names in git facts: the GitHub repository of a remote URL, and the PR / issue
numbers a branch name carries (``fix/123-x``, ``pr-67``, ``issue45``)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from .._records import GitBranchInfo

__all__ = ["GITHUB_HOSTS", "branch_info", "branch_numbers", "github_repo_from_url"]

_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

# --------------------------------------------------------------------------- GitHub URL

GITHUB_HOSTS: frozenset[str] = frozenset({"github.com", "www.github.com", "ssh.github.com"})
"""Hosts whose remotes name a github.com repository."""

_URL_SCHEMES = frozenset({"https", "http", "ssh", "git", "git+ssh", "ssh+git"})
_SSH_SCHEMES = frozenset({"ssh", "git+ssh", "ssh+git"})
_SSH_ALIAS_PREFIX = "github.com-"
_SSH_ALIAS_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")
_OWNER_CHARS = _ALNUM | {"-", "_"}
_REPO_CHARS = _ALNUM | {"-", "_", "."}
_ASCII_DIGITS = frozenset("0123456789")


def github_repo_from_url(url: str | None, *, enterprise_hosts: Iterable[str] = ()) -> str | None:
    """``owner/repo`` when ``url`` is a github.com remote, else None.

    Understood forms (``.git`` suffix and trailing ``/`` optional, host
    case-insensitive, port allowed)::

        https://github.com/owner/repo.git    http://www.github.com/owner/repo/
        https://user:token@github.com/owner/repo
        git@github.com:owner/repo.git        github.com:owner/repo
        ssh://git@github.com/owner/repo.git  ssh://git@github.com:22/owner/repo
        ssh://git@ssh.github.com:443/owner/repo.git
        git://github.com/owner/repo          git+ssh://git@github.com/owner/repo

    For SSH (``ssh://`` and ``user@host:path``) a host alias of the widespread
    ``github.com-<account>`` form (defined in ``~/.ssh/config`` to pick a key) counts
    as github.com.

    Credentials in the URL are dropped: the result only ever holds the owner and
    repository names (letters, digits, ``-``, ``_``, and ``.`` in the repository).

    GitHub Enterprise (``github.<company>.com``, ``<name>.ghe.com`` ...): not
    recognized by default. ``github_repo`` is a bare ``owner/repo`` that readers take to
    mean github.com, and an enterprise ``acme/api`` is a different repository from
    github.com's ``acme/api``; guessing from host names would also match unrelated
    servers. Callers that want enterprise repositories anyway pass their hosts in
    ``enterprise_hosts`` and accept the ambiguity. Other hosts (GitLab, Bitbucket,
    local paths, ``file://``) give None.
    """
    if not isinstance(url, str):
        return None
    url = url.strip()
    # no blanks, control or other unprintable characters
    if not url or len(url) > 2048 or " " in url or not url.isprintable():
        return None
    scheme, sep, rest = url.partition("://")
    if sep:
        scheme = scheme.lower()
        if scheme not in _URL_SCHEMES:
            return None
        authority, _, path = rest.partition("/")
        host, _, port = authority.rpartition("@")[2].partition(":")
        if port and not _ASCII_DIGITS.issuperset(port):
            return None
        ssh = scheme in _SSH_SCHEMES
    else:
        colon = url.find(":")
        slash = url.find("/")
        if colon <= 0 or (0 <= slash < colon):
            return None  # a local path, not scp-like user@host:path
        host = url[:colon].rpartition("@")[2]
        path = url[colon + 1 :]
        ssh = True
    host = host.lower().rstrip(".")
    if host not in GITHUB_HOSTS and not (ssh and _is_ssh_alias(host)):
        if isinstance(enterprise_hosts, str):
            enterprise_hosts = (enterprise_hosts,)
        if host not in {h.lower().rstrip(".") for h in enterprise_hosts}:
            return None
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[:-4].rstrip("/")
    owner, sep, repo = path.partition("/")
    if not (sep and 0 < len(owner) <= 39 and 0 < len(repo) <= 100):
        return None
    if owner[0] not in _ALNUM or not _OWNER_CHARS.issuperset(owner):
        return None
    if not _REPO_CHARS.issuperset(repo) or repo in (".", ".."):
        return None
    return f"{owner}/{repo}"


def _is_ssh_alias(host: str) -> bool:
    """``github.com-<account>``: an ``~/.ssh/config`` alias for github.com."""
    alias = host[len(_SSH_ALIAS_PREFIX) :]
    return host.startswith(_SSH_ALIAS_PREFIX) and bool(alias) and _SSH_ALIAS_CHARS.issuperset(alias)


# --------------------------------------------------------------------------- branch names

# Words that may come right before a number (case-insensitive). PR and issue words
# may be glued to it ("pr67", "issue45"); the others need "-", "_" or "#" ("feature2"
# is not issue 2).
_PR_WORDS = ("pr", "pull", "pulls", "pull-request", "pull_request", "pull-requests")
_ISSUE_WORDS = ("issue", "issues", "gh")
_ISSUE_WORDS_NEEDING_A_SEPARATOR = (
    "bug", "bugs", "bugfix", "fix", "fixes", "hotfix", "feat", "feats", "feature",
    "features", "close", "closes", "closed", "resolve", "resolves", "resolved",
)  # fmt: skip
# A segment that is one of these makes the next segment's number a PR: "pr/67".
_PR_SEGMENTS = frozenset(_PR_WORDS) | {"prs", "pull_requests"}
# Upper-case words before "-<digits>" that are GitHub's, not a Jira project key.
_JIRA_KEYS_THAT_ARE_GITHUB = frozenset({"GH", "PR", "ISSUE", "ISSUES", "PULL"})
_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_UPPER_DIGITS = _UPPER | _ASCII_DIGITS
# "<n>-<word>" where the word marks a version branch, not an issue: "3-stable", "1-rc2".
_VERSION_WORDS = frozenset(
    {"stable", "dev", "alpha", "beta", "rc", "pre", "preview", "lts", "maint", "maintenance"}
    | {"release", "branch"}
)
_NO_NUMBER_NAMESPACES = frozenset(
    {
        "release", "releases", "stable", "lts", "maint", "maintenance", "tag", "tags",
        "version", "versions", "revert", "backport", "dependabot", "renovate",
        "greenkeeper", "snyk", "imgbot", "whitesource", "mend",
    }
)  # fmt: skip
_NO_NUMBER_PREFIXES = ("revert-", "backport-", "release-", "snyk-", "dependabot-", "renovate-")


def _leading_id(text: str) -> tuple[int, str] | None:
    """``(number, rest)`` when ``text`` starts with an id: 1 to 7 ASCII digits, no
    leading zero, then ``-`` or ``_`` (dropped from ``rest``) or the end."""
    end = 0
    while end < len(text) and text[end] in _ASCII_DIGITS:
        end += 1
    if not 0 < end <= 7 or text[0] == "0":
        return None
    if end == len(text):
        return int(text), ""
    if text[end] not in "-_":
        return None
    return int(text[:end]), text[end + 1 :]


def _prefixed_id(segment: str, words: tuple[str, ...], *, glued: bool) -> int | None:
    """The id after one of ``words`` (then ``-`` / ``_``, then ``#``) opening
    ``segment`` (lower-cased); with ``glued`` the separator may be left out."""
    for word in words:
        if not segment.startswith(word):
            continue
        rest = segment[len(word) :]
        separated = rest[:1] in ("-", "_")
        if separated:
            rest = rest[1:]
        if rest[:1] == "#":
            rest = rest[1:]
            separated = True
        if separated or glued:
            found = _leading_id(rest)
            if found is not None:
                return found[0]
    return None


def _is_jira_key(segment: str) -> bool:
    """``ABC-12...``: an upper-case project key (not GH / PR / ISSUE) and a number."""
    key, dash, rest = segment.partition("-")
    return (
        bool(dash)
        and len(key) >= 2
        and key[0] in _UPPER
        and _UPPER_DIGITS.issuperset(key)
        and rest[:1] in _ASCII_DIGITS
        and key not in _JIRA_KEYS_THAT_ARE_GITHUB
    )


def _issue_number(segment: str, lower: str) -> int | None:
    """The issue id a (non-empty) segment opens with, prefixed or bare."""
    number = _prefixed_id(lower, _ISSUE_WORDS, glued=True)
    if number is None:
        number = _prefixed_id(lower, _ISSUE_WORDS_NEEDING_A_SEPARATOR, glued=False)
    if number is None and segment[0] == "#":
        found = _leading_id(segment[1:])
        number = found[0] if found is not None else None
    return number if number is not None else _bare_issue(segment)


def _bare_issue(segment: str) -> int | None:
    """A segment opening with an id, unless it looks like a date or a version branch."""
    found = _leading_id(segment)
    if found is None:
        return None
    number, rest = found
    if rest[:1] in _ASCII_DIGITS:  # 2024-01-15, 7-1-stable
        return None
    if rest.lower().rstrip("0123456789.") in _VERSION_WORDS:  # 3-stable, 1-rc2
        return None
    return number


def branch_info(branch: str | None) -> GitBranchInfo:
    """The PR / issue numbers a branch name states (see :func:`branch_numbers`)."""
    from .._records import GitBranchInfo

    pr, issue = branch_numbers(branch)
    return GitBranchInfo(
        branch=branch if isinstance(branch, str) else None, pr_number=pr, issue_number=issue
    )


def branch_numbers(branch: str | None) -> tuple[int | None, int | None]:
    """The (PR, issue) numbers a branch name states, conservatively.

    The name is cut into ``/``-separated segments, scanned left to right; the first PR
    number and the first issue number found are kept. A number is an id only when it
    has 1 to 7 digits, no leading zero, starts its segment (after an optional prefix
    below) and is followed by ``-``, ``_`` or the end of the segment; so ``1.2.3``,
    ``lodash-4.17.21``, ``oauth2`` and ``12345678`` give nothing.

    PR numbers:
        * a segment ``pr-67``, ``pr_67``, ``pr67``, ``pr#67``, ``pull-67``,
          ``pull-request-67`` (case-insensitive; also ``gh-readonly-queue/main/pr-67-<sha>``);
        * a number segment after a segment ``pr``, ``pull``, ``pulls``, ``prs``,
          ``pull-request(s)``: ``pr/67``, ``pull/67/head``.

    Issue numbers:
        * prefixed: ``issue-45``, ``issues_45``, ``issue45``, ``gh-45``, ``gh45``,
          ``#45``, ``fix-45``, ``fix-#45``, ``fixes-45``, ``bug-45``, ``bugfix-45``,
          ``hotfix-45``, ``feat-45``, ``feature-45``, ``closes-45``, ``resolves-45``
          (case-insensitive; words other than issue / gh need a ``-``, ``_`` or ``#``
          before the number, so ``feature2`` is not issue 2);
        * bare: a segment that starts with the number: ``45``, ``45-some-feature``,
          ``fix/123-thing``, ``issues/45``, ``alice/45_x`` -- unless another number
          follows (``2024-01-15``, ``7-1-stable``) or only a version word does
          (``3-stable``, ``2-dev``, ``1-rc2``).

    Never an id:
        * Jira-style keys, an upper-case word then a dash: ``feature/ABC-12``,
          ``FIX-12`` (``GH-12``, ``PR-12`` and ``ISSUE-12`` still count);
        * anything in release, maintenance, revert / backport and dependency-bot
          namespaces: a first segment ``release``, ``releases``, ``stable``, ``lts``,
          ``maint(enance)``, ``tag(s)``, ``version(s)``, ``revert``, ``backport``,
          ``dependabot``, ``renovate``, ``greenkeeper``, ``snyk``, ``imgbot``,
          ``whitesource``, ``mend``, or one starting ``revert-``, ``backport-``,
          ``release-``, ``snyk-``, ``dependabot-``, ``renovate-`` (GitHub names revert
          branches ``revert-<pr>-<branch>``: that number is the reverted PR's).

    ``None`` gives ``(None, None)``.
    """
    if not isinstance(branch, str) or not branch:
        return None, None
    segments = branch.split("/")
    first = segments[0].lower()
    if first in _NO_NUMBER_NAMESPACES or first.startswith(_NO_NUMBER_PREFIXES):
        return None, None
    pr: int | None = None
    issue: int | None = None
    after_pr_word = False
    for segment in segments:
        lower = segment.lower()
        jira = _is_jira_key(segment)
        number: int | None = None
        if after_pr_word:
            found = _leading_id(segment)
            number = found[0] if found is not None else None
        if number is None and not jira:
            number = _prefixed_id(lower, _PR_WORDS, glued=True)
        after_pr_word = lower in _PR_SEGMENTS
        if number is not None:  # a PR segment never names an issue
            pr = number if pr is None else pr
        elif issue is None and segment and not jira:
            issue = _issue_number(segment, lower)
    return pr, issue
