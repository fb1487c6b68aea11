"""Trials and spaces as the GP sees them: the kinds and encodings of a space, a trial's value."""

from __future__ import annotations

import math

import numpy as np

from parabo.gp.kernel import CAT, FLOAT, INT, Domain
from parabo.space import Space
from parabo.trial import Trial, TrialState

__all__ = ["space_domain", "trial_value"]

# Integers with more values than this are optimized as floats and rounded at the end.
_MAX_LISTED_INT = 100_000


def space_domain(space: Space) -> Domain:
    """The :class:`Domain` of a space: kinds, sizes, and the encodings of integer values."""
    kinds: list[int] = []
    sizes: list[int] = []
    centres: list[np.ndarray | None] = []
    for p in space.params:
        if p.kind == "categorical":
            kinds.append(CAT)
            sizes.append(p.size)
            centres.append(None)
        elif p.kind == "int":
            kinds.append(INT)
            sizes.append(p.size)
            if p.size <= _MAX_LISTED_INT:
                lo = p.low  # type: ignore[attr-defined]
                centres.append(np.array([p.encode(v) for v in range(lo, lo + p.size)]))
            else:
                centres.append(None)
        else:
            kinds.append(FLOAT)
            sizes.append(0)
            centres.append(None)
    return Domain(np.array(kinds), np.array(sizes), tuple(centres))


def trial_value(t: Trial, pruned: bool = False) -> float | None:
    """The value of a COMPLETE trial (and, with ``pruned``, of a PRUNED or PAUSED one), or ``None``."""
    if t.value is None or not (t.state is TrialState.COMPLETE or (pruned and t.state.partial)):
        return None
    v = float(t.value)
    return v if math.isfinite(v) else None
