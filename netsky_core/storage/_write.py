"""The Store's write transactions: insert, billing settlement, gc, restore.

Each function runs inside ``Engine.write`` (one transaction) and may be run again
from the start (the engine retries on transient failures, the Store on
:class:`~netsky_core.storage.engine.LockBusy`), so none of them has effects outside
the writer.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import attrs

from .._queries import EventQuery, Order, SessionQuery
from .._records import Event, EventType, InsertResult, Session
from .billing import billing_key, choose_owner, in_billing_state, is_billed
from .engine import Restart, SessionKey, Writer
from .fold import fold_session, merge_sessions
from .git import apply_git_context
from .usage import usage_deltas
from .versions import BatchPlan, SessionChange, is_repeated, outranks, repeated_version

__all__ = [
    "EVENTS_REWRITTEN",
    "HORIZON",
    "Folding",
    "gc_step",
    "insert_batch",
    "read_horizon",
    "restore",
    "settle",
]

HORIZON = "gc_horizon"
"""Meta name of the gc horizon: nothing older is stored (gc deleted it)."""
_HORIZON_LOCK = "netsky.gc_horizon"
EVENTS_REWRITTEN = "events_rewritten"
"""Meta name of the log of transactions that rewrote or deleted stored events: a JSON
list of the last ``REWRITE_LOG`` ``[sequence, random token, smallest id rewritten,
smallest id deleted]`` (either None when the transaction did not), so a copy of the
events (the analytics mirror) can tell which of its rows changed or are gone; inserts
alone leave it as it is. Entries of three items (older netsky) name the smallest id
rewritten or deleted."""
REWRITE_LOG = 64
_REWRITE_LOCK = "netsky.~events_rewritten"  # the last lock any transaction takes
BILL_LOCK = "netsky.bill:"
"""Prefix of the lock name of a billing key."""
FAST_BATCH = 64
"""Batches up to this size try the engine's optimistic ``open_and_insert``."""
_API = EventType.API_REQUEST
_REPEATED = EventType.API_REQUEST_REPEATED


def read_horizon(w: Writer, *, exclusive: bool = False) -> datetime | None:
    """The gc horizon, locked (shared by writers, exclusive for gc) until commit."""
    w.lock_names([_HORIZON_LOCK], shared=not exclusive)
    value = w.meta(HORIZON)
    return None if value is None else datetime.fromisoformat(value)


def open_batch(
    w: Writer, keys: Sequence[SessionKey]
) -> tuple[dict[SessionKey, Session], datetime | None]:
    """Lock the horizon (shared) and these sessions; the sessions and the horizon.

    An engine may provide the optional primitive ``open_batch(keys, lock_name,
    meta_name)`` doing the three in one round trip."""
    opener = getattr(w, "open_batch", None)
    if opener is not None:
        states, value = opener(keys, _HORIZON_LOCK, HORIZON)
        return states, None if value is None else datetime.fromisoformat(value)
    horizon = read_horizon(w)
    return (w.lock_sessions(keys) if keys else {}), horizon


class Folding:
    """The changes one transaction makes to sessions and usage, folded at the end."""

    def __init__(self, w: Writer, states: dict[SessionKey, Session]) -> None:
        self.w = w
        self.states: dict[SessionKey, Session | None] = dict(states)
        self.changed: set[SessionKey] = set()
        self.usage: list[tuple[int, list[Event]]] = []
        self.rewrote: int | None = None  # the smallest stored id rewritten
        self.removed: int | None = None  # the smallest stored id deleted

    def fold(self, changes: dict[SessionKey, SessionChange]) -> None:
        for key, change in changes.items():
            self.states[key] = fold_session(
                self.states.get(key),
                key[0],
                key[1],
                added=change.added,
                removed=change.removed,
                seen=change.seen,
            )
            self.changed.add(key)
            if change.added:
                self.usage.append((1, change.added))
            if change.removed:
                self.usage.append((-1, change.removed))

    def flip(self, pairs: Sequence[tuple[Event, Event]]) -> None:
        """Rows rewritten in place (billing): ``(stored, new)`` pairs."""
        if not pairs:
            return
        self.w.update_events([new for _old, new in pairs])
        self.touched(new.id for _old, new in pairs)
        changes: dict[SessionKey, SessionChange] = {}
        for old, new in pairs:
            change = changes.setdefault((old.machine_id, old.session_id), SessionChange())
            change.removed.append(old)
            change.added.append(new)
        self.fold(changes)

    def commit(self, *, skip: Iterable[SessionKey] = ()) -> None:
        """Write the changed sessions (but those in ``skip``, about to be deleted)
        and the usage deltas."""
        skip = set(skip)
        sessions = [
            s
            for key in sorted(self.changed)
            if key not in skip and (s := self.states.get(key)) is not None
        ]
        if sessions:
            self.w.put_sessions(sessions)
        deltas = usage_deltas(self.usage)
        if deltas:
            self.w.add_usage(deltas)
        _commit_project_usage(self.w, self.usage)
        if self.rewrote is not None or self.removed is not None:
            log_rewrite(self.w, self.rewrote, self.removed)

    def touched(self, ids: Iterable[int | None]) -> None:
        """Stored rows with these ids were rewritten."""
        self.rewrote = _lowest(self.rewrote, ids)

    def deleted(self, ids: Iterable[int | None]) -> None:
        """Stored rows with these ids were deleted."""
        self.removed = _lowest(self.removed, ids)


def _lowest(low: int | None, ids: Iterable[int | None]) -> int | None:
    return min((i for i in (low, *ids) if i is not None), default=None)


def _commit_project_usage(w: Writer, usage: list[tuple[int, list[Event]]]) -> None:
    """The project usage rows of the same changes (engines with ``add_project_usage``)."""
    add = getattr(w, "add_project_usage", None)
    if add is not None:
        from .projects import project_deltas

        deltas = project_deltas(usage)
        if deltas:
            add(deltas)


def log_rewrite(w: Writer, rewrote: int | None, removed: int | None = None) -> None:
    """Add this transaction to the rewrite log (see ``EVENTS_REWRITTEN``); last, once
    every other lock of the transaction is held, under a lock of its own."""
    import orjson

    w.lock_names([_REWRITE_LOCK])
    raw = w.meta(EVENTS_REWRITTEN)
    try:
        log = orjson.loads(raw) if raw else []
        seq = int(log[-1][0]) + 1 if log else 1
    except (TypeError, ValueError, IndexError):  # not a log: start one
        log, seq = [], 1
    log.append([seq, os.urandom(8).hex(), rewrote, removed])
    w.set_meta(EVENTS_REWRITTEN, orjson.dumps(log[-REWRITE_LOG:]).decode())


def settle(
    w: Writer,
    keys: Iterable[str],
    folding: Folding,
    *,
    new: bool = False,
    counts: dict[str, int] | None = None,
) -> None:
    """Make exactly one holder of each billing key billed (see ``billing``).

    ``new``: the keys' only changes are holders just inserted as billed, so a key with
    one holder is settled already and only shared keys are read. ``counts``: the keys
    are locked and counted already (``open_and_insert``)."""
    wanted = sorted(set(keys))
    if not wanted:
        return
    least = 2 if new else 1
    if counts is None:
        w.lock_names([BILL_LOCK + k for k in wanted])
        held = getattr(w, "billing_keys_held", None)
        if held is not None:
            wanted = held(wanted, least)
        else:
            counts = w.count_billing_keys(wanted)
    if counts is not None:
        wanted = [k for k in wanted if counts.get(k, 0) >= least]
    if not wanted:
        return
    groups: dict[str, list[Event]] = {}
    for event in w.events_by_billing_key(wanted):
        key = billing_key(event)
        if key is not None:
            groups.setdefault(key, []).append(event)
    contested = {k: g for k, g in groups.items() if len(g) > 1 or not is_billed(g[0])}
    if not contested:
        return
    missing = sorted(
        {
            (e.machine_id, e.session_id)
            for group in contested.values()
            for e in group
            if (e.machine_id, e.session_id) not in folding.states
        }
    )
    if missing:
        folding.states.update(w.lock_sessions(missing, wait=False))
    pairs: list[tuple[Event, Event]] = []
    for group in contested.values():
        owner = choose_owner(group, folding.states)
        for holder in group:
            billed = holder is owner
            if billed != is_billed(holder):
                pairs.append((holder, in_billing_state(holder, billed)))
    folding.flip(pairs)


def _keys_of_sessions(w: Writer, sessions: Iterable[SessionKey]) -> set[str]:
    """The billing keys the API events of these sessions hold."""
    found: set[str] = set()
    for machine_id, session_id in sessions:
        query = (
            EventQuery()
            .with_machine(machine_id)
            .with_session(session_id)
            .with_event_types([_API, _REPEATED])
        )
        for event in w.events(query):
            key = billing_key(event)
            if key is not None:
                found.add(key)
    return found


def _earlier_first(before: Session | None, after: Session | None) -> bool:
    """Did a stored session (with events) learn an earlier first activity?"""
    if before is None or after is None or before.event_count == 0:
        return False
    a, b = before.first_activity, after.first_activity
    return a is not None and b is not None and b < a


GitFacts = tuple[str, str, Any, datetime]
"""``(machine_id, session_id, GitContext, at)``: git facts observed with a batch."""


def insert_batch(
    w: Writer,
    plan: BatchPlan,
    extra: Sequence[SessionKey],
    git: Sequence[GitFacts] = (),
    *,
    fast: bool = True,
) -> InsertResult:
    """``insert_many``: dedup against the stored versions, fold, bill once, and merge
    the git facts observed with the events (same transaction)."""
    candidates = plan.candidates
    n = len(candidates)
    keys = sorted(
        {(e.machine_id, e.session_id) for e in candidates}
        | set(extra)
        | {(m, s) for m, s, _c, _at in git}
    )
    # the billing key of each API response offered, computed once: candidate -> key
    bills = {
        c: k
        for c, e in enumerate(candidates)
        if e.event_type == _API and (k := billing_key(e)) is not None
    }
    counts: dict[str, int] | None = None
    opener = getattr(w, "open_and_insert", None) if fast and n <= FAST_BATCH else None
    if opener is not None:
        shared = sorted(set(bills.values()))
        locks = [BILL_LOCK + k for k in shared]
        states, value, new_ids, counts = opener(
            keys, candidates, locks, shared, _HORIZON_LOCK, HORIZON
        )
        horizon = None if value is None else datetime.fromisoformat(value)
        if horizon is not None and any(e.timestamp < horizon for e in candidates):
            raise Restart  # some are expired: the careful path stores none of them
        alive = list(range(n))
    else:
        states, horizon = open_batch(w, keys)
        if horizon is None or not n or min(e.timestamp for e in candidates) >= horizon:
            alive = list(range(n))
        else:
            alive = [c for c in range(n) if candidates[c].timestamp >= horizon]
            living = set(alive)
            bills = {c: k for c, k in bills.items() if c in living}
        counter = getattr(w, "insert_and_count", None)
        shared = sorted(set(bills.values()))
        offered = candidates if len(alive) == n else [candidates[c] for c in alive]
        if counter is not None and shared:
            new_ids, counts = counter(offered, [BILL_LOCK + k for k in shared], shared)
        else:
            new_ids = w.insert_events(offered) if alive else []
    conflicts: list[int] = []
    rewrote: list[int | None] = []
    if len(alive) == n and None not in new_ids:  # the common case: every row is new
        ids: list[int | None] = list(new_ids)
        stored: list[Event | None] = [None] * n
        kept: list[Event | None] = list(candidates)
    else:
        ids = [None] * n
        stored = [None] * n
        kept = [None] * n
        for c, row_id in zip(alive, new_ids):
            if row_id is None:
                conflicts.append(c)
            else:
                ids[c] = row_id
                kept[c] = candidates[c]  # (without its id: folds and billing keys need none)
    if conflicts:
        found = w.events_by_key([candidates[c].key for c in conflicts])  # type: ignore[misc]
        updates: list[Event] = []
        for c in conflicts:
            old = found[candidates[c].key]  # type: ignore[index]
            ids[c], stored[c] = old.id, old
            if outranks(candidates[c], old):
                new = attrs.evolve(candidates[c], id=old.id)
                if is_repeated(old):
                    new = repeated_version(new)
                kept[c] = new
                updates.append(new)
        if updates:
            w.update_events(updates)
            rewrote = [u.id for u in updates]
    result, changes = plan.finish(ids, stored=stored, kept=kept)
    folding = Folding(w, states)
    folding.touched(rewrote)
    before = dict(folding.states)
    folding.fold(changes)
    bill = {k for c, k in bills.items() if stored[c] is None}
    settle(w, bill, folding, new=True, counts=counts)
    earlier = [k for k in changes if _earlier_first(before.get(k), folding.states.get(k))]
    for machine_id, session_id, context, at in sorted(git, key=lambda g: g[3]):
        key = (machine_id, session_id)
        prior = folding.states.get(key)
        folded = apply_git_context(prior, machine_id, session_id, context, at)
        if folded != prior:
            folding.states[key] = folded
            folding.changed.add(key)
            if _earlier_first(prior, folded):
                earlier.append(key)
    if earlier:
        settle(w, _keys_of_sessions(w, earlier), folding)
    folding.commit()
    return result


def gc_step(
    w: Writer, cutoff: datetime, limit: int, extra: Sequence[SessionKey] = ()
) -> tuple[int, int]:
    """Delete up to ``limit`` events older than ``cutoff``; (deleted, sessions touched).

    Sessions that stay (their last activity is at or after the cutoff) lose the
    deleted events from their totals, as do the usage buckets; responses whose billed
    holder was deleted are billed again by a remaining holder, if any.
    """
    batch = w.events(EventQuery().with_until(cutoff).with_direction(Order.ASC).with_limit(limit))
    if not batch:
        return 0, 0
    keys = sorted({(e.machine_id, e.session_id) for e in batch} | set(extra))
    states = w.lock_sessions(keys)
    folding = Folding(w, states)
    changes: dict[SessionKey, SessionChange] = {}
    for e in batch:
        changes.setdefault((e.machine_id, e.session_id), SessionChange()).removed.append(e)
    expiring = {k for k, s in states.items() if s.last_activity is None or s.last_activity < cutoff}
    w.delete_events([e.id for e in batch if e.id is not None])
    folding.deleted(e.id for e in batch)
    folding.fold(changes)
    settle(w, {k for e in batch if is_billed(e) and (k := billing_key(e)) is not None}, folding)
    folding.commit(skip=expiring)
    return len(batch), len(keys)


def delete_sessions_step(w: Writer, cutoff: datetime, limit: int) -> int:
    """Delete up to ``limit`` sessions whose last activity is older than ``cutoff``."""
    found = w.sessions(SessionQuery().with_active_before(cutoff).with_limit(limit))
    if found:
        keys = sorted(s.key for s in found)
        w.lock_sessions(keys)
        w.delete_sessions(keys)
    return len(found)


def restore(w: Writer, sessions: Sequence[Session], extra: Sequence[SessionKey] = ()) -> int:
    """``restore_sessions``: join the given summaries' facts into the stored ones."""
    keys = sorted({s.key for s in sessions} | set(extra))
    states = w.lock_sessions(keys)
    merged: dict[SessionKey, Session] = {}
    for s in sessions:
        merged[s.key] = merge_sessions(merged.get(s.key) or states.get(s.key), s)
    folding = Folding(w, states)
    earlier = [k for k, s in merged.items() if _earlier_first(states.get(k), s)]
    folding.states.update(merged)
    folding.changed.update(k for k, s in merged.items() if s != states.get(k))
    settle(w, _keys_of_sessions(w, earlier), folding)
    folding.commit()
    return len(sessions)


def update_session(
    w: Writer,
    key: SessionKey,
    change: Any,
) -> Session | None:
    """Lock one session, apply ``change`` to it (None: missing), write the result.

    Returns what ``change`` returned (None: nothing to write)."""
    states = w.lock_sessions([key])
    current = states.get(key)
    new = change(current)
    if new is not None and new != current:
        w.put_sessions([new])
    return new


def recost_step(
    w: Writer,
    cost_of: Callable[[Event], float | None],
    after_id: int,
    since: datetime | None,
    limit: int,
    extra: Sequence[SessionKey] = (),
) -> tuple[int, int, list[tuple[Event, Event]]]:
    """Give up to ``limit`` stored API responses after ``after_id`` (from ``since``)
    the cost ``cost_of`` says, in place, with their sessions' totals and the usage
    buckets. Returns (responses read, last id read, (old, new) rows rewritten)."""
    query = (
        EventQuery()
        .with_event_type(EventType.API_REQUEST)
        .with_since(since)
        .with_after_id(after_id)
        .order_by_id()
        .with_direction(Order.ASC)
        .with_limit(limit)
    )
    batch = w.events(query)
    if not batch:
        return 0, after_id, []
    last = max(e.id or 0 for e in batch)
    wanted = [e for e in batch if e.key is not None and cost_of(e) != e.cost_usd]
    if not wanted:
        return len(batch), last, []
    keys = sorted({(e.machine_id, e.session_id) for e in wanted} | set(extra))
    states = w.lock_sessions(keys)
    current = w.events_by_key([e.key for e in wanted if e.key is not None])
    pairs = []
    for event in current.values():  # as stored now that its session is locked
        if event.event_type != EventType.API_REQUEST:
            continue
        cost = cost_of(event)
        if cost != event.cost_usd:
            pairs.append((event, attrs.evolve(event, cost_usd=cost)))
    pairs.sort(key=lambda p: p[0].id or 0)
    folding = Folding(w, states)
    folding.flip(pairs)
    folding.commit()
    return len(batch), last, pairs
