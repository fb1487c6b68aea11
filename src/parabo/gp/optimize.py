"""Maximize an acquisition: quasi-random candidates, multi-start L-BFGS-B (vectorized), discrete steps.

See :mod:`parabo.gp` for the notation.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize
from scipy.spatial import cKDTree

from parabo.gp.acquisition import Acquisition
from parabo.gp.kernel import CAT, Domain

__all__ = ["is_duplicate", "maximize_acquisition"]


def is_duplicate(F: np.ndarray, forbidden: np.ndarray, tol: float) -> np.ndarray:
    """``(m,)`` bool: rows of ``F (m, d)`` within ``tol`` (max-norm) of a row of ``forbidden (q, d)``."""
    if forbidden.shape[0] == 0 or F.shape[0] == 0:
        return np.zeros(F.shape[0], dtype=bool)
    if F.shape[0] * forbidden.shape[0] <= 4096:
        diff = np.abs(F[:, None, :] - forbidden[None, :, :]).max(axis=2)
        return np.asarray((diff <= tol).any(axis=1))
    dist, _ = cKDTree(forbidden).query(F, k=1, p=np.inf)
    return np.asarray(dist <= tol)


def _lbfgsb(
    acq: Acquisition,
    starts: np.ndarray,
    free: np.ndarray,
    maxiter: int,
    box: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Refine every start at once: one L-BFGS-B run on the sum of independent acquisitions."""
    k = starts.shape[0]
    fixed = starts.copy()
    nf = int(free.sum())

    def fun(z: np.ndarray) -> tuple[float, np.ndarray]:
        F = fixed.copy()
        F[:, free] = z.reshape(k, nf)
        val, g = acq(F, True)
        bad = ~np.isfinite(val)
        if bad.any():
            val = np.where(bad, -1e10, val)
            g = np.where(bad[:, None], 0.0, g)
        return -float(val.sum()), -g[:, free].ravel()

    lo, hi = (np.zeros(nf), np.ones(nf)) if box is None else (box[0][free], box[1][free])
    res = optimize.minimize(
        fun,
        np.clip(starts[:, free], lo, hi).ravel(),
        jac=True,
        method="L-BFGS-B",
        bounds=list(zip(np.tile(lo, k), np.tile(hi, k), strict=True)),
        options={"maxiter": maxiter},
    )
    out = fixed.copy()
    out[:, free] = np.clip(res.x.reshape(k, nf), lo, hi)
    return np.asarray(out)


def maximize_acquisition(
    acq: Acquisition,
    domain: Domain,
    candidates: np.ndarray,
    forbidden: np.ndarray,
    n_starts: int = 8,
    maxiter: int = 50,
    tol: float = 1e-6,
    box: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Best points found for ``acq``, best first, none within ``tol`` of ``forbidden``.

    1. Evaluate ``acq`` on the snapped ``candidates`` (quasi-random and local).
    2. Refine the best ``n_starts`` by L-BFGS-B over the float and integer
       coordinates (integers relaxed), categoricals held fixed.
    3. Snap integers, then take greedy discrete steps (next integer, every
       other category) while they improve.

    Args:
        acq: ``(points (m, d), grad)`` -> values ``(m,)`` and gradients ``(m, d)``
            (zeros when ``grad`` is false).
        candidates: ``(c, d)`` features to start from.
        forbidden: ``(q, d)`` observed and pending points, never returned.
        box: ``(lo, hi)`` ``(d,)`` each: the search is limited to this box (a trust region;
            categorical coordinates are not limited). Candidates are clipped into it.

    Returns:
        ``(F, values)``: distinct allowed points ``(r, d)`` sorted by decreasing value
        (``r`` may be 0 when every candidate is forbidden).
    """
    free = domain.kinds != CAT
    if box is not None:
        candidates = np.where(free, np.clip(candidates, box[0], box[1]), candidates)
    C = domain.snap(candidates)
    vals, _ = acq(C, False)
    vals = np.where(np.isfinite(vals), vals, -np.inf)
    ok = ~is_duplicate(C, forbidden, tol)
    pool = [C[ok]]
    pool_vals = [vals[ok]]
    masked = np.where(ok, vals, -np.inf)
    order = np.argsort(-masked, kind="stable")
    k = min(n_starts, int(ok.sum()))
    starts = C[order[:k]]
    if starts.shape[0] and free.any() and maxiter > 0:
        R = _lbfgsb(acq, starts, free, maxiter, box)
        # The joint run stops when the sum stops improving; polish the best
        # start on its own so that it converges (cheap: one point).
        rv, _ = acq(R, False)
        top = int(np.argmax(np.where(np.isfinite(rv), rv, -np.inf)))
        R = np.vstack([R, _lbfgsb(acq, R[top : top + 1], free, max(10, maxiter // 2), box)])
        R = domain.snap(R)
        R = _discrete_steps(acq, domain, R, forbidden, tol)
        rv, _ = acq(R, False)
        keep = ~is_duplicate(R, forbidden, tol)
        pool.append(R[keep])
        pool_vals.append(np.where(np.isfinite(rv[keep]), rv[keep], -np.inf))
    elif starts.shape[0] and domain.discrete.any():
        R = _discrete_steps(acq, domain, starts, forbidden, tol)
        rv, _ = acq(R, False)
        keep = ~is_duplicate(R, forbidden, tol)
        pool.append(R[keep])
        pool_vals.append(rv[keep])
    F = np.vstack(pool)
    v = np.concatenate(pool_vals)
    order = np.argsort(-v, kind="stable")
    return F[order], v[order]


def _discrete_steps(
    acq: Acquisition,
    domain: Domain,
    R: np.ndarray,
    forbidden: np.ndarray,
    tol: float,
    rounds: int = 3,
) -> np.ndarray:
    """Greedy coordinate steps over the discrete coordinates of each row of ``R``."""
    if not domain.discrete.any():
        return R
    R = R.copy()
    cur, _ = acq(R, False)
    cur = np.where(is_duplicate(R, forbidden, tol), -np.inf, cur)
    for _ in range(rounds):
        moved = False
        for i in range(R.shape[0]):
            nb = domain.neighbours(R[i])
            if nb.shape[0] == 0:
                continue
            nv, _ = acq(nb, False)
            nv = np.where(is_duplicate(nb, forbidden, tol) | ~np.isfinite(nv), -np.inf, nv)
            j = int(np.argmax(nv))
            if nv[j] > cur[i]:
                R[i], cur[i] = nb[j], nv[j]
                moved = True
        if not moved:
            break
    return R
