"""Early-stopping rules that compare a trial with the others at the same step: none, median, percentile.

A rule is one small object with one question to answer: given the reports so far,
which running trials should stop? It is fed every report (``report``) and every
finished trial (``done``) in the order the study recorded them, and returns the
trials to stop (:class:`Stop`). It sees values where lower is better (the
scheduler negates the values of a study that maximizes). Its state is a function
of the recorded reports, so a resumed study, fed the journal's reports, decides
as the uninterrupted one would.

    >>> rule = PercentileRule(50.0, min_trials=2)
    >>> for trial, value in [(0, 1.0), (1, 2.0)]:
    ...     _ = rule.report(trial, 1, value)
    >>> rule.report(2, 1, 3.0)[0].trial
    2
    >>> rule.report(3, 1, 0.5)
    []
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["NoRule", "PercentileRule", "Promote", "Rule", "Stop", "quantile"]


@dataclass(frozen=True)
class Stop:
    """Stop ``trial``: ``why`` is said in its record."""

    trial: int
    why: str


@dataclass(frozen=True)
class Promote:
    """Resume paused ``trial`` to run on to ``budget``: ``why`` is said in the journal."""

    trial: int
    budget: float
    why: str


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q``-quantile (0..1) of ``values`` with linear interpolation (numpy's default).

    >>> quantile([1.0, 2.0, 3.0, 4.0], 0.5)
    2.5
    """
    ordered = sorted(values)
    if not ordered:
        raise ValueError("quantile of no values")
    pos = q * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


class Rule(ABC):
    """Decides which running trials stop, from the reports so far (lower values are better)."""

    #: the rule's name in the study file and in the records of the trials it stops
    name: str = ""
    #: True for a rule that pauses trials at their budget and promotes some later
    #: (ASHA's promotion variant): the scheduler asks :meth:`budget` and :meth:`promote`
    promotes: bool = False

    @abstractmethod
    def report(self, trial: int, step: float, value: float) -> list[Stop]:
        """Take one report of ``trial``; return the trials to stop (this one, or others)."""

    def done(self, trial: int) -> list[Stop]:
        """``trial`` finished (any way); return the trials to stop now, if any."""
        return []

    def budget(self, trial: int) -> float | None:
        """The resource a new ``trial`` runs to (``None``: its full budget)."""
        return None

    def promote(self, paused: Mapping[int, float | None]) -> Promote | None:
        """A paused trial to resume now (``paused``: each paused trial's budget), or ``None``."""
        return None


class NoRule(Rule):
    """Record reports, stop nothing (``rule: none``)."""

    name = "none"

    def report(self, trial: int, step: float, value: float) -> list[Stop]:
        return []


@dataclass
class _Curve:
    steps: list[float] = field(default_factory=list)
    best: list[float] = field(default_factory=list)  # the best value up to each step

    def add(self, step: float, value: float) -> bool:
        if self.steps and step <= self.steps[-1]:
            return False
        self.steps.append(step)
        self.best.append(min(value, self.best[-1]) if self.best else value)
        return True

    def best_at(self, step: float) -> float | None:
        """The best value reported up to ``step``, if the curve reached ``step``."""
        if not self.steps or self.steps[-1] < step:
            return None
        i = bisect_right(self.steps, step) - 1
        return self.best[i] if i >= 0 else None


class PercentileRule(Rule):
    """Stop a trial whose best value so far is worse than the ``percentile`` of the others at its step.

    Optuna's percentile pruner, asynchronous: "the others" are every other trial
    (running or finished) whose reports reached that step, each with its best value
    up to it. Nothing is stopped before step ``min``, during the first ``warmup``
    steps, or while fewer than ``min_trials`` others reached the step.
    ``percentile=50`` is the median rule.
    """

    def __init__(
        self,
        percentile: float,
        *,
        min: float = 0.0,
        warmup: float = 0.0,
        min_trials: int = 5,
        name: str | None = None,
    ) -> None:
        self.percentile = percentile
        self.min = min
        self.warmup = warmup
        self.min_trials = min_trials
        self.name = name or ("median" if percentile == 50 else "percentile")
        self._curves: dict[int, _Curve] = {}

    def report(self, trial: int, step: float, value: float) -> list[Stop]:
        curve = self._curves.setdefault(trial, _Curve())
        if not curve.add(step, value) or step < self.min or step <= self.warmup:
            return []
        others = [
            b for t, c in self._curves.items() if t != trial and (b := c.best_at(step)) is not None
        ]
        if len(others) < self.min_trials:
            return []
        cutoff = quantile(others, self.percentile / 100.0)
        mine = curve.best[-1]
        if mine <= cutoff:
            return []
        what = "median" if self.name == "median" else f"{self.percentile:g}th percentile"
        return [
            Stop(
                trial,
                f"{self.name}: best value {mine:.6g} by step {step:g} is worse than the {what} "
                f"{cutoff:.6g} of {len(others)} other trials at that step",
            )
        ]
