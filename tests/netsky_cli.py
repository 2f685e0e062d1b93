"""Running the installed ``netsky`` executable in an isolated environment (CLI tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

NETSKY = Path(os.environ.get("NETSKY_TEST_NETSKY") or Path(sys.executable).with_name("netsky"))


class Result:
    """One finished ``netsky`` run."""

    def __init__(self, args: list[str], proc: subprocess.CompletedProcess[str]) -> None:
        self.args = args
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def json(self) -> Any:
        return orjson.loads(self.stdout)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __repr__(self) -> str:
        return (
            f"<netsky {self.args} rc={self.returncode}\n"
            f"stdout={self.stdout[:2000]!r}\nstderr={self.stderr[:2000]!r}>"
        )


class Netsky:
    """Runs ``netsky`` with ``HOME`` and ``NETSKY_HOME`` in ``root``, no ``NETSKY_*`` or
    XDG variables from outside, UTC, a fixed machine id; ``drop`` removes more
    variables, ``extra_env`` adds some."""

    def __init__(
        self,
        root: Path,
        *,
        drop: Iterable[str] = (),
        extra_env: Mapping[str, str] | None = None,
        timeout: float = 120,
    ) -> None:
        self.root = root
        self.timeout = timeout
        home = root / "home"
        home.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("NETSKY_")}
        for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", *drop):
            env.pop(name, None)
        env.update(
            NETSKY_DRAINER_LINGER="0s",  # see the root conftest.py
            HOME=str(home),
            NETSKY_HOME=str(root / "netsky-home"),
            NETSKY_MACHINE_ID="test-machine",
            TZ="UTC",
            **(extra_env or {}),
        )
        self.env = env

    def popen(self, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(NETSKY), *args],
            cwd=self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **kwargs,
        )

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        timeout: float | None = None,
        env: dict[str, str] | None = None,
    ) -> Result:
        proc = subprocess.run(
            [str(NETSKY), *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout or self.timeout,
        )
        return Result(list(args), proc)

    def ok(self, *args: str, **kwargs: Any) -> Result:
        """Run and require exit code 0."""
        result = self(*args, **kwargs)
        assert result.returncode == 0, result
        return result


def assert_one_line_error(result: Result, code: int, *needles: str, strict: bool = False) -> None:
    """Exit ``code``, one ``netsky ... error`` line, no traceback; ``strict``: also
    nothing on stdout and the line starts ``netsky: error:``."""
    assert result.returncode == code, result
    if strict:
        assert result.stdout == "", result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result
    assert lines[0].startswith("netsky: error:" if strict else "netsky"), result
    assert "error" in lines[0], result
    assert "Traceback" not in result.output, result
    for needle in needles:
        assert needle in lines[0], (needle, result)
