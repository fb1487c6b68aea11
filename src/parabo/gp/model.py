"""GP regression: output transform, MAP fit of the hyperparameters, posterior, rank-append updates.

See :mod:`parabo.gp` for the notation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize
from scipy.linalg import lapack

from parabo.gp.kernel import dm52_dr2, matern52, pair_dists, sq_dist

__all__ = ["GP", "NOISE_FLOOR", "OutputTransform", "Prior", "default_theta", "fit_theta"]

#: smallest noise variance (in units of the standardized output): keeps K well conditioned
NOISE_FLOOR = 1e-6
_LOG_2PI = math.log(2.0 * math.pi)


class OutputTransform:
    """Standardize outputs, compress their upper tail, then standardize again.

    Outputs are centred on their median and scaled by their interquartile
    range; values more than one unit above the median are compressed
    logarithmically (``1 + log(z)``: continuous, slope 1 at the knee). The warp
    is monotone, so the best point stays the best, and it leaves the good half
    of the outputs (the region that decides where to sample next) linear: a
    few huge losses far from the optimum no longer flatten the model there.

    A Yeo-Johnson power transform fitted by maximum likelihood was tried first:
    on skewed objectives such as Branin it chose the most compressive exponent,
    squeezed the good values together and stalled the search on 3 of 10 seeds.

    Args:
        y: ``(n,)`` raw outputs in the minimization frame.
        warp: compress the upper tail (with at least 5 distinct values).
    """

    def __init__(self, y: np.ndarray, warp: bool = True) -> None:
        y = np.asarray(y, dtype=float)
        self.warp = bool(warp) and np.unique(y).shape[0] >= 5
        if self.warp:
            q1, med, q3 = np.quantile(y, [0.25, 0.5, 0.75])
            self.mean = float(med)
            sd = float(q3 - q1) / 1.349
        else:
            self.mean = float(np.mean(y))
            sd = float(np.std(y))
        self.sd = sd if sd > 0 and math.isfinite(sd) else (float(np.std(y)) or 1.0)
        w = self._warp((y - self.mean) / self.sd)
        self.mean2 = float(np.mean(w))
        sd2 = float(np.std(w))
        self.sd2 = sd2 if sd2 > 0 and math.isfinite(sd2) else 1.0

    def _warp(self, z: np.ndarray) -> np.ndarray:
        if not self.warp:
            return z
        return np.where(z > 1.0, 1.0 + np.log(np.maximum(z, 1.0)), z)

    def __call__(self, y: np.ndarray) -> np.ndarray:
        """Transform raw outputs ``(q,)`` the same way as the fitted ones."""
        z = (np.asarray(y, dtype=float) - self.mean) / self.sd
        return (self._warp(z) - self.mean2) / self.sd2


@dataclass(frozen=True)
class Prior:
    """Priors of the MAP fit, on log hyperparameters (normal = log-normal on the scale).

    Length scales scale with dimension as in Hvarfner et al. (2024), "Vanilla
    Bayesian optimization performs great in high dimensions": the prior median
    grows like ``sqrt(d)`` with the typical distance in the cube. Their location
    (``sqrt2 + log(d)/2``, median ``4.1 sqrt(d)``) and width (``sqrt3``) let the MAP
    fit declare whole coordinates irrelevant after a few dozen points, which
    stalled the search on Hartmann-6; we keep the ``sqrt(d)`` scaling with a
    median of ``0.5 sqrt(d)`` and a width of 1: ``log l ~ N(log(0.5) + log(d)/2, 1)``.
    """

    ls_loc: float = math.log(0.5)
    ls_scale: float = 1.0
    s2_loc: float = 0.0
    s2_scale: float = 1.0
    noise_loc: float = math.log(1e-4)
    noise_scale: float = 3.0

    #: "lognormal" (above) or "gamma": Optuna's hand-made prior ``0.1/lam + 0.1 lam`` on
    #: ``lam = 1/l^2`` with Gamma(2, 1) on ``s2`` and Gamma(1.1, 30) on the noise
    kind: str = "lognormal"

    def penalty(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Negative log prior of ``theta (d + 2,)`` (up to a constant) and its gradient."""
        d = theta.shape[0] - 2
        if self.kind == "lognormal":
            loc, scale = self.means_scales(d)
            z = (theta - loc) / scale
            return 0.5 * float(z @ z), z / scale
        e2 = np.exp(2.0 * theta[:d])
        s2 = math.exp(theta[d])
        g = math.exp(theta[d + 1])
        noise = g + NOISE_FLOOR
        pen = (
            float(np.sum(0.1 * e2 + 0.1 / e2))
            - (theta[d] - s2)
            - (0.1 * math.log(noise) - 30.0 * noise)
        )
        grad = np.empty(d + 2)
        grad[:d] = 0.2 * e2 - 0.2 / e2
        grad[d] = -(1.0 - s2)
        grad[d + 1] = -(0.1 / noise - 30.0) * g
        return pen, grad

    def means_scales(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        """``(d + 2,)`` prior means and standard deviations of ``theta``."""
        loc = np.r_[np.full(d, self.ls_loc + 0.5 * math.log(d)), self.s2_loc, self.noise_loc]
        scale = np.r_[np.full(d, self.ls_scale), self.s2_scale, self.noise_scale]
        return loc, scale


# Bounds on theta: length scales in [1e-3, 1e3], s2 in [1e-3, 1e2], noise in [floor, 1 + floor]
_LS_BOUNDS = (math.log(1e-3), math.log(1e3))
_S2_BOUNDS = (math.log(1e-3), math.log(1e2))
_G_BOUNDS = (math.log(1e-10), 0.0)


def default_theta(d: int, ls: float = 0.5) -> np.ndarray:
    """Starting hyperparameters: length scale ``ls * sqrt(d)``, unit signal, small noise."""
    return np.asarray(np.r_[np.full(d, math.log(ls * math.sqrt(d))), 0.0, math.log(1e-3)])


def _bounds(d: int) -> list[tuple[float, float]]:
    return [_LS_BOUNDS] * d + [_S2_BOUNDS, _G_BOUNDS]


def neg_log_posterior(
    theta: np.ndarray, D: np.ndarray, y: np.ndarray, prior: Prior
) -> tuple[float, np.ndarray]:
    """Negative log marginal likelihood plus negative log prior, and its gradient ``(d + 2,)``.

    Args:
        theta: ``(d + 2,)`` log hyperparameters.
        D: ``(n, n, d)`` per-coordinate distances from :func:`pair_dists`.
        y: ``(n,)`` transformed outputs.
    """
    n, _, d = D.shape
    inv_l2 = np.exp(-2.0 * theta[:d])
    s2 = math.exp(theta[d])
    g = math.exp(theta[d + 1])
    r2 = D @ inv_l2
    Kf = s2 * matern52(r2)
    K = Kf + (g + NOISE_FLOOR) * np.eye(n)
    L = _chol(K)
    alpha = chol_solve(L, y)
    nll = 0.5 * float(y @ alpha) + float(np.log(np.diag(L)).sum()) + 0.5 * n * _LOG_2PI
    Kinv = chol_solve(L, np.eye(n))
    W = np.outer(alpha, alpha) - Kinv  # d(log lik)/dK = W / 2
    # dK/dlog l_j = -2 s2 m52'(r2) D_j / l_j^2
    WG = W * (-2.0 * s2 * dm52_dr2(r2))
    grad = np.empty(d + 2)
    grad[:d] = -0.5 * np.einsum("ab,abj->j", WG, D) * inv_l2
    grad[d] = -0.5 * float(np.sum(W * Kf))
    grad[d + 1] = -0.5 * float(np.trace(W)) * g
    pen, pgrad = prior.penalty(theta)
    return nll + pen, grad + pgrad


def fit_theta(
    X: np.ndarray,
    y: np.ndarray,
    cat: np.ndarray,
    theta0: np.ndarray | None = None,
    prior: Prior | None = None,
    maxiter: int = 200,
) -> tuple[np.ndarray, bool]:
    """MAP hyperparameters by L-BFGS-B with analytic gradients.

    Starts from ``theta0`` (a warm start: the previous fit) or, cold, from two
    default length scales. If every start fails (a Cholesky breaks down, the
    result is not finite), returns ``theta0`` or the default and ``False``.

    Args:
        X: ``(n, d)`` features; y: ``(n,)`` transformed outputs; cat: ``(d,)`` categorical mask.

    Returns:
        ``(theta, ok)``.
    """
    d = X.shape[1]
    prior = prior or Prior()
    D = pair_dists(X, cat)
    starts = [theta0] if theta0 is not None else [default_theta(d, 0.25), default_theta(d, 1.0)]

    def fun(t: np.ndarray) -> tuple[float, np.ndarray]:
        try:
            f, gr = neg_log_posterior(t, D, y, prior)
        except (linalg.LinAlgError, ValueError):
            return 1e25, np.zeros_like(t)
        if not (math.isfinite(f) and np.all(np.isfinite(gr))):
            return 1e25, np.zeros_like(t)
        return f, gr

    best: tuple[float, np.ndarray] | None = None
    for t0 in starts:
        t0 = np.clip(t0, [b[0] for b in _bounds(d)], [b[1] for b in _bounds(d)])
        res = optimize.minimize(
            fun, t0, jac=True, method="L-BFGS-B", bounds=_bounds(d), options={"maxiter": maxiter}
        )
        if math.isfinite(res.fun) and res.fun < 1e24 and (best is None or res.fun < best[0]):
            best = (float(res.fun), np.asarray(res.x))
    if best is None:
        fallback = theta0 if theta0 is not None else default_theta(d)
        # More noise makes the fallback model usable even where the data are ill-conditioned.
        fallback = fallback.copy()
        fallback[d + 1] = max(fallback[d + 1], math.log(1e-2))
        return fallback, False
    return best[1], True


def _chol(K: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor (LAPACK directly: scipy's wrappers cost more than small solves)."""
    c, info = lapack.dpotrf(K, lower=1, clean=1)
    if info != 0:
        raise linalg.LinAlgError(f"matrix is not positive definite (dpotrf info={info})")
    return np.asarray(c)


def tri_solve(L: np.ndarray, B: np.ndarray, trans: bool = False) -> np.ndarray:
    """``L^-1 B`` (or ``L^-T B`` with ``trans``) for lower-triangular ``L``."""
    x, info = lapack.dtrtrs(L, B, lower=1, trans=1 if trans else 0)
    if info != 0:
        raise linalg.LinAlgError(f"singular triangular factor (dtrtrs info={info})")
    return np.asarray(x)


def chol_solve(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``K^-1 B`` given the lower Cholesky factor ``L`` of ``K``."""
    x, info = lapack.dpotrs(L, B, lower=1)
    if info != 0:
        raise linalg.LinAlgError(f"dpotrs failed (info={info})")
    return np.asarray(x)


class GP:
    """Posterior of a zero-mean GP with the Matérn-5/2 kernel, given ``X``, ``y`` and ``theta``.

    The Cholesky factor is extended by rank-append (:meth:`extend`) when points
    are added, in ``O(n^2 q)`` instead of ``O(n^3)``.

    Args:
        X: ``(n, d)`` features; y: ``(n,)`` transformed outputs; theta: ``(d + 2,)``.
        cat: ``(d,)`` categorical mask.
        L: the Cholesky factor of ``K`` if already known (not checked).
    """

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        theta: np.ndarray,
        cat: np.ndarray,
        L: np.ndarray | None = None,
    ) -> None:
        self.X = np.asarray(X, dtype=float)
        self.theta = np.asarray(theta, dtype=float)
        self.cat = np.asarray(cat, dtype=bool)
        d = self.X.shape[1]
        self.inv_l2 = np.exp(-2.0 * self.theta[:d])
        self.s2 = math.exp(self.theta[d])
        self.noise = math.exp(self.theta[d + 1]) + NOISE_FLOOR
        # Fortran order: LAPACK would otherwise copy the factor at every solve.
        self.L = np.asfortranarray(self._cholesky(self.kernel(self.X, self.X)) if L is None else L)
        self.set_y(y)

    def kernel(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        """Noise-free kernel matrix ``k(A, B)``, shape ``(m, n)``."""
        return self.s2 * matern52(sq_dist(A, B, self.inv_l2, self.cat))

    def _cholesky(self, Kf: np.ndarray) -> np.ndarray:
        n = Kf.shape[0]
        jitter = 0.0
        for _ in range(6):
            try:
                return _chol(Kf + (self.noise + jitter) * np.eye(n))
            except linalg.LinAlgError:
                jitter = max(10.0 * jitter, 1e-6 * self.s2)
        raise linalg.LinAlgError("kernel matrix is not positive definite even with jitter")

    def set_y(self, y: np.ndarray) -> None:
        """Replace the outputs (same inputs): ``O(n^2)``."""
        self.y = np.asarray(y, dtype=float)
        self.alpha = chol_solve(self.L, self.y)

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    def extend(self, Xq: np.ndarray, yq: np.ndarray) -> GP:
        """A new posterior with ``q`` more points ``Xq (q, d)``, ``yq (q,)``: rank-append of ``L``."""
        Xq = np.atleast_2d(Xq)
        n, q = self.n, Xq.shape[0]
        if n == 0:
            return GP(Xq, yq, self.theta, self.cat)
        B = self.kernel(self.X, Xq)  # (n, q)
        L21 = tri_solve(self.L, B).T  # (q, n)
        C = self.kernel(Xq, Xq) + self.noise * np.eye(q) - L21 @ L21.T
        try:
            L22 = _chol(C)
        except linalg.LinAlgError:
            # A new point (nearly) on top of an old one: the noise floor keeps C
            # positive in exact arithmetic; a fresh factorization with jitter is safe.
            X = np.vstack([self.X, Xq])
            return GP(X, np.r_[self.y, yq], self.theta, self.cat)
        L = np.zeros((n + q, n + q), order="F")
        L[:n, :n] = self.L
        L[n:, :n] = L21
        L[n:, n:] = L22
        return GP(np.vstack([self.X, Xq]), np.r_[self.y, yq], self.theta, self.cat, L=L)

    def predict(self, Xq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance ``(m,)`` of the latent function at ``Xq (m, d)``."""
        mu, var, _, _ = self._posterior(Xq, grad=False)
        return mu, var

    def predict_grad(self, Xq: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Posterior mean, variance ``(m,)`` and their gradients ``(m, d)`` at ``Xq (m, d)``.

        Gradients are zero along categorical coordinates.
        """
        return self._posterior(Xq, grad=True)

    def cross_terms(
        self, Xq: np.ndarray, grad: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """What the posterior at ``Xq (m, d)`` needs besides the outputs.

        ``k(Xq, X) (m, n)``, the variance ``(m,)``, and with ``grad`` ``G = 2 s2 m52'(r2)
        (m, n)`` (``dk(x, X_i)/dx_j = G_i (x_j - X_ij) / l_j^2``) and the variance's gradient
        ``(m, d)``; the mean for outputs with ``K^-1 y = a`` is ``k @ a``. Empty arrays without
        ``grad``.
        """
        r2 = sq_dist(Xq, self.X, self.inv_l2, self.cat)  # (m, n)
        Kq = self.s2 * matern52(r2)
        V = tri_solve(self.L, Kq.T)  # (n, m)
        var = np.maximum(self.s2 - np.einsum("ij,ij->j", V, V), 1e-12 * self.s2)
        if not grad:
            return Kq, var, np.empty(0), np.empty(0)
        cont = ~self.cat
        G = 2.0 * self.s2 * dm52_dr2(r2)  # (m, n)
        dvar = np.zeros(Xq.shape)
        Wt = tri_solve(self.L, V, trans=True)  # K^-1 kq, (n, m)
        H = G * Wt.T  # (m, n)
        dvar[:, cont] = (
            -2.0 * (Xq[:, cont] * H.sum(axis=1)[:, None] - H @ self.X[:, cont]) * self.inv_l2[cont]
        )
        return Kq, var, G, dvar

    def _posterior(
        self, Xq: np.ndarray, grad: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        Xq = np.atleast_2d(Xq)
        Kq, var, G, dvar = self.cross_terms(Xq, grad)
        mu = Kq @ self.alpha
        if not grad:
            return mu, var, G, dvar
        cont = ~self.cat
        dmu = np.zeros(Xq.shape)
        Ga = G @ self.alpha  # (m,)
        dmu[:, cont] = (
            Xq[:, cont] * Ga[:, None] - (G * self.alpha) @ self.X[:, cont]
        ) * self.inv_l2[cont]
        return mu, var, dmu, dvar

    def cov(self, Xq: np.ndarray) -> np.ndarray:
        """Joint posterior covariance ``(m, m)`` of the latent function at ``Xq``."""
        V = tri_solve(self.L, self.kernel(self.X, Xq))
        return np.asarray(self.kernel(Xq, Xq) - V.T @ V)
