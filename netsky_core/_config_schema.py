"""The config file as one typed schema: frozen attrs classes structured by cattrs.

Unknown keys are refused (with the closest known key as a suggestion), values are
checked strictly (a TOML string is never read as a number, a number never as a
string), and an error names the key path (``[storage].busy_timeout_ms``) and what is
expected. ``[storage.<scheme>]`` tables are kept as given here; the backend serving
the scheme declares which options it takes (:func:`check_backend_options`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NewType

import attrs
import cattrs
from cattrs.errors import ForbiddenExtraKeysError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._durations import parse_duration
from ._errors import ConfigError
from .ingest.pricing import OVERRIDE_KEYS, price_problem

__all__ = [
    "ConfigFile",
    "check_backend_options",
    "structure_config",
    "unstructure_config",
]

NonEmpty = NewType("NonEmpty", str)
Duration = NewType("Duration", str)
Wait = NewType("Wait", str)  # a duration that may be zero ("0s": no wait)
Pattern = NewType("Pattern", str)
Price = NewType("Price", float)
Amount = NewType("Amount", float)  # a positive number of dollars
TokenCount = NewType("TokenCount", int)  # a positive whole number of tokens
BudgetMode = NewType("BudgetMode", str)  # "warn" or "block"
StatusFormat = NewType("StatusFormat", str)  # a statusline format
Multiplier = NewType("Multiplier", float)


class Invalid(ValueError):
    """One bad value: what was expected, at ``where`` below the current key."""

    def __init__(
        self, message: str, where: Sequence[str | int] = (), cause: BaseException | None = None
    ) -> None:
        super().__init__(message)
        self.where = list(where)
        self.cause = cause  # an error inside the value at ``where``


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _strict(kind: type, expected: str) -> Callable[[Any, Any], Any]:
    def hook(value: Any, _type: Any) -> Any:
        if isinstance(value, bool) is not (kind is bool) or not isinstance(value, kind):
            raise Invalid(f"expected {expected}, got {_kind(value)}")
        return value

    return hook


def _number(value: Any, _type: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(f"expected a number, got {_kind(value)}")
    return float(value)


def _checked(base: Callable[[Any, Any], Any], check: Callable[[Any], str | None]) -> Any:
    def hook(value: Any, type_: Any) -> Any:
        value = base(value, type_)
        problem = check(value)
        if problem:
            raise Invalid(problem)
        return value

    return hook


def _duration_problem(value: str, *, allow_zero: bool = False) -> str | None:
    try:
        parse_duration(value, allow_zero=allow_zero)
    except ConfigError as exc:
        return f"expected a duration such as 30d or 12h ({exc})"
    return None


def _pattern_problem(value: str) -> str | None:
    try:
        re.compile(value)
    except re.error as exc:
        return f"expected a regular expression, got {value!r} ({exc})"
    return None


def _format_problem(value: str) -> str | None:
    from .live.line import check_format

    return check_format(value)


def _strings(value: Any, _type: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise Invalid(f"expected a list of strings, got {_kind(value)}")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise Invalid(f"expected a string, got {_kind(item)}", [i])
    return tuple(value)


def _targets(value: Any, _type: Any) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else _strings(value, _type)
    for i, item in enumerate(items):
        if not item.strip():
            raise Invalid(
                "expected a store URL, got an empty string", [] if isinstance(value, str) else [i]
            )
    return tuple(items)


def _port(value: Any, _type: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"expected a port number, got {_kind(value)}")
    if not 0 < value < 65536:
        raise Invalid(f"expected a port from 1 to 65535, got {value}")
    return value


def _patterns(value: Any, _type: Any) -> tuple[str, ...]:
    items = _strings(value, _type)
    for i, item in enumerate(items):
        problem = _pattern_problem(item)
        if problem:
            raise Invalid(problem, [i])
    return items


# -- the schema ---------------------------------------------------------------------

Strings = NewType("Strings", tuple)  # a list of strings
Patterns = NewType("Patterns", tuple)  # ... of regular expressions


def _price_type(key: str) -> Any:
    """The annotation of one ``[pricing.models."name"]`` key (a union, not a class)."""
    return (Multiplier if key == "fast_multiplier" else Price) | None


ModelPrices = attrs.make_class(
    "ModelPrices",
    {key: attrs.field(default=None, type=_price_type(key)) for key in OVERRIDE_KEYS},
    frozen=True,
)
ModelPrices.__doc__ = '``[pricing.models."name"]``: dollars per million tokens.'


@attrs.frozen
class StorageSection:
    url: NonEmpty | None = None
    retention: Duration | None = None
    backends: dict[str, dict[str, Any]] = attrs.Factory(dict)  # [storage.<scheme>]


@attrs.frozen
class PluginsSection:
    disabled: Strings = attrs.field(default=())  # type: ignore[assignment]


@attrs.frozen
class IngestSection:
    claude_dirs: Strings = attrs.field(default=())  # type: ignore[assignment]
    codex_dirs: Strings = attrs.field(default=())  # type: ignore[assignment]
    redact: bool = False
    redact_patterns: Patterns = attrs.field(default=())  # type: ignore[assignment]
    store_payloads: bool = True


@attrs.frozen
class HooksSection:
    ingest_transcripts: bool = True
    ingest_pending_on_start: bool = False  # read all new history after a SessionStart
    drainer_linger: Wait | None = None  # how long a drainer waits for more events (30s)


@attrs.frozen
class PricingSection:
    models: dict[str, ModelPrices] = attrs.Factory(dict)  # type: ignore[valid-type]
    file: NonEmpty | None = None


@attrs.frozen
class AnalyticsSection:
    mirror: bool = True


@attrs.frozen
class ReportSection:
    timezone: NonEmpty | None = None


Targets = NewType("Targets", tuple)  # one URL or a list of URLs
Port = NewType("Port", int)


@attrs.frozen
class SyncSection:
    to: Targets = attrs.field(default=())  # type: ignore[assignment]
    interval: Duration | None = None


@attrs.frozen
class ServeSection:
    host: NonEmpty | None = None
    port: Port | None = None
    token: NonEmpty | None = None
    max_body_bytes: int | None = None


@attrs.frozen
class SessionsSection:
    idle_timeout: Duration | None = None  # a session with no event for this long has ended


@attrs.frozen
class StatuslineSection:
    format: StatusFormat | None = None
    color: bool = True


@attrs.frozen
class BudgetLimits:
    """``[budget.project."<name or path>"]`` / ``[budget.branch."<name or glob>"]``:
    the limits of one project or branch."""

    session_usd: Amount | None = None
    session_tokens: TokenCount | None = None
    day_usd: Amount | None = None
    day_tokens: TokenCount | None = None
    week_usd: Amount | None = None
    week_tokens: TokenCount | None = None
    month_usd: Amount | None = None
    month_tokens: TokenCount | None = None


ProjectBudgets = NewType("ProjectBudgets", dict)  # [budget.project."<name or path>"] tables
BranchBudgets = NewType("BranchBudgets", dict)  # [budget.branch."<name or glob>"] tables


@attrs.frozen
class BudgetSection(BudgetLimits):
    """Limits per period in USD (``*_usd``) or tokens (``*_tokens``), for the whole
    store and per project or branch."""

    mode: BudgetMode = attrs.field(default="warn")  # type: ignore[assignment]
    project: ProjectBudgets = attrs.field(factory=dict)  # type: ignore[assignment]
    branch: BranchBudgets = attrs.field(factory=dict)  # type: ignore[assignment]


@attrs.frozen
class ConfigFile:
    """The whole config file, validated."""

    machine_id: NonEmpty | None = None
    storage: StorageSection = StorageSection()
    plugins: PluginsSection = PluginsSection()
    ingest: IngestSection = IngestSection()
    hooks: HooksSection = HooksSection()
    pricing: PricingSection = PricingSection()
    report: ReportSection = ReportSection()
    analytics: AnalyticsSection = AnalyticsSection()
    sync: SyncSection = SyncSection()
    serve: ServeSection = ServeSection()
    sessions: SessionsSection = SessionsSection()
    statusline: StatuslineSection = StatuslineSection()
    budget: BudgetSection = BudgetSection()


def _tables(converter: cattrs.Converter) -> Callable[[type], Any]:
    """Structure attrs classes from tables only, unknown keys refused."""

    def factory(cl: type) -> Any:
        inner: Callable[[Mapping[str, Any], Any], Any]
        if cl is StorageSection:
            inner = make_dict_structure_fn(
                cl, converter, _cattrs_forbid_extra_keys=True, backends=override(omit=True)
            )
        else:
            inner = make_dict_structure_fn(cl, converter, _cattrs_forbid_extra_keys=True)

        def hook(value: Any, type_: Any) -> Any:
            if not isinstance(value, Mapping):
                raise Invalid(f"expected a table, got {_kind(value)}")
            if cl is not StorageSection:
                return inner(value, type_)
            keys = {f.name for f in attrs.fields(StorageSection)} - {"backends"}
            backends = {k: dict(v) for k, v in value.items() if k not in keys and _is_table(v)}
            rest = {k: v for k, v in value.items() if k not in backends}
            return attrs.evolve(inner(rest, type_), backends=backends)

        return hook

    return factory


def _is_table(value: Any) -> bool:
    return isinstance(value, Mapping)


def _mapping_of(cl: type) -> Callable[[Any, Any], dict[str, Any]]:
    def hook(value: Any, _type: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise Invalid(f"expected a table, got {_kind(value)}")
        out: dict[str, Any] = {}
        for key, item in value.items():
            try:
                out[str(key)] = _converter.structure(item, cl)
            except Exception as exc:
                raise Invalid("", [str(key)], exc) from None
        return out

    return hook


def _project_problem(name: str) -> str | None:
    if not name.strip():
        return "expected a project name or path, got an empty string"
    if "/" in name or "\\" in name or name.startswith("~"):
        import os.path

        if not os.path.isabs(os.path.expanduser(name)):
            return (
                f"a project path must be absolute (or start with ~), got {name!r}; "
                "a bare name such as 'widgets' names every directory of that name"
            )
    return None


def _branch_problem(name: str) -> str | None:
    if not name.strip():
        return "expected a branch name or glob, got an empty string"
    return None


def _budget_tables(check: Callable[[str], str | None]) -> Callable[[Any, Any], dict[str, Any]]:
    """``[budget.<scope>."<name>"]`` tables: each a table of limits that sets one."""

    def hook(value: Any, _type: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise Invalid(f"expected a table, got {_kind(value)}")
        out: dict[str, Any] = {}
        for key, item in value.items():
            problem = check(str(key))
            if problem:
                raise Invalid(problem, [str(key)])
            try:
                limits = _converter.structure(item, BudgetLimits)
            except Exception as exc:
                raise Invalid("", [str(key)], exc) from None
            if limits == BudgetLimits():
                raise Invalid(
                    "sets no limit (add day_usd = 5.0 or another *_usd / *_tokens key)",
                    [str(key)],
                )
            out[str(key)] = limits
        return out

    return hook


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    conv.register_structure_hook(str, _strict(str, "a string"))
    conv.register_structure_hook(bool, _strict(bool, "true or false"))
    conv.register_structure_hook(int, _strict(int, "an integer"))
    conv.register_structure_hook(float, _number)
    conv.register_structure_hook(
        NonEmpty,
        _checked(
            _strict(str, "a string"), lambda v: "" if v.strip() else "expected a non-empty string"
        ),
    )
    conv.register_structure_hook(Duration, _checked(_strict(str, "a string"), _duration_problem))
    conv.register_structure_hook(
        Wait,
        _checked(_strict(str, "a string"), lambda v: _duration_problem(v, allow_zero=True)),
    )
    conv.register_structure_hook(Price, _checked(_number, lambda v: price_problem("input", v)))
    conv.register_structure_hook(
        Multiplier, _checked(_number, lambda v: price_problem("fast_multiplier", v))
    )
    conv.register_structure_hook(Strings, _strings)
    conv.register_structure_hook(
        Amount,
        _checked(
            _number,
            lambda v: None if 0 < v < float("inf") else f"expected a positive amount, got {v!r}",
        ),
    )
    conv.register_structure_hook(
        TokenCount,
        _checked(
            _strict(int, "a whole number of tokens"),
            lambda v: None if v > 0 else f"expected a positive number of tokens, got {v!r}",
        ),
    )
    conv.register_structure_hook(
        BudgetMode,
        _checked(
            _strict(str, "a string"),
            lambda v: None if v in ("warn", "block") else f'expected "warn" or "block", got {v!r}',
        ),
    )
    conv.register_structure_hook(StatusFormat, _checked(_strict(str, "a string"), _format_problem))
    conv.register_structure_hook(ProjectBudgets, _budget_tables(_project_problem))
    conv.register_structure_hook(BranchBudgets, _budget_tables(_branch_problem))
    conv.register_structure_hook(Patterns, _patterns)
    conv.register_structure_hook(Targets, _targets)
    conv.register_structure_hook(Port, _port)
    conv.register_structure_hook_func(
        lambda t: t == dict[str, ModelPrices],  # type: ignore[valid-type]
        _mapping_of(ModelPrices),
    )
    conv.register_structure_hook_func(
        lambda t: t == dict[str, dict[str, Any]], lambda v, _t: {k: dict(x) for k, x in v.items()}
    )
    conv.register_structure_hook_factory(attrs.has, _tables(conv))
    conv.register_unstructure_hook(
        StorageSection,
        lambda s: {
            **make_dict_unstructure_fn(
                StorageSection, conv, _cattrs_omit_if_default=True, backends=override(omit=True)
            )(s),
            **s.backends,
        },
    )
    conv.register_unstructure_hook_factory(
        lambda t: attrs.has(t) and t is not StorageSection,
        lambda cl: make_dict_unstructure_fn(cl, conv, _cattrs_omit_if_default=True),
    )
    return conv


_converter = _make_converter()


# -- errors -------------------------------------------------------------------------

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def key_path(parts: Sequence[str | int]) -> str:
    """``["storage", "sqlite", "busy_timeout_ms"]`` -> ``[storage.sqlite].busy_timeout_ms``."""
    names = [p if isinstance(p, int) or _BARE.match(p) else f'"{p}"' for p in parts]
    if not names:
        return "the file"
    *tables, leaf = names
    leaf_text = f"[{leaf}]" if isinstance(leaf, int) else str(leaf)
    if tables and isinstance(names[-1], int):
        *tables, key = tables
        leaf_text = f"{key}[{leaf}]"
    return (f"[{'.'.join(map(str, tables))}]." if tables else "") + leaf_text


def _suggest(unknown: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(unknown, list(known), n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return "known keys here: " + ", ".join(sorted(known))


def _note_key(exc: BaseException) -> str | int | None:
    for note in getattr(exc, "__notes__", ()):
        for attr in ("name", "index"):
            value = getattr(note, attr, None)
            if value is not None:
                return value
    return None


def _first(exc: BaseException, path: list[str | int]) -> tuple[list[str | int], str, str | None]:
    """(key path, message, hint) of the first error inside a cattrs error tree."""
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            key = _note_key(inner)
            return _first(inner, path if key is None else [*path, key])
    if isinstance(exc, ForbiddenExtraKeysError):
        known = [f.name for f in attrs.fields(exc.cl) if f.name != "backends"]
        unknown = sorted(exc.extra_fields)[0]
        return [*path, unknown], "unknown key", _suggest(unknown, known)
    if isinstance(exc, Invalid):
        if exc.cause is not None:
            return _first(exc.cause, [*path, *exc.where])
        return [*path, *exc.where], str(exc), None
    # an attrs validator of a backend's options: "'name' must be ...: value"
    named = _VALIDATOR_MESSAGE.match(str(exc.args[0]) if exc.args else "")
    if isinstance(exc, ValueError | TypeError) and named:
        return [*path, named[1]], named[2], None
    return path, f"{type(exc).__name__}: {exc}", None


_VALIDATOR_MESSAGE = re.compile(r"^'([^']+)' (.*)$", re.DOTALL)


def _raise(exc: Exception, source: str, prefix: Sequence[str | int] = ()) -> None:
    path, message, hint = _first(exc, list(prefix))
    raise ConfigError(f"{source}: {key_path(path)}: {message}", hint=hint) from None


def structure_config(data: Mapping[str, Any], source: str) -> ConfigFile:
    """The validated config file (``source`` names it in errors)."""
    try:
        return _converter.structure(data, ConfigFile)
    except Exception as exc:
        _raise(exc, source)
        raise  # unreachable


def unstructure_config(config: ConfigFile) -> dict[str, Any]:
    """``config`` as the tables of a config file (defaults left out)."""
    return _converter.unstructure(config)


Seconds = NewType("Seconds", float)


@attrs.frozen
class StandardOptions:
    """The options every backend factory accepts (``hookspecs``)."""

    read_only: bool = False
    migrate: bool = True
    timeout: Seconds | None = None


def _seconds_problem(value: float) -> str | None:
    if value > 0 and value != float("inf"):
        return None
    return f"expected a positive number of seconds, got {value!r}"


_converter.register_structure_hook(Seconds, _checked(_number, _seconds_problem))


_WITH_STANDARD: dict[type, type] = {}


def check_backend_options(
    options_class: type, values: Mapping[str, Any], scheme: str, source: str
) -> None:
    """Check ``[storage.<scheme>]`` against the standard options and the attrs class of
    options its backend declares; unknown keys are refused."""
    combined = _WITH_STANDARD.get(options_class)
    if combined is None:
        standard = {
            f.name: attrs.field(default=f.default, type=f.type)
            for f in attrs.fields(StandardOptions)
        }
        combined = attrs.make_class(
            options_class.__name__, standard, bases=(options_class,), frozen=True
        )
        _WITH_STANDARD[options_class] = combined
    try:
        _converter.structure(dict(values), combined)
    except Exception as exc:
        _raise(exc, source, ["storage", scheme])
