"""Several outputs: one GP per objective and per constraint, combined in the acquisition.

See :mod:`parabo.gp` for the notation; besides it:

- ``Y``: ``(n, k)`` raw objective values of the observed points, each in the
  minimization frame; an :class:`Output` maps its GP's transformed units back
  to raw units (``raw = mean + sd * t``).
- ``w``: ``(k,)`` weights on the simplex (one random draw per ask), and the
  augmented Chebyshev scalarization ``c(y) = max_j w_j u_j + rho sum_j w_j u_j``
  of the objectives normalized by the current front's extent, ``u = (y - ideal) / scale``
  (ParEGO, Knowles 2006, normalized by the front rather than by every observation). Every weight vector makes some point of the Pareto
  front, concave parts included, the minimizer of ``c``.
- ``eps``: ``(S, k)`` fixed standard normal draws (common random numbers), so
  the Monte Carlo acquisition is a smooth, deterministic function of ``x``.

The acquisitions, to be maximized:

- :func:`scalarized_log_ei`: log of the expected improvement of ``c`` below the
  incumbent ``best`` (the smallest ``c`` of the feasible observed points), by
  Monte Carlo over the objectives' posteriors, with the improvement smoothed by a
  softplus of temperature ``tau`` and computed in log space (as qLogEI, Ament et
  al. 2023): far from any improvement its gradient still points the right way.
- :func:`log_feasibility`: ``sum_i log P(constraint i holds at x)`` under the
  constraints' posteriors (Gardner et al. 2014), added to the log-EI; alone
  while no observed point is feasible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from parabo.gp.model import GP

__all__ = [
    "Bound",
    "Output",
    "Scalarization",
    "log_feasibility",
    "scalarized_log_ei",
]

#: the augmentation of the Chebyshev scalarization (ParEGO's 0.05)
RHO = 0.05
#: softplus temperature of the smoothed improvement, in units of the normalized objectives
TAU = 1e-3


@dataclass(frozen=True)
class Output:
    """One modelled output: its posterior (transformed units) and the map back to raw units."""

    gp: GP
    mean: float
    sd: float


@dataclass(frozen=True)
class Bound:
    """A constraint on an output: raw value ``<= bound`` (``upper``) or ``>= bound``."""

    output: Output
    bound: float
    upper: bool

    @property
    def t_bound(self) -> float:
        """The bound in the output's transformed units."""
        return (self.bound - self.output.mean) / self.output.sd


@dataclass(frozen=True)
class Scalarization:
    """Augmented Chebyshev scalarization with weights ``w (k,)`` of objectives normalized by ``ideal``, ``scale``."""

    w: np.ndarray
    ideal: np.ndarray
    scale: np.ndarray
    rho: float = RHO

    @classmethod
    def draw(
        cls, Y: np.ndarray, rng: np.random.Generator, front: np.ndarray | None = None
    ) -> Scalarization:
        """Weights uniform on the simplex; ideal point and scale from the front.

        ``Y (n, k)``: the observed objectives; ``front (f, k)``: the current Pareto front
        (default: ``Y``). The scale is the front's extent (its nadir less the ideal point),
        where it has one: normalized by the range of every observation, which the poor
        points of the initial design stretch, a front would shrink to a sliver of each
        objective's range and nearly every weight would pick the same end of it.
        """
        k = Y.shape[1]
        w = rng.dirichlet(np.ones(k))
        F = Y if front is None or front.shape[0] == 0 else front
        lo = Y.min(axis=0)
        full = Y.max(axis=0) - lo
        extent = F.max(axis=0) - lo
        scale = np.where(extent > 1e-9 * np.maximum(full, 1e-300), extent, full)
        scale = np.where(scale > 0, scale, 1.0)
        return cls(w, lo, scale)

    def __call__(self, Y: np.ndarray) -> np.ndarray:
        """``c`` of raw objective values ``(..., k)`` -> ``(...)``."""
        U = self.w * (Y - self.ideal) / self.scale
        out: np.ndarray = U.max(axis=-1) + self.rho * U.sum(axis=-1)
        return out


def _posterior(out: Output, X: np.ndarray, grad: bool) -> tuple[np.ndarray, ...]:
    """Mean, sd ``(m,)`` and their gradients ``(m, d)`` (zeros without ``grad``), transformed units."""
    if grad:
        mu, var, dmu, dvar = out.gp.predict_grad(X)
    else:
        mu, var = out.gp.predict(X)
        dmu = dvar = np.zeros_like(X)
    sd = np.sqrt(np.maximum(var, 1e-300))
    return mu, sd, dmu, dvar / (2.0 * sd[:, None])


def log_feasibility(
    bounds: list[Bound], X: np.ndarray, grad: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """``sum_i log P(constraint i holds)`` at ``X (m, d)``: values ``(m,)`` and gradients ``(m, d)``."""
    val = np.zeros(X.shape[0])
    g = np.zeros_like(X)
    for b in bounds:
        mu, sd, dmu, dsd = _posterior(b.output, X, grad)
        sign = 1.0 if b.upper else -1.0
        z = sign * (b.t_bound - mu) / sd
        lp = special.log_ndtr(z)
        val += lp
        if grad:
            # d log Phi(z)/dz = phi(z)/Phi(z); dz/dx = (-sign dmu - z dsd) / sd
            ratio = np.exp(-0.5 * z * z - 0.5 * np.log(2.0 * np.pi) - lp)
            dz = (-sign * dmu - z[:, None] * dsd) / sd[:, None]
            g += ratio[:, None] * dz
    return val, g


def _log_softplus(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log softplus(u)`` and its derivative ``sigmoid(u) / softplus(u)``, stable for every ``u``."""
    sp = np.logaddexp(0.0, u)
    small = u < -30.0
    lsp = np.where(small, u, np.log(np.maximum(sp, 1e-300)))
    dlsp = np.where(small, 1.0, special.expit(u) / np.maximum(sp, 1e-300))
    return lsp, dlsp


def scalarized_log_ei(
    objectives: list[Output],
    scal: Scalarization,
    best: float,
    eps: np.ndarray,
    X: np.ndarray,
    grad: bool = True,
    tau: float = TAU,
) -> tuple[np.ndarray, np.ndarray]:
    """Log of the Monte Carlo expected improvement of ``scal`` below ``best`` at ``X (m, d)``.

    ``eps (S, k)`` are the fixed draws; returns values ``(m,)`` and gradients ``(m, d)``.
    """
    m, S = X.shape[0], eps.shape[0]
    k = len(objectives)
    F = np.empty((m, S, k))
    dF_mu: list[np.ndarray] = []
    dF_sd: list[np.ndarray] = []
    for j, out in enumerate(objectives):
        mu, sd, dmu, dsd = _posterior(out, X, grad)
        F[:, :, j] = out.mean + out.sd * (mu[:, None] + sd[:, None] * eps[None, :, j])
        dF_mu.append(out.sd * dmu)
        dF_sd.append(out.sd * dsd)
    coef = scal.w / scal.scale  # (k,): d u_j / d y_j times w_j
    U = coef * (F - scal.ideal)  # (m, S, k)
    active = U.argmax(axis=2)  # (m, S)
    c = U.max(axis=2) + scal.rho * U.sum(axis=2)
    u = (best - c) / tau  # improvement in temperature units
    lsp, dlsp = _log_softplus(u)
    top = lsp.max(axis=1, keepdims=True)
    wts = np.exp(lsp - top)
    tot = wts.sum(axis=1, keepdims=True)
    val = top[:, 0] + np.log(tot[:, 0]) - np.log(S) + np.log(tau)
    if not grad:
        return val, np.zeros_like(X)
    # d val / dx = sum_s softmax_s * dlsp_s * du_s/dx, du/dx = -dc/dx / tau
    a = (wts / tot) * dlsp / tau  # (m, S)
    g = np.zeros_like(X)
    for j in range(k):
        # dc_s/dy_j = coef_j ([active == j] + rho); dy_j/dx = dF_mu_j + eps_sj dF_sd_j
        dc_dy = coef[j] * ((active == j) + scal.rho)  # (m, S)
        s1 = (a * dc_dy).sum(axis=1)  # (m,)
        s2 = (a * dc_dy * eps[None, :, j]).sum(axis=1)
        g -= s1[:, None] * dF_mu[j] + s2[:, None] * dF_sd[j]
    return val, g
