"""ASHA's promotion variant: trials pause at their rung and the promising ones are resumed.

Where the stopping variant (:class:`parabo.pruning.halving.ASHA`) lets a trial run
on until it is stopped, the promotion variant gives every new trial the first rung
as its budget. A trial that reaches its budget *pauses* (its worker takes the next
trial); each time a worker is free, the rule looks down the rungs from the top for
a paused trial among the best ``1/eta`` of the values recorded at its rung that was
not promoted yet, and resumes it to the next rung (Li et al., MLSys 2020, Algorithm
2). Only when none qualifies does a new configuration start. No worker waits for a
rung to fill: early on few trials are promoted, and as more reach a rung, more of
them qualify. The objective resumes from its checkpoint (``trial.checkpoint_dir``)
if it keeps one, or runs again from the start to the larger budget.

The rule's state is the values at the rungs (from the reports, as the stopping
variant's) and the budgets of the paused trials (from the study), so a resumed
study promotes as the uninterrupted one would.

    >>> rule = ASHAPromotion(min=1, max=9, eta=3)
    >>> rule.rungs, rule.budget(0)
    ([1.0, 3.0], 1.0)
    >>> for t, v in [(0, 0.5), (1, 0.9), (2, 0.7)]:
    ...     _ = rule.report(t, 1, v)
    >>> rule.promote({0: 1.0, 1: 1.0, 2: 1.0})
    Promote(trial=0, budget=3.0, why='asha promotion: value 0.5 at rung 1 is in the best 1/3 of the 3 trials there')
    >>> rule.promote({1: 1.0, 2: 1.0}) is None   # trial 0 was promoted: 1 of 3 goes on
    True
"""

from __future__ import annotations

from collections.abc import Mapping

from parabo.pruning.halving import BracketSpread, _Rungs, rungs
from parabo.pruning.rules import Promote, Rule, Stop

__all__ = ["ASHAPromotion", "HyperbandPromotion"]


class ASHAPromotion(Rule):
    """Asynchronous successive halving, promotion variant (pause at a rung, resume the best)."""

    name = "asha"
    promotes = True

    def __init__(self, *, min: float, max: float, eta: float, label: str = "asha") -> None:
        self.rungs = rungs(min, max, eta)
        self.max = float(max)
        self.eta = eta
        self.label = label
        self._data = _Rungs(self.rungs)

    def report(self, trial: int, step: float, value: float) -> list[Stop]:
        self._data.add(trial, step, value)
        return []  # it never stops a trial: a trial pauses at its budget

    def budget(self, trial: int) -> float | None:
        return self.rungs[0]

    def level(self, budget: float | None) -> int:
        """The rung a budget runs to (``len(rungs)`` for the full budget)."""
        if budget is None:
            return len(self.rungs)
        for k, r in enumerate(self.rungs):
            if budget <= r * (1 + 1e-9):
                return k
        return len(self.rungs)

    def promote(self, paused: Mapping[int, float | None]) -> Promote | None:
        if not paused:
            return None
        for k in reversed(range(len(self.rungs))):
            at = sorted(
                (vals[k], t) for t, vals in self._data.values.items() if k in vals
            )  # every trial that reached rung k, best first
            keep = int(len(at) // self.eta)
            for value, t in at[:keep]:
                if t in paused and self.level(paused[t]) == k:
                    budget = self.rungs[k + 1] if k + 1 < len(self.rungs) else self.max
                    return Promote(
                        t,
                        budget,
                        f"{self.label} promotion: value {value:.6g} at rung {self.rungs[k]:g} "
                        f"is in the best 1/{self.eta:g} of the {len(at)} trials there",
                    )
        return None


class HyperbandPromotion(Rule):
    """Hyperband as brackets over ASHA's promotion variant (Syne Tune's ``type="promotion"``).

    Bracket ``b`` starts its trials at ``min * eta**b``; trials are spread over the
    brackets by id in Hyperband's proportions, as in :class:`~parabo.pruning.halving.Hyperband`,
    and promoted within their bracket only.
    """

    name = "hyperband"
    promotes = True

    def __init__(self, *, min: float, max: float, eta: float) -> None:
        self.max = float(max)
        self.spread = BracketSpread(min, max, eta)
        self.brackets = [
            ASHAPromotion(min=start, max=max, eta=eta, label=f"hyperband bracket {b}")
            for b, start in enumerate(self.spread.starts)
        ]

    def bracket(self, trial: int) -> int:
        """The bracket of a trial (by id, most in bracket 0)."""
        return self.spread.bracket(trial)

    def report(self, trial: int, step: float, value: float) -> list[Stop]:
        return self.brackets[self.bracket(trial)].report(trial, step, value)

    def budget(self, trial: int) -> float | None:
        bracket = self.brackets[self.bracket(trial)]
        return bracket.rungs[0] if bracket.rungs else self.max

    def promote(self, paused: Mapping[int, float | None]) -> Promote | None:
        for b, bracket in enumerate(self.brackets):
            mine = {t: budget for t, budget in paused.items() if self.bracket(t) == b}
            choice = bracket.promote(mine)
            if choice is not None:
                return choice
        return None
