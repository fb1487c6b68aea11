"""Early-stopping rules on rungs: successive halving, ASHA and Hyperband.

Rungs are the resources ``min, min*eta, min*eta**2, ...`` below ``max``. A trial's
value at a rung is the value of its first report at or past that rung. At each
rung only the best ``1/eta`` of the trials go on; the rules differ in whom they
compare and when:

- :class:`SuccessiveHalving` (synchronous): trials form brackets of
  ``trials_per_bracket`` by id; a rung decides once every trial of the bracket that
  is still in it reached the rung (or finished), keeping the best
  ``max(1, n // eta)``. Trials do not wait for the decision (no worker idles); the
  ones it drops are stopped where they are.
- :class:`ASHA` (asynchronous, the stopping variant): a trial that reaches a rung
  goes on if its value is within the best ``1/eta`` quantile of the values recorded
  at that rung so far (its own included), so no trial ever waits.
- :class:`Hyperband`: brackets over ASHA, each starting at a larger ``min``
  (``min*eta**b``); trials are spread over the brackets by id, in Hyperband's
  proportions, and compared within their bracket only.

    >>> rule = ASHA(min=1, max=9, eta=3)
    >>> rule.rungs
    [1.0, 3.0]
    >>> [rule.report(t, 1, v) for t, v in [(0, 1.0), (1, 0.5)]]
    [[], []]
    >>> rule.report(2, 1, 2.0)[0].trial
    2
"""

from __future__ import annotations

import math

from parabo.pruning.rules import Rule, Stop, quantile

__all__ = ["ASHA", "BracketSpread", "Hyperband", "SuccessiveHalving", "rungs"]

_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def rungs(min: float, max: float, eta: float) -> list[float]:
    """The resources at which rung decisions are made: ``min * eta**k`` below ``max``.

    >>> rungs(1, 81, 3)
    [1.0, 3.0, 9.0, 27.0]
    """
    out: list[float] = []
    r = float(min)
    while r < max * (1 - 1e-9):
        out.append(r)
        r *= eta
    return out


class BracketSpread:
    """Hyperband's brackets: where each starts, and which bracket a trial (by id) is in.

    Bracket ``b`` starts at ``min * eta**b`` (the last one at ``max``: no stopping);
    trials go to the brackets in Hyperband's proportions (most to bracket 0), by a
    golden-ratio sequence over their ids, so a resumed study puts them where it did.

    >>> BracketSpread(1, 9, 3).starts
    [1.0, 3.0, 9.0]
    """

    def __init__(self, min: float, max: float, eta: float) -> None:
        top = len(rungs(min, max, eta))  # brackets 0 .. top
        self.starts = [float(min * eta**b) for b in range(top + 1)]
        weights = [math.ceil((top + 1) / (top - b + 1) * eta ** (top - b)) for b in range(top + 1)]
        total = sum(weights)
        self._cumulative = [sum(weights[: i + 1]) / total for i in range(len(weights))]

    def bracket(self, trial: int) -> int:
        """The bracket of ``trial``."""
        u = (trial * _GOLDEN) % 1.0
        for b, edge in enumerate(self._cumulative):
            if u < edge:
                return b
        return len(self._cumulative) - 1


class _Rungs:
    """Each trial's value at each rung it reached."""

    def __init__(self, levels: list[float]) -> None:
        self.levels = levels
        self.values: dict[int, dict[int, float]] = {}  # trial -> rung index -> value

    def add(self, trial: int, step: float, value: float) -> list[int]:
        """Record ``value`` at every rung ``step`` reached for the first time; return those rungs."""
        mine = self.values.setdefault(trial, {})
        new = [k for k, level in enumerate(self.levels) if level <= step and k not in mine]
        for k in new:
            mine[k] = value
        return new


class ASHA(Rule):
    """Asynchronous successive halving, stopping variant (Li et al., MLSys 2020; Syne Tune's rule)."""

    name = "asha"

    def __init__(self, *, min: float, max: float, eta: float, label: str = "asha") -> None:
        self.rungs = rungs(min, max, eta)
        self.eta = eta
        self.label = label
        self._data = _Rungs(self.rungs)
        self._at: list[list[float]] = [[] for _ in self.rungs]  # values recorded at each rung

    def report(self, trial: int, step: float, value: float) -> list[Stop]:
        stop: Stop | None = None
        for k in self._data.add(trial, step, value):
            self._at[k].append(value)
            cutoff = quantile(self._at[k], 1.0 / self.eta)
            if value > cutoff and stop is None:
                stop = Stop(
                    trial,
                    f"{self.label}: value {value:.6g} at rung {self.rungs[k]:g} is not in the "
                    f"best 1/{self.eta:g} of the {len(self._at[k])} trials there "
                    f"(cut-off {cutoff:.6g})",
                )
        return [] if stop is None else [stop]


class SuccessiveHalving(Rule):
    """Synchronous successive halving over brackets of ``trials_per_bracket`` trials (by id)."""

    name = "successive_halving"

    def __init__(self, *, min: float, max: float, eta: float, trials_per_bracket: int) -> None:
        self.rungs = rungs(min, max, eta)
        self.eta = eta
        self.size = trials_per_bracket
        self._data = _Rungs(self.rungs)
        self._finished: set[int] = set()
        self._dropped: dict[int, int] = {}  # trial -> the rung that dropped it
        self._decided: set[tuple[int, int]] = set()  # (bracket, rung) decided

    def report(self, trial: int, step: float, value: float) -> list[Stop]:
        self._data.add(trial, step, value)
        return self._decide(trial // self.size)

    def done(self, trial: int) -> list[Stop]:
        self._finished.add(trial)
        return self._decide(trial // self.size)

    def _decide(self, bracket: int) -> list[Stop]:
        stops: list[Stop] = []
        members = range(bracket * self.size, (bracket + 1) * self.size)
        for k, level in enumerate(self.rungs):
            if (bracket, k) in self._decided:
                continue
            reached: list[tuple[float, int]] = []
            for m in members:
                if m in self._dropped:
                    continue
                value = self._data.values.get(m, {}).get(k)
                if value is not None:
                    reached.append((value, m))
                elif m not in self._finished:
                    return stops  # the rung waits for this trial (running, or not asked yet)
            self._decided.add((bracket, k))
            reached.sort()
            keep = max(1, len(reached) // int(self.eta))
            for rank, (value, m) in enumerate(reached[keep:], start=keep):
                self._dropped[m] = k
                stops.append(
                    Stop(
                        m,
                        f"successive_halving: value {value:.6g} at rung {level:g} ranks "
                        f"{rank + 1} of {len(reached)} in bracket {bracket}; the best {keep} go on",
                    )
                )
        return stops


class Hyperband(Rule):
    """Hyperband as brackets over ASHA (Li et al., 2018; the asynchronous form of Syne Tune)."""

    name = "hyperband"

    def __init__(self, *, min: float, max: float, eta: float) -> None:
        self.spread = BracketSpread(min, max, eta)
        self.brackets = [
            ASHA(min=start, max=max, eta=eta, label=f"hyperband bracket {b}")
            for b, start in enumerate(self.spread.starts)
        ]

    def bracket(self, trial: int) -> int:
        """The bracket of a trial: by id, spread in Hyperband's proportions (most in bracket 0)."""
        return self.spread.bracket(trial)

    def report(self, trial: int, step: float, value: float) -> list[Stop]:
        return self.brackets[self.bracket(trial)].report(trial, step, value)
