"""Coverage-guided fuzzing of the ingest parsers and the hook payload path (optional).

Not part of the pytest run (``test_reliability_fuzz.py`` is the Hypothesis version that
CI runs). atheris lives in its own virtualenv, never in the project's ``.venv``::

    .venv/bin/python -m venv /tmp/netsky-atheris
    /tmp/netsky-atheris/bin/pip install atheris
    /tmp/netsky-atheris/bin/python tests/reliability/fuzz_atheris.py claude -atheris_runs=200000
    /tmp/netsky-atheris/bin/python tests/reliability/fuzz_atheris.py codex -max_total_time=600
    /tmp/netsky-atheris/bin/python tests/reliability/fuzz_atheris.py hook -max_total_time=600

Targets: ``claude`` / ``codex`` (one transcript line: no exception may escape
``parse``, and a line without events must be counted malformed or skipped) and
``hook`` (``check_payload`` / ``to_event`` may only raise ``HookInputError`` /
``RecordError``). The project's ``.venv`` site-packages are added to the path, so
netsky itself is not installed twice. The seed corpus (lines of a generated synthetic
history, plus ``../shared/samples`` when present) is written to
``/tmp/netsky-atheris-corpus/<target>`` on first use; other arguments go to libFuzzer
(crash files land in the working directory). ``--allow-known`` ignores the known
``RecursionError`` on very deep nesting (see ``test_reliability_fuzz.py``).
"""

from __future__ import annotations

import json
import site
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT.parent / "shared" / "samples"
CORPUS = Path("/tmp/netsky-atheris-corpus")
TARGETS = ("claude", "codex", "hook")


def _use_project_venv() -> None:
    try:
        import netsky_core  # noqa: F401
    except ImportError:
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        site.addsitedir(str(ROOT / ".venv" / "lib" / version / "site-packages"))


def _seed(target: str) -> Path:
    """The seed corpus folder of ``target`` (written once)."""
    folder = CORPUS / target
    if folder.is_dir() and any(folder.iterdir()):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    from tests.history import generate

    tree = CORPUS / "synthetic"
    if not (tree / "manifest.json").exists():
        generate(tree, target_bytes=300_000, seed=3)
    seeds: list[bytes] = []
    if target == "hook":
        for path in sorted((SAMPLES / "hooks").glob("*/*.json")) if SAMPLES.is_dir() else []:
            seeds += [json.dumps(p).encode() for p in json.loads(path.read_text())]
        seeds.append(b'{"session_id": "s", "hook_event_name": "Stop"}')
    else:
        roots = [tree / target]
        if SAMPLES.is_dir():
            roots.append(SAMPLES / target)
        for root in roots:
            for path in sorted(root.rglob("*.jsonl")):
                seeds += [line for line in path.read_bytes().split(b"\n") if line.strip()]
    for n, data in enumerate(dict.fromkeys(seeds)):
        (folder / f"seed-{n:05d}").write_bytes(data)
    return folder


def main() -> None:
    args = sys.argv[1:]
    if not args or args[0] not in TARGETS:
        raise SystemExit(
            f"usage: fuzz_atheris.py {{{'|'.join(TARGETS)}}} [--allow-known] [libFuzzer args]"
        )
    target = args.pop(0)
    allow_known = "--allow-known" in args
    args = [a for a in args if a != "--allow-known"]
    _use_project_venv()
    import atheris

    with atheris.instrument_imports():
        from netsky_core import RecordError
        from netsky_core.hooks.payload import HookInputError, check_payload, to_event
        from netsky_core.ingest.claude import ClaudeParser
        from netsky_core.ingest.codex import CodexParser
        from netsky_core.ingest.pricing import PriceTable

    prices = PriceTable.load()
    received = datetime(2026, 3, 1, tzinfo=UTC)

    def parse_line(data: bytes) -> None:
        line = data.replace(b"\n", b" ")
        parser: Any
        if target == "claude":
            parser = ClaudeParser(machine_id="m", path="/f/p/s.jsonl", prices=prices)
        else:
            parser = CodexParser(
                machine_id="m",
                path="/f/rollout-2026-01-25T10-32-00-019bf4b5-e7b0-75a0-8bf2-05fbf1b13c9b.jsonl",
                prices=prices,
            )
        try:
            produced = parser.parse(line)
        except RecursionError:
            if allow_known:
                return
            raise
        counted = parser.malformed + parser.skipped
        if produced:
            assert counted == 0, "a line with events was also counted as dropped"
        else:
            assert counted == 1, "a line without events was not counted"

    def hook(data: bytes) -> None:
        raw = data.decode("utf-8", errors="replace")
        try:
            payload = json.loads(raw)
        except ValueError:
            return
        except RecursionError:
            if allow_known:
                return
            raise
        for framework in ("claude", "codex"):
            try:
                check_payload(payload, framework)
                to_event(
                    payload,
                    raw=raw,
                    framework=framework,
                    machine_id="m",
                    received_at=received,
                    random_id="r",
                    pid=None,
                    process_start_time=None,
                )
            except (HookInputError, RecordError):
                pass

    corpus = str(_seed(target))
    atheris.Setup([sys.argv[0], *args, corpus], hook if target == "hook" else parse_line)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
