"""Configuration: where each setting comes from.

Order for the storage URL: explicit argument / ``--db`` flag, then
``NETSKY_DATABASE_URL``, then ``[storage] url`` in the config file, then the default
SQLite file in the user data dir. The config file is ``--config PATH``, else
``NETSKY_CONFIG``, else ``config.toml`` in the user config dir (optional).

Recognised keys (the typed schema is ``_config_schema``; anything else in the file is
an error, so typos do not go unseen)::

    machine_id = "laptop-3f2a"          # default: generated once, kept in the data dir

    [storage]
    url = "sqlite:////home/me/netsky.db"
    retention = "90d"                   # default for `netsky gc`
    [storage.sqlite]                    # options for one backend, by URL scheme
    synchronous = "NORMAL"

    [plugins]
    disabled = ["some-plugin"]

    [ingest]
    claude_dirs = ["~/.claude"]         # extra roots; CLAUDE_CONFIG_DIR etc. still apply
    codex_dirs = ["~/.codex"]
    redact = false                      # redact credentials in payloads at ingest
    redact_patterns = []                # extra regular expressions to redact
    store_payloads = true

    [hooks]
    ingest_transcripts = true           # ingest transcript_path on Stop/SubagentStop/...

    [pricing.models."model-name"]       # $ per million tokens, overrides the shipped table
    input = 3.0
    output = 15.0
    cache_write = 3.75
    cache_write_1h = 6.0
    cache_read = 0.3
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ._errors import ConfigError
from ._paths import config_dir, data_dir, ensure_private_dir

__all__ = ["Config", "Setting", "default_storage_url", "load_config", "resolve_machine_id"]

ENV_URL = "NETSKY_DATABASE_URL"
ENV_CONFIG = "NETSKY_CONFIG"
ENV_MACHINE = "NETSKY_MACHINE_ID"
ENV_DISABLE = "NETSKY_DISABLE_PLUGINS"


@attrs.frozen
class Setting:
    """A resolved setting and where it came from (``flag``, ``env``, ``file``, ``default``)."""

    name: str
    value: Any
    origin: str
    source: str

    def __repr__(self) -> str:
        from ._urls import mask_url

        value = mask_url(self.value) if isinstance(self.value, str) else self.value
        return f"Setting(name={self.name!r}, value={value!r}, origin={self.origin!r}, source={self.source!r})"


def default_storage_url() -> str:
    """``sqlite:///`` URL of the default store in the user data dir."""
    from ._settings import default_storage_url as default

    return default()


def _read_toml(path: Path) -> dict[str, Any]:
    from ._settings import read_toml

    return read_toml(str(path))


@attrs.frozen
class Config:
    """The resolved configuration of one netsky invocation."""

    path: Path | None
    default_path: Path
    data: Mapping[str, Any] = attrs.field(repr=False)  # may hold a URL with a password
    storage_url: Setting
    retention: Setting
    environ: Mapping[str, str] = attrs.field(repr=False)

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name, {})
        return dict(value) if isinstance(value, dict) else {}

    def backend_options(self, scheme: str) -> dict[str, Any]:
        """Options of ``[storage.<scheme>]`` (and of its aliases: ``[storage.postgres]``
        holds options of ``postgresql://`` URLs too)."""
        from ._urls import SCHEME_ALIASES

        storage = self.section("storage")
        names = [alias for alias, real in SCHEME_ALIASES.items() if real == scheme] + [scheme]
        options: dict[str, Any] = {}
        for name in names:
            value = storage.get(name)
            if isinstance(value, dict):
                options.update(value)
        return options

    def disabled_plugins(self) -> frozenset[str]:
        names = set(self.section("plugins").get("disabled", []))
        env = self.environ.get(ENV_DISABLE, "")
        names.update(n.strip() for n in env.split(",") if n.strip())
        return frozenset(names)


def load_config(
    *,
    db_url: str | None = None,
    config_path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Resolve configuration from the flag values, the environment and the file."""
    from ._settings import config_file, storage_url

    env = os.environ if environ is None else environ
    default_path = config_dir() / "config.toml"
    found = config_file(config_path, env)
    path = None if found is None else Path(found)
    data = {} if path is None else _read_toml(path)

    storage = data.get("storage", {})
    url = Setting(
        "storage.url", *storage_url(db_url, env, data, None if path is None else str(path))
    )

    if storage.get("retention"):
        retention = Setting("storage.retention", storage["retention"], "file", str(path))
    else:
        retention = Setting("storage.retention", None, "default", "none (gc needs --retention)")
    return Config(
        path=path,
        default_path=default_path,
        data=data,
        storage_url=url,
        retention=retention,
        environ=env,
    )


def resolve_machine_id(config: Config | None = None) -> Setting:
    """This machine's id: ``NETSKY_MACHINE_ID``, the config file, else a stable
    generated id (short host name plus a random suffix) kept in the data dir."""
    env = os.environ if config is None else config.environ
    if env.get(ENV_MACHINE):
        if not env[ENV_MACHINE].strip():
            raise ConfigError(
                f"{ENV_MACHINE} is blank", hint="unset it, or set it to a name for this machine"
            )
        return Setting("machine_id", env[ENV_MACHINE], "env", ENV_MACHINE)
    if config is not None and isinstance(config.data.get("machine_id"), str):
        return Setting("machine_id", config.data["machine_id"], "file", str(config.path))
    path = data_dir() / "machine-id"
    try:
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return Setting("machine_id", value, "default", str(path))
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ConfigError(f"cannot read machine id file {path}: {exc.strerror}") from None
    import socket

    host = (socket.gethostname().split(".")[0] or "machine").lower()
    value = f"{host}-{os.urandom(3).hex()}"
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".machine-id.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    try:
        os.link(tmp, path)  # first writer wins, even across concurrent processes
    except FileExistsError:
        value = path.read_text(encoding="utf-8").strip() or value
    finally:
        tmp.unlink(missing_ok=True)
    return Setting("machine_id", value, "default", str(path))


_DEFAULTS = {
    "plugins.disabled": "every installed plugin enabled",
    "ingest.claude_dirs": "no extra roots; CLAUDE_CONFIG_DIR, ~/.claude, ~/.config/claude always apply",
    "ingest.codex_dirs": "no extra roots; CODEX_HOME or ~/.codex always applies",
    "ingest.redact_patterns": "no extra patterns",
    "pricing.models": "no price overrides",
    "pricing.file": "the bundled price table",
    "report.timezone": "the system time zone",
}
"""What an unset setting means, where ``none`` alone would not say."""


def all_settings(config: Config) -> list[Setting]:
    """Every setting the config file may hold, resolved: its value (``None`` when
    unset) and where it came from. ``storage.url``, ``storage.retention`` and
    ``machine_id`` as resolved for this invocation; ``[storage.<scheme>]`` options
    only as the file gives them."""
    import attrs as _attrs

    from ._config_schema import ConfigFile, structure_config

    parsed = structure_config(config.data, str(config.path)) if config.data else ConfigFile()
    where = str(config.path)
    settings = [config.storage_url, config.retention, resolve_machine_id(config)]
    handled = {"storage.url", "storage.retention", "machine_id", "storage.backends"}
    for section in _attrs.fields(ConfigFile):
        value = getattr(parsed, section.name)
        if not _attrs.has(type(value)):
            continue
        given = config.section(section.name)
        for field in _attrs.fields(type(value)):
            name = f"{section.name}.{field.name}"
            if name in handled:
                continue
            item = getattr(value, field.name)
            if isinstance(item, dict):
                item = sorted(item) or None
            elif isinstance(item, tuple):
                item = list(item) or None
            if name == "plugins.disabled":
                names = sorted(config.disabled_plugins())
                if config.environ.get(ENV_DISABLE, "").strip():
                    settings.append(Setting(name, names, "env", ENV_DISABLE))
                    continue
            if field.name in given:
                settings.append(Setting(name, item, "file", where))
            else:
                settings.append(Setting(name, item, "default", _DEFAULTS.get(name, "built in")))
    for scheme, options in sorted(parsed.storage.backends.items()):
        for key, item in sorted(options.items()):
            settings.append(Setting(f"storage.{scheme}.{key}", item, "file", where))
    return settings
