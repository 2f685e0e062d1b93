"""Agent sources as plugins, end to end.

A third-party source ships as its own distribution: it is built and ``pip install``ed
from a temp folder into a fresh venv (which sees this checkout's packages through a
``.pth`` file, as in ``test_example_backend.py``), and ``netsky sources`` / ``netsky
ingest`` / ``netsky report`` use it. The same distribution carries broken source
plugins (an import error, a register that raises, a discovery that raises, a reader
that raises): each is reported and every other source goes on, as broken backends are.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from netsky_core.plugins._sources import SourceRegistry
from netsky_core.plugins.hookspecs import hookimpl
from netsky_core.sources.base import AgentSource

PLUGIN = '''
from datetime import datetime

from netsky_core import Event
from netsky_core.plugins import hookimpl
from netsky_core.sources.base import AgentSource


class Parser:
    """One JSON object per line: {"id", "session", "time", "model", "in", "out"}."""

    def __init__(self, *, machine_id, path, prices, store_payloads=True, redact=None, state=None):
        self.machine_id, self.path, self.prices = machine_id, path, prices
        self.state = dict(state or {})
        self.malformed = self.skipped = self.synthetic = 0
        self.unknown_models = set()

    def parse(self, raw):
        import json

        try:
            r = json.loads(raw)
        except ValueError:
            self.malformed += 1
            return []
        if r.get("boom"):
            raise RuntimeError("reader bug")
        self.state["lines"] = self.state.get("lines", 0) + 1
        return [
            Event(
                machine_id=self.machine_id,
                session_id=r["session"],
                event_type="ApiRequest",
                timestamp=datetime.fromisoformat(r["time"]),
                uuid="api:tinyagent:" + r["id"],
                framework="tinyagent",
                source="transcript",
                model=r["model"],
                tokens_input=r["in"],
                tokens_output=r["out"],
                cost_usd=r.get("cost"),
                transcript_path=self.path,
            )
        ]


def source(name="tinyagent", env_var="TINYAGENT_HOME", **kw):
    return AgentSource(
        name=name,
        title="Tiny Agent",
        env_var=env_var,
        default_roots=("~/.tinyagent",),
        pattern="logs/*.jsonl",
        format="lines",
        parser=Parser,
        pricing="its own cost per line",
        **kw,
    )


@hookimpl
def netsky_register_sources(register):
    register(source())


class _Raises:
    @hookimpl
    def netsky_register_sources(self, register):
        raise ValueError("cannot register")


class _FindRaises:
    @hookimpl
    def netsky_register_sources(self, register):
        def find(roots):
            raise OSError("disk on fire")

        register(AgentSource(name="badfind", env_var="BADFIND_HOME", find=find))


class _ReadRaises:
    @hookimpl
    def netsky_register_sources(self, register):
        register(source(name="badread", env_var="BADREAD_HOME"))


raises = _Raises()
find_raises = _FindRaises()
read_raises = _ReadRaises()
'''

PYPROJECT = """
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "netsky-tinyagent"
version = "1.2.3"
dependencies = []

[project.entry-points."netsky.sources"]
tinyagent = "netsky_tinyagent.plugin"
badimport = "netsky_tinyagent.missing_module"
badregister = "netsky_tinyagent.plugin:raises"
badfind = "netsky_tinyagent.plugin:find_raises"
badread = "netsky_tinyagent.plugin:read_raises"

[tool.setuptools]
packages = ["netsky_tinyagent"]
"""


def _python(venv: Path) -> str:
    return str(venv / "bin" / "python")


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("source-plugin")
    env_dir = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    site = subprocess.run(
        [_python(env_dir), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    (Path(site) / "zz-netsky-checkout.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    dist = root / "netsky-tinyagent"
    (dist / "netsky_tinyagent").mkdir(parents=True)
    (dist / "netsky_tinyagent" / "__init__.py").write_text("")
    (dist / "netsky_tinyagent" / "plugin.py").write_text(PLUGIN)
    (dist / "pyproject.toml").write_text(PYPROJECT)
    installed = subprocess.run(
        [_python(env_dir), "-m", "pip", "install", "-q", "--no-deps", str(dist)],
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-3000:]
    return env_dir


def _line(i: int, **extra: object) -> str:
    row = {
        "id": f"r{i}",
        "session": "s1",
        "time": f"2026-05-0{1 + i % 2}T10:00:00+00:00",
        "model": "tiny-1",
        "in": 100 * (i + 1),
        "out": 10,
        "cost": 0.5,
        **extra,
    }
    return json.dumps(row) + "\n"


def _homes(tmp: Path) -> dict[str, str]:
    good = tmp / "tiny" / "logs"
    good.mkdir(parents=True)
    (good / "a.jsonl").write_text(_line(0) + _line(1))
    (good / "b.jsonl").write_text(_line(2))
    bad = tmp / "badread" / "logs"
    bad.mkdir(parents=True)
    (bad / "x.jsonl").write_text(_line(7) + json.dumps({"boom": True}) + "\n")
    gemini = tmp / "gemini" / "p" / "chats"
    gemini.mkdir(parents=True)
    (gemini / "session-1-abc.json").write_text(
        json.dumps(
            {
                "sessionId": "g1",
                "startTime": "2026-05-01T00:00:00Z",
                "messages": [
                    {
                        "id": "m1",
                        "type": "gemini",
                        "timestamp": "2026-05-01T00:00:01Z",
                        "model": "gemini-2.5-flash",
                        "tokens": {"input": 50, "output": 5, "cached": 0, "total": 55},
                    }
                ],
            }
        )
    )
    return {
        "TINYAGENT_HOME": str(tmp / "tiny"),
        "BADREAD_HOME": str(tmp / "badread"),
        "BADFIND_HOME": str(tmp / "badread"),
        "GEMINI_DATA_DIR": str(tmp / "gemini"),
    }


def _run(venv: Path, tmp: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    return subprocess.run(
        [_python(venv), "-m", "netsky_core", "--db", f"sqlite:///{tmp / 'store.db'}", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={
            "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
            "HOME": str(home),
            "NETSKY_HOME": str(tmp / "nh"),
            "NETSKY_MACHINE_ID": "test-machine",
            "TZ": "UTC",
            **env,
        },
    )


def test_a_third_party_source_is_listed_ingested_and_reported(venv: Path, tmp_path: Path) -> None:
    env = _homes(tmp_path)
    listed = _run(venv, tmp_path, "sources", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    tiny = rows["tinyagent"]
    assert tiny["distribution"] == "netsky-tinyagent" and tiny["version"] == "1.2.3"
    assert tiny["env_var"] == "TINYAGENT_HOME" and tiny["env_set"]
    assert tiny["files"] == 2 and tiny["pending"] == 2 and tiny["error"] is None
    assert tiny["pricing"] == "its own cost per line"
    assert rows["gemini"]["files"] == 1 and rows["claude"]["files"] == 0  # built-ins still there
    assert "import failed" in rows["badimport"]["error"]
    assert "cannot register" in rows["badregister"]["error"]
    assert "disk on fire" in rows["badfind"]["error"]

    first = _run(venv, tmp_path, "ingest", "--json", env=env)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["sources"]["tinyagent"] == 2 and summary["sources"]["gemini"] == 1
    errors = " ".join(summary["errors"])
    for name in ("badimport", "badregister", "badfind"):
        assert f"source {name}" in errors
    assert "source 'badread' failed: RuntimeError: reader bug" in errors
    assert summary["files_failed"] == 1  # the broken reader's file; everything else read

    daily = _run(venv, tmp_path, "report", "daily", "--json", "--framework", "tinyagent", env=env)
    assert daily.returncode == 0, daily.stderr
    days = json.loads(daily.stdout)["daily"]
    assert [(d["date"], d["input_tokens"], d["cost_usd"]) for d in days] == [
        ("2026-05-01", 100 + 300, 1.0),
        ("2026-05-02", 200, 0.5),
    ]
    gemini = _run(venv, tmp_path, "report", "daily", "--json", "--framework", "gemini", env=env)
    assert json.loads(gemini.stdout)["daily"][0]["input_tokens"] == 50

    listed = json.loads(_run(venv, tmp_path, "sources", "--json", env=env).stdout)
    assert {r["name"]: r["pending"] for r in listed}["tinyagent"] == 0

    with open(Path(env["TINYAGENT_HOME"]) / "logs" / "b.jsonl", "a") as fh:
        fh.write(_line(3))
    only = _run(venv, tmp_path, "ingest", "tinyagent", "--json", env=env)
    assert only.returncode == 0, only.stderr
    once = json.loads(only.stdout)
    assert once["sources"] == {"tinyagent": 2} and once["errors"] == []
    assert once["inserted"] == 1 and once["files_unchanged"] == 1


def test_ingest_of_a_broken_source_by_name_says_why(venv: Path, tmp_path: Path) -> None:
    result = _run(venv, tmp_path, "ingest", "badimport", env=_homes(tmp_path))
    assert result.returncode == 1
    assert "source badimport: import failed" in result.stderr
    assert "Traceback" not in result.stderr


def test_registry_isolates_a_plugin_object_without_the_hook() -> None:
    registry = SourceRegistry()
    info = registry.register_object(object(), name="nothing")
    assert info.error and "netsky_register_sources" in info.error

    class Wrong:
        @hookimpl
        def netsky_register_sources(self, register):
            register("not a source")

    assert "AgentSource" in (registry.register_object(Wrong(), name="wrong").error or "")

    class Good:
        @hookimpl
        def netsky_register_sources(self, register):
            register(AgentSource(name="good", env_var="GOOD_HOME", default_roots=("~/.good",)))

    good = registry.register_object(Good(), name="good", distribution="d", version="1")
    (source,) = good.sources
    assert (source.plugin, source.distribution, source.version) == ("good", "d", "1")
    assert source.discover(environ={}) == []  # no pattern, no finder: nothing
