"""Processes of this machine, read from ``/proc`` (Linux) with the standard library."""

from __future__ import annotations

__all__ = ["proc_stat", "process_state"]


def proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(comm, ppid, start time in clock ticks since boot) from /proc (Linux), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return None
    try:
        comm = data[data.index("(") + 1 : data.rindex(")")]
        fields = data[data.rindex(")") + 2 :].split()
        return comm, int(fields[1]), int(fields[19])
    except (ValueError, IndexError):
        return None


def process_state(pid: int, start_time: int | None) -> str:
    """``running`` (that process is alive: same pid and, when known, start time),
    ``gone`` (no such process, a zombie, or another one that reused the pid), or
    ``unknown`` (this system has no /proc, or the process cannot be inspected)."""
    import os
    import sys

    if pid <= 0:
        return "gone"
    if sys.platform.startswith("linux") and os.path.isdir("/proc/self"):
        info = proc_stat(pid)
        if info is None:
            return "gone"
        if start_time is not None and info[2] != start_time:
            return "gone"
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            return "running"
        return "gone" if state in (b"Z", b"X") else "running"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "gone"
    except (PermissionError, OSError):
        return "unknown"
    return "running" if start_time is None else "unknown"
