"""Running ``netsky hook`` as an agent does, for the reliability tests."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
import time
from typing import Any

from tests.ingest.conftest import NETSKY


def run_hook(env: dict[str, str], payload: dict[str, Any]) -> tuple[int, bytes, float, float]:
    """Run ``netsky hook`` as an agent does: (exit code, output, wall s, CPU s).

    The CPU time is the hook process's own (``wait4``), not its detached drainer's:
    on a loaded machine the wall time is mostly waiting for a CPU.
    """
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(NETSKY), "hook"],
            stdin=subprocess.PIPE,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
        )
        watchdog = threading.Timer(300, proc.kill)
        watchdog.start()
        try:
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(payload).encode())
            proc.stdin.close()
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            watchdog.cancel()
        wall = time.perf_counter() - started
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        output.seek(0)
        return code, output.read(), wall, usage.ru_utime + usage.ru_stime
