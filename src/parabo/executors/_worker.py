"""The long-lived worker process of the process backend.

Started as ``python -m parabo.executors._worker FD`` in its own session (so
it and everything it starts form one process group that the coordinator can
kill), it talks to the coordinator over one socket, pickled messages:

coordinator → worker::

    ("init", objective_bytes, worker_name, sys_path)   once, first
    ("run", task)                                      run one trial
    ("stop", trial_id)                                 early stopping decided to stop it
    ("exit",)                                          finish and leave

worker → coordinator::

    ("ready", pid)                     the objective (and setup hook) is loaded
    ("fatal", message)                 loading failed; the worker exits
    ("started", trial_id, t)           a trial began at time t
    ("child", trial_id, pid)           the trial started a process group
    ("report", trial_id, step, value, metrics)  an intermediate report
    ("done", outcome)                  a trial finished (an Outcome)
"""

from __future__ import annotations

import os
import signal
import sys
from multiprocessing.connection import Connection
from typing import Any


class _Channel:
    """A trial's reports go up the socket; a ``stop`` for it is read when the trial asks."""

    def __init__(self, conn: Connection, trial_id: int, backlog: list[Any]) -> None:
        self.conn = conn
        self.trial_id = trial_id
        self.backlog = backlog  # other messages read meanwhile, for the main loop
        self.stop = False

    def report(self, step: float, value: float | None, metrics: Any) -> None:
        self.conn.send(("report", self.trial_id, step, value, dict(metrics)))

    def stopped(self) -> bool:
        while not self.stop and self.conn.poll():
            msg = self.conn.recv()
            if msg[0] == "stop":
                self.stop = self.stop or msg[1] == self.trial_id
            else:
                self.backlog.append(msg)
        return self.stop


def main(fd: int) -> None:
    conn = Connection(fd)
    children: list[int] = []

    def on_term(signum: int, frame: Any) -> None:
        # take the trial's processes down with us: daemons that came to us as their
        # subreaper, and the trial's own process groups (external commands)
        try:
            from parabo._procs import kill_descendants

            kill_descendants()
        except Exception:
            pass
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

    from parabo._procs import become_subreaper, descendants, kill_descendants

    # orphans of a trial (daemons that left their process group) come to this process, not to
    # init, so that they are found and killed when the trial ends
    reaper = become_subreaper()

    def send(message: tuple[Any, ...]) -> None:
        try:
            conn.send(message)
        except OSError:  # the coordinator is gone (BrokenPipeError...): leave quietly
            on_term(signal.SIGTERM, None)

    try:
        msg = conn.recv()
    except (EOFError, OSError):
        return
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
        send(("fatal", format_exception(exc)))
        return
    send(("ready", os.getpid()))

    backlog: list[Any] = []
    while True:
        try:
            msg = backlog.pop(0) if backlog else conn.recv()
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
            send(("child", tid, pid))

        send(("started", task.trial_id, time.time()))
        # as a subreaper, this worker's new descendants are all the trial left: no need to look
        # further; what was there before the trial (started by the setup hook) is spared
        before = descendants()
        channel = _Channel(conn, task.trial_id, backlog)
        outcome = run_task(
            run, task, name, on_child, mark_env=True, sweep=not reaper, channel=channel
        )
        kill_descendants(spare=before)  # nothing the trial started outlives it
        try:
            conn.send(("done", outcome))
        except OSError:
            on_term(signal.SIGTERM, None)
        except Exception as exc:  # the result could not be pickled
            send(
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
    try:
        main(int(sys.argv[1]))
    except (BrokenPipeError, ConnectionError, EOFError):  # the coordinator went away
        os._exit(0)
