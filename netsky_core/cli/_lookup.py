"""Naming a session on the command line: an id, a unique prefix of one (the tables
print 8 characters), or the pid of the agent process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._errors import UsageError

if TYPE_CHECKING:
    from .._records import Session
    from ..storage.protocol import Storage

_CANDIDATES_SHOWN = 5


class NoSessionMatch(UsageError):
    """No stored session has that id, id prefix or pid."""


def find_session(store: Storage, text: str, machine: str | None, *, pid: bool = True) -> Session:
    """The session ``text`` names: a pid (with ``pid``), an id, or a unique id prefix."""
    from .._queries import SessionQuery

    if pid and text.isdigit():
        by_pid = store.get_session_by_pid(int(text))
        if by_pid is not None and machine in (None, by_pid.machine_id):
            return by_pid
    exact = store.get_session(text) if machine is None else store.get_session_by_key(machine, text)
    if exact is not None:
        return exact
    query = SessionQuery() if machine is None else SessionQuery().with_machine(machine)
    matches = [s for s in store.list_sessions(query) if s.session_id.startswith(text)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        what = "session id or id prefix"
        if pid and text.isdigit():
            what = "session id, id prefix or agent pid"
        raise NoSessionMatch(
            f"no session matches {text!r} (tried it as a {what})",
            hint="list sessions with `netsky sessions`",
        )
    shown = ", ".join(f"{s.session_id} ({s.machine_id})" for s in matches[:_CANDIDATES_SHOWN])
    more = (
        f" and {len(matches) - _CANDIDATES_SHOWN} more" if len(matches) > _CANDIDATES_SHOWN else ""
    )
    raise UsageError(
        f"{text!r} matches {len(matches)} sessions: {shown}{more}",
        hint="give more of the id" + ("" if machine else ", or --machine"),
    )


def session_id_option(store: Storage, text: str, machine: str | None) -> str:
    """The full id a ``--session`` option names: the id itself, or that of the one
    session whose id starts with it; ``text`` unchanged when no session has it yet (a
    session still to come, or events without a session summary)."""
    try:
        return find_session(store, text, machine, pid=False).session_id
    except NoSessionMatch:
        return text
