"""Pending points: how the trials in flight enter the model and the acquisition.

The points in flight, ``X_pending (p, d)``, are a named input here (as BoTorch's
``X_pending``), never state hidden in the model. :func:`account_for_pending`
returns the model and incumbent the acquisition uses:

- ``"kb"``: kriging believer — the model is conditioned on each pending point as
  if its posterior mean had been observed. The mean is unchanged; the variance
  collapses around pending points, and a believed value below the incumbent
  becomes the incumbent, so log-EI drops around pending points.
- ``"cl"``: constant liar — pending points are conditioned on the incumbent.
- ``"lp"``: local penalization — log-EI of the completed trials only, plus a soft
  exclusion ball around each pending point (González et al. 2016).
- ``"fantasy"``: Monte Carlo fantasies (Snoek et al. 2012) — joint draws of the
  pending outcomes; the acquisition is the mean expected improvement over the
  draws, each improving on its own incumbent.
- ``"none"``: pending points are only never suggested again.

With ``"kb"`` and ``"fantasy"`` at most ``cap`` pending points (the most recent)
are conditioned on, which keeps a suggestion's cost bounded with hundreds of
workers; older ones are penalized instead. See :mod:`parabo.gp` for the notation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from parabo.gp.model import GP, chol_solve

__all__ = [
    "FANTASIES",
    "PENDING_STRATEGIES",
    "PendingModel",
    "PendingStrategy",
    "account_for_pending",
]

PendingStrategy = Literal["kb", "cl", "lp", "fantasy", "none"]
PENDING_STRATEGIES: tuple[str, ...] = ("kb", "cl", "lp", "fantasy", "none")

#: joint draws of the pending outcomes with ``"fantasy"``
FANTASIES = 16


@dataclass(frozen=True)
class PendingModel:
    """What the acquisition uses once the pending points are accounted for.

    Attributes:
        model: the posterior, conditioned on the pending points it believes (or the base).
        best: the incumbent; a believed pending value below the observed one becomes it.
        penalized: ``(q, d)`` pending points handled by local penalization instead.
        fantasy: with ``"fantasy"``: ``K^-1 y`` ``(n + p, S)`` of the ``S`` draws and their
            incumbents ``(S,)``; else ``None``.
    """

    model: GP
    best: float
    penalized: np.ndarray
    fantasy: tuple[np.ndarray, np.ndarray] | None = None


def account_for_pending(
    base: GP,
    best: float,
    X_pending: np.ndarray,
    strategy: PendingStrategy,
    cap: int,
    rng: np.random.Generator,
) -> PendingModel:
    """The model and incumbent given the points in flight ``X_pending (p, d)``, as ``strategy`` says.

    ``rng`` is drawn from only with ``"fantasy"`` (the joint draws).
    """
    believe = strategy in ("kb", "fantasy")
    P = X_pending
    far = P[: max(0, P.shape[0] - cap)] if believe else P[:0]
    if far.shape[0]:
        P = P[far.shape[0] :]
    if strategy == "lp":
        return PendingModel(base, best, X_pending)
    if not P.shape[0] or strategy == "none":
        return PendingModel(base, best, far)
    observed_best = best
    if believe:
        yP, _ = base.predict(P)
        # A believed value below the incumbent becomes the incumbent: otherwise
        # EI stays positive right next to the pending point and the batch piles up.
        best = min(best, float(np.min(yP)))
    else:
        yP = np.full(P.shape[0], best)
    model = base.extend(P, yP)
    fantasy = None
    if strategy == "fantasy":
        fantasy = fantasies(base, model, P, yP, observed_best, rng)
    return PendingModel(model, best, far, fantasy)


def fantasies(
    base: GP,
    believer: GP,
    P: np.ndarray,
    yP: np.ndarray,
    best: float,
    rng: np.random.Generator,
    draws: int = FANTASIES,
) -> tuple[np.ndarray, np.ndarray]:
    """``K^-1 y`` ``(n + p, S)`` of ``S`` joint draws at the pending ``P``, and their incumbents ``(S,)``.

    The draws are of the latent function (the model adds its noise when conditioning).
    They share the ``believer``'s inputs (``base`` extended by ``P``), so its factor.
    """
    C = base.cov(P)
    w, U = np.linalg.eigh(0.5 * (C + C.T))
    Z = yP[None, :] + rng.standard_normal((draws, P.shape[0])) @ (U * np.sqrt(np.maximum(w, 0.0))).T
    Y = np.vstack([np.repeat(base.y[:, None], draws, axis=1), Z.T])
    return chol_solve(believer.L, Y), np.minimum(best, Z.min(axis=1))
