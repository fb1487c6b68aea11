"""How a run goes: when it stops, which failures run again, and the backends.

These small records are shared by the three ways to run a study: the ``run``
section of a study file (:class:`parabo.config.RunConfig` builds them), the
keyword arguments of :func:`parabo.minimize`, and :class:`parabo.Scheduler`,
which takes them as they are.

    >>> StopRule(trials=100, target=0.01).max_failures
    20
    >>> RetryPolicy(retries=2).retries_left(FailReason.CRASHED, attempt=1)
    True
"""

from __future__ import annotations

import enum
import math
from collections.abc import Collection
from dataclasses import dataclass, field

from parabo._check import check_integer, check_number
from parabo.exceptions import ConfigError
from parabo.trial import FailReason

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "RETRYABLE",
    "Backend",
    "RetryPolicy",
    "StopRule",
]


class Backend(str, enum.Enum):
    """Where trials run (``run.backend``).

    - ``inline``: one at a time in the coordinator (debugging, tests).
    - ``thread``: threads of the coordinator (external commands, I/O-bound objectives).
    - ``process``: long-lived worker processes (the default; hard time limits, crash isolation).
    - ``simulated``: a virtual clock and modelled trial durations (planning, tests).
    - ``dask``: an existing Dask scheduler or a cluster parabo starts (SLURM, PBS, ...).
    """

    INLINE = "inline"
    THREAD = "thread"
    PROCESS = "process"
    SIMULATED = "simulated"
    DASK = "dask"

    def __str__(self) -> str:
        return str(self.value)


BACKENDS: tuple[str, ...] = tuple(b.value for b in Backend)
DEFAULT_BACKEND = Backend.PROCESS

#: failure reasons a retry can be asked for (``run.retry_on``)
RETRYABLE = frozenset(
    {
        FailReason.CRASHED,
        FailReason.TIMEOUT,
        FailReason.EXCEPTION,
        FailReason.EXIT_CODE,
        FailReason.INVALID_RESULT,
    }
)


def _seconds(value: float | None, field_name: str, allow_zero: bool = False) -> None:
    if value is not None:
        check_number(value, field_name, 0.0, strict=not allow_zero, hint=" (seconds)")


@dataclass(frozen=True)
class StopRule:
    """When a run stops.

    Args:
        trials: finished trials wanted in total (finished trials of a resumed study count).
        max_time: wall-clock limit of the run in seconds; trials in flight are cancelled
            and run again on resume.
        target: stop once a trial reaches this value or better (trials in flight finish).
        max_failures: stop after this many trials in a row failed (``None``: never).
        stop_grace: after a stop signal, seconds the trials in flight get before they are
            cancelled (``None``: wait for them; a SIGTERM waits 10 s at most).
    """

    trials: int
    max_time: float | None = None
    target: float | None = None
    max_failures: int | None = 20
    stop_grace: float | None = None

    def __post_init__(self) -> None:
        check_integer(self.trials, 0, "run.trials")
        _seconds(self.max_time, "run.max_time")
        _seconds(self.stop_grace, "run.stop_grace", allow_zero=True)
        if self.max_failures is not None:
            check_integer(self.max_failures, 1, "run.max_failures")
        if self.target is not None and not (
            isinstance(self.target, (int, float))
            and not isinstance(self.target, bool)
            and math.isfinite(self.target)
        ):
            raise ConfigError(f"must be a finite number, got {self.target!r}", field="run.target")


@dataclass(frozen=True)
class RetryPolicy:
    """Which failed trials run again with the same parameters, and how often.

    Args:
        retries: how many more attempts a trial gets after a retryable failure.
        retry_on: the failure reasons worth a retry (default ``crashed`` and ``timeout``;
            add ``exception`` for flaky objectives). See :data:`RETRYABLE`.
    """

    retries: int = 0
    retry_on: Collection[FailReason | str] = field(
        default_factory=lambda: frozenset({FailReason.CRASHED, FailReason.TIMEOUT})
    )

    def __post_init__(self) -> None:
        check_integer(self.retries, 0, "run.retries")
        reasons = set()
        for r in self.retry_on:
            reason = FailReason(r) if r in {x.value for x in FailReason} else None
            if reason not in RETRYABLE:
                allowed = ", ".join(sorted(x.value for x in RETRYABLE))
                raise ConfigError(
                    f"cannot retry on {r!r}; choose from {allowed}", field="run.retry_on"
                )
            reasons.add(reason)
        object.__setattr__(self, "retry_on", frozenset(reasons))

    def retries_left(self, reason: FailReason | str | None, attempt: int) -> bool:
        """Whether attempt ``attempt`` that failed for ``reason`` is run again."""
        return reason is not None and reason in self.retry_on and attempt <= self.retries
