"""The config file is checked whole, before anything is stored (issue 13, items 8, 13).

Every case runs the real ``netsky`` and requires one error line naming the file, the
key path and what is expected, and a store left untouched.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.loss_paths import loss_row
from tests.netsky_cli import Netsky, assert_one_line_error

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / ".." / "shared" / "samples" / "claude"


def write_config(netsky: Netsky, text: str | bytes) -> Path:
    path = netsky.root / "config.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_a_config_file_that_is_not_utf8_is_one_error_line_naming_it(netsky: Netsky) -> None:
    config = write_config(netsky, b'machine_id = "caf\xe9"\n')
    for command in (["config"], ["stats"], ["config", "--check"]):
        result = netsky("--config", str(config), *command)
        assert_one_line_error(result, 1, str(config), "not UTF-8", strict=True)


@pytest.mark.loss_path
@pytest.mark.skipif(not SAMPLES.is_dir(), reason="needs ../shared/samples/claude")
def test_an_overflowing_price_override_is_refused_before_anything_is_stored(
    netsky: Netsky,
) -> None:
    models = sorted(
        set(
            re.findall(
                r'"model":"([^"<]+)"', "".join(p.read_text() for p in SAMPLES.rglob("*.jsonl"))
            )
        )
    )
    assert models
    config = write_config(
        netsky,
        "".join(
            f'[pricing.models."{m}"]\ninput = 1e308\noutput = 1e308\ncache_read = 1e308\n'
            for m in models
        ),
    )
    db = netsky.root / "store.db"
    result = netsky(
        "--config", str(config), "--db", f"sqlite:///{db}", "ingest", "claude", str(SAMPLES)
    )
    assert_one_line_error(result, 1, str(config), "].input", "from 0 to", "1e+308", strict=True)
    loss_row(
        8,
        "a price override of 1e308",
        faults="[pricing.models] input/output/cache_read = 1e308 for every sample model",
        inputs="`netsky ingest` of the Claude samples: refused before the store is opened",
        sent=0,
        stored=int(db.exists()),
        unit="rows written (none expected)",
    )
    assert not db.exists()
    # the same file is refused by `netsky config`, without a store
    assert_one_line_error(netsky("--config", str(config), "config", "--check"), 1, "1e+308")


# (config text, --db or None, the key path in the error, words of what is expected)
BAD = [
    ('[storage]\nurll = "sqlite:///x.db"\n', None, "[storage].urll", "did you mean 'url'"),
    ('[storage]\nurl = ""\n', None, "[storage].url", "non-empty"),
    ("[storage]\nretention = 90\n", None, "[storage].retention", "expected a string"),
    ("[storage.sqlite]\nbusy_timeout_ms = -1\n", None, "[storage.sqlite].busy_timeout_ms", ">= 0"),
    (
        '[storage.sqlite]\nbusy_timeout_ms = "9"\n',
        None,
        "[storage.sqlite].busy_timeout_ms",
        "integer",
    ),
    (
        '[storage.sqlite]\nsynchronus = "FULL"\n',
        None,
        "[storage.sqlite].synchronus",
        "'synchronous'",
    ),
    ('[storage.sqlite]\nsynchronous = "HALF"\n', None, "[storage.sqlite].synchronous", "NORMAL"),
    ("[storage.sqlite]\ntimeout = 0\n", None, "[storage.sqlite].timeout", "positive"),
    (
        '[storage.postgresql]\npool_max = "eight"\n',
        "postgresql://netsky@127.0.0.1:9/none",
        "[storage.postgresql].pool_max",
        "expected an integer",
    ),
    ("[storage.memory]\nfoo = 1\n", "memory://", "[storage.memory].foo", "unknown key"),
    ('[pricing.models."x"]\ninput = 1\ninptu = 2\n', None, "[pricing.models.x].inptu", "'input'"),
    ('[pricing.models."a.b"]\ninput = -1\n', None, '[pricing.models."a.b"].input', "from 0 to"),
    ("[pricing]\nmodels = 3\n", None, "[pricing].models", "expected a table"),
    ('[ingest]\nclaude_dirs = "~/.claude"\n', None, "[ingest].claude_dirs", "a list of strings"),
    ('[ingest]\ncodex_dirs = ["a", 3]\n', None, "[ingest].codex_dirs[1]", "expected a string"),
    (
        '[ingest]\nredact_patterns = ["("]\n',
        None,
        "[ingest].redact_patterns[0]",
        "regular expression",
    ),
    ('[ingest]\nstore_payloads = "yes"\n', None, "[ingest].store_payloads", "true or false"),
    (
        "[hooks]\ningest_transcript = true\n",
        None,
        "[hooks].ingest_transcript",
        "'ingest_transcripts'",
    ),
    ("machine_id = 7\n", None, "machine_id", "expected a string"),
    ('[plugin]\ndisabled = ["x"]\n', None, "plugin", "'plugins'"),
]


@pytest.mark.parametrize(("text", "db", "where", "expected"), BAD, ids=[b[2] for b in BAD])
def test_a_bad_value_is_refused_by_config_and_by_the_commands_that_use_it(
    netsky: Netsky, text: str, db: str | None, where: str, expected: str
) -> None:
    config = write_config(netsky, text)
    store = netsky.root / "store.db"
    url = db or f"sqlite:///{store}"
    for command in (["config", "--check"], ["config"], ["stats"]):
        result = netsky("--config", str(config), "--db", url, *command)
        assert_one_line_error(result, 1, f"{config}: {where}", expected)
    assert not store.exists()


def test_a_table_for_a_misspelled_backend_is_refused_and_an_absent_one_noted(
    netsky: Netsky,
) -> None:
    config = write_config(netsky, "[storage.sqlit]\nsynchronous = 'FULL'\n")
    result = netsky("--config", str(config), "config", "--check")
    assert_one_line_error(result, 1, "[storage.sqlit]", "did you mean [storage.sqlite]")
    config = write_config(netsky, "[storage.mystore]\nanything = 1\n")
    result = netsky.ok("--config", str(config), "config", "--check")
    assert (
        result.stdout.startswith("configuration OK")
        and "[storage.mystore] not checked" in result.stdout
    )


def test_a_storage_url_without_an_installed_backend_fails_the_check(netsky: Netsky) -> None:
    config = write_config(netsky, '[storage]\nurl = "nosuch://x"\n')
    shown = netsky("--config", str(config), "config")
    assert "nosuch://x" in shown.stdout  # the settings are shown, then the problem
    assert_one_line_error(shown, 1, "no installed backend handles nosuch://")
    assert_one_line_error(netsky("--config", str(config), "config", "--check"), 1, "nosuch://")


def test_the_readme_configuration_example_passes_the_check(netsky: Netsky) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("<!-- config:begin -->", 1)[1].split("<!-- config:end -->", 1)[0]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    config = write_config(netsky, example)
    result = netsky.ok("--config", str(config), "config", "--check")
    assert result.stdout.startswith("configuration OK"), result
    info = netsky.ok("--config", str(config), "config", "--json").json()
    assert info["notes"] == [] and info["config_file"] == str(config)


@pytest.mark.loss_path
def test_the_hook_keeps_events_spooled_when_the_config_would_be_refused(
    netsky: Netsky,
) -> None:
    config = write_config(netsky, "[storage.sqlite]\nbusy_timeout_ms = -1\n")
    store = netsky.root / "store.db"
    env = {
        "NETSKY_CONFIG": str(config),
        "NETSKY_DATABASE_URL": f"sqlite:///{store}",
        "NETSKY_HOOK_FOREGROUND": "1",
    }
    payload = {"session_id": "s", "hook_event_name": "UserPromptSubmit", "prompt": "hi"}
    result = netsky("hook", input=json.dumps(payload), env=env)
    assert result.returncode == 0, result
    assert not store.exists()
    pending = json.loads(netsky("spool", "status", "--json", env=env).stdout)["pending"]
    loss_row(
        13,
        "a config value the backend refuses",
        faults="[storage.sqlite] busy_timeout_ms = -1 while a hook fires",
        inputs="1 UserPromptSubmit hook: kept in the spool, the key path logged",
        sent=1,
        stored=pending,
        unit="events (spooled)",
    )
    assert pending == 1
    log = "".join(p.read_text() for p in netsky.root.rglob("hook.log"))
    assert "[storage.sqlite].busy_timeout_ms" in log, log


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read price table"),
        ('{"models": 3}', "is not a netsky price table"),
        ("not json", "is not a netsky price table"),
        ('{"models": {"m": {"input": 1e300, "output": 1e-06}}}', "'m'.input: expected a number"),
        ('{"models": {"m": {"input": "3e-06", "output": 1e-06}}}', "'m'.input: expected a number"),
    ],
)
def test_a_bad_price_table_file_is_one_error_line_before_anything_is_stored(
    netsky: Netsky, content: str | None, expected: str
) -> None:
    table = netsky.root / "prices.json"
    if content is not None:
        table.write_text(content)
    config = write_config(netsky, f'[pricing]\nfile = "{table}"\n')
    store = netsky.root / "store.db"
    history = netsky.root / "history"
    history.mkdir()
    for command in (["ingest", "claude", str(history)], ["config", "--check"]):
        result = netsky("--config", str(config), "--db", f"sqlite:///{store}", *command)
        assert_one_line_error(result, 1, str(table), expected)
    assert not store.exists()


def test_netsky_debug_set_to_a_false_word_shows_no_traceback(netsky: Netsky) -> None:
    for value in ("0", "false", "no", ""):
        result = netsky("--db", "nosuch://x", "stats", env={"NETSKY_DEBUG": value})
        assert_one_line_error(result, 1, "no installed backend handles nosuch://")
    result = netsky("--db", "nosuch://x", "stats", env={"NETSKY_DEBUG": "1"})
    assert result.returncode == 1 and "Traceback" in result.stderr


def test_a_blank_machine_id_is_refused(netsky: Netsky) -> None:
    result = netsky("config", env={"NETSKY_MACHINE_ID": "   "})
    assert_one_line_error(result, 1, "NETSKY_MACHINE_ID", "blank")
    config = write_config(netsky, 'machine_id = " "\n')
    result = netsky("--config", str(config), "config", env={"NETSKY_MACHINE_ID": ""})
    assert_one_line_error(result, 1, f"{config}: machine_id", "non-empty")


def _schema_keys() -> set[str]:
    import attrs

    from netsky_core._config_schema import ConfigFile

    keys = set()
    for section in attrs.fields(ConfigFile):
        value = getattr(ConfigFile(), section.name)
        if attrs.has(type(value)):
            keys |= {f"{section.name}.{f.name}" for f in attrs.fields(type(value))}
        else:
            keys.add(section.name)
    return keys - {"storage.backends"}


def test_config_shows_every_setting_with_value_and_source(netsky: Netsky) -> None:
    config = write_config(
        netsky, "[ingest]\nredact = true\n[storage.sqlite]\nbusy_timeout_ms = 250\n"
    )
    shown = netsky.ok("--config", str(config), "config", "--json").json()
    rows = {r["name"]: r for r in shown["settings"]}
    assert _schema_keys() | {"storage.sqlite.busy_timeout_ms"} == set(rows)
    assert rows["ingest.redact"] == {
        "name": "ingest.redact",
        "value": True,
        "origin": "file",
        "source": str(config),
    }
    assert rows["ingest.store_payloads"]["value"] is True
    assert rows["ingest.store_payloads"]["origin"] == "default"
    assert rows["storage.sqlite.busy_timeout_ms"]["value"] == 250
    text = netsky.ok("--config", str(config), "config").stdout
    assert "None" not in text
    for name in rows:
        assert name in text
    retention = next(line for line in text.splitlines() if line.startswith("storage.retention"))
    assert "none" in retention
    disabled = netsky.ok(
        "--config", str(config), "config", "--json", env={"NETSKY_DISABLE_PLUGINS": "postgres"}
    ).json()
    (plugins,) = [r for r in disabled["settings"] if r["name"] == "plugins.disabled"]
    assert plugins == {
        "name": "plugins.disabled",
        "value": ["postgres"],
        "origin": "env",
        "source": "NETSKY_DISABLE_PLUGINS",
    }
