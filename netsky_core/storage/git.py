"""Git context and transcript path rules: the ``update_session_*`` methods' merges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from .._records import GitBranchInfo, GitContext, Session
from .fold import _later

__all__ = ["apply_git_context", "apply_git_info", "apply_github_repo", "apply_transcript_path"]


def apply_git_info(session: Session, info: GitBranchInfo, at: datetime) -> Session:
    """``update_session_git_info``: an observation of branch and PR / issue at ``at``."""
    if info.branch is not None and not _later(
        at, info.branch, session.git_branch_at, session.git_branch
    ):
        return session
    changes: dict[str, Any] = {"github_pr": info.pr_number, "github_issue": info.issue_number}
    if info.branch is not None:
        changes.update(git_branch=info.branch, git_branch_at=at)
    return attrs.evolve(session, **changes)


def apply_github_repo(session: Session, repo: str) -> Session | None:
    """``update_session_github_repo``: fills an empty repo; None when nothing changes."""
    if session.github_repo:
        return None
    return attrs.evolve(session, github_repo=repo)


def apply_git_context(
    session: Session | None,
    machine_id: str,
    session_id: str,
    context: GitContext,
    at: datetime,
) -> Session:
    """``upsert_session_git_context``: merge git facts, creating the session if missing.

    A new session's first and last activity are ``at``. A repository different from
    the stored one clears the PR / issue numbers unless the context names new ones.
    """
    if session is None:
        session = Session(
            machine_id=machine_id, session_id=session_id, first_activity=at, last_activity=at
        )
    changes: dict[str, Any] = {}
    if context.github_repo is not None and context.github_repo != session.github_repo:
        if session.github_repo:
            changes.update(github_pr=None, github_issue=None)
        changes["github_repo"] = context.github_repo
    if context.local_git_dir is not None:
        changes["local_git_dir"] = context.local_git_dir
    if context.git_worktree_path is not None:
        changes["git_worktree_path"] = context.git_worktree_path
    if context.git_branch is not None and _later(
        at, context.git_branch, session.git_branch_at, session.git_branch
    ):
        changes.update(git_branch=context.git_branch, git_branch_at=at)
    if context.github_pr is not None:
        changes["github_pr"] = context.github_pr
    if context.github_issue is not None:
        changes["github_issue"] = context.github_issue
    return attrs.evolve(session, **changes) if changes else session


def apply_transcript_path(session: Session, path: str, at: datetime) -> Session:
    """``update_session_transcript_path``: an observation of the path at ``at``."""
    if not _later(at, path, session.transcript_path_at, session.transcript_path):
        return session
    return attrs.evolve(session, transcript_path=path, transcript_path_at=at)
