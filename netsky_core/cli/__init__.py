"""The ``netsky`` command. Parsing and printing only: no SQL, no business rules.

``netsky hook`` runs once per agent event in a fresh process, so it is dispatched
before ``argparse`` or any other module is imported, with the global options
(``--db``, ``--config``, ``--debug``) before or after ``hook``; so is
``netsky statusline`` (its options after it). A hook process ends with ``os._exit``
once its output is flushed: the interpreter's teardown would only delay the agent.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["statusline"]:  # run by Claude Code on every update: no argparse
        from ..hooks.statusline import main as statusline_main

        return statusline_main(args[1:])
    from ..hooks.run import hook_arguments

    hook_args = hook_arguments(args)
    if hook_args is not None:
        from ..hooks.run import main as hook_main

        code = hook_main(hook_args)
        if argv is None:  # the process of one agent event: end it without the interpreter's
            _end_now(code)  # teardown (a few ms of every event; nothing is left to flush)
        return code
    try:
        from ._main import run

        return run(args)
    except KeyboardInterrupt:  # while starting up (a command's own run handles its own)
        sys.stderr.write("netsky: interrupted\n")
        return 130


def _end_now(code: int) -> None:
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
