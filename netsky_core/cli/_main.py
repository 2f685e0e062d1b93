"""Argument parsing, dispatch and the error conventions of every command.

Exit codes: 0 success, 1 runtime failure, 2 usage error. Errors are one line on
stderr (``netsky: error: ...``, with a hint when there is one); a traceback only
with ``--debug`` (or ``NETSKY_DEBUG=1``; ``0``, ``false``, ``no``, ``off`` leave it off).
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .._errors import NetskyError
from ._errors import UsageError

# Each module registers its sub-commands with ``register(subparsers, common)``.
COMMAND_MODULES = (
    "backends",
    "sources",
    "config",
    "db",
    "sessions",
    "events",
    "stats",
    "gc",
    "copy",
    "transfer",
    "sync",
    "serve",
    "ingest",
    "hooks",
    "spool",
    "query",
    "report",
    "budget",
    "doctor",
    "reprice",
    "demo",
)


# The commands each of those modules registers: ``netsky report ...`` builds the parser
# of ``report`` alone (importing one command module, not all of them).
COMMANDS = {
    **{name: name for name in COMMAND_MODULES},
    "session": "sessions",
    "tail": "events",
    "export": "transfer",
    "import": "transfer",
}
del COMMANDS["transfer"]


def command_module(argv: Sequence[str]) -> str | None:
    """The module of the command ``argv`` runs, when the global options before it are
    spelled out (``--db URL``, ``--db=URL``, ``--config PATH``, ``--debug``); None
    (parse with every command) for anything else: no command, ``--help``, an
    abbreviated option."""
    from ..hooks.run import command_index

    i = command_index(argv)
    return None if i is None else COMMANDS.get(argv[i])


class Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit code 2)."""

    def error(self, message: str) -> NoReturn:
        name = self.prog
        hint = f"run `{name} --help`"
        choice = _INVALID_CHOICE.search(message)
        if choice is not None:
            import difflib

            given, choices = choice["given"], _QUOTED.findall(choice["choices"])
            command = choice["argument"] in ("COMMAND", "ACTION")
            if command:
                message = f"unknown command {given!r} for `{name}`"
            else:
                message = f"argument {choice['argument']}: invalid choice {given!r}"
            message += f"; choose from {', '.join(choices)}"
            close = difflib.get_close_matches(given, choices, n=1, cutoff=0.6)
            if close and command:
                hint = f"did you mean `{name} {close[0]}`?"
            elif close:
                hint = f"did you mean {close[0]!r}?"
        sys.stderr.write(f"netsky: error: {message} (hint: {hint})\n")
        raise SystemExit(2)


_INVALID_CHOICE = re.compile(
    r"argument (?P<argument>[^:]+): invalid choice: '(?P<given>[^']*)' \(choose from (?P<choices>.*)\)"
)
_QUOTED = re.compile(r"'([^']*)'")


class Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("global options")
    group.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="storage URL (overrides NETSKY_DATABASE_URL and the config file)",
    )
    group.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="config file (default: NETSKY_CONFIG, then the user config dir)",
    )
    group.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks"
    )
    return common


def build_parser(only: str | None = None) -> Parser:
    """The ``netsky`` parser: every command, or only those of the module ``only``."""
    from .. import __version__

    common = _common()
    parser = Parser(
        prog="netsky",
        formatter_class=Formatter,
        description="Store and query what AI coding agents do: sessions, prompts, tools, tokens, cost.",
        epilog=(
            "examples:\n"
            "  netsky ingest                 read Claude Code and Codex history into the store\n"
            "  netsky sessions --limit 20    recent sessions\n"
            "  netsky report daily           tokens and cost per day\n"
            '  netsky query "SELECT model, sum(cost_usd) FROM api_requests GROUP BY 1"\n'
            "\nrun `netsky COMMAND --help` for a command's options and examples."
        ),
    )
    parser.add_argument("--version", action="version", version=f"netsky {__version__}")
    parser.add_argument("--db", metavar="URL", default=None, help="storage URL")
    parser.add_argument("--config", metavar="PATH", default=None, help="config file")
    parser.add_argument("--debug", action="store_true", default=False, help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMAND_MODULES if only is None else (only,):
        module = importlib.import_module(f".commands.{name}", __package__)
        module.register(sub, common)
    # `netsky hook` never reaches this parser (it is dispatched before argparse is
    # imported, see netsky_core.cli.main); listed here so --help shows it
    sub.add_parser(
        "hook",
        help="store one agent hook event, payload on stdin (what the agent runs; "
        "`netsky hook --help` for its options)",
    )
    return parser


def help_when_bare(parser: argparse.ArgumentParser) -> None:
    """A command of actions given none (``netsky db``) prints its help, exit code 2."""

    def usage(ctx: Any) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(handler=usage)


def add_command(
    sub: Any,
    common: argparse.ArgumentParser,
    name: str,
    *,
    help: str,
    description: str | None = None,
    examples: Sequence[str] = (),
) -> argparse.ArgumentParser:
    """Add a sub-command with the global options and an examples epilog."""
    epilog = ("examples:\n" + "\n".join(f"  {e}" for e in examples)) if examples else None
    return sub.add_parser(
        name,
        parents=[common],
        help=help,
        description=description or help,
        epilog=epilog,
        formatter_class=Formatter,
    )


def env_flag(name: str) -> bool:
    """Whether the variable ``name`` is set to a true value (``0``, ``false``, ``no``,
    ``off`` and empty are false)."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def report_error(exc: NetskyError) -> None:
    message = " ".join(str(exc).split())
    hint = f" (hint: {exc.hint})" if getattr(exc, "hint", None) else ""
    sys.stderr.write(f"netsky: error: {message}{hint}\n")


def run(argv: Sequence[str]) -> int:
    parser = build_parser(command_module(argv))
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    debug = bool(getattr(args, "debug", False)) or env_flag("NETSKY_DEBUG")
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    from ._context import Context

    try:
        return int(handler(Context(args)) or 0)
    except UsageError as exc:
        if debug:
            raise
        report_error(exc)
        return 2
    except NetskyError as exc:
        if debug:
            raise
        report_error(exc)
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("netsky: interrupted\n")
        return 130
    except BrokenPipeError:
        _stdout_to_devnull()
        return 0
    except Exception as exc:
        if debug:
            raise
        sys.stderr.write(
            f"netsky: error: internal error: {type(exc).__name__}: {exc} "
            "(hint: rerun with --debug for a traceback and report it)\n"
        )
        return 1


def _stdout_to_devnull() -> None:
    """The reader of standard output went away: point its file descriptor at devnull,
    so that the flush of what is still buffered, at exit, fails no more (the advice
    of Python's ``signal`` documentation)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
