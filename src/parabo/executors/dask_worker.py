"""What runs inside a Dask worker: the objective loaded once, trials run in a killable child.

The coordinator (:mod:`parabo.executors.dask`) registers an
:class:`ObjectivePlugin` once per study: Dask hands it to every worker that is
connected or joins later, and it keeps the cloudpickled objective in this
process, keyed by the study's token. Nothing about the objective travels with a
trial's task.

A trial's task (:func:`run_trial`) runs in a *sandbox*: parabo's process
worker (:mod:`parabo.executors._worker`, started through
:mod:`parabo.executors.dask_sandbox`) in its own session. The sandbox loads the
objective (and runs the setup hook) once and is kept for the next trial on
this Dask worker, so the objective is loaded once per worker thread, not once
per trial. Dask cannot stop a running task; a sandbox can be killed. A trial
over its time limit, or one the coordinator cancels (its future is cancelled,
which Dask shows the task as the state ``cancelled``), gets SIGTERM on its
process group and SIGKILL after a grace period; the sandbox is replaced on the
next trial and the Dask worker stays usable.

When a trial starts, the task logs an event (topic ``parabo-<token>``) so the
coordinator knows which Dask worker runs it, and can fail exactly that trial
if the worker is lost.

Early stopping rides the sandbox's own connection, in the process backend's
protocol: the trial's ``("report", ...)`` messages come up it, and the task
passes each on as an event of the same topic (``kind: report``, with the
task's key, so the coordinator can drop the reports of a run it no longer
waits for); events of one worker reach the coordinator in the order they were
logged, and before the task's result, so a curve arrives whole and in order.
A stop decision comes down as :func:`stop_trial`, which the coordinator runs
on this worker (``Client.run``): it writes ``("stop", trial_id)`` into the
connection of the sandbox running that task, where the trial's
``should_prune()`` (or an external command's report loop) reads it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from distributed import get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from parabo.executors.base import Outcome, Task
from parabo.executors.dask_resources import detect_gpus, gpu_env

__all__ = ["ObjectivePlugin", "run_trial", "shutdown", "stop_trial"]

_POLL = 0.1  # seconds between looks at the clock and the task's state while a trial runs

_lock = threading.Lock()
_payloads: dict[str, tuple[bytes, list[str]]] = {}
_idle: dict[str, list[_Sandbox]] = {}
_busy_slots: dict[str, set[int]] = {}
_sandboxes: dict[int, _Sandbox] = {}  # pid -> every live sandbox of this process
_running: dict[tuple[str, str], tuple[_Sandbox, int]] = {}  # (token, task key) -> sandbox, trial


@dataclass
class _Sandbox:
    token: str
    slot: int
    proc: subprocess.Popen[bytes]
    conn: Connection
    children: list[int] = field(default_factory=list)

    def kill(self, sig: int) -> None:
        for pgid in [self.proc.pid, *self.children]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, sig)

    def discard(self, grace: float) -> None:
        """Stop the sandbox (SIGTERM, then SIGKILL after ``grace``) and reap it."""
        if self.proc.poll() is None:
            self.kill(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=grace)
        self.kill(signal.SIGKILL)
        self.proc.wait()
        self.conn.close()
        with _lock:
            _sandboxes.pop(self.proc.pid, None)
            _busy_slots.get(self.token, set()).discard(self.slot)


class ObjectivePlugin(WorkerPlugin):
    """Keeps a study's pickled objective in every Dask worker (current and future) under ``token``."""

    def __init__(self, token: str, payload: bytes, sys_path: list[str]) -> None:
        self.token = token
        self.payload = payload
        self.sys_path = sys_path

    def setup(self, worker: Any) -> None:
        with _lock:
            _payloads[self.token] = (self.payload, self.sys_path)

    def teardown(self, worker: Any) -> None:
        shutdown(self.token)


def shutdown(token: str, grace: float = 2.0) -> int:
    """Stop every sandbox of a study in this process and forget its objective; returns how many."""
    with _lock:
        _payloads.pop(token, None)
        idle = _idle.pop(token, [])
        running = [s for s in _sandboxes.values() if s.token == token and s not in idle]
    for sandbox in idle + running:
        sandbox.discard(grace)
    return len(idle) + len(running)


def stop_trial(token: str, key: str, trial_id: int) -> bool:
    """Tell trial ``trial_id``, run here as task ``key`` of study ``token``, that early stopping stops it.

    Run on the trial's Dask worker by the coordinator (``Client.run``). Returns False
    when that task no longer runs here (it finished, or was cancelled). The message is
    written under the lock that :func:`run_trial` holds to end a trial, so a late stop
    is in the connection before the sandbox's next trial, which drops it (a stop
    names the trial it was meant for).
    """
    with _lock:
        entry = _running.get((token, key))
        if entry is None:
            return False
        sandbox, tid = entry
        if tid != trial_id:
            return False
        try:
            sandbox.conn.send(("stop", trial_id))
        except (OSError, ValueError):  # the sandbox died or was just discarded
            return False
    return True


def _start_sandbox(token: str, worker_name: str, gpus_per_trial: int) -> _Sandbox | str:
    """A new sandbox with the objective loaded, or the error message of a failed load."""
    with _lock:
        payload, sys_path = _payloads[token]
        busy = _busy_slots.setdefault(token, set())
        slot = next(i for i in range(len(busy) + 1) if i not in busy)
        busy.add(slot)
    env = dict(os.environ)
    if gpus_per_trial > 0:
        env.update(gpu_env(slot, detect_gpus(), gpus_per_trial))
    parent, child = socket.socketpair()
    try:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "parabo.executors.dask_sandbox",
                str(child.fileno()),
                str(os.getpid()),
            ],
            pass_fds=(child.fileno(),),
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    except OSError as exc:
        parent.close()
        with _lock:
            busy.discard(slot)
        return f"cannot start a trial process on the Dask worker: {exc.strerror}"
    finally:
        child.close()
    sandbox = _Sandbox(token, slot, proc, Connection(parent.detach()))
    with _lock:
        _sandboxes[proc.pid] = sandbox
    try:
        sandbox.conn.send(("init", payload, f"{worker_name}#{slot}", sys_path))
        while True:
            if sandbox.conn.poll(1.0):
                msg = sandbox.conn.recv()
                if msg[0] == "ready":
                    return sandbox
                if msg[0] == "fatal":
                    sandbox.discard(0.5)
                    return str(msg[1])
            elif proc.poll() is not None:
                raise EOFError
    except (EOFError, OSError):
        sandbox.discard(0.5)
        return f"the trial process died while loading the objective (exit code {proc.returncode})"


def _take_sandbox(token: str, worker_name: str, gpus_per_trial: int) -> _Sandbox | str:
    with _lock:
        idle = _idle.setdefault(token, [])
        while idle:
            sandbox = idle.pop()
            if sandbox.proc.poll() is None:
                return sandbox
            _sandboxes.pop(sandbox.proc.pid, None)
            _busy_slots.get(token, set()).discard(sandbox.slot)
    return _start_sandbox(token, worker_name, gpus_per_trial)


def run_trial(
    token: str, task: Task, kill_grace: float = 2.0, gpus_per_trial: int = 0
) -> tuple[str, Any]:
    """The Dask task of one trial: ``("done", Outcome)``, or ``("fatal", message)`` if the objective cannot load."""
    worker = get_worker()
    key = str(worker.get_current_task())  # parabo names its tasks: a str
    address = worker.address
    if token not in _payloads:
        return (
            "fatal",
            "the study's objective is not registered on this Dask worker (was the study closed?)",
        )
    start = time.time()
    worker.log_event(
        f"parabo-{token}",
        {
            "kind": "started",
            "trial": task.trial_id,
            "attempt": task.attempt,
            "worker": address,
            "t": start,
            "key": key,
        },
    )
    got = _take_sandbox(token, address, gpus_per_trial)
    if isinstance(got, str):
        return ("fatal", got)
    sandbox = got
    name = f"{address}#{sandbox.slot}"
    sandbox.children.clear()
    try:
        sandbox.conn.send(("run", task))
    except OSError:
        sandbox.discard(0.5)
        return (
            "done",
            Outcome(
                task.trial_id,
                None,
                "the trial process died before the trial began",
                "crashed",
                start,
                time.time(),
                name,
            ),
        )
    with _lock:
        _running[(token, key)] = (sandbox, task.trial_id)
    try:
        return _watch(token, task, key, sandbox, worker, kill_grace)
    finally:
        with _lock:
            _running.pop((token, key), None)


def _watch(
    token: str, task: Task, key: str, sandbox: _Sandbox, worker: Any, kill_grace: float
) -> tuple[str, Any]:
    """Wait for the trial's end, passing its reports on; enforce its time limit and cancellation."""
    address = worker.address
    name = f"{address}#{sandbox.slot}"

    def cancelled() -> bool:
        ts = worker.state.tasks.get(key)
        return ts is None or ts.state == "cancelled"

    started_at = time.time()
    deadline = None if task.timeout is None else started_at + task.timeout
    kill_reason: str | None = None
    kill_at = 0.0
    outcome: Outcome | None = None
    while outcome is None:
        try:
            while sandbox.conn.poll(_POLL):
                msg = sandbox.conn.recv()
                if msg[0] == "started":
                    started_at = float(msg[2])
                    deadline = None if task.timeout is None else started_at + task.timeout
                elif msg[0] == "child":
                    sandbox.children.append(int(msg[2]))
                elif msg[0] == "report" and kill_reason is None:
                    _, tid, step, value, metrics = msg
                    worker.log_event(
                        f"parabo-{token}",
                        {
                            "kind": "report",
                            "trial": tid,
                            "attempt": task.attempt,
                            "key": key,
                            "step": step,
                            "value": value,
                            "metrics": metrics,
                        },
                    )
                elif msg[0] == "done" and kill_reason is None:
                    outcome = msg[1]
                    break
        except (EOFError, OSError):
            pass  # the sandbox died; its exit status says how
        if outcome is not None:
            break
        now = time.time()
        code = sandbox.proc.poll()
        if code is not None:
            sandbox.discard(0.1)
            if kill_reason == "timeout":
                error, reason = (
                    f"ran over its time limit of {task.timeout:g} s and was killed",
                    "timeout",
                )
            elif kill_reason == "cancelled":
                error, reason = "cancelled", "cancelled"
            else:
                how = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
                error, reason = (
                    f"the process running the trial on Dask worker {address} died: {how}",
                    "crashed",
                )
            return ("done", Outcome(task.trial_id, None, error, reason, started_at, now, name))
        if kill_reason is None:
            if deadline is not None and now >= deadline:
                kill_reason = "timeout"
            elif cancelled():
                kill_reason = "cancelled"
            if kill_reason is not None:
                sandbox.kill(signal.SIGTERM)
                kill_at = now + kill_grace
        elif now >= kill_at:
            sandbox.kill(signal.SIGKILL)
    sandbox.children.clear()
    with _lock:
        _running.pop((token, key), None)  # a stop for this trial is in the connection by now
        if token in _payloads:
            _idle.setdefault(token, []).append(sandbox)
            sandbox = None  # type: ignore[assignment]
    if sandbox is not None:  # the study was closed while the trial ran
        sandbox.discard(kill_grace)
    return ("done", outcome)
