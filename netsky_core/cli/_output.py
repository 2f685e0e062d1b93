"""Printing: JSON, plain tables, local times, sizes. Progress bars only on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import orjson


def print_json(value: Any) -> None:
    """Print ``value`` (records are unstructured with the one cattrs converter;
    plain JSON values go straight to orjson, without importing cattrs)."""
    option = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
    try:
        data = orjson.dumps(value, option=option)
    except TypeError:
        from .._convert import unstructure

        data = orjson.dumps(unstructure(value), option=option)
    sys.stdout.buffer.write(data + b"\n")
    sys.stdout.flush()


def local(value: datetime | None, *, seconds: bool = False) -> str:
    """A UTC timestamp shown in the local timezone."""
    if value is None:
        return "-"
    shown = value.astimezone()
    return shown.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    return f"{hours // 24}d{hours % 24:02d}h"


def tokens(value: int | None) -> str:
    if value is None:
        return "-"
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if value >= size:
            return f"{value / size:.1f}{unit}"
    return str(value)


def money(value: float | None) -> str:
    """Cost for people; unknown is shown as unknown, never as $0."""
    if value is None:
        return "unknown"
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else f"${value:.4f}"


def size(value: int | None) -> str:
    if value is None:
        return "-"
    for unit, step in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= step:
            return f"{value / step:.1f} {unit}"
    return f"{value} B"


def shorten(text: str | None, width: int) -> str:
    if not text:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "\u2026"


def table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, right: Sequence[int] = ()
) -> None:
    """A plain aligned text table (no colours; safe in pipes)."""
    cells = [[str(h) for h in headers]] + [
        ["" if c is None else str(c) for c in row] for row in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    out = sys.stdout
    for n, row in enumerate(cells):
        parts = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        out.write("  ".join(parts).rstrip() + "\n")
        if n == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")


def fields(pairs: Iterable[tuple[str, Any]]) -> None:
    """``name: value`` lines, names aligned."""
    items = [(k, "-" if v is None else str(v)) for k, v in pairs]
    width = max((len(k) for k, _ in items), default=0)
    for key, value in items:
        sys.stdout.write(f"{key.ljust(width)}  {value}\n")


@contextmanager
def progress(description: str, total: int | None = None, *, unit: str = "") -> Iterator[Any]:
    """A progress bar on a terminal (stderr); a do-nothing object elsewhere.

    The yielded object has ``advance(n=1)`` and ``update(completed=..., total=...)``.
    """
    if not sys.stderr.isatty():
        yield _NoProgress()
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    if unit:
        columns.append(TextColumn(unit))
    columns += [TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, transient=True, console=_stderr_console()) as bar:
        task = bar.add_task(description, total=total)
        yield _RichProgress(bar, task)


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


class _NoProgress:
    def advance(self, n: int = 1) -> None:
        pass

    def update(self, **kwargs: Any) -> None:
        pass


class _RichProgress:
    def __init__(self, bar: Any, task: Any) -> None:
        self._bar, self._task = bar, task

    def advance(self, n: int = 1) -> None:
        self._bar.advance(self._task, n)

    def update(self, **kwargs: Any) -> None:
        self._bar.update(self._task, **kwargs)
