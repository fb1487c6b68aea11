"""The executor protocol: submit trials, collect outcomes, cancel, close.

The scheduler decides what runs; an executor only runs it. Every backend —
inline, thread, process (and dask, simulated) — implements the same five calls:

- ``submit(task)``: start (or queue) one trial;
- ``collect(timeout)``: wait up to ``timeout`` seconds for finished trials and
  return their outcomes (possibly none);
- ``cancel(trial_id)``: stop a trial; its outcome comes back with reason ``cancelled``;
- ``close(cancel)``: stop the workers (killing running trials when ``cancel``);
- ``now()``: the executor's clock (wall time, or virtual time in simulation).

An objective's failure is an :class:`Outcome` with an ``error``, never an
exception out of the executor.
"""

from __future__ import annotations

import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from parabo.objectives import ObjectiveFailure, TrialContext

__all__ = ["Executor", "Outcome", "Task", "cancel_queued", "run_task"]


@dataclass(frozen=True)
class Task:
    """One trial to run: its id, parameters, folder, attempt and time limit (seconds)."""

    trial_id: int
    params: Mapping[str, Any]
    trial_dir: str | None = None
    attempt: int = 1
    timeout: float | None = None


@dataclass(frozen=True)
class Outcome:
    """What came of running a task.

    ``result`` is the objective's raw return value when ``error`` is None; else
    ``error`` says what went wrong and ``reason`` is a short cause (``exception``,
    ``timeout``, ``crashed``, ``exit_code``, ``invalid_result``, ``cancelled``, ...).
    """

    trial_id: int
    result: Any = None
    error: str | None = None
    reason: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    worker: str | None = None


def format_exception(exc: BaseException, limit: int = 4000) -> str:
    """``Type: message`` plus the last frames of the traceback, capped in length."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    head = f"{type(exc).__name__}: {exc}"
    if len(text) > limit:
        text = "...\n" + text[-limit:]
    return f"{head}\n{text}" if text.strip() != head else head


def run_task(
    run: Callable[[TrialContext], Any],
    task: Task,
    worker: str,
    on_child: Callable[[int], None] | None = None,
    clock: Callable[[], float] = time.time,
) -> Outcome:
    """Run one task with a loaded objective; every failure becomes an error outcome."""
    ctx = TrialContext(
        trial_id=task.trial_id,
        params=task.params,
        trial_dir=task.trial_dir,
        attempt=task.attempt,
        timeout=task.timeout,
        on_child=on_child,
    )
    start = clock()
    try:
        result = run(ctx)
    except ObjectiveFailure as exc:
        return Outcome(task.trial_id, None, str(exc), exc.reason, start, clock(), worker)
    except Exception as exc:
        return Outcome(
            task.trial_id, None, format_exception(exc), "exception", start, clock(), worker
        )
    except SystemExit as exc:
        return Outcome(
            task.trial_id,
            None,
            f"the objective called sys.exit({exc.code!r})",
            "exception",
            start,
            clock(),
            worker,
        )
    return Outcome(task.trial_id, result, None, None, start, clock(), worker)


def cancel_queued(queue: Any, done: list[Outcome], trial_id: int) -> bool:
    """Take a trial that has not started out of ``queue``; its outcome goes to ``done``."""
    for task in list(queue):
        if task.trial_id == trial_id:
            queue.remove(task)
            done.append(Outcome(trial_id, error="cancelled before it started", reason="cancelled"))
            return True
    return False


class Executor(ABC):
    """Runs trials on ``workers`` slots. See the module docs for the protocol."""

    #: how many trials can run at once
    workers: int = 1
    #: called with (trial id, process group id) for each process group a trial runs in, so the
    #: scheduler can journal it and a resumed study can kill it if the coordinator died
    on_process: Callable[[int, int], None] | None = None

    def now(self) -> float:
        return time.time()

    @abstractmethod
    def submit(self, task: Task) -> None: ...

    @abstractmethod
    def collect(self, timeout: float | None = None) -> list[Outcome]: ...

    @abstractmethod
    def cancel(self, trial_id: int) -> None: ...

    @abstractmethod
    def close(self, cancel: bool = True) -> None: ...

    @property
    @abstractmethod
    def running(self) -> int:
        """Trials submitted and not collected yet."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(cancel=True)
