"""Printing: JSON, tables, local times, sizes.

On a terminal tables are boxed and coloured (``rich``), fitted to its width (``COLUMNS``
when set); ``NO_COLOR`` keeps the boxes and drops every escape code. Anywhere else
(a pipe, a file) a table is plain aligned text, stable for ``grep`` and ``awk``.
Progress bars only on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import orjson

from .. import _display


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
    """Cost for people (the one rule in ``netsky_core._display``); unknown is shown as
    unknown, never as $0."""
    return _display.money(value)


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


_BOXED_MAX_ROWS = 5000  # beyond this a terminal gets the plain table too (speed)


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    right: Sequence[int] = (),
    sub: Sequence[int] = (),
    total: Sequence[int] = (),
    wrap: Sequence[int] = (),
    optional: Sequence[int] = (),
) -> None:
    """An aligned table: boxed and coloured on a terminal, plain text elsewhere.

    ``right``: column indexes aligned right (numbers); ``sub``: row indexes that are
    sub-rows of the row above (dimmed); ``total``: row indexes of totals (highlighted,
    set off by a rule); ``wrap``: columns of free text that may wrap on a terminal (the
    others keep one line); ``optional``: columns a too narrow terminal leaves out, first
    listed first (a note names them). An all-blank row is a separator (a rule).
    """
    cells = [["" if c is None else str(c) for c in row] for row in rows]
    console = _stdout_console()
    if console is not None and len(cells) <= _BOXED_MAX_ROWS:
        _boxed(console, headers, cells, right, sub, total, wrap, optional)
        return
    cells.insert(0, [str(h) for h in headers])
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


def _stdout_console() -> Any:
    """A ``rich`` console when stdout is a terminal, else None (rich not imported)."""
    import os

    forced = os.environ.get("FORCE_COLOR") or os.environ.get("TTY_COMPATIBLE") == "1"
    if not forced and not sys.stdout.isatty():
        return None
    from rich.console import Console

    if os.environ.get("NO_COLOR"):
        return Console(color_system=None, highlight=False, emoji=False)
    return Console(highlight=False, emoji=False)


def _boxed(
    console: Any,
    headers: Sequence[str],
    cells: list[list[str]],
    right: Sequence[int],
    sub: Sequence[int],
    total: Sequence[int],
    wrap: Sequence[int],
    optional: Sequence[int],
) -> None:
    from rich.measure import Measurement

    hidden: list[int] = []
    grid = _grid(headers, cells, right, sub, total, wrap, hidden)
    unbounded = console.options.update_width(1 << 20)
    for column in optional:
        if Measurement.get(console, unbounded, grid).minimum <= console.width:
            break
        hidden.append(column)
        grid = _grid(headers, cells, right, sub, total, wrap, hidden)
    console.print(grid)
    if hidden:
        names = ", ".join(headers[i] for i in hidden)
        console.print(f"(hidden to fit the terminal: {names})", style="dim")


def _grid(
    headers: Sequence[str],
    cells: list[list[str]],
    right: Sequence[int],
    sub: Sequence[int],
    total: Sequence[int],
    wrap: Sequence[int],
    hidden: Sequence[int],
) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    grid = Table(box=box.ROUNDED, header_style="bold cyan", border_style="bright_black")
    shown = [i for i in range(len(headers)) if i not in hidden]
    for i in shown:
        grid.add_column(
            headers[i],
            justify="right" if i in right else "left",
            no_wrap=i not in wrap,
            overflow="fold",
        )
    for n, row in enumerate(cells):
        if not any(row):
            if grid.rows:
                grid.rows[-1].end_section = True
            continue
        if n in total and grid.rows and not grid.rows[-1].end_section:
            grid.rows[-1].end_section = True
        style = "bold yellow" if n in total else "dim" if n in sub else None
        grid.add_row(*(Text(row[i]) for i in shown), style=style)
    return grid


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
