"""Render the JSON lines of a reliability run into RELIABILITY.md (a table per test)."""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections import defaultdict
from pathlib import Path

INTRO = """# Reliability

Each row below was produced by an actual run of the reliability suite
(`tests/reliability/`), not written by hand. Reproduce it with `{command}`
(`scripts/reliability --short` runs the CI-sized versions in minutes; the default runs
the long versions). Every scenario checks that no event was lost or stored twice and
that every session's totals equal a recomputation from its stored events.

Run: {when} on {machine}; pytest exit status {status}.

The second table has a row per item of the loss-path list (the paths an outside tester
found to lose, misroute or double-count events): each row comes from that item's
regression test (`pytest -m loss_path`), which fails on the code before the fix.
"""


_TABLE_KEYS = frozenset(
    {"test", "backend", "load", "faults", "inputs", "lost", "duplicated", "result", "mode", "at"}
)
"""The keys shown in the table (or not at all); any other key is a figure."""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("output")
    parser.add_argument("--command", default="scripts/reliability")
    parser.add_argument("--status", default="0")
    args = parser.parse_args()
    rows = [json.loads(line) for line in Path(args.report).read_text().splitlines() if line.strip()]
    losses = sorted((r for r in rows if "item" in r), key=lambda r: (r["item"], r["test"]))
    rows = [r for r in rows if "item" not in r]
    by_test: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_test[row["test"]].append(row)
    out = [
        INTRO.format(
            command=args.command,
            when=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            machine=f"{platform.system()} {platform.machine()}, {_cpus()} CPUs, Python {platform.python_version()}",
            status=args.status,
        )
    ]
    out.append(
        "| test | backend | load / trials | faults injected | bad inputs tried | lost | duplicated | result |"
    )
    out.append("| --- | --- | --- | --- | --- | ---: | ---: | --- |")
    for test, items in by_test.items():
        for r in items:
            out.append(
                f"| {test} | {r['backend']} | {r['load']} | {r['faults']} | {r['inputs']} | "
                f"{r['lost']} | {r['duplicated']} | {r['result']} |"
            )
    if losses:
        out.append("\n## Loss paths\n")
        out.append(
            "| item | scenario | backend | faults injected | sent | stored | lost | duplicated | result |"
        )
        out.append("| ---: | --- | --- | --- | --- | ---: | ---: | ---: | --- |")
        for r in losses:
            scenario = r["test"].split(": ", 1)[-1]
            out.append(
                f"| {r['item']} | {scenario} ({r['inputs']}) | {r['backend']} | {r['faults']} | "
                f"{r['load']} | {r['stored']} | {r['lost']} | {r['duplicated']} | {r['result']} |"
            )
    extras = [r for r in rows if set(r) - _TABLE_KEYS]
    if extras:
        out.append("\n## Figures\n")
        for r in extras:
            details = ", ".join(f"{k}: {v}" for k, v in sorted(r.items()) if k not in _TABLE_KEYS)
            out.append(f"- **{r['test']}** ({r['backend']}): {details}")
    Path(args.output).write_text("\n".join(out) + "\n")
    print(f"wrote {args.output} ({len(rows) + len(losses)} rows)")


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    main()
