"""Process-group bookkeeping: recognize a process group after a restart and kill it if orphaned."""

from __future__ import annotations

import os
import signal
import socket

__all__ = ["host", "kill_orphan_group", "start_marker"]


def host() -> str:
    return socket.gethostname()


def start_marker(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), or None if unknown or gone.

    With the pid it identifies a process uniquely, so a pid reused by an
    unrelated process is never mistaken for ours.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # the command name (field 2) may hold spaces; fields after it are space-separated
    fields = stat[stat.rfind(b")") + 2 :].split()
    return fields[19].decode() if len(fields) > 19 else None


def kill_orphan_group(pgid: int, start: str | None) -> bool:
    """SIGKILL process group ``pgid`` if its leader is still the process that was recorded."""
    if start is None or start_marker(pgid) != start:
        return False
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    return True
