"""Scrambled Sobol quasi-random search (scipy.stats.qmc)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from parabo._qmc import sobol_points
from parabo.samplers.base import Direction, Sampler
from parabo.space import Space
from parabo.trial import Trial

__all__ = ["SobolSampler", "sobol_points"]


class SobolSampler(Sampler):
    """Low-discrepancy points that cover the cube more evenly than random draws.

    Point ``i`` of the study is point ``i`` of one scrambled Sobol sequence fixed
    by the seed, so resuming continues the sequence.
    """

    name = "sobol"

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(seed)
        self._seed = seed if seed is not None else int(np.random.SeedSequence().entropy) % 2**32  # type: ignore[arg-type]
        self._engine: Any = None
        self._next = 0

    def ask(
        self,
        space: Space,
        history: Sequence[Trial],
        pending: Sequence[Trial],
        n: int = 1,
        direction: Direction = "minimize",
    ) -> list[dict[str, Any]]:
        start = len(history) + len(pending)
        if self._engine is None or self._engine.d != space.dim or start < self._next:
            from scipy.stats import qmc

            self._engine = qmc.Sobol(d=space.dim, scramble=True, seed=self._seed)
            self._next = 0
        if start > self._next:
            self._engine.fast_forward(start - self._next)
        self._next = start + n
        with warnings.catch_warnings():
            # one point at a time is how a study uses the sequence; balance is over the whole run
            warnings.simplefilter("ignore", UserWarning)
            rows = self._engine.random(n)
        return [space.from_unit(row) for row in rows]
