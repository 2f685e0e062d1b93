"""Kilo Code CLI database -> events (``kind="database"``).

Layout: ``~/.local/share/kilo/kilo.db`` (SQLite in WAL mode; most rows are usually still
in ``kilo.db-wal``, which is read too); ``KILO_DATA_DIR`` (comma-separated) replaces
``~/.local/share/kilo``. The schema is OpenCode's: ``message(id, session_id,
time_created, data)`` with ``data`` = ``{role, time{created}, modelID, providerID,
cost, tokens{total, input, output, reasoning, cache{read, write}}, ...}``, plus ``part``
(prompts, tool calls) and ``session``.

As ccusage 20.0.24: only ``assistant`` messages with a model and a creation time count;
reasoning is apart from output (priced as output); ``tokens.total`` fills in what the
parts miss. Cost is ``cost`` when > 0, else the LiteLLM price, as for OpenCode (ccusage
20.0.24 takes Kilo's ``cost`` even when it is 0, so a priced model logged with cost 0
costs 0 there and its list price here; the sample's one model is free and unpriced in
both). ccusage dedups by message
id across data dirs, so an ApiRequest's uuid is ``api:kilo:<message id>`` (the row id
when ``data`` has none).
"""

from __future__ import annotations

import functools
from pathlib import Path

from ._common import SourceSpec
from ._files import file_at
from ._readers import database_reader
from .opencode import read_tables

__all__ = ["SPEC", "discover", "read_database"]


def _find(root: Path) -> list[Path]:
    """``kilo.db`` of a root."""
    return file_at(root, "kilo.db")


SPEC = SourceSpec(
    name="kilo",
    title="Kilo Code CLI",
    env_var="KILO_DATA_DIR",
    default_roots=("~/.local/share/kilo",),
    kind="database",
    finder=_find,
)
discover = SPEC.discover


read_database = database_reader(
    SPEC,
    functools.partial(read_tables, require_provider=False, assistant_only=True),
    "Events of one ``kilo.db`` (with its WAL), read-only and never locking.",
)
