"""Synthetic Claude Code and Codex CLI histories with exact ground truth.

`generate` writes a tree that looks like real agent data on disk:

- ``<root>/claude`` works as ``CLAUDE_CONFIG_DIR``: ``projects/<cwd with / as ->/<sessionId>.jsonl``
  and, for newer agent versions, ``projects/<p>/<sessionId>/subagents/agent-<agentId>.jsonl``;
- ``<root>/codex`` works as ``CODEX_HOME``: ``sessions/YYYY/MM/DD/rollout-<ts>-<uuid>.jsonl``
  plus a few files in ``archived_sessions/`` (at least one of them also under ``sessions/``).

The generator knows the true usage of every API response it writes and returns it as a
`Manifest` (also written to ``<root>/manifest.json``): tokens per UTC day, framework and
model, file/line/byte counts and the number of malformed lines.

Accounting rules the manifest follows (the same ones ccusage 20.x applies to this data):

- Claude: one API response may be written as several lines (one per content block), and
  subagent responses appear both in the subagent's file and in ``agent_progress`` lines of
  the parent. Lines are grouped by ``(message.id, requestId)`` (``message.id`` alone when
  ``requestId`` is missing); the group's kept line is the one with the largest
  ``input + output + cache_creation + cache_read`` (tie: non-sidechain, then earliest line),
  and the response is counted once, on the UTC day of the kept line's timestamp. For an
  ``agent_progress`` line that timestamp is the embedded message's (``data.message.timestamp``).
  ``<synthetic>`` lines are not API responses.
- Codex: usage is the increase of the cumulative ``total_token_usage``; input is reported
  as ``input - cached`` and ``cached`` as cache read; output includes reasoning; the day is
  the day of the ``token_count`` line where the increase appears; the model is the latest
  ``turn_context.model``. A rollout present under both ``sessions/`` and
  ``archived_sessions/`` counts once.

The generated data avoids the cases where those rules and ccusage 20.0.24 disagree, so
that ccusage can serve as an external oracle for it:

- ccusage does not deduplicate lines without ``requestId`` (it counts every copy): a
  response without ``requestId`` is written as one line, never mirrored into
  ``agent_progress`` and never replayed by a resumed session;
- ccusage keeps a non-sidechain line over a larger sidechain line of the same response,
  and on equal totals prefers the line with more output: a response's sidechain and
  non-sidechain copies always carry the same usage, and equal totals only occur between
  identical usages;
- ccusage aborts its whole Codex report on an ``event_msg`` line cut right after
  ``"payload":{"type":``: truncated lines are never cut there.
"""

from __future__ import annotations

import base64
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

__all__ = [
    "CLAUDE_MODELS",
    "CODEX_MODELS",
    "UNKNOWN_MODEL",
    "FileStats",
    "Manifest",
    "TokenTotals",
    "generate",
    "parse_size",
]

#: Claude models used for main threads, with their weights.
CLAUDE_MODELS: tuple[tuple[str, float], ...] = (
    ("claude-opus-4-6", 0.6),
    ("claude-sonnet-4-5-20250929", 0.3),
    ("claude-haiku-4-5-20251001", 0.1),
)
#: Codex models, with their weights.
CODEX_MODELS: tuple[tuple[str, float], ...] = (("gpt-5.2-codex", 0.6), ("gpt-5-codex", 0.4))
#: A model name no price table knows; a few Claude responses use it.
UNKNOWN_MODEL = "claude-opus-9-unreleased"
SYNTHETIC_MODEL = "<synthetic>"
DEFAULT_START = date(2026, 1, 5)

_SUBAGENT_MODELS = ("claude-haiku-4-5-20251001", "claude-sonnet-4-5-20250929")
_PARTIAL_VERSIONS = ("2.0.13", "2.0.28", "2.1.14", "2.1.31", "2.1.38")
_FINAL_VERSIONS = ("2.1.90", "2.1.94", "2.1.97")
_CODEX_VERSIONS = ("0.77.0", "0.84.0", "0.89.0", "0.92.0")
_DAY_MS = 86_400_000
_EPOCH = date(1970, 1, 1)
_MANIFEST_NAME = "manifest.json"

# ---------------------------------------------------------------------------------------
# Manifest
# ---------------------------------------------------------------------------------------


@dataclass
class TokenTotals:
    """Token totals of a set of API responses.

    ``cache_creation_1h`` is the part of ``cache_creation`` written to the 1-hour cache
    (usage without a 5m/1h split counts as 5m); ``reasoning_output`` is the part of
    ``output`` that Codex reports as reasoning (always 0 for Claude).
    """

    input: int = 0
    output: int = 0
    cache_creation: int = 0
    cache_read: int = 0
    cache_creation_1h: int = 0
    reasoning_output: int = 0
    responses: int = 0

    @property
    def total(self) -> int:
        """``input + output + cache_creation + cache_read``."""
        return self.input + self.output + self.cache_creation + self.cache_read

    def add(self, other: TokenTotals) -> None:
        """Add ``other`` into this object."""
        self.input += other.input
        self.output += other.output
        self.cache_creation += other.cache_creation
        self.cache_read += other.cache_read
        self.cache_creation_1h += other.cache_creation_1h
        self.reasoning_output += other.reasoning_output
        self.responses += other.responses


@dataclass
class FileStats:
    """What one framework's part of the tree holds on disk."""

    files: int = 0
    lines: int = 0
    bytes: int = 0
    malformed_lines: int = 0


@dataclass
class Manifest:
    """Ground truth of a generated tree.

    ``daily[day][framework][model]`` holds the tokens of the API responses whose accounting
    day (UTC, see the module docstring) is ``day`` (``YYYY-MM-DD``); frameworks are
    ``"claude"`` and ``"codex"``. ``fast[day][model]`` is the subset of Claude responses
    that carried ``usage.speed == "fast"``. ``totals`` sums ``daily`` per framework.
    ``files`` counts every file written per framework (a rollout present twice counts
    twice there, once in the tokens). ``features`` counts the realism features written.
    """

    seed: int
    target_bytes: int
    start: str
    days: int
    claude_share: float
    daily: dict[str, dict[str, dict[str, TokenTotals]]] = field(default_factory=dict)
    fast: dict[str, dict[str, TokenTotals]] = field(default_factory=dict)
    totals: dict[str, TokenTotals] = field(default_factory=dict)
    files: dict[str, FileStats] = field(default_factory=dict)
    features: dict[str, int] = field(default_factory=dict)
    elapsed_seconds: float = 0.0

    @property
    def bytes(self) -> int:
        """Bytes of all transcript files (manifest.json excluded)."""
        return sum(s.bytes for s in self.files.values())

    @property
    def malformed_lines(self) -> int:
        """Lines that are not valid UTF-8 JSON, over both frameworks."""
        return sum(s.malformed_lines for s in self.files.values())

    def model_totals(self, framework: str) -> dict[str, TokenTotals]:
        """Totals per model over all days for one framework."""
        out: dict[str, TokenTotals] = {}
        for per_fw in self.daily.values():
            for model, tt in per_fw.get(framework, {}).items():
                out.setdefault(model, TokenTotals()).add(tt)
        return dict(sorted(out.items()))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``manifest.json`` holds)."""
        d = asdict(self)
        d["bytes"] = self.bytes
        d["malformed_lines"] = self.malformed_lines
        return d

    def to_json(self) -> bytes:
        """Indented JSON with sorted keys."""
        return orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)

    @classmethod
    def from_json(cls, data: bytes | str) -> Manifest:
        """Read what `to_json` wrote."""
        d = orjson.loads(data)

        def tt(x: dict[str, int]) -> TokenTotals:
            return TokenTotals(**x)

        return cls(
            seed=d["seed"],
            target_bytes=d["target_bytes"],
            start=d["start"],
            days=d["days"],
            claude_share=d["claude_share"],
            daily={
                day: {fw: {m: tt(x) for m, x in models.items()} for fw, models in per.items()}
                for day, per in d["daily"].items()
            },
            fast={day: {m: tt(x) for m, x in per.items()} for day, per in d["fast"].items()},
            totals={fw: tt(x) for fw, x in d["totals"].items()},
            files={fw: FileStats(**x) for fw, x in d["files"].items()},
            features=dict(d["features"]),
            elapsed_seconds=d.get("elapsed_seconds", 0.0),
        )

    @classmethod
    def load(cls, root: Path) -> Manifest:
        """Read ``<root>/manifest.json``."""
        return cls.from_json((Path(root) / _MANIFEST_NAME).read_bytes())

    def summary(self) -> str:
        """A short human-readable summary."""
        out = [
            f"{self.bytes / 1e6:.1f} MB in {sum(s.files for s in self.files.values())} files, "
            f"{len(self.daily)} days, {self.malformed_lines} malformed lines"
        ]
        for fw in ("claude", "codex"):
            s = self.files.get(fw, FileStats())
            t = self.totals.get(fw, TokenTotals())
            out.append(
                f"  {fw}: {s.files} files, {s.lines} lines, {s.bytes / 1e6:.1f} MB; "
                f"{t.responses} responses; input {t.input:,} output {t.output:,} "
                f"cache_creation {t.cache_creation:,} cache_read {t.cache_read:,}"
            )
            for model, mt in self.model_totals(fw).items():
                out.append(f"    {model}: {mt.responses} responses, {mt.total:,} tokens")
        return "\n".join(out)


# ---------------------------------------------------------------------------------------
# Small fast helpers
# ---------------------------------------------------------------------------------------

_B64_ALNUM = bytes.maketrans(b"+/", b"xQ")


def _tok(rng: random.Random, n: int) -> str:
    """n random alphanumeric characters."""
    return base64.b64encode(rng.randbytes(3 * ((n + 3) // 4))).translate(_B64_ALNUM)[:n].decode()


def _uuid4(rng: random.Random) -> str:
    s = rng.randbytes(16).hex()
    return f"{s[:8]}-{s[8:12]}-4{s[13:16]}-{'89ab'[int(s[16], 16) & 3]}{s[17:20]}-{s[20:]}"


def _uuid7(rng: random.Random, ms: int) -> str:
    s = rng.randbytes(10).hex()
    h = f"{ms:012x}"
    return f"{h[:8]}-{h[8:12]}-7{s[:3]}-{'89ab'[int(s[3], 16) & 3]}{s[4:7]}-{s[8:20]}"


_PREFIX: dict[int, str] = {}


def _day_str(day: int) -> str:
    p = _PREFIX.get(day)
    if p is None:
        p = _PREFIX[day] = (_EPOCH + timedelta(days=day)).isoformat() + "T"
    return p[:-1]


def _iso(ms: int) -> str:
    """Milliseconds since the epoch as ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    d, r = divmod(ms, _DAY_MS)
    p = _PREFIX.get(d)
    if p is None:
        p = _PREFIX[d] = (_EPOCH + timedelta(days=d)).isoformat() + "T"
    s, milli = divmod(r, 1000)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return f"{p}{h:02d}:{m:02d}:{s:02d}.{milli:03d}Z"


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    x = rng.random() * sum(w for _, w in weighted)
    for name, w in weighted:
        x -= w
        if x < 0:
            return name
    return weighted[-1][0]


def parse_size(text: str) -> int:
    """``"500M"``, ``"2G"``, ``"3.5MB"``, ``"800k"`` or a plain byte count, in bytes (SI units)."""
    t = text.strip().upper().removesuffix("B")
    mult = {"K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}.get(t[-1:], 1)
    if mult != 1:
        t = t[:-1]
    return int(float(t) * mult)


# ---------------------------------------------------------------------------------------
# Text pool: pre-built corpora sliced at random offsets (no per-line text generation)
# ---------------------------------------------------------------------------------------

_WORDS = [
    "the",
    "a",
    "to",
    "of",
    "and",
    "in",
    "is",
    "it",
    "that",
    "for",
    "on",
    "with",
    "as",
    "this",
    "be",
    "are",
    "we",
    "not",
    "by",
    "or",
    "from",
    "at",
    "function",
    "value",
    "error",
    "file",
    "test",
    "config",
    "module",
    "request",
    "response",
    "session",
    "token",
    "cache",
    "parser",
    "line",
    "output",
    "input",
    "model",
    "build",
    "deploy",
    "server",
    "client",
    "query",
    "index",
    "table",
    "schema",
    "migration",
    "handler",
    "route",
    "view",
    "component",
    "state",
    "hook",
    "effect",
    "props",
    "render",
    "update",
    "delete",
    "create",
    "fetch",
    "retry",
    "timeout",
    "buffer",
    "stream",
    "chunk",
    "batch",
    "worker",
    "queue",
    "lock",
    "thread",
    "process",
    "signal",
    "exit",
    "code",
    "path",
    "directory",
    "branch",
    "commit",
    "merge",
    "rebase",
    "diff",
    "patch",
    "review",
    "check",
    "should",
    "could",
    "would",
    "must",
    "need",
    "want",
    "try",
    "run",
    "fix",
    "add",
    "remove",
    "rename",
    "refactor",
    "move",
    "split",
    "first",
    "then",
    "next",
    "finally",
    "because",
    "however",
    "instead",
    "also",
    "still",
    "already",
    "only",
    "just",
    "now",
    "user",
    "agent",
    "tool",
    "call",
    "result",
    "status",
    "done",
    "pending",
    "failed",
    "passed",
    "skipped",
    "warning",
    "debug",
    "small",
    "large",
    "fast",
    "slow",
    "safe",
    "empty",
    "full",
    "valid",
    "invalid",
    "missing",
    "unknown",
    "duplicate",
    "stale",
    "café",
    "naïve",
    "résumé",
    "—",
    "→",
    "✓",
    "日本語",
    "Größe",
    "über",
    "déjà",
    "façade",
]

_CODE_LINES = (
    "def {a}(self, {b}: int) -> None:",
    "    return self.{a}({b}, {c})",
    "    if {a} is None:",
    '        raise ValueError(f"bad {b}: {{{c}!r}}")',
    "for {a} in {b}.items():",
    "const {a} = await {b}.{c}({{ retries: 3 }});",
    "export function {a}({b}: string): {c} {{",
    '  }} catch (err) {{ console.error("{a} failed", err); }}',
    'import {{ {a}, {b} }} from "./{c}";',
    "SELECT {a}, count(*) FROM {b} WHERE {c} > ? GROUP BY {a};",
    '    {a} = {b}.get("{c}", {{}})',
    "\t{a}.{b} = append({a}.{b}, {c})",
    "// TODO({a}): handle {b} when {c} is empty",
    "    # {a}: keep the {b} path \\ windows-safe",
    '    assert {a} == {b}, "{c}"',
    "",
)
_IDENTS = [
    "parse_line",
    "ingest_file",
    "session_id",
    "token_count",
    "cache_key",
    "request_id",
    "model_name",
    "total_usage",
    "last_usage",
    "rollout_path",
    "project_dir",
    "transcript",
    "writer",
    "reader",
    "offset",
    "handler",
    "config",
    "store",
    "backend",
    "records",
    "batch_size",
    "flush",
    "dedup_key",
    "price_table",
]


class _TextPool:
    """Deterministic corpora of prose, code and base64-looking blobs."""

    def __init__(self) -> None:
        rng = random.Random(0x5EED)
        words = rng.choices(_WORDS, k=260_000)
        parts: list[str] = []
        i = 0
        while i < len(words):
            n = 6 + int(rng.random() * 14)
            s = " ".join(words[i : i + n])
            parts.append(s[:1].upper() + s[1:] + (".\n\n" if rng.random() < 0.15 else ". "))
            i += n
        self.prose = "".join(parts)
        lines: list[str] = []
        for _ in range(40_000):
            t = _CODE_LINES[int(rng.random() * len(_CODE_LINES))]
            a, b, c = (_IDENTS[int(rng.random() * len(_IDENTS))] for _ in range(3))
            lines.append(t.format(a=a, b=b, c=c))
        self.code = "\n".join(lines)
        self.blob = base64.b64encode(rng.randbytes(600_000)).decode()

    @staticmethod
    def _slice(src: str, rng: random.Random, n: int) -> str:
        n = min(n, len(src) - 2)
        o = int(rng.random() * (len(src) - n - 1))
        j = src.find(" ", o, o + 40)  # start at a word when there is one nearby
        if j >= 0:
            o = j + 1
        return src[o : o + n]

    def prose_(self, rng: random.Random, n: int) -> str:
        return self._slice(self.prose, rng, n)

    def code_(self, rng: random.Random, n: int) -> str:
        return self._slice(self.code, rng, n)

    def blob_(self, rng: random.Random, n: int) -> str:
        return self._slice(self.blob, rng, n)


_POOL: _TextPool | None = None


def _pool() -> _TextPool:
    global _POOL
    if _POOL is None:
        _POOL = _TextPool()
    return _POOL


def _size(rng: random.Random, lo: int, hi: int) -> int:
    """Log-uniform integer in [lo, hi] (lo when hi <= lo)."""
    if hi <= lo:
        return lo
    return int(math.exp(math.log(lo) + rng.random() * (math.log(hi) - math.log(lo))))


# ---------------------------------------------------------------------------------------
# Generation state shared by all sessions
# ---------------------------------------------------------------------------------------


class _Writer:
    """Lines of one file, kept in memory and written at once."""

    __slots__ = ("lines", "malformed", "nbytes", "path", "unterminated")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: list[bytes] = []
        self.nbytes = 0
        self.malformed = 0
        self.unterminated = False

    def emit(self, obj: dict[str, Any]) -> bytes:
        b = orjson.dumps(obj)
        self.lines.append(b)
        self.nbytes += len(b) + 1
        return b

    def raw(self, b: bytes, malformed: bool = False) -> None:
        self.lines.append(b)
        self.nbytes += len(b) + 1
        if malformed:
            self.malformed += 1


class _State:
    def __init__(self, root: Path, seed: int, start: date, days: int) -> None:
        self.root = root
        self.seed = seed
        self.rng = random.Random(seed)
        self.text = _pool()
        self.start_day = (start - _EPOCH).days
        self.days = days
        # (day, framework, model, fast) -> [input, output, cc, cr, cc1h, reasoning, responses]
        self.acc: dict[tuple[int, str, str, bool], list[int]] = {}
        self.features: dict[str, int] = {}
        self.stats = {"claude": FileStats(), "codex": FileStats()}
        self.written = 0

    def feature(self, name: str, n: int = 1) -> None:
        self.features[name] = self.features.get(name, 0) + n

    def record(
        self,
        fw: str,
        ms: int,
        model: str,
        inp: int,
        out: int,
        cc: int,
        cr: int,
        cc1h: int = 0,
        reasoning: int = 0,
        fast: bool = False,
    ) -> None:
        key = (ms // _DAY_MS, fw, model, fast)
        a = self.acc.get(key)
        if a is None:
            a = self.acc[key] = [0, 0, 0, 0, 0, 0, 0]
        a[0] += inp
        a[1] += out
        a[2] += cc
        a[3] += cr
        a[4] += cc1h
        a[5] += reasoning
        a[6] += 1

    def flush(self, fw: str, w: _Writer) -> None:
        w.path.parent.mkdir(parents=True, exist_ok=True)
        data = b"\n".join(w.lines)
        if not w.unterminated:
            data += b"\n"
        with open(w.path, "wb", buffering=0) as f:
            f.write(data)
        st = self.stats[fw]
        st.files += 1
        st.lines += len(w.lines)
        st.bytes += len(data)
        st.malformed_lines += w.malformed
        self.written += len(data)

    def copy_file(self, fw: str, src: _Writer, dest: Path) -> None:
        dup = _Writer(dest)
        dup.lines, dup.malformed, dup.unterminated = src.lines, src.malformed, src.unterminated
        self.flush(fw, dup)


# ---------------------------------------------------------------------------------------
# Claude Code sessions
# ---------------------------------------------------------------------------------------

_PROJECTS = (
    "/home/dev/projects/netsky",
    "/home/dev/projects/spotter-web",
    "/home/dev/work/billing-api",
    "/home/dev/work/mobile-app",
    "/Users/dev/code/infra-terraform",
    "/Users/dev/code/data-pipeline",
    "/home/dev/oss/rust-parser",
    "/home/dev/sandbox/experiments",
)
_BRANCHES = ("main", "master", "feature/ingest", "fix/cache-split", "dev")
_TOOLS = ("Bash", "Read", "Read", "Edit", "Grep", "Glob", "Write", "TodoWrite")


def _project_dir(cwd: str) -> str:
    return cwd.replace("/", "-")


class _ClaudeSession:
    """One Claude Code session (main file, optional subagent files)."""

    def __init__(
        self,
        st: _State,
        *,
        cwd: str,
        start_ms: int,
        budget: int,
        flags: set[str],
        partial: bool,
        previous: tuple[str, list[bytes], int] | None,
    ) -> None:
        rng = self.rng = st.rng
        self.st = st
        self.text = st.text
        self.flags = flags
        self.partial = partial
        self.version = rng.choice(_PARTIAL_VERSIONS if partial else _FINAL_VERSIONS)
        if "subagent_inline" in flags:
            self.version = rng.choice(_PARTIAL_VERSIONS[:2])
        elif flags & {"subagent_file", "subagent_progress"} and self.version.startswith("2.0"):
            self.version = "2.1.38"
        self.old = self.version.startswith("2.0")
        self.cwd = cwd
        self.sid = _uuid4(rng)
        self.branch = rng.choice(_BRANCHES)
        self.slug = None if self.old else "-".join(rng.choice(_WORDS[:60]) for _ in range(3))
        self.model = _pick(rng, CLAUDE_MODELS)
        self.fast = "fast" in flags and not partial
        if self.fast:
            self.model = "claude-opus-4-6"
        # cache split mode: "1h", "5m", "mixed" or None (no `cache_creation` object)
        if "nosplit" in flags:
            self.split: str | None = None
        elif self.old:
            self.split = "5m"
        else:
            self.split = rng.choice(("1h", "1h", "5m", "mixed"))
        self.t = start_ms
        self.budget = budget
        self.sub_bytes = 0  # bytes written to this session's subagent files
        self.big = max(1_500, min(24_000, budget // 12))  # largest tool output, in chars
        pdir = st.root / "claude" / "projects" / _project_dir(cwd)
        self.pdir = pdir
        self.w = _Writer(pdir / f"{self.sid}.jsonl")
        self.parent: str | None = None
        self.cached = 0  # tokens in the prompt cache prefix
        self.pending = 0  # tokens added since the last call
        self.last_call = start_ms
        self.cross_midnight_done = "cross_midnight" not in flags
        self.todo = set(flags)
        self.previous = previous
        self.last_usage: dict[str, Any] = {}

    # -- envelopes -------------------------------------------------------------------

    def _env(
        self,
        typ: str,
        ts: int,
        *,
        sidechain: bool = False,
        agent: str | None = None,
        parent: str | None = None,
        chain: bool = True,
    ) -> dict[str, Any]:
        u = _uuid4(self.rng)
        d: dict[str, Any] = {
            "parentUuid": self.parent if chain else parent,
            "isSidechain": sidechain,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.sid,
            "version": self.version,
            "gitBranch": self.branch,
        }
        if agent is not None:
            d["agentId"] = agent
        if self.slug is not None:
            d["slug"] = self.slug
        d["type"] = typ
        d["uuid"] = u
        d["timestamp"] = _iso(ts)
        if chain:
            self.parent = u
        return d

    def _used(self) -> int:
        return self.w.nbytes + self.sub_bytes

    @staticmethod
    def _emit(d: dict[str, Any], w: _Writer) -> None:
        """Write an envelope line with ``uuid`` and ``timestamp`` last, as Claude Code does."""
        d["uuid"] = d.pop("uuid")
        d["timestamp"] = d.pop("timestamp")
        w.emit(d)

    def _advance(self, lo: int, hi: int) -> int:
        self.t += lo + int(self.rng.random() * (hi - lo))
        return self.t

    # -- simple lines ----------------------------------------------------------------

    def _user_prompt(self, text: str, **extra: Any) -> str:
        d = self._env("user", self.t)
        d["message"] = {"role": "user", "content": text}
        d.update(extra)
        if not self.old:
            d["permissionMode"] = "default"
        self._emit(d, self.w)
        self.pending += len(text) // 4 + 4
        return d["uuid"]

    def _snapshot(self, message_id: str) -> None:
        ts = _iso(self.t)
        self.w.emit(
            {
                "type": "file-history-snapshot",
                "messageId": message_id,
                "snapshot": {"messageId": message_id, "trackedFileBackups": {}, "timestamp": ts},
                "isSnapshotUpdate": False,
            }
        )

    def _hook(self, event: str, tool_id: str) -> None:
        d = self._env("progress", self.t + 2)
        d["data"] = {
            "type": "hook_progress",
            "hookEvent": event,
            "hookName": f"{event}:Bash",
            "command": "~/.claude/hooks/guard.sh",
        }
        d["toolUseID"] = tool_id
        d["parentToolUseID"] = tool_id
        self._emit(d, self.w)

    def _system(self, subtype: str, content: str, **extra: Any) -> None:
        d = self._env("system", self.t)
        d["subtype"] = subtype
        d["content"] = content
        d["level"] = "info"
        d["isMeta"] = False
        d.update(extra)
        self._emit(d, self.w)

    def _misc_line(self) -> None:
        """A rarely seen or unknown line type."""
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            self.w.emit(
                {
                    "type": "queue-operation",
                    "operation": "enqueue",
                    "timestamp": _iso(self.t),
                    "sessionId": self.sid,
                    "content": self.text.prose_(rng, 40),
                }
            )
            self.w.emit(
                {
                    "type": "queue-operation",
                    "operation": "dequeue",
                    "timestamp": _iso(self.t + 700),
                    "sessionId": self.sid,
                }
            )
        elif r < 0.5:
            self.w.emit(
                {
                    "type": "custom-title",
                    "customTitle": self.text.prose_(rng, 30),
                    "sessionId": self.sid,
                }
            )
        elif r < 0.65:
            self.w.emit(
                {"type": "permission-mode", "permissionMode": "acceptEdits", "sessionId": self.sid}
            )
        elif r < 0.8:
            self.w.emit(
                {
                    "type": "last-prompt",
                    "lastPrompt": self.text.prose_(rng, 60),
                    "sessionId": self.sid,
                }
            )
        else:
            # a line type no parser knows yet
            self.w.emit(
                {
                    "type": "worktree-state",
                    "timestamp": _iso(self.t),
                    "sessionId": self.sid,
                    "worktree": {"path": self.cwd, "dirty": True},
                }
            )
            self.st.feature("claude_unknown_type_lines")

    # -- API responses ---------------------------------------------------------------

    def _usage(self, out_hint: int) -> tuple[int, int, int, int]:
        """(input, output, cache_creation, cache_read) of the next call; updates the cache."""
        rng = self.rng
        idle = self.t - self.last_call
        self.last_call = self.t
        if self.cached == 0:
            # first call (or first after a compaction): the system prompt prefix is cached
            # across sessions, the rest is written to the cache
            cr = 9_000 + int(rng.random() * 9_000)
            cc = 2_000 + int(rng.random() * 12_000) + self.pending
            inp = 1 + int(rng.random() * 6)
        elif (self.split == "5m" and idle > 300_000) or idle > 3_600_000:
            # the cache expired while the user was away: everything is written again
            cr, cc, inp = 0, self.cached + self.pending, 1 + int(rng.random() * 6)
        elif rng.random() < 0.04:
            cr, cc, inp = self.cached, 0, self.pending + 1
        else:
            cr, cc, inp = self.cached, self.pending, 1 + int(rng.random() * 8)
        out = out_hint + 1 + int(rng.random() * 40)
        self.cached = cr + cc + inp
        self.pending = out
        return inp, out, cc, cr

    def _usage_dict(
        self, inp: int, out: int, cc: int, cr: int, h1: int, fast: bool
    ) -> dict[str, Any]:
        u: dict[str, Any] = {
            "input_tokens": inp,
            "cache_creation_input_tokens": cc,
            "cache_read_input_tokens": cr,
        }
        if self.split is not None:
            u["cache_creation"] = {
                "ephemeral_5m_input_tokens": cc - h1,
                "ephemeral_1h_input_tokens": h1,
            }
        u["output_tokens"] = out
        u["service_tier"] = "standard"
        if not self.old:
            u["inference_geo"] = "not_available"
        if fast:
            u["speed"] = "fast"
        return u

    def _response(
        self,
        blocks: list[dict[str, Any]],
        model: str,
        *,
        w: _Writer | None = None,
        sidechain: bool = False,
        agent: str | None = None,
        mirror: dict[str, Any] | None = None,
        request_id: bool = True,
        cross_midnight: bool = False,
    ) -> dict[str, Any]:
        """Write one API response as len(blocks) lines and record its true usage."""
        rng = self.rng
        w = w or self.w
        out_chars = 0
        for b in blocks:
            bt = b["type"]
            if bt == "text":
                out_chars += len(b["text"])
            elif bt == "thinking":
                out_chars += len(b["thinking"])
            else:
                out_chars += 40 + len(orjson.dumps(b["input"]))
        inp, out, cc, cr = self._usage(out_chars // 4)
        fast = self.fast and model == self.model and agent is None and not sidechain
        if self.split == "1h":
            h1 = cc
        elif self.split == "mixed":
            h1 = int(cc * rng.random())
        else:
            h1 = 0
        final = self._usage_dict(inp, out, cc, cr, h1, fast)
        mid = "msg_01" + _tok(rng, 22)
        rid = "req_011C" + _tok(rng, 20) if request_id else None
        n = len(blocks)
        if cross_midnight:
            # first line just before midnight, the next ones just after
            midnight = (self.t // _DAY_MS + 1) * _DAY_MS
            self.t = midnight - 100 - int(rng.random() * 250)
            step_lo, step_hi = 400, 900
            self.st.feature("claude_cross_midnight_responses")
        else:
            self._advance(1_500, 7_000)
            step_lo, step_hi = 150, 2_500
        best, kept_ms = -1, self.t
        partial_out = 1 + int(rng.random() * 12)
        for i, block in enumerate(blocks):
            if i:
                self._advance(step_lo, step_hi)
            last = i == n - 1
            if self.partial and not last and out > 1:
                o = min(partial_out, out - 1)
                u = self._usage_dict(inp, o, cc, cr, h1, fast)
            else:
                o, u = out, final
            tot = inp + o + cc + cr
            if tot > best:
                best, kept_ms = tot, self.t
            stop = None
            if last and not self.partial:
                stop = "tool_use" if block["type"] == "tool_use" else "end_turn"
            msg = {
                "model": model,
                "id": mid,
                "type": "message",
                "role": "assistant",
                "content": [block],
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": u,
            }
            if agent is not None:
                d = self._env(
                    "assistant",
                    self.t,
                    sidechain=True,
                    agent=agent,
                    chain=False,
                    parent=mirror["sub_parent"] if mirror else None,
                )
                if mirror is not None:
                    mirror["sub_parent"] = d["uuid"]
            else:
                d = self._env("assistant", self.t, sidechain=sidechain)
            d["message"] = msg
            if rid is not None:
                d["requestId"] = rid
            del d["type"]
            d["type"] = "assistant"
            uid, ts = d.pop("uuid"), d.pop("timestamp")
            d["uuid"], d["timestamp"] = uid, ts
            if mirror is None or mirror.get("file", True):
                self._emit(d, w)
            if mirror is not None:
                inner: dict[str, Any] = {
                    "type": "assistant",
                    "timestamp": ts,
                    "message": msg,
                    "uuid": uid,
                }
                if rid is not None:
                    inner["requestId"] = rid
                self._progress(mirror, inner)
        self.st.record("claude", kept_ms, model, inp, out, cc, cr, h1, 0, fast)
        if fast:
            self.st.feature("claude_fast_responses")
        if self.split is None:
            self.st.feature("claude_responses_without_cache_split")
        if rid is None:
            self.st.feature("claude_missing_request_id")
        if model == UNKNOWN_MODEL:
            self.st.feature("claude_unknown_model_responses")
        if sidechain or agent is not None:
            self.st.feature("claude_subagent_responses")
        self.last_usage = final
        return final

    def _progress(self, mirror: dict[str, Any], inner: dict[str, Any]) -> None:
        """Mirror one subagent message into the parent as an agent_progress line."""
        ms = self.t + 1 if (self.t + 1) % _DAY_MS else self.t
        d = self._env("progress", ms)
        d["data"] = {
            "message": inner,
            "normalizedMessages": [],
            "type": "agent_progress",
            "prompt": mirror["prompt"],
            "agentId": mirror["agent"],
        }
        d["toolUseID"] = "agent_" + mirror["tool_id"]
        d["parentToolUseID"] = mirror["tool_id"]
        uid, ts = d.pop("uuid"), d.pop("timestamp")
        d["uuid"], d["timestamp"] = uid, ts
        self._emit(d, self.w)
        self.st.feature("claude_agent_progress_lines")

    # -- content ---------------------------------------------------------------------

    def _thinking(self) -> dict[str, Any]:
        rng = self.rng
        return {
            "type": "thinking",
            "thinking": self.text.prose_(rng, _size(rng, 120, min(5_000, self.big))),
            "signature": self.text.blob_(rng, _size(rng, 300, 2_000)),
        }

    def _text(self, lo: int = 20, hi: int = 2_500) -> dict[str, Any]:
        hi = min(hi, self.big)
        return {"type": "text", "text": self.text.prose_(self.rng, _size(self.rng, lo, hi))}

    def _tool_use(self, name: str) -> dict[str, Any]:
        rng, tx = self.rng, self.text
        path = f"{self.cwd}/src/{rng.choice(_IDENTS)}.py"
        if name == "Bash":
            inp: dict[str, Any] = {
                "command": tx.code_(rng, _size(rng, 15, 300)),
                "description": tx.prose_(rng, 40),
                "timeout": 120000,
            }
        elif name == "Read":
            inp = {"file_path": path}
        elif name == "Edit":
            inp = {
                "file_path": path,
                "old_string": tx.code_(rng, _size(rng, 40, 1_500)),
                "new_string": tx.code_(rng, _size(rng, 40, 1_500)),
            }
        elif name == "Write":
            inp = {
                "file_path": path,
                "content": tx.code_(rng, _size(rng, 200, min(6_000, self.big))),
            }
        elif name == "Grep":
            inp = {"pattern": rng.choice(_IDENTS), "path": self.cwd, "output_mode": "content"}
        elif name == "Glob":
            inp = {"pattern": "**/*.py", "path": self.cwd}
        else:
            inp = {
                "todos": [
                    {
                        "content": tx.prose_(rng, 50),
                        "status": "pending",
                        "activeForm": tx.prose_(rng, 30),
                    }
                    for _ in range(3)
                ]
            }
        d = {"type": "tool_use", "id": "toolu_01" + _tok(rng, 22), "name": name, "input": inp}
        if not self.old:
            d["caller"] = {"type": "direct"}
        return d

    def _tool_result(
        self,
        tool: dict[str, Any],
        *,
        sidechain: bool = False,
        agent: str | None = None,
        mirror: dict[str, Any] | None = None,
        w: _Writer | None = None,
    ) -> None:
        rng, tx = self.rng, self.text
        name = tool["name"]
        self._advance(50, 9_000 if name == "Bash" else 900)
        err = rng.random() < 0.03
        if name == "Read":
            body = tx.code_(rng, _size(rng, 300, self.big))
            result: Any = {
                "type": "text",
                "file": {
                    "filePath": tool["input"]["file_path"],
                    "content": body,
                    "numLines": body.count("\n") + 1,
                    "startLine": 1,
                    "totalLines": body.count("\n") + 1,
                },
            }
        elif name == "Bash":
            body = tx.code_(rng, _size(rng, 20, min(6_000, self.big)))
            result = {"stdout": body, "stderr": "", "interrupted": False, "isImage": False}
        elif name == "Grep":
            body = tx.code_(rng, _size(rng, 50, min(3_000, self.big)))
            result = {"mode": "content", "numFiles": 3, "filenames": [], "content": body}
        elif name in ("Edit", "Write"):
            body = f"The file {tool['input']['file_path']} has been updated successfully."
            result = {
                "filePath": tool["input"]["file_path"],
                "structuredPatch": [],
                "userModified": False,
            }
        else:
            body = tx.prose_(rng, _size(rng, 30, 400))
            result = body
        if err:
            body = "Error: " + body[:200]
            result = body
        content = [
            {"tool_use_id": tool["id"], "type": "tool_result", "content": body, "is_error": err}
        ]
        self.pending += len(body) // 4 + 10
        if agent is not None:
            d = self._env(
                "user",
                self.t,
                sidechain=True,
                agent=agent,
                chain=False,
                parent=mirror["sub_parent"] if mirror else None,
            )
            if mirror is not None:
                mirror["sub_parent"] = d["uuid"]
        else:
            d = self._env("user", self.t, sidechain=sidechain)
        d["message"] = {"role": "user", "content": content}
        d["toolUseResult"] = result
        if mirror is None or mirror.get("file", True):
            self._emit(d, w or self.w)
        if mirror is not None:
            self._progress(
                mirror,
                {
                    "type": "user",
                    "message": d["message"],
                    "uuid": d["uuid"],
                    "timestamp": d["timestamp"],
                    "toolUseResult": result,
                },
            )
        if "malformed_utf8" in self.todo or self.rng.random() < 0.0004:
            self.todo.discard("malformed_utf8")
            self._invalid_utf8(d)

    # -- malformed lines -------------------------------------------------------------

    def _invalid_utf8(self, obj: dict[str, Any]) -> None:
        b = orjson.dumps(obj)
        i = b.find(b'"content":') + 12
        self.w.raw(b[:i] + b"\xff\xfe\xc3(" + b[i:], malformed=True)
        self.st.feature("claude_malformed_invalid_utf8")

    def _truncated(self) -> None:
        if not self.w.lines:
            return
        src = self.w.lines[-1]
        if src[:1] != b"{" or len(src) < 20:
            return
        cut = 10 + int(self.rng.random() * (len(src) - 12))
        self.w.raw(_prefix(src, cut), malformed=True)
        self.st.feature("claude_malformed_truncated")

    # -- structure -------------------------------------------------------------------

    def run(self) -> None:
        rng = self.rng
        if self.previous is not None and "resume" in self.flags:
            self._replay_previous()
        elif self.old and rng.random() < 0.3:
            self.w.emit(
                {"type": "summary", "summary": self.text.prose_(rng, 60), "leafUuid": _uuid4(rng)}
            )
        if not self.old:
            for _ in range(1 + int(rng.random() * 2)):
                d = self._env("progress", self.t)
                d["data"] = {
                    "type": "hook_progress",
                    "hookEvent": "SessionStart",
                    "hookName": "SessionStart:startup",
                    "command": "bd prime",
                }
                tid = _uuid4(rng)
                d["parentToolUseID"] = tid
                d["toolUseID"] = tid
                self._emit(d, self.w)
                self.t += 40
        turn = 0
        while self._used() < self.budget or turn == 0:
            self._turn(turn)
            turn += 1
        if "malformed_eof" in self.todo:
            self._truncated()
            self.w.unterminated = True
        self.st.flush("claude", self.w)

    def _replay_previous(self) -> None:
        """Start with a verbatim copy of the end of an earlier session (same message ids)."""
        assert self.previous is not None
        old_sid, lines, _ = self.previous
        tail = lines[-min(len(lines), 12 + int(self.rng.random() * 30)) :]
        old, new = old_sid.encode(), self.sid.encode()
        for b in tail:
            self.w.raw(b.replace(old, new))
        self.st.feature("claude_resumed_sessions")
        self.st.feature("claude_replayed_lines", len(tail))

    def _turn(self, turn: int) -> None:
        rng, todo = self.rng, self.todo
        if turn:
            self._advance(8_000, 600_000)
        if turn and ("compact" in todo or self.cached > 165_000):
            todo.discard("compact")
            self._compact()
        if rng.random() < 0.08 or (turn == 0 and "unknown_type" in todo):
            todo.discard("unknown_type")
            if turn == 0:
                self.st.feature("claude_unknown_type_lines")
                self.w.emit(
                    {
                        "type": "worktree-state",
                        "timestamp": _iso(self.t),
                        "sessionId": self.sid,
                        "worktree": {"path": self.cwd},
                    }
                )
            else:
                self._misc_line()
        prompt_id = _uuid4(rng)
        if rng.random() < 0.6:
            self._snapshot(prompt_id)
        self._user_prompt(self.text.prose_(rng, _size(rng, 15, 1_800)))
        model = self.model
        if "unknown_model" in todo:
            todo.discard("unknown_model")
            self._system("local_command", "<command-name>/model</command-name>")
            model = UNKNOWN_MODEL
        steps = 1 + int(rng.random() ** 2 * 14)
        # a forced subagent runs at the first step, before the budget can end the turn
        forced_subagent = bool(todo & {"subagent_file", "subagent_progress", "subagent_inline"})
        subagent_step = -1
        if forced_subagent:
            subagent_step, steps = 0, max(steps, 2)
        elif rng.random() < 0.06 and self.budget >= 15_000:
            subagent_step = 0 if steps == 1 else int(rng.random() * (steps - 1))
            steps = max(steps, 2)
        for step in range(steps):
            over = self._used() > self.budget and (step > 0 or not forced_subagent)
            last = step == steps - 1 or over
            if last and "missing_req" in todo:
                # a response without requestId, written as one line (see module docstring)
                todo.discard("missing_req")
                self._response([self._text(20, 600)], model, request_id=False)
                break
            blocks: list[dict[str, Any]] = []
            if model != "claude-haiku-4-5-20251001" and rng.random() < 0.45:
                blocks.append(self._thinking())
            if last or rng.random() < 0.55:
                blocks.append(self._text())
            tools: list[dict[str, Any]] = []
            if not last:
                if step == subagent_step:
                    tools.append(self._task_tool())
                for _ in range(1 + int(rng.random() ** 3 * 3) - len(tools)):
                    tools.append(self._tool_use(rng.choice(_TOOLS)))
                blocks.extend(tools[: 6 - len(blocks)])
                tools = [b for b in blocks if b["type"] == "tool_use"]
            cross = False
            if not self.cross_midnight_done and len(blocks) > 1:
                self.cross_midnight_done = True
                cross = _DAY_MS - self.t % _DAY_MS < 1_800_000
            self._response(blocks, model, cross_midnight=cross)
            if rng.random() < 0.0004:
                self._truncated()
            if "malformed_trunc" in todo:
                todo.discard("malformed_trunc")
                self._truncated()
            for tool in tools:
                if not self.old and rng.random() < 0.5:
                    self._hook("PreToolUse", tool["id"])
                if tool["name"] == "Task":
                    self._subagent(tool)
                else:
                    self._tool_result(tool)
            if last:
                break
        if "synthetic" in todo or rng.random() < 0.015:
            todo.discard("synthetic")
            self._synthetic()
        if not self.old:
            self.t += 30
            self._system("turn_duration", "", durationMs=5_000 + int(rng.random() * 200_000))
        if rng.random() < 0.03:
            self._system("local_command", "<local-command-stdout>ok</local-command-stdout>")

    def _compact(self) -> None:
        rng = self.rng
        pre = self.cached
        d = self._env("system", self.t, chain=False)
        d["parentUuid"] = None
        d["logicalParentUuid"] = self.parent
        d["subtype"] = "compact_boundary"
        d["content"] = "Conversation compacted"
        d["isMeta"] = False
        d["level"] = "info"
        d["compactMetadata"] = {"trigger": rng.choice(("auto", "manual")), "preTokens": pre}
        self.parent = d["uuid"]
        self._emit(d, self.w)
        self.t += 300
        summary = self.text.prose_(rng, _size(rng, 1_500, 9_000))
        self._user_prompt(
            "This session is being continued from a previous conversation that ran out of "
            "context. The conversation is summarized below:\n" + summary,
            isCompactSummary=True,
            isVisibleInTranscriptOnly=True,
        )
        self.cached = 0
        self.pending = len(summary) // 4
        self.st.feature("claude_compactions")

    def _synthetic(self) -> None:
        d = self._env("user", self.t + 500)
        d["message"] = {
            "role": "user",
            "content": [{"type": "text", "text": "[Request interrupted by user]"}],
        }
        self._emit(d, self.w)
        self.t += 600
        d = self._env("assistant", self.t)
        del d["type"]
        d["message"] = {
            "id": _uuid4(self.rng),
            "container": None,
            "model": SYNTHETIC_MODEL,
            "role": "assistant",
            "stop_reason": "stop_sequence",
            "stop_sequence": "",
            "type": "message",
            "usage": {
                "input_tokens": 0,
                "output_tokens": 0,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "server_tool_use": {"web_search_requests": 0},
                "service_tier": None,
                "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
            },
            "content": [{"type": "text", "text": "No response requested."}],
        }
        d["type"] = "assistant"
        d["isApiErrorMessage"] = False
        self._emit(d, self.w)
        self.st.feature("claude_synthetic_lines")

    # -- subagents -------------------------------------------------------------------

    def _task_tool(self) -> dict[str, Any]:
        rng = self.rng
        prompt = self.text.prose_(rng, _size(rng, 200, 2_500))
        d = {
            "type": "tool_use",
            "id": "toolu_01" + _tok(rng, 22),
            "name": "Task",
            "input": {
                "description": self.text.prose_(rng, 30),
                "prompt": prompt,
                "subagent_type": rng.choice(("Explore", "Plan", "general-purpose")),
            },
        }
        if not self.old:
            d["caller"] = {"type": "direct"}
        return d

    def _subagent(self, tool: dict[str, Any]) -> None:
        """Run a subagent for a Task tool call, in the layout the session's version uses."""
        rng, todo = self.rng, self.todo
        prompt = tool["input"]["prompt"]
        model = rng.choice(_SUBAGENT_MODELS)
        wanted_progress = "subagent_progress" in todo
        todo.difference_update(("subagent_inline", "subagent_file", "subagent_progress"))
        if self.old:
            mode = "inline"
        elif wanted_progress:
            mode = "progress"
        else:
            mode = "progress" if self.version < "2.1.9" and rng.random() < 0.3 else "file"
        self.st.feature(f"claude_subagents_{mode}")
        saved = (self.cached, self.pending, self.last_call)
        self.cached, self.pending = 0, len(prompt) // 4
        agent = "a" + rng.randbytes(8).hex()[:16] if mode != "inline" else None
        mirror: dict[str, Any] | None = None
        sw: _Writer | None = None
        main_parent = self.parent
        self._advance(300, 1_500)
        if mode == "inline":
            # the sidechain is its own conversation thread inside the main file
            d = self._env("user", self.t, sidechain=True, chain=False, parent=None)
            d["message"] = {"role": "user", "content": prompt}
            self.parent = d["uuid"]
            self._emit(d, self.w)
            self.st.feature("claude_sidechain_prompts")
        else:
            assert agent is not None
            mirror = {
                "prompt": prompt,
                "agent": agent,
                "tool_id": tool["id"],
                "sub_parent": None,
                "file": mode == "file",
            }
            if mode == "file":
                sw = _Writer(self.pdir / self.sid / "subagents" / f"agent-{agent}.jsonl")
            d = self._env("user", self.t, sidechain=True, agent=agent, chain=False, parent=None)
            d["message"] = {"role": "user", "content": prompt}
            mirror["sub_parent"] = d["uuid"]
            if sw is not None:
                self._emit(d, sw)
            self._progress(
                mirror,
                {
                    "type": "user",
                    "message": d["message"],
                    "uuid": d["uuid"],
                    "timestamp": d["timestamp"],
                },
            )
        n = 2 + int(rng.random() * 5)
        for i in range(n):
            used = self._used() + (sw.nbytes if sw is not None else 0)
            last = i == n - 1 or (i > 0 and used > self.budget)
            blocks = [self._text(20, 800)] if last or rng.random() < 0.4 else []
            tools = (
                []
                if last
                else [
                    self._tool_use(rng.choice(("Read", "Grep", "Glob", "Bash")))
                    for _ in range(1 + int(rng.random() * 2))
                ]
            )
            blocks.extend(tools)
            if mode == "inline":
                self._response(blocks, model, sidechain=True)
                for t in tools:
                    self._tool_result(t, sidechain=True)
            else:
                self._response(blocks, model, w=sw, agent=agent, mirror=mirror)
                for t in tools:
                    self._tool_result(t, agent=agent, mirror=mirror, w=sw)
            if last:
                break
        final_usage = self.last_usage
        self.parent = main_parent
        if sw is not None:
            self.st.flush("claude", sw)
            self.sub_bytes += sw.nbytes
            self.st.feature("claude_subagent_files")
        self.cached, self.pending, self.last_call = saved
        self._advance(100, 800)
        answer = self.text.prose_(rng, _size(rng, 100, 2_000))
        d = self._env("user", self.t)
        d["message"] = {
            "role": "user",
            "content": [
                {
                    "tool_use_id": tool["id"],
                    "type": "tool_result",
                    "content": [{"type": "text", "text": answer}],
                }
            ],
        }
        d["toolUseResult"] = {
            "status": "completed",
            "prompt": prompt,
            "content": [{"type": "text", "text": answer}],
            "totalDurationMs": 4_000 + int(rng.random() * 90_000),
            "totalTokens": sum(v for k, v in final_usage.items() if k.endswith("tokens")),
            "totalToolUseCount": n - 1,
            "usage": final_usage,
        }
        if agent is not None:
            d["toolUseResult"]["agentId"] = agent
        self._emit(d, self.w)
        self.pending += len(answer) // 4


# ---------------------------------------------------------------------------------------
# Codex CLI rollouts
# ---------------------------------------------------------------------------------------


class _CodexSession:
    """One Codex CLI rollout file."""

    def __init__(
        self, st: _State, *, cwd: str, start_ms: int, budget: int, flags: set[str], path_kind: str
    ) -> None:
        rng = self.rng = st.rng
        self.st = st
        self.text = st.text
        self.flags = flags
        self.todo = set(flags)
        self.cwd = cwd
        self.t = start_ms
        self.budget = budget
        self.sid = _uuid7(rng, start_ms)
        self.version = rng.choice(_CODEX_VERSIONS)
        self.model = _pick(rng, CODEX_MODELS)
        self.effort = rng.choice(("medium", "high", "xhigh"))
        self.tot = [0, 0, 0, 0]  # input (incl. cached), cached, output (incl. reasoning), reasoning
        self.ctx = 0
        self.pending = 0
        self.big = max(1_500, min(12_000, budget // 12))  # largest tool output, in chars
        self.instructions = self.text.prose_(rng, _size(rng, 400, min(3_000, self.big)))
        stamp = _iso(start_ms)[:19].replace(":", "-")
        name = f"rollout-{stamp}-{self.sid}.jsonl"
        self.path_kind = path_kind  # "sessions", "archived" or "both"
        codex = st.root / "codex"
        day = stamp[:10].split("-")
        if path_kind == "archived":
            path = codex / "archived_sessions" / name
        else:
            path = codex / "sessions" / day[0] / day[1] / day[2] / name
        self.archived_path = codex / "archived_sessions" / name
        self.w = _Writer(path)

    def _line(self, typ: str, payload: dict[str, Any], ms: int | None = None) -> None:
        self.w.emit(
            {"timestamp": _iso(self.t if ms is None else ms), "type": typ, "payload": payload}
        )

    def _turn_context(self) -> None:
        self._line(
            "turn_context",
            {
                "cwd": self.cwd,
                "approval_policy": "on-request",
                "sandbox_policy": {"type": "workspace-write"},
                "model": self.model,
                "effort": self.effort,
                "summary": "auto",
                "user_instructions": self.instructions,
            },
        )

    def _token_count(self, info: dict[str, Any] | None) -> None:
        self._line(
            "event_msg",
            {
                "type": "token_count",
                "info": info,
                "rate_limits": {
                    "primary": {
                        "used_percent": 4.0,
                        "window_minutes": 300,
                        "resets_at": 1769354480,
                    },
                    "secondary": {
                        "used_percent": 19.0,
                        "window_minutes": 10080,
                        "resets_at": 1769769918,
                    },
                },
            },
        )

    def _call(self, out_chars: int) -> dict[str, Any]:
        """One model call: update the cumulative totals, record the increase."""
        rng = self.rng
        inp = self.ctx + self.pending + 30
        cached = (self.ctx * (85 + int(rng.random() * 15)) // 100) // 128 * 128
        cached = min(cached, inp)
        out = out_chars // 4 + 5 + int(rng.random() * 200)
        reasoning = int(out * rng.random() * 0.7) if rng.random() < 0.6 else 0
        out += reasoning
        t = self.tot
        t[0] += inp
        t[1] += cached
        t[2] += out
        t[3] += reasoning
        self.ctx = inp + out
        self.pending = 0
        self.st.record("codex", self.t, self.model, inp - cached, out, 0, cached, 0, reasoning)

        def u(i: int, c: int, o: int, r: int) -> dict[str, int]:
            return {
                "input_tokens": i,
                "cached_input_tokens": c,
                "output_tokens": o,
                "reasoning_output_tokens": r,
                "total_tokens": i + o,
            }

        return {
            "total_token_usage": u(*t),
            "last_token_usage": u(inp, cached, out, reasoning),
            "model_context_window": 258400,
        }

    def run(self) -> None:
        rng, tx = self.rng, self.text
        meta: dict[str, Any] = {
            "id": self.sid,
            "timestamp": _iso(self.t),
            "cwd": self.cwd,
            "originator": rng.choice(("codex_cli_rs", "codex_exec")),
            "cli_version": self.version,
            "source": "cli",
            "model_provider": "openai",
        }
        if self.version >= "0.84":
            size = _size(rng, min(6_000, self.budget // 6), min(20_000, self.budget // 4))
            meta["base_instructions"] = {"text": tx.prose_(rng, size)}
        meta["git"] = {
            "commit_hash": rng.randbytes(20).hex(),
            "branch": "main",
            "repository_url": f"git@github.com:dev/{self.cwd.rsplit('/', 1)[-1]}.git",
        }
        self._line("session_meta", meta)
        self._line(
            "response_item",
            {
                "type": "message",
                "role": "developer",
                "content": [
                    {
                        "type": "input_text",
                        "text": "<permissions instructions>"
                        + tx.prose_(rng, 1_200)
                        + "</permissions instructions>",
                    }
                ],
            },
        )
        self._line(
            "response_item",
            {
                "type": "message",
                "role": "user",
                "content": [
                    {
                        "type": "input_text",
                        "text": f"# AGENTS.md instructions for {self.cwd}\n\n"
                        "<INSTRUCTIONS>\n" + self.instructions + "\n</INSTRUCTIONS>",
                    }
                ],
            },
        )
        self._line(
            "response_item",
            {
                "type": "message",
                "role": "user",
                "content": [
                    {
                        "type": "input_text",
                        "text": f"<environment_context>\n  <cwd>{self.cwd}</cwd>\n"
                        "  <shell>zsh</shell>\n</environment_context>",
                    }
                ],
            },
        )
        self.ctx = 7_000 + int(rng.random() * 5_000)
        turn = 0
        while self.w.nbytes < self.budget or turn == 0 or "model_switch" in self.todo:
            self._turn(turn)
            turn += 1
        if "malformed_eof" in self.todo:
            src = self.w.lines[-1]
            self.w.raw(_prefix(src, len(src) // 2), malformed=True)
            self.w.unterminated = True
            self.st.feature("codex_malformed_truncated")
        self.st.flush("codex", self.w)
        if self.path_kind == "both":
            self.st.copy_file("codex", self.w, self.archived_path)
            self.st.feature("codex_archived_duplicates")
        if self.path_kind != "sessions":
            self.st.feature("codex_archived_files")

    def _turn(self, turn: int) -> None:
        rng, tx, todo = self.rng, self.text, self.todo
        if turn:
            self.t += 10_000 + int(rng.random() * 900_000)
            if "model_switch" in todo or rng.random() < 0.03:
                todo.discard("model_switch")
                self.model = next(m for m, _ in CODEX_MODELS if m != self.model)
                self.st.feature("codex_model_switches")
        prompt = tx.prose_(rng, _size(rng, 20, 1_500))
        self.pending += len(prompt) // 4
        self._line(
            "response_item",
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": prompt}],
            },
        )
        self._line(
            "event_msg",
            {
                "type": "user_message",
                "message": prompt,
                "images": [],
                "local_images": [],
                "text_elements": [],
            },
        )
        self.t += 150
        self._turn_context()
        if turn == 0:
            self.t += 300
            self._token_count(None)
        steps = 1 + int(rng.random() ** 2 * 12)
        if "malformed_utf8" in todo:
            steps = max(steps, 2)  # the invalid line copies a tool output
        for step in range(steps):
            over = self.w.nbytes > self.budget and not (step == 0 and "malformed_utf8" in todo)
            last = step == steps - 1 or over
            self.t += 800 + int(rng.random() * 6_000)
            out_chars = 0
            if rng.random() < 0.7:
                title = "**" + tx.prose_(rng, 40).strip() + "**"
                self._line("event_msg", {"type": "agent_reasoning", "text": title})
                self._line(
                    "response_item",
                    {
                        "type": "reasoning",
                        "summary": [{"type": "summary_text", "text": title}],
                        "content": None,
                        "encrypted_content": "gAAAAA"
                        + tx.blob_(rng, _size(rng, 400, min(5_000, self.big))),
                    },
                )
            if last:
                msg = tx.prose_(rng, _size(rng, 30, 2_500))
                out_chars += len(msg)
                self._line("event_msg", {"type": "agent_message", "message": msg})
                self._line(
                    "response_item",
                    {
                        "type": "message",
                        "role": "assistant",
                        "content": [{"type": "output_text", "text": msg}],
                    },
                )
                self.t += 4
                info = self._call(out_chars)
                self._token_count(info)
                if rng.random() < 0.5:
                    self.t += 200
                    self._token_count(info)
                self._line("event_msg", {"type": "task_complete", "last_agent_message": msg})
                break
            call_id = "call_" + _tok(rng, 24)
            if rng.random() < 0.25:
                patch = (
                    "*** Begin Patch\n*** Update File: "
                    + self.cwd
                    + "/src/app.py\n@@\n"
                    + tx.code_(rng, _size(rng, 100, 4_000))
                    + "\n*** End Patch"
                )
                out_chars += len(patch)
                self._line(
                    "response_item",
                    {
                        "type": "custom_tool_call",
                        "status": "completed",
                        "call_id": call_id,
                        "name": "apply_patch",
                        "input": patch,
                    },
                )
                kind = "custom_tool_call_output"
                output = orjson.dumps(
                    {
                        "output": "Success. Updated the following files:\nM "
                        + self.cwd
                        + "/src/app.py\n",
                        "metadata": {"exit_code": 0, "duration_seconds": 0.1},
                    }
                ).decode()
            else:
                args = orjson.dumps({"cmd": tx.code_(rng, _size(rng, 10, 400))}).decode()
                out_chars += len(args)
                self._line(
                    "response_item",
                    {
                        "type": "function_call",
                        "name": "exec_command",
                        "arguments": args,
                        "call_id": call_id,
                    },
                )
                kind = "function_call_output"
                output = (
                    "Chunk ID: " + rng.randbytes(3).hex() + "\nWall time: 0.0512 seconds\n"
                    "Process exited with code 0\nOutput:\n"
                    + tx.code_(rng, _size(rng, 20, self.big))
                )
            self.t += 5
            info = self._call(out_chars)
            self._token_count(info)
            self.t += 60 + int(rng.random() * 8_000)
            self.pending += len(output) // 4
            self._line("response_item", {"type": kind, "call_id": call_id, "output": output})
            if "malformed_utf8" in todo or rng.random() < 0.0005:
                todo.discard("malformed_utf8")
                b = self.w.lines[-1]
                i = b.find(b'"output":"') + 14
                self.w.raw(b[:i] + b"\xff\xc3(" + b[i:], malformed=True)
                self.st.feature("codex_malformed_invalid_utf8")
            if rng.random() < 0.0005:
                b = self.w.lines[-1]
                self.w.raw(_prefix(b, 10 + int(rng.random() * (len(b) - 12))), malformed=True)
                self.st.feature("codex_malformed_truncated")
            self.t += 3
            self._turn_context()
            self.t += 200
            self._token_count(info)  # the same event, written a second time
        if rng.random() < 0.02:
            self._line("compacted", {"message": tx.prose_(rng, _size(rng, 500, 4_000))})
            self.ctx = 4_000 + int(rng.random() * 4_000)
            self.st.feature("codex_compactions")


# ---------------------------------------------------------------------------------------
# Top level
# ---------------------------------------------------------------------------------------

# Features forced into the first sessions so that even a small tree has each of them.
_CLAUDE_FORCED: tuple[tuple[bool, frozenset[str]], ...] = (
    (False, frozenset({"subagent_file", "cross_midnight", "unknown_type"})),
    (True, frozenset({"subagent_inline", "cross_midnight", "compact", "nosplit"})),
    (True, frozenset({"subagent_file", "synthetic", "missing_req", "malformed_trunc"})),
    (False, frozenset({"subagent_progress", "unknown_model", "fast", "malformed_utf8"})),
    (True, frozenset({"resume", "compact", "malformed_eof", "cross_midnight"})),
    (False, frozenset({"missing_req", "compact", "synthetic", "nosplit"})),
)
_CODEX_FORCED: tuple[tuple[str, frozenset[str]], ...] = (
    ("sessions", frozenset({"model_switch"})),
    ("both", frozenset({"malformed_utf8"})),
    ("archived", frozenset({"malformed_eof"})),
)


def _session_budget(rng: random.Random, remaining: int, cap: int) -> int:
    size = min(int(math.exp(rng.gauss(math.log(350_000), 1.0))), cap)
    size = max(size, 12_000)
    if remaining - size < 12_000:
        size = remaining
    return max(min(size, remaining), 4_000)


def _start_ms(st: _State, index: int, *, late: bool, salt: int) -> int:
    """Start of the index-th session: every day gets one before any gets a second."""
    rng = st.rng
    cycle, pos = divmod(index, st.days)
    order = list(range(st.days))
    random.Random(st.seed * 1_000_003 + cycle * 7_919 + salt).shuffle(order)
    day = st.start_day + order[pos]
    if late:
        sec = 23 * 3600 + 40 * 60 + int(rng.random() * 900)
    elif rng.random() < 0.06:
        sec = 22 * 3600 + int(rng.random() * 7_000)
    else:
        h = rng.choice((0, 1, 8, 9, 9, 10, 10, 11, 11, 13, 14, 14, 15, 15, 16, 16, 17, 19, 20, 21))
        sec = h * 3600 + int(rng.random() * 3600)
    return day * _DAY_MS + sec * 1000 + int(rng.random() * 1000)


def generate(
    root: Path,
    *,
    target_bytes: int,
    seed: int = 0,
    start: date | None = None,
    days: int = 30,
    claude_share: float = 0.8,
    progress: Callable[[int, int], None] | None = None,
) -> Manifest:
    """Write a synthetic Claude Code + Codex CLI history under ``root`` and return its truth.

    ``root/claude`` works as ``CLAUDE_CONFIG_DIR`` and ``root/codex`` as ``CODEX_HOME``;
    ``root/manifest.json`` holds the returned `Manifest`. Sessions start on ``days``
    consecutive days from ``start`` (default `DEFAULT_START`, fixed so that output only
    depends on the arguments); late sessions may run past the last day. About
    ``claude_share`` of the bytes are Claude transcripts. The total size of the
    transcripts ends within a few percent of ``target_bytes`` (from about 500 KB up: every
    realism feature is written at least once, so tinier trees end larger than asked).
    The same arguments always
    produce the same bytes. ``progress(bytes_written, target_bytes)`` is called after
    each session. Raises `FileExistsError` when ``root`` already holds a tree (stale
    files would not match the manifest).
    """
    t0 = time.perf_counter()
    if target_bytes <= 0:
        raise ValueError("target_bytes must be positive")
    if days < 1:
        raise ValueError("days must be >= 1")
    if not 0.0 <= claude_share <= 1.0:
        raise ValueError("claude_share must be within [0, 1]")
    root = Path(root)
    for existing in (root / "claude", root / "codex", root / _MANIFEST_NAME):
        if existing.exists():
            raise FileExistsError(f"{existing} exists: generate into a new directory")
    start = start or DEFAULT_START
    st = _State(root, seed, start, days)
    rng = st.rng
    (root / "claude" / "projects").mkdir(parents=True, exist_ok=True)
    (root / "codex" / "sessions").mkdir(parents=True, exist_ok=True)

    claude_target = int(target_bytes * claude_share)
    codex_target = target_bytes - claude_target
    cap = max(20_000, target_bytes // 100)

    # -- Claude
    previous: dict[str, tuple[str, list[bytes], int]] = {}
    index = 0
    while claude_target - st.stats["claude"].bytes > 4_000:
        remaining = claude_target - st.stats["claude"].bytes
        if index < len(_CLAUDE_FORCED):
            partial, flags = _CLAUDE_FORCED[index][0], set(_CLAUDE_FORCED[index][1])
            budget = max(8_000, min(claude_target // 10, 30_000, remaining))
        else:
            partial = rng.random() < 0.55
            flags = set()
            for name, p in (
                ("subagent_file", 0.1),
                ("compact", 0.05),
                ("synthetic", 0.05),
                ("missing_req", 0.04),
                ("unknown_model", 0.01),
                ("fast", 0.08),
                ("resume", 0.04),
                ("nosplit", 0.08),
                ("unknown_type", 0.05),
                ("cross_midnight", 0.01),
                ("malformed_eof", 0.01),
            ):
                if rng.random() < p:
                    flags.add(name)
            if partial and "subagent_file" in flags and rng.random() < 0.4:
                flags.add("subagent_inline")
            budget = _session_budget(rng, remaining, cap)
        cwd = _PROJECTS[index % 3] if index < 6 else rng.choice(_PROJECTS)
        late = "cross_midnight" in flags
        start_ms = _start_ms(st, index, late=late, salt=1)
        prev = previous.get(cwd)
        if prev is None:
            flags.discard("resume")
        elif "resume" in flags:
            # resumed some minutes after the earlier session ended
            start_ms = prev[2] + 300_000 + int(rng.random() * 3_000_000)
            flags.discard("cross_midnight")
        s = _ClaudeSession(
            st,
            cwd=cwd,
            start_ms=start_ms,
            budget=budget,
            flags=flags,
            partial=partial,
            previous=prev,
        )
        s.run()
        previous[cwd] = (s.sid, [b for b in s.w.lines[-60:] if _replayable(b)], s.t)
        st.feature("claude_sessions")
        st.feature("claude_partial_style_sessions" if partial else "claude_final_style_sessions")
        index += 1
        if progress is not None:
            progress(st.written, target_bytes)
    previous.clear()

    # -- Codex
    index = 0
    while codex_target - st.stats["codex"].bytes > 4_000:
        remaining = codex_target - st.stats["codex"].bytes
        if index < len(_CODEX_FORCED):
            kind, flags = _CODEX_FORCED[index][0], set(_CODEX_FORCED[index][1])
            budget = max(4_000, min(codex_target // (8 if kind == "both" else 4), 25_000))
        else:
            kind = "archived" if rng.random() < 0.05 else "sessions"
            flags = {"model_switch"} if rng.random() < 0.1 else set()
            if rng.random() < 0.01:
                flags.add("malformed_eof")
            budget = _session_budget(rng, remaining, cap)
        cwd = rng.choice(_PROJECTS)
        s2 = _CodexSession(
            st,
            cwd=cwd,
            start_ms=_start_ms(st, index, late=False, salt=2),
            budget=budget,
            flags=flags,
            path_kind=kind,
        )
        s2.run()
        st.feature("codex_sessions")
        index += 1
        if progress is not None:
            progress(st.written, target_bytes)

    manifest = _build_manifest(st, seed, target_bytes, start, days, claude_share)
    manifest.elapsed_seconds = round(time.perf_counter() - t0, 3)
    (root / _MANIFEST_NAME).write_bytes(manifest.to_json())
    return manifest


def _replayable(b: bytes) -> bool:
    """Whether a resumed session may copy this line of an earlier one.

    Malformed lines are not copied, nor assistant lines without ``requestId``: ccusage
    20.0.24 does not deduplicate those, so a copy would count twice there.
    """
    if not b.endswith(b"}") or (b'"type":"assistant"' in b and b'"requestId"' not in b):
        return False
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _prefix(line: bytes, cut: int) -> bytes:
    """The first ``cut`` bytes of a JSON line: a line cut while being written (invalid JSON).

    The cut never ends right after ``"type":`` (or ``"type":"``): ccusage 20.0.24 aborts its
    whole Codex report on an ``event_msg`` line cut there, and this data must stay readable
    by it.
    """
    p = line[:cut]
    while p.endswith((b'"type":', b'"type":"')):
        p = p[:-9]
    return p


def _build_manifest(
    st: _State, seed: int, target_bytes: int, start: date, days: int, claude_share: float
) -> Manifest:
    m = Manifest(
        seed=seed,
        target_bytes=target_bytes,
        start=start.isoformat(),
        days=days,
        claude_share=claude_share,
    )
    m.totals = {"claude": TokenTotals(), "codex": TokenTotals()}
    for (day, fw, model, fast), a in sorted(st.acc.items()):
        tt = TokenTotals(*a)
        ds = _day_str(day)
        m.daily.setdefault(ds, {}).setdefault(fw, {}).setdefault(model, TokenTotals()).add(tt)
        if fast:
            m.fast.setdefault(ds, {}).setdefault(model, TokenTotals()).add(tt)
        m.totals[fw].add(tt)
    m.files = st.stats
    m.features = dict(sorted(st.features.items()))
    return m
