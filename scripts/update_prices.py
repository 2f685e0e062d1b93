#!/usr/bin/env python3
"""Regenerate ``netsky_core/data/prices.json`` from LiteLLM's price table.

Usage::

    python scripts/update_prices.py                      # newest litellm wheel from PyPI
    python scripts/update_prices.py litellm==1.109.1     # a pinned wheel from PyPI
    python scripts/update_prices.py path/to/model_prices_and_context_window.json
    python scripts/update_prices.py path/to/litellm-1.109.1-....whl

Several sources may be given; they are applied in order, later ones winning. The file
being replaced is the starting point (``--fresh`` ignores it), so a model LiteLLM has
since dropped (it prunes retired models, but netsky prices old transcripts too) keeps
its last known prices. Models the newest table does not list under their own id are
listed under ``"retained"`` with the LiteLLM version their prices came from. The
shipped file was made with::

    python scripts/update_prices.py --fresh litellm==1.95.0 litellm==1.109.1

Rules applied while reading a LiteLLM table:

- kept: Anthropic ``claude-*`` models (dated and undated ids) and OpenAI ``gpt-*``,
  ``o<N>*`` and ``codex-*`` chat/responses models; provider-prefixed, Bedrock, Vertex,
  Azure, fine-tune, audio, realtime, image, search and embedding entries are dropped
  (name resolution in ``netsky_core.ingest.pricing`` maps those spellings back);
- also kept, for the other agents netsky reads (``netsky_core.sources``), the chat
  models of these families as their makers' own APIs list them (``FAMILIES``): Google
  ``gemini-*`` (the unprefixed Vertex/AI Studio ids, then ``gemini/<id>`` for ids only
  listed that way), Moonshot ``kimi-*`` (``moonshot/``), DeepSeek ``deepseek-*`` and
  MiniMax ``minimax-*`` (``minimax/``, lower-cased); names are stored without the
  provider prefix. Gemma ids are not kept: LiteLLM lists them only at $0 (AI Studio's
  free tier), which is no price;
- Gemini models get ``context_tier_200k``: past 200k input-side tokens in one request,
  every token of it uses the ``*_above_200k`` prices (as Google bills, and as ccusage
  20.0.24 prices them);
- a Claude id LiteLLM lists only as a Bedrock ``anthropic.<id>-v<N>:<M>`` entry (such as
  ``claude-3-5-haiku-20241022``) gets that entry's four base prices, never its tiers,
  when no other source has it (ccusage prices these ids the same way);
- fields: per-token dollars, ``input``/``output``/``cache_write``/``cache_read`` and
  their ``*_above_200k`` (Anthropic) and ``*_above_272k`` (OpenAI) tiers; the 1-hour
  cache write price is not stored (it is 2 x input, as in ccusage; LiteLLM's
  ``*_above_1hr`` field agrees where it is right);
- a tier (``*_above_*``) an older source listed is kept when a newer source drops it
  for the same model: LiteLLM removes tiers when a long-context beta is retired, but
  requests made before then were billed at them (ccusage 20.0.24 still applies them);
- ``fast_multiplier`` comes from LiteLLM's ``provider_specific_entry.fast``; where
  LiteLLM lists none, the figures in ``FAST_MULTIPLIERS`` below are used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parent.parent / "netsky_core" / "data" / "prices.json"
TABLE_NAMES = (
    "litellm/model_prices_and_context_window_backup.json",
    "litellm/model_prices_and_context_window.json",
)
SOURCE_URL = "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json"

# netsky field -> LiteLLM field
FIELDS = {
    "input": "input_cost_per_token",
    "output": "output_cost_per_token",
    "cache_write": "cache_creation_input_token_cost",
    "cache_read": "cache_read_input_token_cost",
    "input_above_200k": "input_cost_per_token_above_200k_tokens",
    "output_above_200k": "output_cost_per_token_above_200k_tokens",
    "cache_write_above_200k": "cache_creation_input_token_cost_above_200k_tokens",
    "cache_read_above_200k": "cache_read_input_token_cost_above_200k_tokens",
    "input_above_272k": "input_cost_per_token_above_272k_tokens",
    "output_above_272k": "output_cost_per_token_above_272k_tokens",
    "cache_write_above_272k": "cache_creation_input_token_cost_above_272k_tokens",
    "cache_read_above_272k": "cache_read_input_token_cost_above_272k_tokens",
}
TIERS = tuple(name for name in FIELDS if "_above_" in name)

# Fast-mode multipliers LiteLLM does not carry (published fast / priority prices over
# standard ones; the same figures ccusage 20.0.24 uses). Anthropic ones apply to every
# id with the prefix (dated ids too), OpenAI ones to the exact id only, as in ccusage.
FAST_MULTIPLIERS = {
    "prefix": {"claude-opus-4-6": 6.0, "claude-opus-4-7": 6.0, "claude-opus-4-8": 2.0},
    "exact": {
        "gpt-5.3-codex": 2.0,
        "gpt-5.4": 2.0,
        "gpt-5.5": 2.5,
        "gpt-5.6-luna": 2.0,
        "gpt-5.6-sol": 2.0,
        "gpt-5.6-terra": 2.0,
        "gpt-6-astra": 2.0,
    },
}

_OPENAI_NAME = re.compile(r"^(gpt-|o\d|codex-)")
_BEDROCK_ID = re.compile(r"^anthropic\.(claude-[a-z0-9-]+)-v\d+:\d+$")
_OPENAI_SKIP = ("audio", "realtime", "search", "transcribe", "tts", "image", "embedding")

# Other agents' model families: (LiteLLM providers, key prefix stripped, name prefix).
# The unprefixed entry wins over the prefixed one for the same name.
FAMILIES = (
    (("vertex_ai-language-models", "gemini"), "", "gemini-"),
    (("gemini",), "gemini/", "gemini-"),
    (("moonshot",), "moonshot/", "kimi-"),
    (("deepseek",), "", "deepseek-"),
    (("deepseek",), "deepseek/", "deepseek-"),
    (("minimax",), "minimax/", "minimax-"),
)
_FAMILY_SKIP = ("audio", "tts", "image", "embedding", "live", "computer-use", "robotics", "gemma")
CONTEXT_TIER_PREFIXES = ("gemini-",)

ABOUT = [
    "Per-token prices in US dollars for the models Claude Code and Codex CLI use",
    "(and the Gemini, Kimi, DeepSeek and MiniMax families other agents use),",
    "extracted from LiteLLM's model_prices_and_context_window.json by",
    "scripts/update_prices.py (do not edit by hand; override in the netsky config).",
    "Per API response: cost = input tokens*input + output tokens*output",
    "  + 5m cache writes*cache_write + 1h cache writes*(2*input) + cache reads*cache_read;",
    "a count above 200k tokens of one kind uses the *_above_200k price for the part",
    "beyond 200k where listed; a request whose input side (input + cache reads + cache",
    "writes) is above 272k tokens uses the *_above_272k prices for all its tokens where",
    "listed; speed 'fast' multiplies the total by fast_multiplier.",
    "context_tier_200k (Gemini): a request whose input side is above 200k tokens uses",
    "the *_above_200k prices for all its tokens, and no per-kind tier applies.",
    "A missing cache price means the input price.",
    "'retained': models the newest LiteLLM table does not list under their own id",
    "(dropped since, or only listed as Bedrock ids), and the version they came from.",
]


class Source:
    """One LiteLLM table and where it came from."""

    def __init__(self, table: Mapping[str, Any], version: str | None, label: str) -> None:
        self.table = table
        self.version = version
        self.label = label


def _version_from_wheel(path: Path) -> str | None:
    match = re.match(r"litellm-([^-]+)-", path.name)
    return match.group(1) if match else None


def read_wheel(path: Path) -> Source:
    with zipfile.ZipFile(path) as wheel:
        names = set(wheel.namelist())
        for name in TABLE_NAMES:
            if name in names:
                return Source(json.loads(wheel.read(name)), _version_from_wheel(path), path.name)
    raise SystemExit(f"{path}: no LiteLLM price table inside ({', '.join(TABLE_NAMES)})")


def download(spec: str, tmp: Path) -> Source:
    """``pip download`` the litellm wheel named by ``spec`` (``litellm`` or ``litellm==X``)."""
    dest = tmp / re.sub(r"[^\w.]", "_", spec)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    subprocess.run([*cmd, "--quiet", "--dest", str(dest), spec], check=True)
    wheels = sorted(dest.glob("litellm-*.whl"))
    if not wheels:
        raise SystemExit(f"pip download {spec} produced no litellm wheel")
    return read_wheel(wheels[-1])


def read_source(arg: str, tmp: Path) -> Source:
    if arg == "litellm" or arg.startswith("litellm=="):
        return download(arg, tmp)
    path = Path(arg)
    if path.suffix == ".whl":
        return read_wheel(path)
    return Source(json.loads(path.read_text(encoding="utf-8")), None, path.name)


def relevant(name: str, entry: Mapping[str, Any]) -> bool:
    if any(ch in name for ch in "/:@") or name.startswith("ft:"):
        return False
    provider = entry.get("litellm_provider")
    if provider == "anthropic":
        return name.startswith("claude-")
    if provider == "openai" and entry.get("mode") in ("chat", "responses"):
        return bool(_OPENAI_NAME.match(name)) and not any(s in name for s in _OPENAI_SKIP)
    return False


def family_name(name: str, entry: Mapping[str, Any]) -> str | None:
    """The name an other-agent family model is kept under, or None."""
    if entry.get("mode") != "chat":
        return None
    provider = entry.get("litellm_provider")
    for providers, prefix, family in FAMILIES:
        if provider not in providers or not name.startswith(prefix):
            continue
        short = name[len(prefix) :].lower()
        if any(ch in short for ch in "/:@") or not short.startswith(family):
            continue
        if any(word in short for word in _FAMILY_SKIP):
            continue
        return short
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value >= 0 else None


def _record(entry: Mapping[str, Any], fields: Iterable[str]) -> dict[str, float] | None:
    prices = {ours: _number(entry.get(FIELDS[ours])) for ours in fields}
    record = {key: value for key, value in prices.items() if value is not None}
    return record if "input" in record and "output" in record else None


def extract(table: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """The relevant models of one LiteLLM table, in netsky's field names."""
    models: dict[str, dict[str, float]] = {}
    for name, entry in table.items():
        if not isinstance(entry, dict) or not relevant(name, entry):
            continue
        record = _record(entry, FIELDS)
        if record is None:
            continue
        fast = _number((entry.get("provider_specific_entry") or {}).get("fast"))
        if fast is not None:
            record["fast_multiplier"] = fast
        models[name] = record
    plain: dict[str, dict[str, Any]] = {}
    prefixed: dict[str, dict[str, Any]] = {}
    for name, entry in table.items():
        if not isinstance(entry, dict) or (short := family_name(name, entry)) is None:
            continue
        record = _record(entry, FIELDS)
        if record is None or short in models:
            continue
        if short.startswith(CONTEXT_TIER_PREFIXES):
            record["context_tier_200k"] = True
        (prefixed if "/" in name else plain).setdefault(short, record)
    models.update({**prefixed, **plain})
    return models


def extract_bedrock(table: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Base prices of Claude ids LiteLLM lists only as ``anthropic.<id>-v<N>:<M>``."""
    models: dict[str, dict[str, float]] = {}
    for key, entry in table.items():
        match = _BEDROCK_ID.match(key)
        if match and isinstance(entry, dict):
            record = _record(entry, ("input", "output", "cache_write", "cache_read"))
            if record is not None:
                models.setdefault(match.group(1), record)
    return models


def _fallback_fast(name: str) -> float | None:
    if name in FAST_MULTIPLIERS["exact"]:
        return FAST_MULTIPLIERS["exact"][name]
    for prefix, value in FAST_MULTIPLIERS["prefix"].items():
        if name == prefix or name.startswith(prefix + "-"):
            return value
    return None


def merge(
    base: Mapping[str, dict[str, float]],
    base_origin: Mapping[str, str | None],
    sources: Iterable[Source],
) -> tuple[dict[str, dict[str, float]], dict[str, str | None], set[str]]:
    """Apply ``sources`` in order over ``base``.

    Returns the models, where each came from, and the names the last source lists
    under their own id.
    """
    models = {name: dict(record) for name, record in base.items()}
    origin = dict(base_origin)
    from_bedrock: set[str] = set()
    provided: set[str] = set()
    for source in sources:
        provided = set()
        for name, record in extract(source.table).items():
            old = models.get(name, {})
            if not any(tier in record for tier in TIERS):
                record.update({tier: old[tier] for tier in TIERS if tier in old})
            models[name] = record
            origin[name] = source.version or source.label
            provided.add(name)
            from_bedrock.discard(name)
        for name, record in extract_bedrock(source.table).items():
            if name not in models or name in from_bedrock:
                models[name] = record
                origin[name] = f"{source.version or source.label} (bedrock)"
                from_bedrock.add(name)
    for name, record in models.items():
        if "fast_multiplier" not in record and (fast := _fallback_fast(name)) is not None:
            record["fast_multiplier"] = fast
    return models, origin, provided


def render(document: Mapping[str, Any]) -> str:
    """Stable JSON: sorted, one model per line."""
    head = {key: value for key, value in document.items() if key != "models"}
    lines = ["{"]
    for key in sorted(head):
        value = json.dumps(head[key], sort_keys=True, indent=2).replace("\n", "\n  ")
        lines.append(f"  {json.dumps(key)}: {value},")
    lines.append('  "models": {')
    items = sorted(document["models"].items())
    for i, (name, record) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        body = json.dumps(record, sort_keys=True, separators=(", ", ": "))
        lines.append(f"    {json.dumps(name)}: {body}{comma}")
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "sources",
        nargs="*",
        default=["litellm"],
        help="LiteLLM JSON file, litellm wheel, or 'litellm[==VERSION]' to fetch from PyPI",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--fresh", action="store_true", help="ignore the existing output file")
    args = parser.parse_args(argv)

    base: dict[str, dict[str, float]] = {}
    base_origin: dict[str, str | None] = {}
    if not args.fresh and args.output.exists():
        previous = json.loads(args.output.read_text(encoding="utf-8"))
        base = previous.get("models", {})
        retained = previous.get("retained", {})
        base_origin = {name: retained.get(name, previous.get("litellm_version")) for name in base}

    with tempfile.TemporaryDirectory(prefix="netsky-prices-") as tmp:
        sources = [read_source(arg, Path(tmp)) for arg in args.sources]
    models, origin, latest = merge(base, base_origin, sources)
    newest = sources[-1]
    document = {
        "about": ABOUT,
        "source": SOURCE_URL,
        "litellm_version": newest.version,
        "retrieved": dt.datetime.now(dt.UTC).date().isoformat(),
        "retained": {name: origin.get(name) for name in sorted(models) if name not in latest},
        "models": models,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(document), encoding="utf-8")
    print(
        f"wrote {args.output}: {len(models)} models "
        f"({len(document['retained'])} retained), litellm {newest.version or newest.label}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
