"""Acquisition functions (to be maximized), with gradients in ``x`` where the optimizer needs them.

See :mod:`parabo.gp` for the notation. Every function works in the minimization
frame on transformed outputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import special

from parabo.gp.kernel import sq_dist
from parabo.gp.model import GP

__all__ = [
    "Acquisition",
    "fantasy_log_ei",
    "local_penalty",
    "log_ei",
    "log_h",
    "penalized_log_ei",
    "thompson_sample",
    "ucb",
]

_C1 = 0.5 * math.log(2.0 * math.pi)
_C2 = 0.5 * math.log(math.pi / 2.0)
_INV_SQRT_EPS = 1.0 / math.sqrt(np.finfo(float).eps)

#: an acquisition: ``(points (m, d), grad)`` -> values ``(m,)`` and gradients ``(m, d)``
Acquisition = Callable[[np.ndarray, bool], tuple[np.ndarray, np.ndarray]]


def _log1mexp(u: np.ndarray) -> np.ndarray:
    """``log(1 - exp(u))`` for ``u < 0``, accurate on both sides of ``-log 2``."""
    u = np.minimum(u, -1e-300)
    out: np.ndarray = np.where(
        u > -math.log(2.0), np.log(-np.expm1(u)), np.log1p(-np.exp(np.minimum(u, -math.log(2.0))))
    )
    return out


def log_h(z: np.ndarray) -> np.ndarray:
    """``log(phi(z) + z Phi(z))``, the log of expected improvement for unit variance.

    Stable for every ``z`` (Ament et al. 2023, "Unexpected improvements to
    expected improvement"): direct for ``z > -1``, through ``erfcx`` for
    moderate negative ``z``, by its asymptote ``-z^2/2 - c1 - 2 log|z|`` beyond.
    """
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    a = z > -1.0
    za = z[a]
    out[a] = np.log(np.exp(-0.5 * za * za - _C1) + za * special.ndtr(za))
    b = (~a) & (z > -_INV_SQRT_EPS)
    zb = z[b]
    u = np.log(special.erfcx(-zb / math.sqrt(2.0)) * np.abs(zb)) + _C2
    out[b] = -0.5 * zb * zb - _C1 + _log1mexp(u)
    c = ~(a | b)
    zc = z[c]
    out[c] = -0.5 * zc * zc - _C1 - 2.0 * np.log(np.abs(zc))
    return out


def _dlog_h(z: np.ndarray, lh: np.ndarray) -> np.ndarray:
    """``d log_h / dz = Phi(z) / h(z)``, computed in log space."""
    return np.asarray(np.exp(special.log_ndtr(z) - lh))


def log_ei(
    model: GP, best: float, X: np.ndarray, grad: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Log expected improvement below ``best`` at ``X (m, d)``: values ``(m,)`` and gradients ``(m, d)``."""
    if not grad:
        mu, var = model.predict(X)
        sd = np.sqrt(var)
        z = (best - mu) / sd
        return np.log(sd) + log_h(z), np.zeros_like(X)
    mu, var, dmu, dvar = model.predict_grad(X)
    sd = np.sqrt(var)
    z = (best - mu) / sd
    lh = log_h(z)
    dsd = dvar / (2.0 * sd[:, None])
    dz = -(dmu + z[:, None] * dsd) / sd[:, None]
    g = dsd / sd[:, None] + _dlog_h(z, lh)[:, None] * dz
    return np.log(sd) + lh, g


def ucb(model: GP, beta: float, X: np.ndarray, grad: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Lower confidence bound, negated to be maximized: ``-(mu - sqrt(beta) sd)``."""
    sb = math.sqrt(beta)
    if not grad:
        mu, var = model.predict(X)
        return -mu + sb * np.sqrt(var), np.zeros_like(X)
    mu, var, dmu, dvar = model.predict_grad(X)
    sd = np.sqrt(var)
    return -mu + sb * sd, -dmu + sb * dvar / (2.0 * sd[:, None])


def penalized_log_ei(
    model: GP,
    best: float,
    X: np.ndarray,
    centres: np.ndarray,
    lipschitz: float,
    grad: bool = True,
    centre_posterior: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Log-EI plus local penalizers around pending points (González et al. 2016, in log space).

    Each pending point ``c`` (with posterior ``mu_c, sd_c``) excludes a ball of
    radius ``(f(c) - best) / lipschitz``; the penalty is the log probability
    that ``x`` lies outside it, ``log Phi((lipschitz r(x, c) + best - mu_c) / sd_c)``
    with ``r`` the kernel's scaled distance.

    Args:
        centres: ``(p, d)`` pending points; lipschitz: bound on ``|grad mu|`` in scaled units.
        centre_posterior: ``model.predict(centres)``, when the caller has it (an optimizer
            calls this many times with the same centres).
    """
    val, g = log_ei(model, best, X, grad=grad)
    if centres.shape[0] == 0:
        return val, g
    if centre_posterior is None:
        centre_posterior = model.predict(centres)
    lp, z, r = _log_penalties(model, best, X, centres, lipschitz, centre_posterior)
    val = val + lp.sum(axis=1)
    if grad:
        sd_c = np.sqrt(centre_posterior[1])
        w = np.where(model.cat, 0.0, model.inv_l2)  # gradient weights: continuous coordinates only
        # d log Phi(z)/dz = phi(z)/Phi(z); dz/dx = lipschitz/sd_c * (x - c)/l^2 / r
        ratio = np.exp(-0.5 * z * z - _C1 - lp)
        coef = ratio * lipschitz / sd_c[None, :] / r  # (m, p)
        gp_ = (X * coef.sum(axis=1)[:, None] - coef @ centres) * w
        g = g + gp_
    return val, g


def local_penalty(
    model: GP,
    best: float,
    X: np.ndarray,
    centres: np.ndarray,
    lipschitz: float,
    centre_posterior: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """``(m,)``: the summed log penalties of :func:`penalized_log_ei` at ``X (m, d)``, without log-EI."""
    if centres.shape[0] == 0:
        return np.zeros(X.shape[0])
    if centre_posterior is None:
        centre_posterior = model.predict(centres)
    lp, _, _ = _log_penalties(model, best, X, centres, lipschitz, centre_posterior)
    return np.asarray(lp.sum(axis=1))


def _log_penalties(
    model: GP,
    best: float,
    X: np.ndarray,
    centres: np.ndarray,
    lipschitz: float,
    centre_posterior: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``log Phi(z)`` ``(m, p)``, ``z`` and the scaled distances ``r`` between ``X`` and the centres."""
    mu_c, var_c = centre_posterior
    sd_c = np.sqrt(var_c)
    # the kernel's scaled distances: matrix products, no (m, p, d) array (p can be in the hundreds)
    r = np.sqrt(sq_dist(X, centres, model.inv_l2, model.cat) + 1e-300)
    z = (lipschitz * r + best - mu_c[None, :]) / sd_c[None, :]
    return special.log_ndtr(z), z, r


def thompson_sample(model: GP, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One joint draw of the latent function at ``X (m, d)``, negated (to be maximized): ``(m,)``."""
    mu, _ = model.predict(X)
    C = model.cov(X)
    m = X.shape[0]
    jitter = 1e-9 * model.s2
    for _ in range(6):
        try:
            Lc = np.linalg.cholesky(C + jitter * np.eye(m))
            break
        except np.linalg.LinAlgError:
            jitter *= 10.0
    else:
        w, U = np.linalg.eigh(C)
        Lc = U * np.sqrt(np.maximum(w, 0.0))
    return -(mu + Lc @ rng.standard_normal(m))


def fantasy_log_ei(
    model: GP, alphas: np.ndarray, bests: np.ndarray, X: np.ndarray, grad: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Log of the mean EI over ``S`` fantasies that share ``model``'s inputs and factor.

    ``alphas (n, S)`` are ``K^-1 y_s`` for each fantasized output vector, ``bests (S,)`` their
    incumbents. The variance does not depend on the outputs, so it is computed once.
    """
    Xq = np.atleast_2d(X)
    S = alphas.shape[1]
    Kq, var, G, dvar = model.cross_terms(Xq, grad)
    MU = Kq @ alphas  # (m, S)
    sd = np.sqrt(var)
    Z = (bests[None, :] - MU) / sd[:, None]
    LH = log_h(Z)
    vals = np.log(sd)[:, None] + LH  # (m, S)
    top = vals.max(axis=1, keepdims=True)
    w = np.exp(vals - top)
    tot = w.sum(axis=1, keepdims=True)
    out = top[:, 0] + np.log(tot[:, 0]) - math.log(S)
    if not grad:
        return out, np.zeros_like(Xq)
    w = w / tot
    cont = ~model.cat
    GA = G @ alphas  # (m, S)
    dMU = (
        Xq[:, None, cont] * GA[:, :, None] - np.einsum("mn,ns,nc->msc", G, alphas, model.X[:, cont])
    ) * model.inv_l2[cont]
    dsd = dvar[:, cont] / (2.0 * sd[:, None])
    dZ = -(dMU + Z[:, :, None] * dsd[:, None, :]) / sd[:, None, None]
    gs = dsd[:, None, :] / sd[:, None, None] + _dlog_h(Z, LH)[:, :, None] * dZ  # (m, S, c)
    g = np.zeros(Xq.shape)
    g[:, cont] = np.einsum("ms,msc->mc", w, gs)
    return out, g
