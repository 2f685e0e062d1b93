#!/usr/bin/env python3
"""Write a synthetic Claude Code + Codex CLI history with its ground-truth manifest.

Example: ``scripts/generate_history.py /tmp/hist --size 1G --seed 0 --days 30``, then
``CLAUDE_CONFIG_DIR=/tmp/hist/claude`` and ``CODEX_HOME=/tmp/hist/codex`` point tools at it;
``/tmp/hist/manifest.json`` holds the exact per-day token totals.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.history import generate, parse_size


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, generate, print progress and the manifest summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", type=Path, help="output directory (must not hold a tree yet)")
    ap.add_argument(
        "--size",
        type=parse_size,
        default=parse_size("100M"),
        help="target size, e.g. 500M, 2G (default 100M)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument(
        "--start",
        type=date.fromisoformat,
        default=None,
        help="first day, YYYY-MM-DD (default: a fixed date)",
    )
    ap.add_argument(
        "--claude-share",
        type=float,
        default=0.8,
        help="fraction of the bytes written as Claude transcripts",
    )
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    last = [0.0]

    def report(done: int, target: int) -> None:
        now = time.perf_counter()
        if now - last[0] < 0.5 and done < target:
            return
        last[0] = now
        rate = done / 1e6 / max(now - t0, 1e-9)
        print(
            f"\r  {done / 1e6:9.1f} / {target / 1e6:.1f} MB  ({100 * done / target:5.1f}%)"
            f"  {rate:6.1f} MB/s",
            end="",
            file=sys.stderr,
            flush=True,
        )

    try:
        m = generate(
            args.root,
            target_bytes=args.size,
            seed=args.seed,
            start=args.start,
            days=args.days,
            claude_share=args.claude_share,
            progress=report,
        )
    except (FileExistsError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(file=sys.stderr)
    print(m.summary())
    rate = m.bytes / 1e6 / max(m.elapsed_seconds, 1e-9)
    print(
        f"wrote {m.bytes / 1e6:.1f} MB to {args.root} in {m.elapsed_seconds:.2f} s "
        f"({rate:.1f} MB/s); manifest: {args.root / 'manifest.json'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
