"""One search of the acquisition: pending points in, the next point (or batch) out.

:func:`suggest` puts the pieces together: the pending points enter the model
(:mod:`parabo.gp.pending`), a share of the searches is limited to the trust
region (:mod:`parabo.gp.trust_region`), candidates are drawn
(:mod:`parabo.gp.candidates`) and the acquisition is maximized
(:mod:`parabo.gp.optimize`). See :mod:`parabo.gp` for the notation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from parabo._qmc import sobol_points
from parabo.gp.acquisition import (
    Acquisition,
    fantasy_log_ei,
    log_ei,
    penalized_log_ei,
    thompson_sample,
    ucb,
)
from parabo.gp.candidates import greedy_batch, local_candidates, random_unseen, unit_to_features
from parabo.gp.kernel import Domain
from parabo.gp.model import GP
from parabo.gp.optimize import is_duplicate, maximize_acquisition
from parabo.gp.pending import PendingModel, PendingStrategy, account_for_pending
from parabo.gp.trust_region import box_share, trust_box

__all__ = ["AcquisitionName", "SearchSettings", "suggest"]

AcquisitionName = Literal["logei", "ucb", "thompson"]

#: share of the candidates that are local perturbations of the best points
_LOCAL_SHARE = 0.25


@dataclass(frozen=True)
class SearchSettings:
    """How one search runs (the GP sampler's options of the same names).

    Attributes:
        acquisition: ``"logei"``, ``"ucb"`` or ``"thompson"``.
        pending: the pending strategy (:mod:`parabo.gp.pending`).
        pending_cap: pending points conditioned on at most (``"kb"``, ``"fantasy"``).
        ucb_beta: exploration weight of UCB.
        n_candidates: quasi-random candidates (fewer on large models).
        n_starts: L-BFGS-B starts (fewer on large models).
        trust_region_share: share of the searches in the trust region with nothing in flight.
        tol: two points closer than this (max-norm) count as the same point.
    """

    acquisition: AcquisitionName = "logei"
    pending: PendingStrategy = "kb"
    pending_cap: int = 64
    ucb_beta: float = 4.0
    n_candidates: int = 512
    n_starts: int = 8
    trust_region_share: float = 0.5
    tol: float = 1e-6


def suggest(
    base: GP,
    best: float,
    domain: Domain,
    settings: SearchSettings,
    *,
    X_pending: np.ndarray,
    forbidden: np.ndarray,
    rng: np.random.Generator,
    radius: float = 0.0,
    n: int = 1,
    lipschitz: Callable[[GP, np.ndarray], float],
) -> np.ndarray:
    """Points (features ``(k, d)``, ``1 <= k <= n``) that maximize the acquisition.

    Args:
        base: the posterior over the completed (and failed) trials.
        best: the incumbent in the model's output frame.
        X_pending: ``(p, d)`` points in flight, accounted for as ``settings.pending`` says.
        forbidden: ``(q, d)`` every point run or in flight; never returned.
        radius: half-width of the trust region in length scales (0: off). A share of the
            searches (``settings.trust_region_share`` with nothing in flight, rising to 1
            with many trials in flight) is limited to the box around the best point.
        n: with ``n > 1`` one search serves them all: the first point is the best found, the
            next ones are taken greedily from the same pool, each penalized around the ones
            taken before it (local penalization).
        lipschitz: ``(model, candidates) -> L``, the bound on the mean's gradient that local
            penalization uses (the sampler caches it per refit).
    """
    d = domain.dim
    share = box_share(settings.trust_region_share, X_pending.shape[0])
    pm = account_for_pending(base, best, X_pending, settings.pending, settings.pending_cap, rng)
    model, best = pm.model, pm.best

    # Fewer candidates on large models: the posterior at each costs O(n^2).
    n_obs = model.n
    n_cand = int(min(settings.n_candidates, max(128, 4e8 / max(n_obs, 1) ** 2)))
    sob = sobol_points(d, 0, n_cand, seed=int(rng.integers(2**31)))
    box = None
    if radius > 0 and rng.random() < share:
        box = trust_box(base, domain, radius)
        sob = box[0] + sob * (box[1] - box[0])
    cand = unit_to_features(sob, domain)
    local = local_candidates(base, domain, rng, int(n_cand * _LOCAL_SHARE))
    if box is not None:
        local = np.clip(local, box[0], np.where(domain.cat, domain.sizes - 1, box[1]))
    cand = np.vstack([cand, local])

    if settings.acquisition == "thompson":
        cand = domain.snap(cand[: min(cand.shape[0], 1024)])
        vals = thompson_sample(model, cand, rng)
        vals = np.where(is_duplicate(cand, forbidden, settings.tol), -np.inf, vals)
        i = int(np.argmax(vals))
        if np.isfinite(vals[i]):
            return np.asarray(cand[i : i + 1])
        return random_unseen(domain, forbidden, rng, settings.tol)[None, :]

    acq = _acquisition(settings, pm, model, best, base, cand, lipschitz)
    # each start costs O(n_obs^2) per iteration: fewer starts on large models
    n_starts = max(2, min(settings.n_starts, round(settings.n_starts * 256 / max(n_obs, 1))))
    maxiter = max(15, min(50, round(50 * 256 / max(n_obs, 1))))
    F, vals = maximize_acquisition(
        acq, domain, cand, forbidden, n_starts=n_starts, maxiter=maxiter, tol=settings.tol, box=box
    )
    if F.shape[0] == 0:
        return random_unseen(domain, forbidden, rng, settings.tol)[None, :]
    if n == 1 or F.shape[0] == 1:
        return np.asarray(F[:1])
    return greedy_batch(model, best, F, vals, n, lipschitz(base, cand), settings.tol)


def _acquisition(
    settings: SearchSettings,
    pm: PendingModel,
    model: GP,
    best: float,
    base: GP,
    cand: np.ndarray,
    lipschitz: Callable[[GP, np.ndarray], float],
) -> Acquisition:
    """The acquisition function ``(F, grad) -> (values, gradients)`` to maximize."""
    if settings.acquisition == "ucb":

        def acq(F: np.ndarray, grad: bool) -> tuple[np.ndarray, np.ndarray]:
            return ucb(model, settings.ucb_beta, F, grad)

    elif pm.penalized.shape[0]:
        centres = pm.penalized
        lip = lipschitz(base, cand)
        post = model.predict(centres)

        def acq(F: np.ndarray, grad: bool) -> tuple[np.ndarray, np.ndarray]:
            return penalized_log_ei(model, best, F, centres, lip, grad, post)

    elif pm.fantasy is not None:
        alphas, bests = pm.fantasy

        def acq(F: np.ndarray, grad: bool) -> tuple[np.ndarray, np.ndarray]:
            return fantasy_log_ei(model, alphas, bests, F, grad)

    else:

        def acq(F: np.ndarray, grad: bool) -> tuple[np.ndarray, np.ndarray]:
            return log_ei(model, best, F, grad)

    return acq
