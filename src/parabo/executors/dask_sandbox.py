"""The child process a Dask worker runs trials in: parabo's process worker, plus a parent watchdog.

Started as ``python -m parabo.executors.dask_sandbox FD PARENT_PID`` by
:mod:`parabo.executors.dask_worker` in a session of its own, so a trial over
its time limit (and whatever it started) can be killed as one process group.
It speaks the protocol of :mod:`parabo.executors._worker`.

Why the watchdog: a Dask worker killed with SIGKILL (out of memory, a batch
job reaching its walltime) cannot take its children down. The sandbox checks
every half second that its parent still lives; when it does not, it stops the
trial (SIGTERM to itself, which also kills the trial's own process groups) and
leaves, so no trial keeps running orphaned on a node.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(2.0)
            os.killpg(os.getpid(), signal.SIGKILL)


def main(fd: int, parent: int) -> None:
    if os.getppid() != parent:
        return
    threading.Thread(
        target=_watch_parent, args=(parent,), daemon=True, name="parabo-parent-watch"
    ).start()
    from parabo.executors._worker import main as worker_main

    worker_main(fd)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
