"""Uniform random search (log-uniform on log scales)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from parabo.samplers.base import Direction, Sampler
from parabo.space import Space
from parabo.trial import Trial

__all__ = ["RandomSampler"]


class RandomSampler(Sampler):
    """Independent uniform draws in the unit cube.

    Draw ``i`` of a study depends only on ``(seed, i)``, so a resumed study
    continues the same sequence.
    """

    name = "random"

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(seed)
        self._entropy = seed if seed is not None else int(np.random.SeedSequence().entropy) % 2**63  # type: ignore[arg-type]

    def ask(
        self,
        space: Space,
        history: Sequence[Trial],
        pending: Sequence[Trial],
        n: int = 1,
        direction: Direction = "minimize",
    ) -> list[dict[str, Any]]:
        start = len(history) + len(pending)
        out = []
        for i in range(start, start + n):
            rng = np.random.default_rng([self._entropy, i])
            out.append(space.from_unit(rng.random(space.dim)))
        return out
