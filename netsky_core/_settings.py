"""Where each setting comes from, in the standard library only.

The precedence rules of :mod:`netsky_core._config` (which file, which storage URL,
which machine id) live here, so that a process on the agent's fast path (the
statusline, the budget check of a hook) resolves them exactly as every other command
does without importing attrs or cattrs. ``Config`` is built on these functions.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

__all__ = [
    "ENV_CONFIG",
    "ENV_MACHINE",
    "ENV_URL",
    "LightSettings",
    "config_file",
    "default_config_file",
    "default_storage_url",
    "light_settings",
    "read_toml",
    "storage_url",
    "stored_machine_id",
]

ENV_URL = "NETSKY_DATABASE_URL"
ENV_CONFIG = "NETSKY_CONFIG"
ENV_MACHINE = "NETSKY_MACHINE_ID"
_CHECKED = "config-checked"
_CHECKED_KEEP = 16  # config files (or versions of one) noted as validated


def default_config_file() -> str:
    from ._paths import _config

    return os.path.join(_config(), "config.toml")


def default_storage_url() -> str:
    """``sqlite:///`` URL of the default store in the user data dir."""
    from ._paths import _data

    return "sqlite:///" + os.path.join(_data(), "netsky.db")


def config_file(config_path: str | os.PathLike[str] | None, env: Mapping[str, str]) -> str | None:
    """The config file to read: ``--config``, else ``NETSKY_CONFIG``, else the default
    file when it exists; None when there is none. A named file must exist (the reader
    says so); the default one is optional."""
    if config_path is not None:
        return os.path.expanduser(os.fspath(config_path))
    if env.get(ENV_CONFIG):
        return os.path.expanduser(env[ENV_CONFIG])
    default = default_config_file()
    return default if os.path.isfile(default) else None


def storage_url(
    db_url: str | None, env: Mapping[str, str], data: Mapping[str, Any], path: str | None
) -> tuple[str, str, str]:
    """(URL, origin, source): ``--db``, ``NETSKY_DATABASE_URL``, the file, the default."""
    storage = data.get("storage", {})
    if db_url:
        return db_url, "flag", "--db"
    if env.get(ENV_URL):
        return env[ENV_URL], "env", ENV_URL
    if isinstance(storage, dict) and storage.get("url"):
        return storage["url"], "file", str(path)
    return default_storage_url(), "default", "user data dir"


def stored_machine_id(
    env: Mapping[str, str], data: Mapping[str, Any]
) -> tuple[str, str, str] | None:
    """(id, origin, source) of this machine when it is already decided: the
    environment, the config file, else the id file in the data dir; None when none
    was generated yet (or the environment's is blank: the caller reports that)."""
    if env.get(ENV_MACHINE):
        if not env[ENV_MACHINE].strip():
            return None
        return env[ENV_MACHINE], "env", ENV_MACHINE
    if isinstance(data.get("machine_id"), str):
        return data["machine_id"], "file", "config"
    from ._paths import _data

    path = os.path.join(_data(), "machine-id")
    try:
        with open(path, encoding="utf-8") as fh:
            value = fh.read().strip()
    except OSError:
        return None
    return (value, "default", path) if value else None


class LightSettings:
    """The settings a fast-path process needs: the config file's tables, the storage
    URL and the machine id (None: not decided yet)."""

    __slots__ = ("data", "machine_id", "path", "url")

    def __init__(
        self, path: str | None, data: dict[str, Any], url: str, machine_id: str | None
    ) -> None:
        self.path = path
        self.data = data
        self.url = url
        self.machine_id = machine_id

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name, {})
        return dict(value) if isinstance(value, dict) else {}


def light_settings(
    db_url: str | None = None,
    config_path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> LightSettings:
    """The settings as :func:`netsky_core.load_config` resolves them, read with the
    standard library. The file is validated by the typed schema once per version of
    it (its path, size and modification time are noted in the state dir), so an
    unchanged file costs only its TOML parse. Raises ``ConfigError`` as
    ``load_config`` does."""
    env = os.environ if environ is None else environ
    path = config_file(config_path, env)
    data: dict[str, Any] = {}
    if path is not None:
        data = _read_checked(path)
    url = storage_url(db_url, env, data, path)[0]
    found = stored_machine_id(env, data)
    return LightSettings(path, data, url, None if found is None else found[0])


def _read_checked(path: str) -> dict[str, Any]:
    """The tables of the config file at ``path``. A file validated before (same path,
    size and modification time) comes from the note made then, as JSON: no TOML parse,
    no ``tomllib`` import (a hook with a budget reads its config on every event)."""
    try:
        st = os.stat(path)
    except OSError:  # not found, unreadable: the full reader says why
        return read_toml(path)
    stamp = _stamp(path, st)
    from ._paths import state_path

    stamp_file = os.path.join(state_path(), _CHECKED)
    stamps: list[str] = []
    try:
        with open(stamp_file, encoding="utf-8") as fh:
            stamps = fh.read().splitlines(keepends=True)
    except OSError:
        pass
    from ._jsonc import dumps, loads  # not ``json``: see there

    for line in stamps:
        if line.startswith(stamp):
            try:
                known = loads(line[len(stamp) :])
            except ValueError:
                break  # an older note, or a torn one: parse the file
            if isinstance(known, dict):
                return known
            break
    import tomllib

    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            raw = fh.read()
        data = tomllib.loads(raw.decode("utf-8"))
    except (OSError, ValueError):  # unreadable, not TOML: the full reader says why
        return read_toml(path)
    if data:
        from ._config_schema import structure_config

        structure_config(data, path)
    try:
        note = dumps(data, compact=True)
    except (TypeError, ValueError):
        return data  # a TOML date or time: parsed every time, like a file never noted
    stamp = _stamp(path, st)  # (of the bytes read)
    same_file = stamp.split("\0", 1)[0] + "\0"
    others = [line for line in stamps if not line.startswith(same_file)]
    try:
        from ._paths import ensure_private_dir, replace_private_file

        ensure_private_dir(state_path())
        text = "".join([*others[-(_CHECKED_KEEP - 1) :], f"{stamp}{note}\n"])
        # 0600: it holds the config; the newest few files, newest last
        replace_private_file(stamp_file, text.encode("utf-8"))
    except (OSError, UnicodeError):  # a full disk, a path that is not UTF-8
        pass  # validated again next time
    return data


def _stamp(path: str, st: os.stat_result) -> str:
    """What a note of a validated config file starts with: its path, size and mtime."""
    return f"{os.path.abspath(path)}\0{st.st_size}\0{st.st_mtime_ns}\0"


def _config_error(message: str, hint: str | None = None) -> Exception:
    from ._errors import ConfigError

    return ConfigError(message, hint=hint)


def read_toml(path: str) -> dict[str, Any]:
    """The tables of the config file at ``path``, validated by the typed schema;
    ``ConfigError`` saying what is wrong."""
    import tomllib

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise _config_error(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise _config_error(f"cannot parse config file {path}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise _config_error(
            f"cannot read config file {path}: not UTF-8 text (byte {exc.start})",
            hint="TOML files are UTF-8; re-save it in that encoding",
        ) from None
    except OSError as exc:
        raise _config_error(f"cannot read config file {path}: {exc.strerror}") from None
    if data:
        from ._config_schema import structure_config  # cattrs: only when there is a file

        structure_config(data, path)
    return data
