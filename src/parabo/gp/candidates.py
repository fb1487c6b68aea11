"""Where the acquisition is searched: quasi-random and local candidates, batches from one search.

See :mod:`parabo.gp` for the notation.
"""

from __future__ import annotations

import math

import numpy as np

from parabo.gp.acquisition import local_penalty
from parabo.gp.kernel import Domain, sq_dist
from parabo.gp.model import GP
from parabo.gp.optimize import is_duplicate

__all__ = [
    "BATCH_GAP",
    "features_to_unit",
    "greedy_batch",
    "lipschitz",
    "local_candidates",
    "perturbations",
    "random_unseen",
    "unit_to_features",
]

#: points of one amortized batch are at least this many length scales apart
BATCH_GAP = 0.1


def unit_to_features(U: np.ndarray, domain: Domain) -> np.ndarray:
    """Unit-cube points ``(m, d)`` to features: categorical coordinates become choice indices."""
    F = np.array(U, dtype=float, copy=True)
    for j in np.flatnonzero(domain.cat):
        k = int(domain.sizes[j])
        F[:, j] = np.clip(np.floor(F[:, j] * k), 0, k - 1)
    return F


def features_to_unit(F: np.ndarray, domain: Domain) -> np.ndarray:
    """Features ``(m, d)`` back to unit-cube points (a categorical index to the centre of its bin)."""
    U = np.array(F, dtype=float, copy=True)
    for j in np.flatnonzero(domain.cat):
        U[:, j] = (np.rint(U[:, j]) + 0.5) / int(domain.sizes[j])
    return U


def local_candidates(model: GP, domain: Domain, rng: np.random.Generator, m: int) -> np.ndarray:
    """``(m, d)`` Gaussian perturbations of the best modelled points, at two scales.

    The step is a fraction of each length scale, capped so that a coordinate
    the model finds irrelevant (a huge length scale) is not thrown to a bound.
    """
    if m <= 0 or model.n == 0:
        return np.empty((0, domain.dim))
    top = np.argsort(model.y, kind="stable")[: min(5, model.n)]
    return perturbations(model.X[top], np.exp(model.theta[: domain.dim]), domain, rng, m)


def perturbations(
    points: np.ndarray, ls: np.ndarray, domain: Domain, rng: np.random.Generator, m: int
) -> np.ndarray:
    """``(m, d)`` Gaussian perturbations of rows of ``points (k, d)``, steps a fraction of ``ls (d,)``."""
    if m <= 0 or points.shape[0] == 0:
        return np.empty((0, domain.dim))
    base = points[rng.integers(points.shape[0], size=m)]
    scale = np.where(rng.random((m, 1)) < 0.5, 0.1, 0.01)
    step = np.clip(scale * ls, 1e-4, 0.2)
    # perturb a random subset of coordinates (all of them in half the rows)
    mask = (rng.random((m, domain.dim)) < 0.5) | (rng.random((m, 1)) < 0.5)
    F = base + mask * step * rng.standard_normal(base.shape)
    cat = domain.cat
    if cat.any():
        # resample a categorical coordinate with probability 1/(d+1)
        flip = rng.random((m, int(cat.sum()))) < 1.0 / (domain.dim + 1)
        newv = np.floor(rng.random((m, int(cat.sum()))) * domain.sizes[cat])
        F[:, cat] = np.where(flip, newv, base[:, cat])
    return np.asarray(np.clip(F, 0.0, np.where(cat, domain.sizes - 1, 1.0)))


def random_unseen(
    domain: Domain, forbidden: np.ndarray, rng: np.random.Generator, tol: float
) -> np.ndarray:
    """``(d,)`` a random point not within ``tol`` of ``forbidden`` (a small discrete space may be exhausted)."""
    for _ in range(256):
        u = rng.random((1, domain.dim))
        f = domain.snap(unit_to_features(u, domain))
        if not is_duplicate(f, forbidden, tol)[0]:
            return np.asarray(f[0])
    return np.asarray(f[0])


def lipschitz(model: GP, cand: np.ndarray) -> float:
    """Largest gradient norm of the mean (in length-scale units) over the candidates ``(c, d)``."""
    _, _, dmu, _ = model.predict_grad(cand[: min(cand.shape[0], 256)])
    ls = np.exp(model.theta[: model.X.shape[1]])
    lip = float(np.max(np.linalg.norm(dmu * ls, axis=1)))
    return lip if math.isfinite(lip) and lip > 1e-7 else 10.0


def greedy_batch(
    model: GP, best: float, F: np.ndarray, vals: np.ndarray, n: int, lip: float, tol: float
) -> np.ndarray:
    """``n`` points (fewer if the pool runs out) from the pool ``F (r, d)`` with acquisition ``vals``.

    Each point taken penalizes the pool around it (:func:`~parabo.gp.acquisition.local_penalty`),
    so the next one comes from elsewhere. The penalty vanishes around a point expected to
    beat the incumbent, so the pool within ``BATCH_GAP`` length scales of a point taken is
    excluded too (about where a believed pending point would leave the posterior variance
    collapsed).
    """
    vals = np.where(np.isfinite(vals), vals, -np.inf)
    taken = [0]
    for _ in range(n - 1):
        c = F[taken[-1] : taken[-1] + 1]
        vals = vals + local_penalty(model, best, F, c, lip)
        near = sq_dist(F, c, model.inv_l2, model.cat)[:, 0] < BATCH_GAP**2
        vals[near | is_duplicate(F, c, tol)] = -np.inf
        i = int(np.argmax(vals))
        if not np.isfinite(vals[i]):
            break
        taken.append(i)
    return np.asarray(F[taken])
