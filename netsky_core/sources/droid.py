"""Droid (Factory) sessions -> events. Two formats (``FORMATS``):

- ``SPEC`` (``kind="document"``): ``<sessionId>.settings.json``, rewritten in place,
  the only file ccusage 20.0.24 reads: ``model``, ``providerLock``,
  ``providerLockTimestamp`` and, once the session has been used, ``tokenUsage{
  inputTokens, outputTokens, cacheCreationTokens, cacheReadTokens, thinkingTokens,
  totalTokens}`` (session totals); read by ``read_document``;
- ``LINES_SPEC`` (``kind="lines"``): the ``<sessionId>.jsonl`` transcript beside it
  (``session_start``, ``message`` lines, ...), read by ``Parser`` for the session's
  events (ccusage ignores it except to find a model).

Layout: ``~/.factory/sessions/<cwd with separators as '-'>/``; ``DROID_SESSIONS_DIR``
(comma-separated) replaces ``~/.factory/sessions``. ``discover`` gives both kinds; a
``.settings.json`` path is a document, a ``.jsonl`` one is lines.

As ccusage: one ApiRequest per settings file with ``tokenUsage``; ``thinkingTokens`` is
reasoning apart from output (priced as output); ``totalTokens`` fills in what the parts
miss; the model is ``model`` (normalized: ``custom:`` and ``[...]`` dropped, lower case,
``.``/spaces as ``-``), else the ``Model:`` the transcript names; the time is
``providerLockTimestamp``, else the file's modification time. uuid:
``api:droid:<session id>``; the settings of a session that went on give the same uuid
with more tokens.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any

import attrs

from .._records import Event, EventType
from ._common import DocumentResult, EventFactory, LineParser, SourceSpec, collect
from ._files import walk_files
from ._readers import object_reader
from ._values import Tokens, parse_iso, text

__all__ = ["FORMATS", "LINES_SPEC", "SPEC", "Parser", "discover", "read_document"]


def _find(root: Path) -> list[Path]:
    """``*.settings.json`` and ``*.jsonl`` below a root."""
    return walk_files(root, lambda p: p.name.endswith(SETTINGS_SUFFIX) or p.suffix == ".jsonl")


SPEC = SourceSpec(
    name="droid",
    title="Droid (Factory)",
    env_var="DROID_SESSIONS_DIR",
    default_roots=("~/.factory/sessions",),
    kind="document",
    finder=_find,
)
LINES_SPEC = attrs.evolve(SPEC, title="Droid (Factory) transcript", kind="lines")
FORMATS = (SPEC, LINES_SPEC)
SETTINGS_SUFFIX = ".settings.json"
discover = SPEC.discover


def session_of(path: str) -> str:
    name = PurePath(path).name
    if name.endswith(SETTINGS_SUFFIX):
        return name[: -len(SETTINGS_SUFFIX)]
    return PurePath(path).stem


def normalize_model(model: str) -> str:
    """Droid's model label as ccusage names it: ``custom:`` and ``[...]`` dropped,
    lower case, dots and spaces as single dashes."""
    raw = model.removeprefix("custom:")
    kept, depth = [], 0
    for ch in raw:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(depth - 1, 0)
        elif depth == 0:
            kept.append(ch)
    lower = "".join(kept).strip().rstrip("-").lower()
    out: list[str] = []
    for ch in lower:
        ch = "-" if ch in ".-" or ch.isspace() else ch
        if ch == "-" and out and out[-1] == "-":
            continue
        out.append(ch)
    return "".join(out).strip("-")


def _sidecar_model(path: str) -> str | None:
    sidecar = Path(path[: -len(SETTINGS_SUFFIX)] + ".jsonl")
    try:
        with open(sidecar, encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh):
                if number >= 500:
                    break
                if "Model:" in line:
                    tail = line.split("Model:", 1)[1]
                    for stop in ('"', "\\", "["):
                        tail = tail.split(stop, 1)[0]
                    if tail.strip():
                        return normalize_model(tail.strip())
    except OSError:
        return None
    return None


def _mtime(path: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(os.stat(path).st_mtime * 1000) / 1000, UTC)
    except (OSError, OverflowError, ValueError):
        return None


def _settings_events(f: EventFactory, doc: dict[str, Any], path: str, raw: bytes) -> list[Event]:
    session = session_of(path)
    ts = parse_iso(doc.get("providerLockTimestamp")) or _mtime(path)
    if ts is None:
        return []
    model_raw = text(doc.get("model"))
    model = normalize_model(model_raw) if model_raw else None
    usage = doc.get("tokenUsage")
    tokens = None
    if isinstance(usage, dict):
        tokens = Tokens.read(
            input=usage.get("inputTokens"),
            output=usage.get("outputTokens"),
            cache_read=usage.get("cacheReadTokens"),
            cache_write=usage.get("cacheCreationTokens"),
            extra=usage.get("thinkingTokens"),
            total=usage.get("totalTokens"),
        )
    if not tokens:
        return [
            f.event(
                "settings",
                session_id=session,
                timestamp=ts,
                uuid=f"droid:settings:{session}",
                model=model,
                payload=f.raw_payload(raw),
            )
        ]
    model = model or _sidecar_model(path) or "unknown"
    return [
        f.api_request(
            session_id=session,
            timestamp=ts,
            uuid=f"api:droid:{session}",
            model=model,
            tokens=tokens,
            cost_usd=f.cost(model, tokens),
            metadata={"provider": doc.get("providerLock")},
            payload=f.raw_payload(raw),
        )
    ]


def _read(f: EventFactory, result: DocumentResult, doc: dict[str, Any], data: bytes) -> None:
    collect(result, lambda: _settings_events(f, doc, f.path, data))


read_document = object_reader(SPEC, _read, "Events of one ``<session>.settings.json``.")


class Parser(LineParser):
    """Lines of one ``<session>.jsonl`` transcript. ``state``: the session id, cwd and
    line count (for ids of lines that carry none)."""

    framework = "droid"

    def start(self) -> None:
        self.state.setdefault("session_id", session_of(self.path))
        self.state.setdefault("line", 0)

    def events(self, record: dict[str, Any], raw: bytes) -> list[Event]:
        state = self.state
        state["line"] = int(state.get("line", 0)) + 1
        kind = record.get("type")
        if not isinstance(kind, str) or not kind:
            return []
        line_id = text(record.get("id")) or f"#{state['line']}"
        ts = parse_iso(record.get("timestamp"))
        if kind == "session_start":
            session = text(record.get("id")) or state["session_id"]
            state["session_id"] = session
            if text(record.get("cwd")):
                state["cwd"] = record["cwd"]
            ts = ts or _mtime(self.path)
            if ts is None:
                return []
            return [
                self.f.event(
                    EventType.SESSION_START,
                    session_id=session,
                    timestamp=ts,
                    uuid=f"droid:session:{session}",
                    cwd=state.get("cwd"),
                    payload=self.f.raw_payload(raw),
                )
            ]
        if ts is None:
            return []
        session = state["session_id"]
        base = {"session_id": session, "timestamp": ts, "cwd": state.get("cwd")}
        message = record.get("message") if isinstance(record.get("message"), dict) else None
        if kind == "message" and message is not None:
            role = message.get("role")
            content = message.get("content")
            out: list[Event] = []
            texts: list[str] = []
            for j, block in enumerate(content if isinstance(content, list) else ()):
                if not isinstance(block, dict):
                    continue
                if block.get("type") == "text" and isinstance(block.get("text"), str):
                    texts.append(block["text"])
                elif block.get("type") == "tool_use":
                    call_id = text(block.get("id")) or f"{line_id}#{j}"
                    out.append(
                        self.f.tool_use(
                            **base,
                            uuid=f"droid:tool_use:{session}:{call_id}",
                            call_id=call_id,
                            name=block.get("name"),
                            tool_input=block.get("input"),
                            with_id=False,
                        )
                    )
            if isinstance(content, str):
                texts.append(content)
            if role == "user" and texts and not out:
                out.append(
                    self.f.prompt("\n".join(texts), **base, uuid=f"droid:{session}:{line_id}")
                )
            if out:
                return out
            kind = f"message/{role}" if isinstance(role, str) else kind
        return [
            self.f.event(
                kind, **base, uuid=f"droid:{session}:{line_id}", payload=self.f.raw_payload(raw)
            )
        ]
