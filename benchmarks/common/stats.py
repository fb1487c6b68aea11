"""Medians with unreached runs, speed-ups, and a bootstrap over seeds."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

import numpy as np


def time_to(curve: Sequence[tuple[float, float]], target: float) -> float | None:
    """The first time a best-so-far curve reaches ``target``, or ``None``."""
    for t, v in curve:
        if v <= target:
            return t
    return None


def median_time(times: Sequence[float | None]) -> float:
    """Median of times to target, an unreached run (``None``) counting as infinite."""
    return float(statistics.median([math.inf if t is None else t for t in times]))


def speedup(sequential: Sequence[float | None], parallel: Sequence[float | None]) -> float:
    """Median sequential time over median parallel time; 0 when the parallel median is unreached."""
    par = median_time(parallel)
    return median_time(sequential) / par if math.isfinite(par) else 0.0


def bootstrap_headline(
    runs: dict[str, tuple[list[float | None], list[float | None]]],
    draws: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Median speed-up over problems with a 95% bootstrap interval over the parallel seeds.

    ``runs`` maps a problem to (sequential times, parallel times). Each draw resamples every
    problem's parallel runs with replacement; the sequential reference is held fixed (the
    target is the sequential runs' median result, so the interval is conditional on them).
    Returns (point, low, high).
    """
    rng = np.random.default_rng(seed)
    point = statistics.median(speedup(s, p) for s, p in runs.values())
    heads = []
    for _ in range(draws):
        per = []
        for seq, par in runs.values():
            pick = rng.integers(0, len(par), len(par))
            per.append(speedup(seq, [par[i] for i in pick]))
        heads.append(statistics.median(per))
    lo, hi = np.percentile(heads, [2.5, 97.5])
    return float(point), float(lo), float(hi)
