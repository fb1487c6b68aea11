"""Trial records and their states."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["Trial", "TrialState"]


class TrialState(str, enum.Enum):
    """Where a trial is in its life.

    ``RUNNING`` from ``ask`` until ``tell``; then ``COMPLETE`` or ``FAILED``.
    ``PRUNED`` is reserved for early stopping.
    """

    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    PRUNED = "pruned"

    @property
    def finished(self) -> bool:
        return self is not TrialState.RUNNING

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Trial:
    """One evaluation of the objective at ``params``.

    Attributes:
        id: stable number of the trial in its study, from 0.
        params: the parameter values, a plain dict.
        state: see :class:`TrialState`.
        value: the objective value (``None`` unless COMPLETE), as the user reported it.
        metrics: every numeric value the objective returned (including ``value``).
        error: for a FAILED trial, a message saying what went wrong.
        reason: for a FAILED trial, a short machine-readable cause: ``exception``,
            ``invalid_result``, ``timeout``, ``crashed``, ``interrupted``, ``cancelled``, ``told``.
        asked_at, started_at, finished_at: Unix times (seconds), ``None`` until known.
        worker: which worker ran it (``None`` for ask/tell by hand).
        attempt: 1 for the first run; more when a trial is run again after a crash,
            a retryable failure or an interrupted coordinator.
        reused: the result came from the result cache; the objective did not run.
    """

    id: int
    params: Mapping[str, Any]
    state: TrialState = TrialState.RUNNING
    value: float | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    error: str | None = None
    reason: str | None = None
    asked_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    worker: str | None = None
    attempt: int = 1
    reused: bool = False

    @property
    def duration(self) -> float | None:
        """Seconds from start (or ask) to finish, if finished."""
        start = self.started_at if self.started_at is not None else self.asked_at
        if start is None or self.finished_at is None:
            return None
        return self.finished_at - start

    def evolve(self, **changes: Any) -> Trial:
        """A copy with some fields changed (records are immutable)."""
        return replace(self, **changes)
