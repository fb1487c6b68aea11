"""Numeric core of the GP sampler: kernel, GP regression (MAP fit), acquisition, its optimizer.

Plain numpy + scipy, no GP framework; nothing here knows about trials, studies,
schedulers or storage. The sampler (:mod:`parabo.samplers.gp`) translates
trials into the arrays below and back.

Notation (used in every module of this package)
-----------------------------------------------

- ``d``: input dimension; ``n``: number of observed points; ``m``: number of
  query points; ``p``: number of pending points (in flight, not observed yet).
- ``X``: ``(n, d)`` observed inputs in *features*: continuous and integer
  coordinates are unit-cube coordinates in ``[0, 1]``; categorical coordinates
  hold the choice index ``0 .. k-1`` (compared by equality, never by distance).
- ``y``: ``(n,)`` observed outputs, already in the *minimization frame* and
  transformed (robustly standardized, upper tail compressed) by
  :class:`~parabo.gp.model.OutputTransform`.
- ``theta``: ``(d + 2,)`` log hyperparameters ``[log l_1 .. log l_d, log s2, log g]``
  with ``l`` the length scales, ``s2`` the signal variance and the noise
  variance ``noise = g + NOISE_FLOOR``.
- ``r2(x, x') = sum_j D_j(x, x') / l_j^2`` with ``D_j = (x_j - x'_j)^2`` for a
  continuous or integer coordinate and ``D_j = [x_j != x'_j]`` (Hamming) for a
  categorical one.
- ``k(x, x') = s2 * m52(r2)``, ``m52 = (1 + sqrt5 r + 5/3 r^2) exp(-sqrt5 r)``:
  Matérn-5/2 with one length scale per dimension (ARD).
- ``K = k(X, X) + noise * I = L L^T`` (``L`` lower Cholesky factor), ``alpha = K^-1 y``.
- ``mu(x)``, ``var(x)``: posterior mean and variance of the latent function;
  ``best``: the incumbent (smallest transformed observed output).
- Acquisition functions are *maximized*.
"""

from __future__ import annotations

from parabo.gp.acquisition import log_ei, log_h, penalized_log_ei, thompson_sample, ucb
from parabo.gp.kernel import Domain, matern52, sq_dist
from parabo.gp.model import GP, OutputTransform, Prior, default_theta, fit_theta
from parabo.gp.optimize import maximize_acquisition

__all__ = [
    "GP",
    "Domain",
    "OutputTransform",
    "Prior",
    "default_theta",
    "fit_theta",
    "log_ei",
    "log_h",
    "matern52",
    "maximize_acquisition",
    "penalized_log_ei",
    "sq_dist",
    "thompson_sample",
    "ucb",
]
