"""Which trials the model uses on large studies: bounded subsets that keep the best ones.

See :mod:`parabo.gp` for the notation.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fit_subset", "posterior_subset"]


def fit_subset(y: np.ndarray, k: int) -> np.ndarray:
    """Indices of at most ``k`` points: the best half and the rest evenly spread over the history."""
    n = y.shape[0]
    if n <= k:
        return np.arange(n)
    best = np.argsort(y, kind="stable")[: k // 2]
    rest = np.setdiff1d(np.arange(n), best)
    spread = rest[np.linspace(0, rest.shape[0] - 1, k - best.shape[0]).astype(int)]
    return np.sort(np.r_[best, spread])


def posterior_subset(y: np.ndarray, k: int) -> np.ndarray:
    """Indices of at most ``k`` points: the best half and the most recent ones."""
    n = y.shape[0]
    best = np.argsort(y, kind="stable")[: k // 2]
    recent = np.setdiff1d(np.arange(n), best)[-(k - best.shape[0]) :]
    return np.sort(np.r_[best, recent])
