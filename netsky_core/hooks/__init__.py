"""Agent hooks: what runs in a fresh process for every agent event.

* ``run``: ``netsky hook`` (payload in, event stored or spooled, always exit 0);
* ``payload``: a hook payload turned into an Event;
* ``spool``: events that could not be stored yet, replayed later;
* ``install``: wiring ``netsky hook`` into Claude Code's settings and Codex's config;
* ``events``: the hook event names.

Every import here costs every user every agent event: keep it lean.
"""
