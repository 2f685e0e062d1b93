"""What one API response cost, from the shipped LiteLLM-derived price table.

The rule reproduces ccusage 20.0.24 (checked against it, see ``tests/test_pricing.py``)::

    cost = input*p_in + output*p_out + cache_5m*p_cache_write
           + cache_1h*(2*p_in) + cache_read*p_cache_read        (summed in this order)

- A Claude usage without the ``cache_creation`` 5m/1h split prices all of
  ``cache_creation_input_tokens`` at ``p_cache_write``; with the split, only the two
  split counts are priced (ccusage ignores the total then).
- 200k tier, per request and per kind of token: when one of the five counts above is
  larger than 200,000 and the model lists an ``*_above_200k`` price for it, the part
  beyond 200,000 uses that price (1h writes: twice the tiered input price). Kinds are
  not added together, so 100k input + 150k cache read stays untiered.
- 272k context tier (OpenAI), per request: when input + cache reads + cache writes
  exceed 272,000 and the model lists ``*_above_272k`` prices, all of the request's
  tokens (output too) use them.
- 200k context tier (Gemini, ``context_tier_200k``), per request: when input + cache
  reads + cache writes exceed 200,000, all of the request's tokens (output too) use the
  ``*_above_200k`` prices where listed; such a model has no per-kind tier.
- ``speed == "fast"`` multiplies the total by the model's ``fast_multiplier``, if any.
- A model without cache prices (OpenAI pro models) prices those tokens as input.
- Unknown models and ``<synthetic>`` cost ``None``, never 0.

Importing this is cheap (stdlib only; orjson and the table are loaded on first use):
it runs in short-lived hook processes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any, NamedTuple

from .._errors import ConfigError

__all__ = [
    "MAX_MULTIPLIER",
    "MAX_PRICE",
    "OVERRIDE_KEYS",
    "PriceOverrideError",
    "PriceTable",
    "Prices",
    "Usage",
    "cost",
    "price_problem",
]

TIER_THRESHOLD = 200_000
CONTEXT_TIER_THRESHOLD = 272_000
SYNTHETIC = "<synthetic>"
_DATA = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "prices.json")
_PER_MILLION = 1_000_000.0
_TIERABLE = ("input", "output", "cache_write", "cache_read")
MAX_PRICE = 1_000_000.0  # dollars per million tokens: one dollar a token
MAX_MULTIPLIER = 1_000.0
OVERRIDE_KEYS = (
    "input",
    "output",
    "cache_write",
    "cache_write_1h",
    "cache_read",
    "input_above_200k",
    "output_above_200k",
    "cache_write_above_200k",
    "cache_read_above_200k",
    "input_above_272k",
    "output_above_272k",
    "cache_write_above_272k",
    "cache_read_above_272k",
    "fast_multiplier",
)


class PriceOverrideError(ConfigError, ValueError):
    """A ``[pricing.models."name"]`` override in the config file is invalid."""


class Prices(NamedTuple):
    """Dollars per token for one model; ``None`` cache prices fall back as documented."""

    input: float
    output: float
    cache_write: float | None = None  # None: the input price
    cache_read: float | None = None  # None: the input price
    cache_write_1h: float | None = None  # None: 2 x input (and 2 x input_above_200k)
    input_above_200k: float | None = None
    output_above_200k: float | None = None
    cache_write_above_200k: float | None = None
    cache_read_above_200k: float | None = None
    input_above_272k: float | None = None
    output_above_272k: float | None = None
    cache_write_above_272k: float | None = None
    cache_read_above_272k: float | None = None
    fast_multiplier: float | None = None
    context_tier_200k: bool = False  # Gemini: the 200k tier is per request, all tokens


class Usage(NamedTuple):
    """Token counts of one API response, as netsky reports them.

    ``input`` excludes cache reads (Codex: ``input_tokens - cached_input_tokens``).
    ``cache_write_5m``/``cache_write_1h`` are ``None`` when the record has no split.
    """

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    cache_write_5m: int | None = None
    cache_write_1h: int | None = None
    speed: str | None = None

    @classmethod
    def from_claude(cls, usage: Mapping[str, Any]) -> Usage:
        """From a Claude transcript ``message.usage`` object."""
        split = usage.get("cache_creation")
        m5 = h1 = None
        if isinstance(split, Mapping):
            m5 = int(split.get("ephemeral_5m_input_tokens") or 0)
            h1 = int(split.get("ephemeral_1h_input_tokens") or 0)
        speed = usage.get("speed")
        return cls(
            input=int(usage.get("input_tokens") or 0),
            output=int(usage.get("output_tokens") or 0),
            cache_read=int(usage.get("cache_read_input_tokens") or 0),
            cache_write=int(usage.get("cache_creation_input_tokens") or 0),
            cache_write_5m=m5,
            cache_write_1h=h1,
            speed=speed if isinstance(speed, str) else None,
        )

    @classmethod
    def from_codex(cls, usage: Mapping[str, Any], speed: str | None = None) -> Usage:
        """From a Codex ``token_count`` usage (or a difference of two cumulative ones)."""
        cached = int(usage.get("cached_input_tokens") or 0)
        return cls(
            input=int(usage.get("input_tokens") or 0) - cached,
            output=int(usage.get("output_tokens") or 0),
            cache_read=cached,
            speed=speed,
        )


def _tiered(tokens: int, price: float, above: float | None) -> float:
    if tokens <= 0:
        return 0.0
    if above is not None and tokens > TIER_THRESHOLD:
        return (tokens - TIER_THRESHOLD) * above + TIER_THRESHOLD * price
    return tokens * price


def _above_272k(p: Prices) -> Prices:
    tiered = {base: getattr(p, f"{base}_above_272k") for base in _TIERABLE}
    return p._replace(**{base: price for base, price in tiered.items() if price is not None})


def _context_200k(p: Prices, context: int) -> Prices:
    """A ``context_tier_200k`` model's prices for a request of ``context`` input-side
    tokens: the ``*_above_200k`` ones for every token past 200k, never per kind."""
    tiered = {base: getattr(p, f"{base}_above_200k") for base in _TIERABLE}
    if context > TIER_THRESHOLD:
        p = p._replace(**{base: price for base, price in tiered.items() if price is not None})
    untiered: dict[str, Any] = {f"{base}_above_200k": None for base in _TIERABLE}
    return p._replace(**untiered)


def _price_usage(p: Prices, u: Usage) -> float:
    if u.cache_write_5m is None and u.cache_write_1h is None:
        write_5m, write_1h = u.cache_write, 0
    else:
        write_5m, write_1h = u.cache_write_5m or 0, u.cache_write_1h or 0
    context = u.input + u.cache_read + write_5m + write_1h
    if p.context_tier_200k:
        p = _context_200k(p, context)
    if p.input_above_272k is not None and context > CONTEXT_TIER_THRESHOLD:
        p = _above_272k(p)
    if p.cache_write_1h is None:
        w1h = 2 * p.input
        w1h_above = None if p.input_above_200k is None else 2 * p.input_above_200k
    else:
        w1h, w1h_above = p.cache_write_1h, None
    total = (
        _tiered(u.input, p.input, p.input_above_200k)
        + _tiered(u.output, p.output, p.output_above_200k)
        + _tiered(
            write_5m,
            p.input if p.cache_write is None else p.cache_write,
            p.cache_write_above_200k,
        )
        + _tiered(write_1h, w1h, w1h_above)
        + _tiered(
            u.cache_read,
            p.input if p.cache_read is None else p.cache_read,
            p.cache_read_above_200k,
        )
    )
    if u.speed == "fast" and p.fast_multiplier is not None:
        total *= p.fast_multiplier
    return total


def _undated(name: str) -> str:
    """Drop a ``-20250929`` / ``-2025-09-29`` / ``-latest`` suffix."""
    head, _, tail = name.rpartition("-")
    if head and (tail == "latest" or (len(tail) == 8 and tail.isdigit())):
        return head
    if len(name) > 11 and name[-11] == "-" and name[-6] == "-" and name[-3] == "-":
        digits = name[-10:-6] + name[-5:-3] + name[-2:]
        if digits.isdigit():
            return name[:-11]
    return name


def _normalized(model: str) -> str:
    """``model`` without provider prefix, Bedrock/Vertex decorations, ``[1m]``, case."""
    name = model.strip().lower()
    name = name.rpartition("/")[2]  # anthropic/, openai/, openrouter/anthropic/, ...
    name = name.partition("[")[0]  # claude-opus-4-6[1m]
    head, sep, rest = name.partition("anthropic.")  # Bedrock: us.anthropic.<id>-v1:0
    if sep and (not head or (head.endswith(".") and "." not in head[:-1])):
        name = rest.partition(":")[0]
        base, dash, version = name.rpartition("-v")
        if dash and version.isdigit():
            name = base
    name = name.replace("@", "-")  # Vertex: claude-sonnet-4-5@20250929
    if name.startswith("claude-"):
        name = name.replace(".", "-")  # claude-opus-4.6
    return name


def _candidates(model: str) -> list[str]:
    """Spellings to look up, most specific first."""
    name = _normalized(model)
    return list(dict.fromkeys((model.strip().lower(), name, _undated(name))))


def price_problem(key: str, value: Any) -> str | None:
    """What is wrong with ``value`` as the override ``key`` (None: nothing). A price is
    bounded so that no token count can overflow a cost."""
    limit = MAX_MULTIPLIER if key == "fast_multiplier" else MAX_PRICE
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= limit
    ):
        unit = "a multiplier" if key == "fast_multiplier" else "dollars per million tokens"
        return f"expected a number from 0 to {limit:g} ({unit}), got {value!r}"
    return None


def _check_number(name: str, key: str, value: Any) -> float:
    problem = price_problem(key, value)
    if problem:
        raise PriceOverrideError(f'pricing.models."{name}".{key}: {problem}')
    return float(value)


def _check_table(path: str, models: Mapping[str, Prices]) -> None:
    """A price table file holds dollars per token: bounded like the overrides."""
    for name, prices in models.items():
        for key, value in prices._asdict().items():
            if key == "context_tier_200k" or value is None:
                continue
            per_token = key != "fast_multiplier" and type(value) in (int, float)
            problem = price_problem(key, value * _PER_MILLION if per_token else value)
            if problem:
                raise PriceOverrideError(f"price table {path}: {name!r}.{key}: {problem}")


def _apply_override(name: str, base: Prices | None, values: Any) -> Prices:
    if not isinstance(values, Mapping):
        raise PriceOverrideError(f'pricing.models."{name}" must be a table, got {values!r}')
    fields: dict[str, Any] = {}
    for key, value in values.items():
        if key not in OVERRIDE_KEYS:
            raise PriceOverrideError(
                f'pricing.models."{name}": unknown key {key!r}',
                hint="known keys: " + ", ".join(OVERRIDE_KEYS),
            )
        number = _check_number(name, key, value)
        fields[key] = number if key == "fast_multiplier" else number / _PER_MILLION
    if base is not None:
        return base._replace(**fields)
    missing = [key for key in ("input", "output") if key not in fields]
    if missing:
        raise PriceOverrideError(
            f'pricing.models."{name}": {" and ".join(missing)} required '
            "for a model that is not in the price table"
        )
    return Prices(**fields)


_TABLES: dict[str, PriceTable] = {}


class PriceTable:
    """Prices by model name: the shipped table plus the user's overrides."""

    def __init__(
        self,
        models: Mapping[str, Prices],
        overrides: Mapping[str, Prices] | None = None,
        *,
        litellm_version: str | None = None,
        retrieved: str | None = None,
    ) -> None:
        self.models = dict(models)
        self.overrides = dict(overrides or {})
        self.litellm_version = litellm_version
        self.retrieved = retrieved
        self._resolved: dict[str, str | None] = {}
        self._dated: dict[str, str] | None = None

    @classmethod
    def load(
        cls, overrides: Mapping[str, Any] | None = None, *, path: str | None = None
    ) -> PriceTable:
        """The shipped table (or the one at ``path``) with ``overrides`` applied.

        ``overrides`` is the config's ``[pricing.models]`` table: model name to a table
        of ``input``, ``output``, ``cache_write``, ``cache_write_1h``, ``cache_read`` and
        ``*_above_200k``/``*_above_272k`` in dollars per million tokens, and
        ``fast_multiplier``.
        Raises :class:`PriceOverrideError` (a ``ValueError``) naming a bad key.
        """
        path = path or _DATA
        base = _TABLES.get(path)
        if base is None:
            import orjson  # lazily: importing orjson costs ~10 ms, and a hook may never price

            try:
                with open(path, "rb") as fh:
                    data = orjson.loads(fh.read())
                models = {
                    str(name): Prices(
                        **{key: fields[key] for key in Prices._fields if key in fields}
                    )
                    for name, fields in data["models"].items()
                }
                version, retrieved = data.get("litellm_version"), data.get("retrieved")
            except OSError as exc:
                raise PriceOverrideError(
                    f"cannot read price table {path}: {exc.strerror}"
                ) from None
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                raise PriceOverrideError(
                    f"price table {path} is not a netsky price table ({type(exc).__name__}: {exc})",
                    hint='expected {"models": {"model-name": {"input": 3e-06, ...}}}, in dollars per token',
                ) from None
            if path != _DATA:
                _check_table(path, models)
            base = _TABLES[path] = cls(models, litellm_version=version, retrieved=retrieved)
        if not overrides:
            return base
        applied: dict[str, Prices] = {}
        for raw_name, values in overrides.items():
            shipped = base.get(str(raw_name))
            applied[_normalized(str(raw_name))] = _apply_override(str(raw_name), shipped, values)
        return cls(
            base.models,
            applied,
            litellm_version=base.litellm_version,
            retrieved=base.retrieved,
        )

    def resolve(self, model: str | None) -> str | None:
        """The table entry priced for ``model``, or ``None`` when unknown.

        Tries the name as given (case-insensitive), then without a provider prefix
        (``anthropic/``), Bedrock/Vertex decorations (``us.anthropic.<id>-v1:0``,
        ``@20250929``), ``[1m]``, dots in Claude versions, then without a date suffix,
        then the newest dated id of an undated name. An override for any of these
        spellings wins over the shipped table.
        """
        if not model or model == SYNTHETIC:
            return None
        if model in self._resolved:
            return self._resolved[model]
        found: str | None = None
        names = _candidates(model)
        for table in (self.overrides, self.models):
            found = next((name for name in names if name in table), None)
            if found is not None:
                break
        else:
            found = self._dated_ids().get(names[-1])
        self._resolved[model] = found
        return found

    def get(self, model: str | None) -> Prices | None:
        """Prices for ``model`` (any spelling :meth:`resolve` accepts), or ``None``."""
        name = self.resolve(model)
        if name is None:
            return None
        return self.overrides.get(name) or self.models[name]

    def cost(self, model: str | None, usage: Usage) -> float | None:
        """Dollars for one API response; ``None`` when the model has no known price."""
        prices = self.get(model)
        return None if prices is None else _price_usage(prices, usage)

    def _dated_ids(self) -> dict[str, str]:
        if self._dated is None:
            dated: dict[str, str] = {}
            for name in sorted({*self.models, *self.overrides}):
                undated = _undated(name)
                if undated != name and not name.endswith("-latest"):
                    dated[undated] = name  # sorted: the newest date wins
            self._dated = dated
        return self._dated


def cost(model: str | None, usage: Usage, table: PriceTable | None = None) -> float | None:
    """Dollars for one API response with the shipped prices (or ``table``)."""
    return (table or PriceTable.load()).cost(model, usage)
