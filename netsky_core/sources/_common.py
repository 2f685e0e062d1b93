"""What every agent reader shares: the source description (``SourceSpec``: name, roots,
the variable that replaces them, which files to read), the result of a whole-document
read, event building and the line readers' outer part (``LineParser``).

A source module keeps only its format: its ``SPEC`` (``discover`` is ``SPEC.discover``,
with a finder from ``_files``) and the body of its reader, which a ``LineParser``
subclass or ``_readers`` (``document_reader``, ``object_reader``, ``database_reader``)
turns into the module's ``Parser``, ``read_document`` or ``read_database``. Values are
read as ccusage 20.0.24 reads them with ``_values``; databases opened with ``_sqlite``.

Readers depend only on ``netsky_core._records``, ``netsky_core.ingest.pricing``, the
standard library, msgspec and orjson.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from .._records import Event, EventSource, EventType
from ..ingest.pricing import PriceTable, Usage
from ._files import discover_all
from ._values import Tokens, decode_json, json_text, text

__all__ = [
    "DocumentResult",
    "EventFactory",
    "LineParser",
    "SourceSpec",
    "SourceUnavailable",
    "collect",
]

Redact = Callable[[str], str] | None
KINDS = ("lines", "document", "database")


@attrs.frozen(kw_only=True)
class SourceSpec:
    """One on-disk format of one agent.

    ``env_var`` is the variable ccusage 20.0.24 reads (comma-separated roots); when it is
    unset, ``default_roots`` (``~`` expanded) are used. ``kind`` says which reader the
    module exposes: ``lines`` (a ``Parser`` class fed one JSONL line at a time),
    ``document`` (``read_document`` over a whole JSON file rewritten in place) or
    ``database`` (``read_database`` over an SQLite file of the agent). ``finder`` gives
    the files to read below one root.
    """

    name: str
    title: str
    env_var: str
    default_roots: tuple[str, ...]
    kind: str = attrs.field(validator=attrs.validators.in_(KINDS))
    finder: Callable[[Path], list[Path]] = attrs.field(eq=False, repr=False)

    def discover(self, roots: list[Path]) -> list[Path]:
        """The files ``finder`` gives below every root, each file once, in order."""
        return discover_all(roots, self.finder)

    def roots(self, environ: Mapping[str, str] | None = None) -> list[Path]:
        """The roots to scan: the variable's comma-separated list, else the defaults."""
        env = os.environ if environ is None else environ
        value = env.get(self.env_var, "")
        parts = [p.strip() for p in value.split(",") if p.strip()] if value.strip() else []
        return [Path(p).expanduser() for p in (parts or self.default_roots)]


class SourceUnavailable(Exception):
    """A source file that cannot be read now for a passing reason; the ingest counts it
    as failed with this one-line message and reads it again next time."""


@attrs.define(kw_only=True)
class DocumentResult:
    """Events of a whole document (or database) and what could not be read."""

    events: list[Event] = attrs.Factory(list)
    malformed: int = 0
    skipped: int = 0
    unknown_models: set[str] = attrs.Factory(set)


# -- events -------------------------------------------------------------------------

_EXTRA: Any = object()  # api_request's default reasoning: the tokens' extra count


class EventFactory:
    """Builds one source's events with the shared fields filled in.

    ``unknown_models`` collects models the price table cannot price.
    """

    def __init__(
        self,
        *,
        framework: str,
        machine_id: str,
        path: str,
        prices: PriceTable,
        store_payloads: bool = True,
        redact: Redact = None,
    ) -> None:
        self.framework = framework
        self.machine_id = machine_id
        self.path = path
        self.prices = prices
        self.store_payloads = store_payloads
        self.redact = redact
        self.unknown_models: set[str] = set()

    def payload(self, value: Any) -> str | None:
        """JSON text of ``value`` (a str is taken as JSON text already), redacted."""
        if value is None:
            return None
        body = value if isinstance(value, str) else json_text(value)
        return self.redact(body) if self.redact is not None else body

    def raw_payload(self, raw: Any) -> str | None:
        """The record's own JSON text, when payloads are stored."""
        if not self.store_payloads or raw is None:
            return None
        if isinstance(raw, bytes | bytearray | memoryview):
            raw = bytes(raw).decode("utf-8", "replace")
        return self.payload(raw if isinstance(raw, str) else json_text(raw))

    def price(
        self, model: str | None, usage: Usage, *, priced_as: str | None = None
    ) -> float | None:
        """LiteLLM cost of ``usage`` (the table's entry ``priced_as``, else ``model``);
        None (and the model noted) when unknown."""
        cost = self.prices.cost(priced_as or model, usage)
        if cost is None and model:
            self.unknown_models.add(model)
        return cost

    def cost(
        self,
        model: str | None,
        tokens: Tokens,
        own: float | None = None,
        *,
        price_extra: bool = True,
        priced_as: str | None = None,
    ) -> float | None:
        """The agent's ``own`` cost when it has one, else the LiteLLM price of ``tokens``."""
        if own is not None:
            return own
        return self.price(model, tokens.usage(price_extra=price_extra), priced_as=priced_as)

    def event(
        self,
        event_type: str,
        *,
        session_id: str,
        timestamp: datetime,
        uuid: str,
        metadata: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> Event:
        return Event(
            machine_id=self.machine_id,
            session_id=session_id,
            event_type=event_type,
            timestamp=timestamp,
            uuid=uuid,
            framework=self.framework,
            source=EventSource.TRANSCRIPT,
            transcript_path=self.path,
            metadata=json_text(dict(metadata)) if metadata else None,
            **fields,
        )

    def api_request(
        self,
        *,
        session_id: str,
        timestamp: datetime,
        uuid: str,
        model: str | None,
        tokens: Tokens,
        cost_usd: float | None,
        reasoning: Any = _EXTRA,
        metadata: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> Event:
        """A usage-bearing event; ``reasoning`` (tokens reported apart from output, by
        default ``tokens.extra``; None: not reported) is ``tokens_reasoning`` (and
        ``metadata["tokens_reasoning"]``)."""
        meta = dict(metadata or {})
        if reasoning is _EXTRA:
            reasoning = tokens.extra
        if reasoning is not None:
            meta["tokens_reasoning"] = reasoning
        return self.event(
            EventType.API_REQUEST,
            session_id=session_id,
            timestamp=timestamp,
            uuid=uuid,
            model=model,
            tokens_input=tokens.input,
            tokens_output=tokens.output,
            tokens_cache_read=tokens.cache_read,
            tokens_cache_write=tokens.cache_write,
            tokens_reasoning=reasoning,
            cost_usd=cost_usd,
            metadata=meta,
            **fields,
        )

    def tool_use(
        self,
        *,
        uuid: str,
        call_id: str,
        name: Any,
        tool_input: Any,
        with_id: bool = True,
        **fields: Any,
    ) -> Event:
        """A tool call; its payload (when stored) holds the raw ``name``, the input and
        (``with_id``) the call id."""
        body = {"tool_name": name, "tool_input": tool_input}
        if with_id:
            body["tool_use_id"] = call_id
        return self.event(
            EventType.PRE_TOOL_USE,
            uuid=uuid,
            tool_name=text(name),
            tool_use_id=call_id,
            payload=self.payload(body) if self.store_payloads else None,
            **fields,
        )

    def tool_result(self, *, uuid: str, call_id: str, failed: bool = False, **fields: Any) -> Event:
        """The end of a tool call (``failed``: its failure)."""
        kind = EventType.POST_TOOL_USE_FAILURE if failed else EventType.POST_TOOL_USE
        return self.event(kind, uuid=uuid, tool_use_id=call_id, **fields)

    def prompt(self, prompt: str, **fields: Any) -> Event:
        return self.event(
            EventType.USER_PROMPT_SUBMIT, payload=self.payload({"prompt": prompt}), **fields
        )


_RECORD_ERRORS = (ValueError, TypeError, AttributeError, KeyError, RecursionError)


def collect(result: DocumentResult, build: Callable[[], list[Event]]) -> None:
    """Add the events ``build`` makes of one record to ``result``; a record that raises
    (a shape we cannot read, or a value no store can keep) is counted as malformed, one
    that gives nothing as skipped."""
    try:
        events = build()
    except _RECORD_ERRORS:
        result.malformed += 1
        return
    if events:
        result.events.extend(events)
    else:
        result.skipped += 1


class LineParser:
    """Base of the JSONL readers: the interface of ``ClaudeParser``/``CodexParser``.

    ``parse`` takes one complete line (without its newline) and never raises; a line
    that is not a JSON object, or whose values cannot be stored, counts as malformed
    and leaves ``state`` as it was. ``state`` is flat JSON (strings, numbers), so a
    parser made with it continues exactly where this one stopped.
    """

    framework = ""

    def __init__(
        self,
        *,
        machine_id: str,
        path: str,
        prices: PriceTable,
        store_payloads: bool = True,
        redact: Redact = None,
        state: dict[str, Any] | None = None,
    ) -> None:
        self.machine_id = machine_id
        self.path = path
        self.prices = prices
        self.store_payloads = store_payloads
        self.redact = redact
        self.f = EventFactory(
            framework=self.framework,
            machine_id=machine_id,
            path=path,
            prices=prices,
            store_payloads=store_payloads,
            redact=redact,
        )
        self.state: dict[str, Any] = dict(state or {})
        self.malformed = 0
        self.skipped = 0
        self.synthetic = 0  # as ClaudeParser/CodexParser count them (these agents have none)
        self.start()

    @property
    def unknown_models(self) -> set[str]:
        return self.f.unknown_models

    def start(self) -> None:
        """Fill in ``state`` defaults (from the path) for a new parser."""

    def parse(self, raw: bytes) -> list[Event]:
        """Events of one line. Malformed lines are counted, never raised."""
        if not raw.strip():
            self.skipped += 1
            return []
        try:
            record = decode_json(raw)
        except ValueError:
            self.malformed += 1
            return []
        if not isinstance(record, dict):
            self.malformed += 1
            return []
        before = dict(self.state)
        try:
            out = self.events(record, raw)
        except _RECORD_ERRORS:
            self.state = before
            self.malformed += 1
            return []
        if not out:
            self.skipped += 1
        return out

    def events(self, record: dict[str, Any], raw: bytes) -> list[Event]:
        raise NotImplementedError
