"""Run trials one at a time in the caller's thread (tests, debugging, pdb)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from parabo.exceptions import ExecutorError
from parabo.executors.base import Executor, Outcome, Task, cancel_queued, run_task
from parabo.objectives import Objective, TrialContext

__all__ = ["InlineExecutor"]


class InlineExecutor(Executor):
    """``collect`` runs the next queued trial to completion in the calling thread.

    A time limit is enforced for external commands only (a Python function in
    the caller cannot be interrupted). Each trial runs with its ``PARABO_TRIAL``
    marker in ``os.environ``; the processes it leaves behind are killed when it returns.
    """

    workers = 1

    def __init__(self, objective: Objective) -> None:
        self._run: Callable[[TrialContext], Any] = objective.load()
        self._queue: deque[Task] = deque()
        self._done: list[Outcome] = []
        self._closed = False

    def submit(self, task: Task) -> None:
        if self._closed:
            raise ExecutorError("the executor is closed")
        self._queue.append(task)

    def collect(self, timeout: float | None = None) -> list[Outcome]:
        if self._queue:
            task = self._queue.popleft()
            self._done.append(run_task(self._run, task, "inline", clock=self.now, mark_env=True))
        done, self._done = self._done, []
        return done

    def cancel(self, trial_id: int) -> None:
        cancel_queued(self._queue, self._done, trial_id)

    def close(self, cancel: bool = True) -> None:
        self._closed = True
        for task in list(self._queue):
            self.cancel(task.trial_id)
        self._queue.clear()

    @property
    def running(self) -> int:
        return len(self._queue) + len(self._done)
