"""The scheduler: keep N trials in flight, refill the moment one finishes.

One loop, one writer: ask → journal → submit → collect → journal → tell. The
clock is the executor's (``executor.now``), so the same loop runs on real
workers and on a simulated backend; the loop never sleeps, it only waits in
``executor.collect``.

Stopping: on a trial count, a wall-clock limit (in-flight trials are cancelled
and run again on resume), or a target value (in-flight trials finish). The
first SIGINT/SIGTERM stops asking and waits for the trials in flight; the
second cancels them. Either way every trial's state is journaled.
"""

from __future__ import annotations

import signal
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from parabo.exceptions import ConfigError
from parabo.executors.base import Executor, Outcome, Task
from parabo.results import FolderWriter, progress_record
from parabo.study import Study
from parabo.trial import Trial

__all__ = ["RunSummary", "Scheduler", "SchedulerListener"]

_POLL = 0.25  # seconds: how often the loop looks at signals and the clock while waiting


@dataclass(frozen=True)
class RunSummary:
    """How a run ended.

    ``stop_reason`` is one of ``trials`` (budget reached), ``time`` (wall-clock
    limit), ``target`` (target value reached), ``interrupted`` (a signal), or
    ``failures`` (too many failures in a row).
    """

    stop_reason: str
    n_complete: int
    n_failed: int
    elapsed: float
    best: Trial | None
    signal: int | None = None


class SchedulerListener(Protocol):
    """Hooks for progress displays; every method is optional to act on."""

    def on_start(self, scheduler: Scheduler) -> None: ...

    def on_trial(self, scheduler: Scheduler, trial: Trial) -> None: ...

    def on_tick(self, scheduler: Scheduler) -> None: ...

    def on_stop(self, scheduler: Scheduler, summary: RunSummary) -> None: ...


class Scheduler:
    """Run a study's trials on an executor until a stop criterion is met.

    Args:
        study: the study (its journal records everything).
        executor: where trials run; ``executor.workers`` trials are kept in flight.
        trials: total number of finished trials wanted (finished trials of a
            resumed study count).
        max_time: wall-clock limit of this run in seconds.
        target: stop once a trial reaches this value (or better).
        batch: synchronous batches: wait for all trials in flight before asking again.
        trial_timeout: per-trial time limit in seconds, enforced by the executor.
        listener: progress display hooks.
        handle_signals: install SIGINT/SIGTERM handlers (main thread only).
    """

    def __init__(
        self,
        study: Study,
        executor: Executor,
        *,
        trials: int,
        max_time: float | None = None,
        target: float | None = None,
        batch: bool = False,
        trial_timeout: float | None = None,
        listener: SchedulerListener | None = None,
        handle_signals: bool = True,
    ) -> None:
        if not isinstance(trials, int) or isinstance(trials, bool) or trials < 0:
            raise ConfigError(f"must be a non-negative integer, got {trials!r}", field="run.trials")
        self.study = study
        self.executor = executor
        self.trials = trials
        self.max_time = max_time
        self.target = target
        self.batch = batch
        self.trial_timeout = trial_timeout
        self.listener = listener
        self.handle_signals = handle_signals
        self.clock: Callable[[], float] = executor.now
        study.clock = executor.now
        self.inflight: dict[int, Trial] = {}
        self.started_at = self.clock()
        self._stop: str | None = None
        self._signals = 0
        self._last_signal: int | None = None
        self._cancelled = False
        self._rerun: deque[Trial] = deque()
        self.trials_root = study.folder / "trials" if study.folder else None
        self._writer: FolderWriter | None = None

    # ------------------------------------------------------------------ helpers
    @property
    def elapsed(self) -> float:
        return self.clock() - self.started_at

    def _remaining(self) -> int:
        return self.trials - self.study.n_finished - len(self.inflight) - len(self._rerun)

    def _trial_dir(self, trial: Trial) -> str | None:
        if self.trials_root is None:
            return None
        return str(self.trials_root / f"{trial.id:06d}")

    def _submit(self, trial: Trial) -> None:
        trial = self.study.mark_started(trial, t=self.clock())
        trial_dir = self._trial_dir(trial)
        if trial_dir is not None and self._writer is not None:
            # external commands create their folder and params.json themselves before they start
            self._writer.put(Path(trial_dir) / "params.json", dict(trial.params))
        self.inflight[trial.id] = trial
        self.executor.submit(Task(trial.id, trial.params, trial_dir, trial.attempt, self.trial_timeout))

    def _fill(self) -> None:
        free = self.executor.workers - len(self.inflight)
        if self.batch and self.inflight:
            return
        while free > 0 and self._rerun:
            self._submit(self._rerun.popleft())
            free -= 1
        want = min(free, self._remaining())
        if want <= 0:
            return
        new = self.study.ask(want)
        self.study.commit(sync=False)
        for trial in new:
            self._submit(trial)

    def _finish(self, outcome: Outcome) -> Trial | None:
        if outcome.trial_id not in self.inflight:
            return None  # a late outcome of a trial already failed (timeout) or cancelled
        del self.inflight[outcome.trial_id]
        trial = self.study.tell(
            outcome.trial_id,
            outcome.result,
            error=outcome.error,
            reason=outcome.reason,
            started_at=outcome.started_at,
            finished_at=outcome.finished_at,
            worker=outcome.worker,
        )
        trial_dir = self._trial_dir(trial)
        if trial_dir is not None and self._writer is not None:
            record = {
                "id": trial.id, "state": trial.state.value, "value": trial.value,
                "metrics": dict(trial.metrics), "error": trial.error, "reason": trial.reason,
                "started_at": trial.started_at, "finished_at": trial.finished_at,
                "worker": trial.worker, "attempt": trial.attempt,
            }
            self._writer.put(Path(trial_dir) / "trial.json", record)
        return trial

    def _check_stop(self) -> None:
        if self._stop is not None:
            return
        best = self.study.best_value
        if self.target is not None and best is not None and not self.study.better(self.target, best):
            self._stop = "target"
        elif self.max_time is not None and self.elapsed >= self.max_time:
            self._stop = "time"
            self._cancel_all()
        elif self._remaining() <= 0 and not self.inflight:
            self._stop = "trials"

    def _cancel_all(self) -> None:
        if self._cancelled:
            return
        self._cancelled = True
        for tid in list(self.inflight):
            self.executor.cancel(tid)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals += 1
        self._last_signal = signum
        if self._stop is None or self._stop in ("trials", "target"):
            self._stop = "interrupted"
        if self._signals >= 2:
            self._cancel_all()

    def request_stop(self, cancel: bool = False) -> None:
        """Stop asking (thread-safe); with ``cancel``, also stop the trials in flight."""
        self._on_signal(signal.SIGINT, None)
        if cancel:
            self._on_signal(signal.SIGINT, None)

    def _wait(self) -> float | None:
        if self.max_time is not None and self._stop is None:
            return max(0.0, min(_POLL, self.max_time - self.elapsed))
        return _POLL

    def _progress(self) -> None:
        if self.study.folder is None or self._writer is None:
            return
        self._writer.put(self.study.folder / "progress.json", progress_record(self.study, self))
        best = self.study.best
        if best is not None:
            self._writer.put(
                self.study.folder / "best.json",
                {"id": best.id, "value": best.value, "params": dict(best.params), "metrics": dict(best.metrics)},
            )

    # ------------------------------------------------------------------ the loop
    def run(self) -> RunSummary:
        """Run until a stop criterion is met; returns how it ended."""
        self.started_at = self.clock()
        previous: dict[int, Any] = {}
        if self.handle_signals and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, self._on_signal)
        self._rerun.extend(self.study.interrupted)
        if self.study.folder is not None:
            self._writer = FolderWriter()
        if self.listener is not None:
            self.listener.on_start(self)
        try:
            while True:
                self._check_stop()
                if self._stop is None:
                    self._fill()
                if not self.inflight and (self._stop is not None or self._remaining() <= 0):
                    break
                outcomes = self.executor.collect(timeout=self._wait())
                if outcomes:
                    told = [t for t in map(self._finish, outcomes) if t is not None]
                    self.study.commit(sync=False)  # written (safe from a coordinator crash) ...
                    # ... then refill the free workers at once, before the slower bookkeeping
                    self._check_stop()
                    if self._stop is None:
                        self._fill()
                    # one fsync for every trial that finished together (and the trials just asked)
                    self.study.commit(sync=True)
                    self._progress()
                    if self.listener is not None:
                        for trial in told:
                            self.listener.on_trial(self, trial)
                if self.listener is not None:
                    self.listener.on_tick(self)
        except BaseException:
            self._abort()
            raise
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self._check_stop()
        summary = RunSummary(
            self._stop or "trials",
            self.study.n_complete,
            self.study.n_failed,
            self.elapsed,
            self.study.best,
            self._last_signal,
        )
        self.executor.close(cancel=True)
        self.study.commit(sync=True)
        self._progress()
        self._close_writer()
        if self.listener is not None:
            self.listener.on_stop(self, summary)
        return summary

    def _close_writer(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()

    def _abort(self) -> None:
        """An exception escaped the loop: stop the trials in flight and record them as interrupted."""
        try:
            self._cancel_all()
            self.executor.close(cancel=True)
        finally:
            for tid in list(self.inflight):
                self.study.tell(tid, error="the coordinator stopped before the trial finished", reason="interrupted")
            self.inflight.clear()
            self.study.commit(sync=True)
            self._progress()
            self._close_writer()
