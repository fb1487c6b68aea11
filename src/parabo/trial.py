"""Trial records, their states, and the vocabulary of failure and stop reasons."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["FailReason", "StopReason", "Trial", "TrialState"]


class _Words(str, enum.Enum):
    """A str enum that prints as its value (``str(FailReason.TIMEOUT) == "timeout"``)."""

    def __str__(self) -> str:
        return str(self.value)


class TrialState(_Words):
    """Where a trial is in its life.

    ``RUNNING`` from ``ask`` until ``tell``; then ``COMPLETE`` or ``FAILED``, or ``PRUNED``
    when early stopping (or the objective, raising :class:`parabo.TrialPruned`) ended it
    before its full budget; a PRUNED trial keeps its last reported value. ``PAUSED``:
    ASHA's promotion variant stopped it at a rung (its budget), keeping its value there;
    the rule may later promote it, and it runs on (``RUNNING`` again) to a larger budget.
    """

    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    PRUNED = "pruned"
    PAUSED = "paused"

    @property
    def finished(self) -> bool:
        """Not running: COMPLETE, FAILED, PRUNED, or PAUSED (which may run again when promoted)."""
        return self is not TrialState.RUNNING

    @property
    def partial(self) -> bool:
        """Ended before its full budget with the last value it reported (PRUNED or PAUSED)."""
        return self is TrialState.PRUNED or self is TrialState.PAUSED


class FailReason(_Words):
    """Why a trial failed: the ``reason`` of a FAILED trial, in the journal and every table.

    - ``exception``: the Python objective raised (the error holds the traceback's end).
    - ``invalid_result``: the result is not a finite number (NaN, infinity, a string, nothing)
      or a dict without the study's metric.
    - ``timeout``: the trial ran over its time limit and was stopped.
    - ``crashed``: the worker or the command died (a signal, the worker process lost).
    - ``exit_code``: an external command exited with a non-zero code.
    - ``bad_command``: an external command could not be started (missing program, bad placeholder).
    - ``interrupted``: the coordinator stopped before the trial finished; it runs again on resume.
    - ``cancelled``: the run cancelled the trial (time limit of the run, a second Ctrl-C); it
      runs again on resume.
    - ``told``: failed by hand, ``study.tell(trial, error=...)``.
    - ``lost``: the journal line that created the trial was damaged and ``parabo repair`` set
      it aside: its parameters are unknown, so samplers do not see it.
    """

    EXCEPTION = "exception"
    INVALID_RESULT = "invalid_result"
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    EXIT_CODE = "exit_code"
    BAD_COMMAND = "bad_command"
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"
    TOLD = "told"
    LOST = "lost"

    @property
    def reruns(self) -> bool:
        """The trial did not get to finish: it runs again when the study is resumed."""
        return self in (FailReason.INTERRUPTED, FailReason.CANCELLED)

    @classmethod
    def read(cls, value: Any) -> FailReason | None:
        """The reason named by ``value`` (``None`` stays ``None``; an unknown word is ``exception``)."""
        if value is None or isinstance(value, FailReason):
            return value
        try:
            return cls(str(value))
        except ValueError:
            return cls.EXCEPTION


class StopReason(_Words):
    """Why a run stopped (:attr:`parabo.RunSummary.stop_reason`).

    - ``trials``: the requested number of trials finished.
    - ``time``: the run's wall-clock limit (``run.max_time``); trials in flight run again on resume.
    - ``target``: a trial reached ``run.target``.
    - ``interrupted``: a signal (Ctrl-C, SIGTERM) or :meth:`parabo.Scheduler.request_stop`.
    - ``failures``: ``run.max_failures`` trials in a row failed.
    """

    TRIALS = "trials"
    TIME = "time"
    TARGET = "target"
    INTERRUPTED = "interrupted"
    FAILURES = "failures"


@dataclass(frozen=True)
class Trial:
    """One evaluation of the objective at ``params``.

    Attributes:
        id: stable number of the trial in its study, from 0.
        params: the parameter values, a plain dict.
        state: see :class:`TrialState`.
        value: the objective value (``None`` unless COMPLETE), as the user reported it; with
            several objectives, the first one's; for a PRUNED or PAUSED trial, its last reported
            value (``None`` if it reported none).
        values: with several objectives, every objective's value in the study's order
            (``None`` for a study with one objective, and unless COMPLETE).
        metrics: every numeric value the objective returned (including ``value`` and the
            constrained metrics).
        violation: in a study with constraints, by how much a COMPLETE trial violates them
            (the sum over constraints of the distance to the bound; 0.0 when it satisfies
            them all); ``None`` without constraints. An infeasible trial is still COMPLETE.
        error: for a FAILED trial, a message saying what went wrong.
        reason: for a FAILED trial, why (:class:`FailReason`).
        asked_at, started_at, finished_at: Unix times (seconds), ``None`` until known.
        ask_seconds: how long the sampler took to suggest it (the share of one ``ask`` call
            when it suggested several trials at once), ``None`` when enqueued or unknown.
        worker: which worker ran it (``None`` for ask/tell by hand).
        attempt: 1 for the first run; more when a trial is run again after a crash,
            a retryable failure or an interrupted coordinator.
        reused: the result came from the result cache; the objective did not run.
        step: the last step (resource) the trial reported, ``None`` if it reported none.
        stopped: for a PRUNED trial, who stopped it and why (and how many reports that
            came after the stop were ignored); for a PAUSED one, the rung it paused at.
        budget: the resource its current (or last) run may use: its rung under ASHA's
            promotion variant, else ``early_stopping.max`` (``None`` without early stopping).
        promotions: how many times the rule promoted it (resumed it from a pause).
        source: ``None`` when the sampler suggested the parameters; ``"enqueue"`` or
            ``"initial"`` when they were enqueued (:meth:`parabo.Study.enqueue`, the study
            file's ``initial``); ``"warm_start"`` for a known result told before the run
            (:meth:`parabo.Study.add_trial`, the study file's ``warm_start``).
    """

    id: int
    params: Mapping[str, Any]
    state: TrialState = TrialState.RUNNING
    value: float | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    values: tuple[float, ...] | None = None
    violation: float | None = None
    error: str | None = None
    reason: FailReason | None = None
    asked_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    ask_seconds: float | None = None
    worker: str | None = None
    attempt: int = 1
    reused: bool = False
    step: float | None = None
    stopped: str | None = None
    source: str | None = None
    budget: float | None = None
    promotions: int = 0

    @property
    def duration(self) -> float | None:
        """Seconds from start (or ask) to finish, if finished."""
        start = self.started_at if self.started_at is not None else self.asked_at
        if start is None or self.finished_at is None:
            return None
        return self.finished_at - start

    @property
    def feasible(self) -> bool:
        """COMPLETE and within every constraint (a study without constraints: COMPLETE)."""
        return self.state is TrialState.COMPLETE and not self.violation

    def evolve(self, **changes: Any) -> Trial:
        """A copy with some fields changed (records are immutable)."""
        return replace(self, **changes)
