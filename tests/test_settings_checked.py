"""The fast path validates a config file by the typed schema once per version of it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import netsky_core._config_schema as schema
from netsky_core import ConfigError
from netsky_core._settings import light_settings


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """The paths ``structure_config`` validated, with a private state dir."""
    for name in ("NETSKY_HOME", "NETSKY_CONFIG", "NETSKY_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    seen: list[str] = []
    real = schema.structure_config

    def counting(data, path):
        seen.append(str(path))
        return real(data, path)

    monkeypatch.setattr(schema, "structure_config", counting)
    return seen


def _config(path: Path, day_usd: int) -> str:
    path.write_text(f'[storage]\nurl = "sqlite:///x.db"\n[budget]\nday_usd = {day_usd}\n')
    return str(path)


def test_an_unchanged_file_is_validated_once(checks: list[str], tmp_path: Path) -> None:
    path = _config(tmp_path / "a.toml", 5)
    for _ in range(3):
        assert light_settings(config_path=path).section("budget") == {"day_usd": 5}
    assert checks == [path]


def test_two_files_in_turn_are_each_validated_once(checks: list[str], tmp_path: Path) -> None:
    a, b = _config(tmp_path / "a.toml", 5), _config(tmp_path / "b.toml", 7)
    for _ in range(3):
        light_settings(config_path=a)
        light_settings(config_path=b)
    assert checks == [a, b]


def test_an_edited_file_is_validated_again(checks: list[str], tmp_path: Path) -> None:
    path = _config(tmp_path / "a.toml", 5)
    light_settings(config_path=path)
    Path(path).write_text('[budget]\nday_usd = "lots"\n')
    os.utime(path, ns=(1, 1))
    with pytest.raises(ConfigError):
        light_settings(config_path=path)
    with pytest.raises(ConfigError):  # a file that failed is never noted as checked
        light_settings(config_path=path)
    assert checks == [path, path, path]


def test_a_noted_file_is_read_from_the_note_without_parsing_toml(
    checks: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tomllib

    path = _config(tmp_path / "a.toml", 5)
    first = light_settings(config_path=path).data

    def refuse(*args, **kwargs):
        raise AssertionError("parsed the TOML again")

    monkeypatch.setattr(tomllib, "loads", refuse)
    assert light_settings(config_path=path).data == first
    note = tmp_path / "state" / "netsky" / "config-checked"
    assert note.stat().st_mode & 0o777 == 0o600
