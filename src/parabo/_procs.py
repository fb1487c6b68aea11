"""Process bookkeeping: kill every process of a trial, and what a killed coordinator left behind."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
from collections.abc import Callable, Collection

__all__ = [
    "TRIAL_ENV",
    "become_subreaper",
    "descendants",
    "host",
    "kill_descendants",
    "kill_leftovers",
    "kill_marked",
    "kill_orphan_group",
    "marked",
    "start_marker",
    "trial_marker",
]


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


# ---------------------------------------------------------------- a trial's processes
#
# Every process a trial starts carries ``PARABO_TRIAL=<marker>`` in its environment
# (commands get it in theirs; Python trials on the process and inline backends run with
# it in ``os.environ``, so whatever they fork inherits it). When the trial ends, fails,
# times out or is cancelled, every process that carries its marker is killed, whatever
# its process group or session (``setsid`` daemons included). A process-backend worker
# is also a child subreaper: orphans of its trial are re-parented to it, not to init,
# and it kills all of its descendants after each trial. A process that rewrites its own
# environment and leaves its worker's tree can still escape; cgroups would close that
# gap but are not writable in most containers and user sessions.

TRIAL_ENV = "PARABO_TRIAL"
_PR_SET_CHILD_SUBREAPER = 36


def trial_marker(trial_dir: str | None, trial_id: int, scope: str) -> str:
    """The value of ``PARABO_TRIAL`` for one trial: its folder, else ``scope/<id>``.

    A trial folder names the study (``<study>/trials/<id>``), so the next run of a
    study finds what a killed coordinator left behind (:func:`kill_leftovers`).
    """
    return os.path.abspath(trial_dir) if trial_dir is not None else f"{scope}/{trial_id}"


def become_subreaper() -> bool:
    """Make this process a child subreaper (Linux): orphaned descendants come to it, not to init."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _marker_of(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = f.read()
    except OSError:
        return None
    key = TRIAL_ENV.encode() + b"="
    for item in env.split(b"\0"):
        if item.startswith(key):
            return item[len(key) :].decode("utf-8", "replace")
    return None


def marked(match: Callable[[str], bool]) -> list[int]:
    """Pids of live processes (other than this one) whose ``PARABO_TRIAL`` satisfies ``match``."""
    me = os.getpid()
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    out = []
    for name in names:
        if not name.isdigit() or int(name) == me:
            continue
        value = _marker_of(int(name))
        if value is not None and match(value):
            out.append(int(name))
    return out


def _kill(pids: list[int]) -> int:
    killed = 0
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except (ProcessLookupError, PermissionError):
            continue
    _reap(pids)
    return killed


def _reap(pids: list[int]) -> None:
    """Collect the exit status of those of ``pids`` that are this process's children."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except (ChildProcessError, OSError):
            continue


def kill_marked(marker: str) -> int:
    """SIGKILL every process of one trial (by its ``PARABO_TRIAL`` marker); how many were killed."""
    killed = 0
    for _ in range(3):  # again while some are found: one forking as it is killed leaves a child
        found = _kill(marked(lambda value: value == marker))
        if not found:
            break
        killed += found
    return killed


def kill_leftovers(study_folder: str | os.PathLike[str]) -> int:
    """SIGKILL the processes of any trial of a study (a killed coordinator's leftovers)."""
    prefix = os.path.join(os.path.abspath(study_folder), "trials", "")
    return _kill(marked(lambda value: value.startswith(prefix)))


def descendants() -> set[int]:
    """Pids of this process's descendants (children, theirs, and orphans it adopted as subreaper)."""
    try:
        import psutil

        return {p.pid for p in psutil.Process().children(recursive=True)}
    except Exception:
        return set()


def kill_descendants(spare: Collection[int] = ()) -> int:
    """SIGKILL every descendant of this process but ``spare`` and reap them; how many there were.

    ``spare``: what was running before the trial began (e.g. a server a ``setup`` hook started).
    """
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency
        return 0
    killed = 0
    for _ in range(3):  # a child forking as it is killed: look again
        try:
            found = [p for p in psutil.Process().children(recursive=True) if p.pid not in spare]
        except psutil.Error:
            return killed
        if not found:
            break
        killed += _kill([p.pid for p in found])
        psutil.wait_procs(found, timeout=1.0)
    return killed
