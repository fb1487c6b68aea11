"""Pareto fronts and hypervolume, exactly, for points that are all minimized.

``Y: (n, m)`` holds ``n`` points of ``m`` objectives, each to be minimized (multiply
a maximized objective by -1 first). ``ref: (m,)`` is the reference point: the
hypervolume is the volume of the region that the points dominate and that is
bounded above by ``ref``; points not strictly better than ``ref`` in every
objective add nothing.

    >>> Y = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [3.0, 3.0]])
    >>> non_dominated(Y).tolist()
    [True, True, True, False]
    >>> hypervolume(Y, np.array([4.0, 4.0]))
    6.0
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["dominates", "hypervolume", "non_dominated", "reference_point"]


def dominates(a: NDArray[np.float64], b: NDArray[np.float64]) -> bool:
    """Whether ``a`` is at least as good as ``b`` everywhere and strictly better somewhere."""
    return bool(np.all(a <= b) and np.any(a < b))


def non_dominated(Y: NDArray[np.float64]) -> NDArray[np.bool_]:
    """``(n,)`` mask of the points no other point dominates (duplicates are all kept)."""
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 2 and Y.shape[1] == 2:
        return _non_dominated_2d(Y)
    n = len(Y)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        if not keep[i]:
            continue
        # points that i dominates drop out
        worse = np.all(Y[i] <= Y, axis=1) & np.any(Y[i] < Y, axis=1)
        keep &= ~worse
    return keep


def _non_dominated_2d(Y: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Two objectives in ``O(n log n)``: a sweep in order of the first, then the second.

    Every point before a point in that order is no worse in the first objective, so the
    point is dominated exactly when one of them, other than its own duplicates, is no
    worse in the second.
    """
    order = np.lexsort((Y[:, 1], Y[:, 0]))
    keep = np.ones(len(Y), dtype=bool)
    lowest = np.inf  # the smallest second objective of the points before the current group
    k = 0
    while k < len(order):
        a, b = Y[order[k]]
        end = k
        while end < len(order) and Y[order[end], 0] == a and Y[order[end], 1] == b:
            end += 1
        if lowest <= b:
            keep[order[k:end]] = False
        lowest = min(lowest, float(b))
        k = end
    return keep


def _hv2(Y: NDArray[np.float64], ref: NDArray[np.float64]) -> float:
    """Exact 2-objective hypervolume by a sweep along the first objective."""
    order = np.argsort(Y[:, 0], kind="stable")
    volume, best_y = 0.0, float(ref[1])
    for x, y in Y[order]:
        if y < best_y:
            volume += (float(ref[0]) - float(x)) * (best_y - float(y))
            best_y = float(y)
    return volume


def _hv(Y: NDArray[np.float64], ref: NDArray[np.float64]) -> float:
    """Exact hypervolume by slicing along the last objective (HSO); points inside the box."""
    if len(Y) == 0:
        return 0.0
    m = Y.shape[1]
    if m == 1:
        return float(ref[0] - Y[:, 0].min())
    if m == 2:
        return _hv2(Y, ref)
    order = np.argsort(Y[:, -1], kind="stable")
    Y = Y[order]
    volume = 0.0
    for k in range(len(Y)):
        top = float(ref[-1]) if k == len(Y) - 1 else float(Y[k + 1, -1])
        depth = top - float(Y[k, -1])
        if depth <= 0:
            continue
        sliced = Y[: k + 1, :-1]
        volume += depth * _hv(sliced[non_dominated(sliced)], ref[:-1])
    return volume


def hypervolume(Y: NDArray[np.float64], ref: NDArray[np.float64]) -> float:
    """The volume dominated by the points ``Y: (n, m)`` and bounded by ``ref: (m,)``.

    Exact for any ``m`` (a sweep for two objectives, slicing for more; meant for the
    fronts of a study, tens to hundreds of points and two to four objectives).
    """
    Y = np.asarray(Y, dtype=float).reshape(-1, len(ref))
    ref = np.asarray(ref, dtype=float)
    inside = Y[np.all(ref > Y, axis=1)]
    if len(inside) == 0:
        return 0.0
    return _hv(inside[non_dominated(inside)], ref)


def reference_point(Y: NDArray[np.float64], margin: float = 0.1) -> NDArray[np.float64]:
    """A reference point derived from ``Y``: its worst value per objective plus ``margin`` of the range.

    With a single point (no range) the margin is taken of the value's size (or 1).
    """
    Y = np.asarray(Y, dtype=float)
    worst, best = Y.max(axis=0), Y.min(axis=0)
    span = worst - best
    span = np.where(span > 0, span, np.maximum(np.abs(worst), 1.0))
    out: NDArray[np.float64] = worst + margin * span
    return out
