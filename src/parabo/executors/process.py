"""Run trials on long-lived worker processes, one socket each.

Why not ``ProcessPoolExecutor`` or loky: there, one dead task breaks every
task in flight and a running task cannot be killed. Here each worker is a
process of its own (its own session and process group) with its own channel:

- it loads the objective once (import path, or a callable pickled once with
  cloudpickle) and runs the user's ``setup`` hook once;
- a trial over its time limit gets SIGTERM on the worker's process group, and
  SIGKILL after a short grace; the worker is replaced;
- a worker that dies (signal, ``os._exit``, out of memory) fails its own trial
  only, with the signal or exit code recorded, and is replaced;
- the channel carries messages both ways: a running trial's reports come up it
  (handed to ``on_report``), and early stopping's decision goes down it (``prune``).

Worker death is seen at once through a pidfd (Linux ≥ 5.3), or through the
socket closing, with a poll as the last resort.
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait

import cloudpickle

from parabo._procs import kill_marked
from parabo.exceptions import ExecutorError
from parabo.executors.base import (
    Executor,
    Outcome,
    Task,
    cancel_queued,
    format_exception,
    task_marker,
)
from parabo.objectives import Objective

__all__ = ["ProcessExecutor"]

KILL_GRACE = 2.0  # seconds between SIGTERM and SIGKILL
_MAX_FAST_DEATHS = 5  # workers that die before becoming ready, in a row, before giving up


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(code).name
    except ValueError:
        return f"signal {code}"


@dataclass
class _Worker:
    slot: int
    name: str
    proc: subprocess.Popen[bytes]
    conn: Connection
    pidfd: int | None
    ready: bool = False
    task: Task | None = None
    started_at: float | None = None
    kill_reason: str | None = None
    kill_at: float | None = None
    children: list[int] = field(default_factory=list)
    exited: bool = False


class ProcessExecutor(Executor):
    """``workers`` worker processes running trials of one objective.

    Args:
        objective: what to run.
        workers: how many processes (trials at once).
        env: extra environment variables per worker index, e.g. GPU assignment.
        kill_grace: seconds between SIGTERM and SIGKILL when a trial is stopped.
        gpus: GPU ids shared round-robin: worker slot ``i`` sees ``gpus_per_trial`` of them
            through ``CUDA_VISIBLE_DEVICES`` (a replacement worker keeps the slot's GPUs).
    """

    reports = True

    def __init__(
        self,
        objective: Objective,
        workers: int = 1,
        *,
        kill_grace: float = KILL_GRACE,
        gpus: Sequence[str | int] | None = None,
        gpus_per_trial: int = 1,
    ) -> None:
        if workers < 1:
            raise ExecutorError("the process backend needs at least one worker")
        self.workers = workers
        self.kill_grace = kill_grace
        self.gpus = list(gpus or [])
        self.gpus_per_trial = gpus_per_trial
        self._payload = cloudpickle.dumps(objective)
        self._queue: deque[Task] = deque()
        self._pool: list[_Worker] = []
        self._done: list[Outcome] = []
        self._serial = 0
        self._fast_deaths = 0
        self._closed = False
        self._last_fatal = ""
        for slot in range(workers):
            self._pool.append(self._start_worker(slot))

    # ------------------------------------------------------------------ workers
    def _start_worker(self, slot: int) -> _Worker:
        from parabo.executors.dask_resources import gpu_env

        self._serial += 1
        name = f"process-{self._serial}"
        parent, child = socket.socketpair()
        env = {**os.environ, **gpu_env(slot, self.gpus, self.gpus_per_trial)} if self.gpus else None
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "parabo.executors._worker", str(child.fileno())],
                pass_fds=(child.fileno(),),
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        except OSError as exc:
            parent.close()
            child.close()
            raise ExecutorError(f"cannot start a worker process: {exc.strerror}") from exc
        child.close()
        conn = Connection(parent.detach())
        try:
            pidfd: int | None = os.pidfd_open(proc.pid)
        except (AttributeError, OSError):
            pidfd = None
        worker = _Worker(slot, name, proc, conn, pidfd)
        try:
            conn.send(("init", self._payload, name, list(sys.path)))
        except OSError:
            pass  # it died already; its death is seen by collect
        return worker

    def _retire(self, worker: _Worker) -> None:
        """Forget a dead worker: reap it, close its channel, kill what it left."""
        try:
            worker.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._kill_groups(worker, signal.SIGKILL)
            worker.proc.wait()
        self._kill_groups(worker, signal.SIGKILL)
        worker.conn.close()
        if worker.pidfd is not None:
            os.close(worker.pidfd)
        worker.exited = True
        self._pool.remove(worker)

    def _kill_groups(self, worker: _Worker, sig: int) -> None:
        for pgid in [worker.proc.pid, *worker.children]:
            try:
                os.killpg(pgid, sig)
            except (ProcessLookupError, PermissionError):
                pass

    def _stop_trial(self, worker: _Worker, reason: str) -> None:
        if worker.kill_reason is None:
            worker.kill_reason = reason
            worker.kill_at = time.monotonic() + self.kill_grace
            self._kill_groups(worker, signal.SIGTERM)

    def _dispatch(self) -> None:
        for worker in self._pool:
            if not self._queue:
                return
            if worker.ready and worker.task is None and worker.kill_reason is None:
                task = self._queue.popleft()
                try:
                    worker.conn.send(("run", task))
                except OSError:
                    self._queue.appendleft(task)  # it died; collect replaces it
                    continue
                worker.task = task
                worker.started_at = time.time()
                if self.on_process is not None:
                    self.on_process(task.trial_id, worker.proc.pid)

    def _on_death(self, worker: _Worker) -> None:
        self._retire(worker)
        if worker.task is not None:
            # daemons of its trial that left the worker's group and outlived the worker
            kill_marked(task_marker(worker.task, worker.name, worker.proc.pid))
        code = worker.proc.returncode
        if not worker.ready:
            self._fast_deaths += 1
        task = worker.task
        if task is not None:
            now = time.time()
            if worker.kill_reason == "timeout":
                error = f"ran over its time limit of {task.timeout:g} s and was killed"
                reason = "timeout"
            elif worker.kill_reason == "cancelled":
                error, reason = "cancelled", "cancelled"
            else:
                how = (
                    f"killed by {_signal_name(-code)}"
                    if code is not None and code < 0
                    else f"exited with code {code}"
                )
                if code == -signal.SIGKILL:
                    how += " (killed by the system, e.g. out of memory, or by a user)"
                error, reason = f"the worker process running the trial died: {how}", "crashed"
            self._done.append(
                Outcome(task.trial_id, None, error, reason, worker.started_at, now, worker.name)
            )
        if not self._closed:
            if self._fast_deaths >= _MAX_FAST_DEATHS:
                raise ExecutorError(
                    "worker processes keep dying before they can load the objective"
                    + (f": {self._last_fatal}" if self._last_fatal else "")
                )
            self._pool.append(self._start_worker(worker.slot))

    def _drain(self, worker: _Worker) -> bool:
        """Handle every message waiting from a worker; False when its channel is closed."""
        try:
            while worker.conn.poll():
                data = worker.conn.recv_bytes()
                try:
                    msg = pickle.loads(data)
                except Exception as exc:  # e.g. a result whose class cannot be rebuilt here
                    self._undecodable(worker, exc)
                    continue
                self._on_message(worker, msg)
        except (EOFError, OSError):
            return False
        return True

    def _undecodable(self, worker: _Worker, exc: Exception) -> None:
        """A message from a worker cannot be unpickled here: fail its trial, keep the worker."""
        task = worker.task
        if task is None or worker.kill_reason is not None:
            return
        self._done.append(
            Outcome(
                task.trial_id,
                None,
                "the trial's result could not be read in the coordinator: "
                + format_exception(exc, 500),
                "invalid_result",
                worker.started_at,
                time.time(),
                worker.name,
            )
        )
        worker.task = None
        worker.children.clear()

    def _on_message(self, worker: _Worker, msg: tuple[object, ...]) -> None:
        kind = msg[0]
        if kind == "ready":
            worker.ready = True
            self._fast_deaths = 0
        elif kind == "fatal":
            self._last_fatal = str(msg[1])
            raise ExecutorError(f"a worker could not load the objective:\n{msg[1]}")
        elif kind == "started":
            if worker.task is not None and worker.task.trial_id == msg[1]:
                worker.started_at = float(msg[2])  # type: ignore[arg-type]
        elif kind == "child":
            worker.children.append(int(msg[2]))  # type: ignore[call-overload]
            if self.on_process is not None:
                self.on_process(int(msg[1]), int(msg[2]))  # type: ignore[call-overload]
        elif kind == "report":
            task = worker.task
            if (
                task is not None
                and task.trial_id == msg[1]
                and worker.kill_reason is None
                and self.on_report is not None
            ):
                self.on_report(task.trial_id, msg[2], msg[3], msg[4])  # type: ignore[arg-type]
        elif kind == "done":
            outcome = msg[1]
            assert isinstance(outcome, Outcome)
            task = worker.task
            if (
                task is not None
                and outcome.trial_id == task.trial_id
                and worker.kill_reason is None
            ):
                self._done.append(outcome)
                worker.task = None
                worker.children.clear()

    def _wait_exit(self, worker: _Worker) -> None:
        """The channel closed while the process lives: it is dying; kill it if it lingers."""
        try:
            worker.proc.wait(timeout=self.kill_grace)
        except subprocess.TimeoutExpired:
            self._kill_groups(worker, signal.SIGKILL)
            worker.proc.wait()

    def _deadlines(self) -> float | None:
        """Enforce time limits and kill graces; return seconds until the next one."""
        now_wall, now_mono = time.time(), time.monotonic()
        soonest: float | None = None
        for worker in list(self._pool):
            if worker.kill_at is not None:
                if now_mono >= worker.kill_at:
                    self._kill_groups(worker, signal.SIGKILL)
                    worker.kill_at = None
                else:
                    left = worker.kill_at - now_mono
                    soonest = left if soonest is None else min(soonest, left)
            task = worker.task
            if (
                task is not None
                and task.timeout is not None
                and worker.kill_reason is None
                and worker.started_at
            ):
                left = worker.started_at + task.timeout - now_wall
                if left <= 0:
                    self._stop_trial(worker, "timeout")
                    left = self.kill_grace
                soonest = left if soonest is None else min(soonest, left)
        return soonest

    # ------------------------------------------------------------------ protocol
    def submit(self, task: Task) -> None:
        if self._closed:
            raise ExecutorError("the executor is closed")
        self._queue.append(task)
        self._dispatch()

    def collect(self, timeout: float | None = None) -> list[Outcome]:
        end = None if timeout is None else time.monotonic() + timeout
        while not self._done:
            soonest = self._deadlines()
            left = None if end is None else max(0.0, end - time.monotonic())
            wait_for = (
                left if soonest is None else (soonest if left is None else min(left, soonest))
            )
            # the poll below is the last resort if neither pidfd nor channel tells of a death
            wait_for = 1.0 if wait_for is None else min(wait_for, 1.0)
            handles: dict[object, _Worker] = {}
            for w in self._pool:
                handles[w.conn] = w
                if w.pidfd is not None:
                    handles[w.pidfd] = w
            ready = wait(list(handles), timeout=wait_for)  # type: ignore[arg-type]
            touched = {id(handles[h]): handles[h] for h in ready}
            for w in list(self._pool):
                if id(w) not in touched and w.proc.poll() is not None:
                    touched[id(w)] = w  # a death neither pidfd nor channel told of
            for w in touched.values():
                open_channel = self._drain(w)
                if not open_channel and w.proc.poll() is None:
                    self._wait_exit(w)
                if w.proc.poll() is not None:
                    self._drain(w)
                    self._on_death(w)
            self._dispatch()
            if end is not None and time.monotonic() >= end:
                break
        self._deadlines()
        done, self._done = self._done, []
        return done

    def prune(self, trial_id: int) -> None:
        for worker in self._pool:
            if worker.task is not None and worker.task.trial_id == trial_id:
                try:
                    worker.conn.send(("stop", trial_id))
                except OSError:
                    pass  # it died; its death is seen by collect

    def cancel(self, trial_id: int) -> None:
        if cancel_queued(self._queue, self._done, trial_id):
            return
        for worker in self._pool:
            if worker.task is not None and worker.task.trial_id == trial_id:
                self._stop_trial(worker, "cancelled")

    def close(self, cancel: bool = True) -> None:
        """Stop every worker; with ``cancel``, running trials are killed (else waited for)."""
        if self._closed:
            return
        if not cancel:
            while self.running:
                self._done.extend(self.collect(timeout=1.0))
        self._closed = True
        for task in list(self._queue):
            self.cancel(task.trial_id)
        for worker in self._pool:
            if worker.task is not None:
                self._stop_trial(worker, "cancelled")
            else:
                try:
                    worker.conn.send(("exit",))
                except OSError:
                    pass
        deadline = time.monotonic() + self.kill_grace + 1.0
        for worker in list(self._pool):
            try:
                worker.proc.wait(timeout=max(0.05, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._kill_groups(worker, signal.SIGKILL)
            if worker.task is not None:
                self._on_death(worker)
            else:
                self._retire(worker)

    @property
    def running(self) -> int:
        busy = sum(1 for w in self._pool if w.task is not None)
        return busy + len(self._queue) + len(self._done)

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            for worker in getattr(self, "_pool", []):
                self._kill_groups(worker, signal.SIGKILL)
