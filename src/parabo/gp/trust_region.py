"""The trust region: a box around the incumbent in which a share of the suggestions is searched.

With trials in flight, believed pending points alone push the next suggestions
far from the incumbent; the box keeps part of them where the sequential run
would have gone. Its size adapts to the study's successes as in TuRBO
(Eriksson et al. 2019). See :mod:`parabo.gp` for the notation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from parabo.gp.kernel import Domain
from parabo.gp.model import GP

__all__ = ["BUSY_TRIALS", "box_share", "trust_box", "trust_radius"]

#: with this many trials in flight (or more) every suggestion is searched in the trust region
BUSY_TRIALS = 16


def trust_radius(ys: Sequence[float], start: int, initial: float, patience: int) -> float:
    """Half-width of the trust region, in length scales, after the outcomes ``ys`` (minimized).

    As TuRBO, counted in trials: two improvements in a row double it (up to four times
    ``initial``), ``patience`` trials without one halve it, and below ``initial / 16`` it
    starts again from ``initial``. The first ``start`` outcomes (the initial design) only
    set the incumbent. ``0`` turns it off.

        >>> trust_radius([3.0, 2.0, 1.0, 0.5], start=1, initial=0.2, patience=4)
        0.4
    """
    if initial <= 0:
        return 0.0
    radius, wins, losses = initial, 0, 0
    best = min(ys[:start], default=math.inf)
    for v in ys[start:]:
        if v < best - 1e-3 * abs(best):
            wins, losses = wins + 1, 0
        else:
            wins, losses = 0, losses + 1
        best = min(best, v)
        if wins >= 2:
            radius, wins = min(4 * initial, 2 * radius), 0
        elif losses >= patience:
            radius, losses = radius / 2, 0
            if radius < initial / 16:
                radius = initial
    return radius


def box_share(share: float, n_pending: int) -> float:
    """The share of asks searched in the box: ``share`` with nothing in flight, 1 with ``BUSY_TRIALS``.

    With few trials in flight the global searches keep exploring (all-box runs got stuck
    on Levy-10 and Hartmann-6 with 4 workers); with many, the batch already spreads and
    the box keeps refining.
    """
    return share + (1.0 - share) * min(1.0, n_pending / BUSY_TRIALS)


def trust_box(model: GP, domain: Domain, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)`` ``(d,)`` in the unit cube: ``radius`` length scales around the best modelled point.

    Categorical coordinates keep their whole range.
    """
    d = domain.dim
    centre = model.X[int(np.argmin(model.y))]
    half = np.minimum(0.5, radius * np.exp(model.theta[:d]))
    lo = np.where(domain.cat, 0.0, np.clip(centre - half, 0.0, 1.0))
    hi = np.where(domain.cat, 1.0, np.clip(centre + half, 0.0, 1.0))
    return lo, hi
