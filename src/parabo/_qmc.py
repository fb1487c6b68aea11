"""Scrambled Sobol points (scipy.stats.qmc), shared by the Sobol sampler and the GP's candidates."""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["sobol_points"]


def sobol_points(dim: int, start: int, n: int, seed: int | None) -> np.ndarray:
    """Points ``start .. start+n-1`` of a scrambled Sobol sequence, shape ``(n, dim)``."""
    from scipy.stats import qmc  # imported on first use: scipy.stats takes ~1 s to import

    engine = qmc.Sobol(d=dim, scramble=True, seed=seed)
    if start:
        engine.fast_forward(start)
    with warnings.catch_warnings():
        # one point at a time is how a study uses the sequence; balance is over the whole run
        warnings.simplefilter("ignore", UserWarning)
        points: np.ndarray = engine.random(n)
        return points
