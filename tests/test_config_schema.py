"""Properties of the config file schema: what it accepts round-trips, and an unknown
key anywhere is refused with its key path."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from netsky_core import ConfigError
from netsky_core._config_schema import (
    ConfigFile,
    ModelPrices,
    key_path,
    structure_config,
    unstructure_config,
)
from netsky_core.ingest.pricing import MAX_MULTIPLIER, MAX_PRICE, OVERRIDE_KEYS

names = st.from_regex(r"[a-z][a-z0-9_-]{0,11}", fullmatch=True)
texts = st.text(min_size=1, max_size=20).filter(str.strip)
durations = st.builds(lambda n, u: f"{n}{u}", st.integers(1, 999), st.sampled_from("smhdw"))
patterns = st.sampled_from([r"ACME-[0-9]{6}", r"secret\w+", "plain", r"(?i)token"])
prices = st.fixed_dictionaries(
    {},
    optional={
        key: st.floats(0, MAX_MULTIPLIER if key == "fast_multiplier" else MAX_PRICE)
        for key in OVERRIDE_KEYS
    },
)
scalars = st.one_of(st.integers(), st.booleans(), texts)


def _some(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=fields)


configs = _some(
    machine_id=texts,
    storage=st.builds(
        lambda known, backends: {**backends, **known},
        _some(url=texts, retention=durations),
        st.dictionaries(
            names.filter(lambda n: n not in ("url", "retention")),
            st.dictionaries(names, scalars),
            max_size=2,
        ),
    ),
    plugins=_some(disabled=st.lists(texts, max_size=3)),
    ingest=_some(
        claude_dirs=st.lists(texts, max_size=3),
        codex_dirs=st.lists(texts, max_size=3),
        redact=st.booleans(),
        redact_patterns=st.lists(patterns, max_size=3),
        store_payloads=st.booleans(),
    ),
    hooks=_some(ingest_transcripts=st.booleans()),
    pricing=_some(models=st.dictionaries(texts, prices, max_size=3), file=texts),
    report=_some(timezone=texts),
    sync=_some(to=st.lists(texts, max_size=2), interval=durations),
    serve=_some(
        host=texts, port=st.integers(1, 65535), token=texts, max_body_bytes=st.integers(1, 1 << 30)
    ),
)


@given(configs)
def test_an_accepted_config_round_trips(data: dict[str, Any]) -> None:
    config = structure_config(data, "config.toml")
    plain = unstructure_config(config)
    assert structure_config(plain, "config.toml") == config
    assert unstructure_config(structure_config(plain, "config.toml")) == plain


def _tables(data: dict[str, Any]) -> list[tuple[list[str], dict[str, Any], type]]:
    """Every table of ``data`` with a fixed set of keys: (path, table, its class)."""
    found: list[tuple[list[str], dict[str, Any], type]] = [([], data, ConfigFile)]
    for field in attrs.fields(ConfigFile):
        if attrs.has(field.type if isinstance(field.type, type) else type(field.default)):
            table = data.setdefault(field.name, {})
            found.append(([field.name], table, type(field.default)))
    for model, table in data.get("pricing", {}).get("models", {}).items():
        found.append((["pricing", "models", model], table, ModelPrices))
    return found


@given(configs, st.data())
def test_an_unknown_key_at_any_level_is_refused_with_its_path(
    data: dict[str, Any], draw: st.DataObject
) -> None:
    path, table, cls = draw.draw(st.sampled_from(_tables(data)))
    known = {f.name for f in attrs.fields(cls)}
    key = draw.draw(names.filter(lambda n: n not in known and n not in table))
    table[key] = draw.draw(st.one_of(st.integers(), st.booleans(), st.lists(st.integers())))
    with pytest.raises(ConfigError) as info:
        structure_config(data, "config.toml")
    assert f"config.toml: {key_path([*path, key])}: unknown key" in str(info.value)


@pytest.mark.parametrize(
    ("parts", "text"),
    [
        (["machine_id"], "machine_id"),
        (["storage", "url"], "[storage].url"),
        (["storage", "sqlite", "busy_timeout_ms"], "[storage.sqlite].busy_timeout_ms"),
        (
            ["pricing", "models", "claude-opus-4.6", "input"],
            '[pricing.models."claude-opus-4.6"].input',
        ),
        (["ingest", "claude_dirs", 2], "[ingest].claude_dirs[2]"),
    ],
)
def test_key_paths_are_spelled_as_in_toml(parts: list[str | int], text: str) -> None:
    assert key_path(parts) == text


def test_sync_targets_are_one_url_or_a_list() -> None:
    one = structure_config({"sync": {"to": "postgresql://db/netsky"}}, "config.toml")
    assert one.sync.to == ("postgresql://db/netsky",)
    many = structure_config({"sync": {"to": ["sqlite:///a.db", "sqlite:///b.db"]}}, "c.toml")
    assert many.sync.to == ("sqlite:///a.db", "sqlite:///b.db")
    with pytest.raises(ConfigError, match=r"\[sync\]\.to: expected a store URL"):
        structure_config({"sync": {"to": " "}}, "config.toml")


def test_serve_port_is_checked() -> None:
    with pytest.raises(ConfigError, match=r"\[serve\]\.port: expected a port from 1 to 65535"):
        structure_config({"serve": {"port": 70000}}, "config.toml")
    with pytest.raises(ConfigError, match=r"\[serve\]\.port: expected a port number"):
        structure_config({"serve": {"port": "4318"}}, "config.toml")
