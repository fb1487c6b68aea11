"""The long-lived worker process of the process backend.

Started as ``python -m parabo.executors._worker FD`` in its own session (so
it and everything it starts form one process group that the coordinator can
kill), it talks to the coordinator over one socket, pickled messages:

coordinator → worker::

    ("init", objective_bytes, worker_name, sys_path)   once, first
    ("run", task)                                      run one trial
    ("stop", trial_id)                                 reserved: early stopping
    ("exit",)                                          finish and leave

worker → coordinator::

    ("ready", pid)                     the objective (and setup hook) is loaded
    ("fatal", message)                 loading failed; the worker exits
    ("started", trial_id, t)           a trial began at time t
    ("child", trial_id, pid)           the trial started a process group
    ("report", trial_id, step, value)  reserved: intermediate values
    ("done", outcome)                  a trial finished (an Outcome)
"""

from __future__ import annotations

import os
import signal
import sys
from multiprocessing.connection import Connection
from typing import Any


def main(fd: int) -> None:
    conn = Connection(fd)
    children: list[int] = []

    def on_term(signum: int, frame: Any) -> None:
        # take the trial's own process groups (external commands) down with us
        for pid in children:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.killpg(os.getpid(), signal.SIGKILL)  # our own group: anything a Python trial forked
        except OSError:
            pass
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator decides when trials stop

    # If the coordinator dies (even by SIGKILL) this process is re-parented: take the trial and
    # everything it started down at once instead of running on as an orphan.
    import threading
    import time

    parent = os.getppid()

    def watchdog() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                on_term(signal.SIGKILL, None)

    threading.Thread(target=watchdog, name="parabo-watchdog", daemon=True).start()

    msg = conn.recv()
    _, payload, name, path = msg
    for p in reversed(path):
        if p not in sys.path:
            sys.path.insert(0, p)

    import cloudpickle

    from parabo.executors.base import Outcome, format_exception, run_task

    try:
        objective = cloudpickle.loads(payload)
        run = objective.load()
    except BaseException as exc:
        conn.send(("fatal", format_exception(exc)))
        return
    conn.send(("ready", os.getpid()))

    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return  # the coordinator is gone
        if msg[0] == "exit":
            return
        if msg[0] != "run":
            continue
        task = msg[1]
        children.clear()

        def on_child(pid: int, tid: int = task.trial_id) -> None:
            children.append(pid)
            conn.send(("child", tid, pid))

        conn.send(("started", task.trial_id, time.time()))
        outcome = run_task(run, task, name, on_child)
        try:
            conn.send(("done", outcome))
        except Exception as exc:  # the result could not be pickled
            conn.send(
                (
                    "done",
                    Outcome(
                        task.trial_id,
                        error=f"the objective's result could not be sent back: {format_exception(exc, 500)}",
                        reason="invalid_result",
                        started_at=outcome.started_at,
                        finished_at=outcome.finished_at,
                        worker=name,
                    ),
                )
            )
        children.clear()


if __name__ == "__main__":
    main(int(sys.argv[1]))
