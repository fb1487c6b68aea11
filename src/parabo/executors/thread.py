"""Run trials on threads: for external commands and objectives that wait on I/O.

Python code under the GIL does not run faster on threads; use the process
backend for CPU-bound Python objectives. A Python function on a thread cannot
be stopped: a timed-out trial is failed at its limit, but its thread runs on
until the function returns (the process backend kills it instead).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from parabo._procs import kill_marked
from parabo.executors.base import Executor, Outcome, Task, run_task, task_marker
from parabo.objectives import Objective, TrialContext, kill_group

__all__ = ["ThreadExecutor"]

_STOP = object()
log = logging.getLogger("parabo")


class ThreadExecutor(Executor):
    """``workers`` long-lived threads; each loads the objective once.

    A time limit is enforced hard for external commands (their process group
    is killed). **A Python function on a thread cannot be stopped**: when it
    runs over, its trial is failed with reason ``timeout`` at the limit (the
    error and a one-time warning say so), the thread is abandoned and runs on
    until the function returns (its late result is dropped), and a new thread
    takes its slot. Use the process backend to have timed-out Python trials killed.
    """

    def __init__(self, objective: Objective, workers: int = 1) -> None:
        self.workers = workers
        self._objective = objective
        self._tasks: queue.Queue[Any] = queue.Queue()
        self._outcomes: queue.Queue[Outcome] = queue.Queue()
        self._lock = threading.Lock()
        self._running: dict[int, tuple[Task, float, str]] = {}  # trial id -> (task, start, worker)
        self._children: dict[int, list[int]] = {}
        self._dropped: set[int] = set()
        self._submitted = 0
        self._threads: list[threading.Thread] = []
        self._serial = 0
        self._fatal: BaseException | None = None
        self._closed = False
        self._started_groups: list[tuple[int, int]] = []  # reported to on_process from collect
        self._warned = False
        for _ in range(workers):
            self._spawn()

    def _spawn(self) -> None:
        self._serial += 1
        name = f"thread-{self._serial}"
        t = threading.Thread(target=self._loop, args=(name,), name=f"parabo-{name}", daemon=True)
        self._threads.append(t)
        t.start()

    def _loop(self, name: str) -> None:
        try:
            run: Callable[[TrialContext], Any] = self._objective.load()
        except BaseException as exc:  # setup hook or import failed: report, do not hang
            self._fatal = exc
            self._outcomes.put(Outcome(-1, error=str(exc), reason="fatal"))
            return
        while True:
            task = self._tasks.get()
            if task is _STOP:
                return
            with self._lock:
                if task.trial_id in self._dropped:
                    self._dropped.discard(task.trial_id)
                    continue
                self._running[task.trial_id] = (task, time.time(), name)

            def on_child(pid: int, tid: int = task.trial_id) -> None:
                with self._lock:
                    self._children.setdefault(tid, []).append(pid)
                    self._started_groups.append((tid, pid))

            outcome = run_task(run, task, name, on_child)
            with self._lock:
                self._running.pop(task.trial_id, None)
                self._children.pop(task.trial_id, None)
                if task.trial_id in self._dropped:
                    self._dropped.discard(task.trial_id)
                    return  # this thread was abandoned after a timeout; a new one took its slot
            self._outcomes.put(outcome)

    def submit(self, task: Task) -> None:
        if self._closed:
            from parabo.exceptions import ExecutorError

            raise ExecutorError("the executor is closed")
        self._submitted += 1
        self._tasks.put(task)

    def _overdue(self) -> tuple[list[Outcome], float | None]:
        """Fail trials past their time limit; return them and the seconds to the next limit."""
        now = time.time()
        late: list[Outcome] = []
        soonest: float | None = None
        with self._lock:
            for tid, (task, start, name) in list(self._running.items()):
                if task.timeout is None:
                    continue
                # commands enforce their own limit (and kill their group); give them a moment
                limit = start + task.timeout + (5.0 if self._objective.external else 0.0)
                if now >= limit:
                    del self._running[tid]
                    self._dropped.add(tid)
                    late.append(
                        Outcome(
                            tid,
                            error=self._timeout_message(task.timeout),
                            reason="timeout",
                            started_at=start,
                            finished_at=now,
                            worker=name,
                        )
                    )
                else:
                    soonest = limit - now if soonest is None else min(soonest, limit - now)
        for _ in late:
            self._spawn()
        return late, soonest

    def _timeout_message(self, timeout: float) -> str:
        if self._objective.external:
            return f"ran over its time limit of {timeout:g} s"
        if not self._warned:
            self._warned = True
            log.warning(
                "a trial ran over its time limit on the thread backend; a Python thread cannot "
                "be stopped, so it runs on in the background until it returns. Use the process "
                "backend (run.backend: process) to have timed-out trials killed."
            )
        return (
            f"ran over its time limit of {timeout:g} s; its thread cannot be stopped and runs on "
            "until the function returns (the result is dropped). Use the process backend "
            "(run.backend: process, --backend process) to have timed-out Python trials killed"
        )

    def _report_groups(self) -> None:
        if self._started_groups and self.on_process is not None:
            with self._lock:
                groups, self._started_groups = self._started_groups, []
            for tid, pgid in groups:
                self.on_process(tid, pgid)

    def collect(self, timeout: float | None = None) -> list[Outcome]:
        self._report_groups()
        late, soonest = self._overdue()
        if late:
            self._submitted -= len(late)
            return late
        wait = (
            timeout if soonest is None else (soonest if timeout is None else min(timeout, soonest))
        )
        out: list[Outcome] = []
        try:
            out.append(self._outcomes.get(timeout=wait))
            while True:
                out.append(self._outcomes.get_nowait())
        except queue.Empty:
            pass
        if self._fatal is not None:
            from parabo.exceptions import ExecutorError

            raise ExecutorError(f"a worker could not load the objective: {self._fatal}")
        late, _ = self._overdue()
        out.extend(late)
        self._report_groups()
        self._submitted -= len(out)
        return out

    def cancel(self, trial_id: int) -> None:
        with self._lock:
            self._dropped.add(trial_id)
            entry = self._running.pop(trial_id, None)
            children = self._children.pop(trial_id, [])
        for pid in children:
            kill_group(pid, grace=1.0)
        if entry is not None and self._objective.external:
            # what the command daemonized, even if its thread does not get to clean up
            kill_marked(task_marker(entry[0], entry[2]))
        start = entry[1] if entry else None
        self._outcomes.put(
            Outcome(
                trial_id,
                error="cancelled",
                reason="cancelled",
                started_at=start,
                finished_at=time.time(),
                worker=entry[2] if entry else None,
            )
        )
        if entry is not None:
            self._spawn()

    def close(self, cancel: bool = True) -> None:
        self._closed = True
        if cancel:
            with self._lock:
                running = list(self._running)
            for tid in running:
                self.cancel(tid)
        for _ in self._threads:
            self._tasks.put(_STOP)
        deadline = time.time() + (1.0 if cancel else 60.0)
        for t in self._threads:
            t.join(timeout=max(0.0, deadline - time.time()))

    @property
    def running(self) -> int:
        return self._submitted
