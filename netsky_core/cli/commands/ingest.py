"""``netsky ingest``: read Claude Code and Codex history into the store, incrementally."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._context import Context
from .._errors import UsageError
from .._main import add_command
from .._output import fields, print_json, progress, size


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "ingest",
        help="ingest the history of every installed agent source (only what is new)",
        description=(
            "Read every installed source (Claude Code, Codex, Gemini CLI, OpenCode, Copilot "
            "CLI, Qwen Code, pi, Kimi, Amp, Hermes, Kilo, Goose, OpenClaw, Droid and any "
            "source plugin), or the sources named, where each looks (its environment "
            "variable, else its default folders: `netsky sources` lists them). Given paths "
            "replace where the named sources look; paths alone are read as Claude Code or "
            "Codex files. Files that have not changed since the last run are not opened; "
            "appended files are read from where the last run stopped; JSON files rewritten "
            "in place and databases are read again only when they changed, each event kept once."
        ),
        examples=[
            "netsky ingest",
            "netsky ingest claude",
            "netsky ingest gemini opencode",
            "netsky ingest codex ~/.codex/sessions/2026/01",
            "netsky ingest hermes ~/other/.hermes",
            "netsky ingest --since 2026-01-01 --json",
        ],
    )
    p.add_argument(
        "targets",
        nargs="*",
        metavar="[SOURCE ...] [PATH ...]",
        help="which sources to read (default: all), and/or files and folders to read",
    )
    p.add_argument(
        "--since",
        metavar="DATE",
        help="skip files last modified before DATE (by mtime, without reading them)",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=5000,
        metavar="N",
        help="events per transaction (default 5000)",
    )
    p.add_argument(
        "--no-payloads",
        action="store_true",
        help="store only the structured fields, not prompts / tool inputs / raw lines",
    )
    p.add_argument(
        "--rescan",
        action="store_true",
        help="read every file again from its start (nothing is counted twice)",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=run)


def run(ctx: Context) -> int:
    import os

    from ..._timeparse import parse_time
    from ...ingest.options import ingest_options
    from ...plugins._sources import default_sources
    from ...sources.select import plan_ingest

    args = ctx.args
    targets = list(args.targets)
    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    since = parse_time(args.since) if args.since else None
    options = ingest_options(ctx.config)
    if args.no_payloads:
        options["store_payloads"] = False
    disabled = ctx.config.disabled_plugins()
    known = set(default_sources(disabled).known())
    names: list[str] = []
    while targets and targets[0] in known:
        name = targets.pop(0)
        if name not in names:
            names.append(name)
    missing = [t for t in targets if not os.path.exists(t)]
    if missing:
        what = "no such file or folder" if names or len(targets) > 1 else "no such source or path"
        raise UsageError(
            f"{what}: {', '.join(missing)}",
            hint=f"installed sources: {', '.join(sorted(known)) or 'none'}; see `netsky sources`",
        )
    extra = {"claude": options.pop("claude_dirs"), "codex": options.pop("codex_dirs")}
    plan = plan_ingest(names, targets, extra=extra, disabled=disabled)
    summary = ingest_with_progress(
        ctx, plan.files, since=since, batch_size=args.batch_size, rescan=args.rescan, **options
    )
    summary.sources = dict(plan.found)
    summary.errors[:0] = [f"source {p.name}: {p.error}" for p in plan.problems]
    if ctx.json:
        print_json(summary)
    else:
        _print(summary, bool(plan.files))
    if plan.problems and not plan.files and names:
        return 1
    return 1 if summary.files_failed and not summary.files_read else 0


def ingest_with_progress(
    ctx: Context, sources: list[Any], *, url: str | None = None, **options: Any
) -> Any:
    """Ingest ``sources`` into the store at ``url`` (default: the configured one) with a
    progress bar of the bytes read; returns the ``IngestSummary``."""
    from ...ingest.scan import ingest

    machine = ctx.machine_id
    total_bytes = sum(_size(s.path) for s in sources)
    with ctx.storage(url) as store, progress("ingesting", total_bytes, unit="bytes") as bar:
        return ingest(
            store,
            sources,
            machine_id=machine,
            on_progress=lambda read, _new: bar.advance(read),
            **options,
        )


def _size(path: str) -> int:
    import os

    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _print(summary: Any, found: bool) -> None:
    if not found:
        print("no agent history found (`netsky sources` shows where each source looks)")
        for error in summary.errors[:10]:
            sys.stderr.write(f"netsky: warning: {error}\n")
        return
    fields(
        [
            (
                "files",
                f"{summary.files_found} found, {summary.files_read} read, "
                f"{summary.files_unchanged} unchanged"
                + (
                    f", {summary.files_skipped_old} older than --since"
                    if summary.files_skipped_old
                    else ""
                )
                + (
                    f", {summary.files_reread} truncated or replaced (re-read)"
                    if summary.files_reread
                    else ""
                )
                + (
                    f", {summary.files_without_events} without a single event"
                    if summary.files_without_events
                    else ""
                )
                + (f", {summary.files_failed} failed" if summary.files_failed else ""),
            ),
            (
                "read",
                f"{size(summary.bytes_read)}, {summary.lines:,} lines in {summary.seconds:.1f}s",
            ),
            (
                "events",
                f"{summary.inserted:,} new, {summary.duplicates:,} duplicates, "
                f"{summary.superseded:,} updated to a fuller version",
            ),
            (
                "skipped",
                f"{summary.malformed_lines:,} malformed lines, "
                f"{summary.partial_lines} partial last lines (read next time)",
            ),
        ]
    )
    if summary.unknown_models:
        names = ", ".join(f"{m} ({n})" for m, n in sorted(summary.unknown_models.items()))
        print(f"unknown models (tokens stored, cost unknown): {names}")
    for error in summary.errors[:10]:
        sys.stderr.write(f"netsky: warning: {error}\n")
    for warning in summary.warnings[:10]:
        sys.stderr.write(f"netsky: warning: {warning}\n")
