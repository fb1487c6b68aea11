"""The executor protocol: submit trials, collect outcomes, cancel, close.

The scheduler decides what runs; an executor only runs it. Every backend —
inline, thread, process (and dask, simulated) — implements the same five calls:

- ``submit(task)``: start (or queue) one trial;
- ``collect(timeout)``: wait up to ``timeout`` seconds for finished trials and
  return their outcomes (possibly none);
- ``cancel(trial_id)``: stop a trial; its outcome comes back with reason ``cancelled``;
- ``close(cancel)``: stop the workers (killing running trials when ``cancel``);
- ``now()``: the executor's clock (wall time, or virtual time in simulation);
- ``prune(trial_id)``: tell a running trial that early stopping decided to stop it
  (backends with ``reports = True``: its ``trial.should_prune()`` turns True, an
  external command is stopped and its outcome comes back with reason ``pruned``).

Reports of running trials reach the coordinator through the ``on_report`` hook,
always called in the coordinator's thread (from ``collect``, or, inline, from the
trial itself), so the hook may journal them and call ``prune``.

An objective's failure is an :class:`Outcome` with an ``error``, never an
exception out of the executor.
"""

from __future__ import annotations

import os
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from parabo._procs import TRIAL_ENV, kill_marked, trial_marker
from parabo.exceptions import TrialPruned
from parabo.objectives import ObjectiveFailure, TrialContext
from parabo.reporting import ReportChannel

__all__ = [
    "Executor",
    "Outcome",
    "Task",
    "cancel_queued",
    "format_exception",
    "portable_result",
    "run_task",
    "safe_repr",
    "safe_str",
    "task_marker",
]

MAX_ERROR = 4000  # characters of an error message kept per trial
MAX_METRICS = 10_000  # entries of a dict result read as metrics


@dataclass(frozen=True)
class Task:
    """One trial to run: its id, parameters, folder, attempt and time limit (seconds).

    With early stopping, ``budget`` is the resource the run may use (its rung under ASHA's
    promotion variant, else ``early_stopping.max``), and ``resumes_at`` the last step the
    trial reported before this run (a promoted or rerun trial; ``None`` for a fresh one).
    """

    trial_id: int
    params: Mapping[str, Any]
    trial_dir: str | None = None
    attempt: int = 1
    timeout: float | None = None
    budget: float | None = None
    resumes_at: float | None = None


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


def safe_repr(value: object, limit: int = 200) -> str:
    """``repr(value)`` cut to ``limit`` characters; never raises (huge ints, broken ``__repr__``)."""
    try:
        text = repr(value)
    except Exception as exc:
        text = f"<{type(value).__name__} object; repr() failed: {type(exc).__name__}>"
    return text if len(text) <= limit else text[:limit] + "..."


def safe_str(value: object, limit: int = MAX_ERROR) -> str:
    """``str(value)`` cut to ``limit`` characters (the end kept); never raises."""
    try:
        text = str(value)
    except Exception as exc:
        text = f"<{type(value).__name__} object; str() failed: {type(exc).__name__}>"
    if len(text) > limit:
        cut = len(text) - limit
        text = f"[{cut} characters cut] ..." + text[-limit:]
    return text


def format_exception(exc: BaseException, limit: int = MAX_ERROR) -> str:
    """``Type: message`` plus the last frames of the traceback, capped in length; never raises."""
    head = f"{type(exc).__name__}: {safe_str(exc, limit // 2)}"
    try:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    except Exception:  # an exception whose __str__ raises, a frame that cannot be read...
        return head
    if len(text) > limit:
        text = "...\n" + text[-limit:]
    return f"{head}\n{text}" if text.strip() != head else head


def _too_big(value: int) -> str:
    digits = int(value.bit_length() * 0.30103) + 1
    return f"an integer too large for a float (about {digits} digits)"


def _float_or_why(value: object) -> float | str:
    """``float(value)`` for a number-like value, else a short text saying why not."""
    if isinstance(value, (bool, str, bytes)) or value is None:
        return f"{type(value).__name__} {safe_repr(value)}"
    if isinstance(value, int) and abs(value).bit_length() > 1024:
        return _too_big(value)
    try:
        import numpy as np

        if isinstance(value, np.ndarray) and value.size == 1:
            value = value.item()
            if isinstance(value, int) and abs(value).bit_length() > 1024:
                return _too_big(value)
    except Exception:
        pass
    if not hasattr(value, "__float__"):
        return f"{type(value).__name__} {safe_repr(value)}"
    try:
        return float(value)
    except Exception as exc:
        return f"{type(value).__name__} whose float() raised {type(exc).__name__}: {safe_str(exc, 200)}"


def _plain_scalar(value: str | bool | None) -> str | bool | None:
    if isinstance(value, str):
        text = str.__str__(value)  # a plain str, even from a subclass that would not unpickle
        return text if len(text) <= 1000 else text[:1000] + "..."
    return None if value is None else bool(value)


def portable_result(result: Any) -> Any:
    """An objective's return value as plain data (a float, or a dict of floats and short texts).

    Runs where the objective ran, so that what travels to the coordinator always
    pickles, unpickles and converts: a number becomes a ``float``; a mapping becomes a
    ``dict`` whose number-like values are floats and whose other values are short
    texts (they are not metrics); ``None``, booleans and strings stay (cut short).
    Anything else that is not a number — an integer beyond a float's range, an
    object whose ``float()`` raises — raises :class:`ObjectiveFailure` with reason
    ``invalid_result`` and says what was returned.
    """
    if isinstance(result, Mapping):
        if len(result) > MAX_METRICS:
            raise ObjectiveFailure(
                f"the objective returned a dict with {len(result)} entries (at most "
                f"{MAX_METRICS} are read as metrics)",
                "invalid_result",
            )
        plain: dict[str, Any] = {}
        for key, value in result.items():
            name = str.__str__(key) if isinstance(key, str) else safe_str(key, 200)
            if value is None or isinstance(value, (bool, str)):
                plain[name] = _plain_scalar(value)
                continue
            f = _float_or_why(value)
            plain[name] = f if isinstance(f, float) else f"<{f}>"
        return plain
    if result is None or isinstance(result, (bool, str)):
        return _plain_scalar(result)
    f = _float_or_why(result)
    if isinstance(f, float):
        return f
    raise ObjectiveFailure(f"the objective returned {f}, not a number", "invalid_result")


def run_task(
    run: Callable[[TrialContext], Any],
    task: Task,
    worker: str,
    on_child: Callable[[int], None] | None = None,
    clock: Callable[[], float] = time.time,
    *,
    mark_env: bool = False,
    sweep: bool | None = None,
    channel: ReportChannel | None = None,
) -> Outcome:
    """Run one task with a loaded objective; every failure becomes an error outcome.

    With ``mark_env`` (a process that runs one trial at a time), the trial runs with
    its marker in ``os.environ``, so whatever it forks carries it, and (unless
    ``sweep`` is False: the caller kills its descendants itself) every process left
    with the marker is killed when it returns (see :mod:`parabo._procs`).
    """
    marker = task_marker(task, worker)
    ctx = TrialContext(
        trial_id=task.trial_id,
        params=task.params,
        trial_dir=task.trial_dir,
        attempt=task.attempt,
        timeout=task.timeout,
        on_child=on_child,
        marker=marker,
        channel=channel,
        budget=task.budget,
    )
    if not mark_env:
        return _run(run, ctx, task, worker, clock)
    saved = os.environ.get(TRIAL_ENV)
    os.environ[TRIAL_ENV] = marker
    try:
        return _run(run, ctx, task, worker, clock)
    finally:
        if saved is None:
            os.environ.pop(TRIAL_ENV, None)
        else:
            os.environ[TRIAL_ENV] = saved
        if sweep is None or sweep:
            kill_marked(marker)


def task_marker(task: Task, worker: str, pid: int | None = None) -> str:
    """``PARABO_TRIAL`` of a task run by ``worker`` in process ``pid`` (default: this one)."""
    return trial_marker(task.trial_dir, task.trial_id, f"pid{pid or os.getpid()}.{worker}")


def _run(
    run: Callable[[TrialContext], Any],
    ctx: TrialContext,
    task: Task,
    worker: str,
    clock: Callable[[], float],
) -> Outcome:
    start = clock()
    try:
        result = portable_result(run(ctx))
    except ObjectiveFailure as exc:
        return Outcome(
            task.trial_id, None, safe_str(exc), safe_str(exc.reason, 100), start, clock(), worker
        )
    except TrialPruned as exc:
        why = safe_str(exc, 500) or "the objective raised TrialPruned"
        return Outcome(task.trial_id, None, why, "pruned", start, clock(), worker)
    except Exception as exc:
        return Outcome(
            task.trial_id, None, format_exception(exc), "exception", start, clock(), worker
        )
    except SystemExit as exc:
        return Outcome(
            task.trial_id,
            None,
            f"the objective called sys.exit({safe_repr(exc.code)})",
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
    #: called with (trial id, step, value, metrics) for each report of a running trial, in the
    #: coordinator's thread; None: reports are dropped
    on_report: Callable[[int, float, float | None, Mapping[str, float]], None] | None = None
    #: the resource of a full run (``early_stopping.max``), set by the scheduler: the
    #: simulated backend charges a run that covers part of it that share of its duration
    full_budget: float | None = None
    #: whether this backend carries reports and stop decisions (early stopping)
    reports: bool = False

    def now(self) -> float:
        return time.time()

    def prune(self, trial_id: int) -> None:  # noqa: B027 - backends without reports do nothing
        """Tell running trial ``trial_id`` that early stopping decided to stop it."""

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
