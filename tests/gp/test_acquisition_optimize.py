"""Acquisition functions (log-EI, UCB, local penalization, fantasies, Thompson) and their optimizer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from parabo.gp.acquisition import (
    fantasy_log_ei,
    log_ei,
    log_h,
    penalized_log_ei,
    thompson_sample,
    ucb,
)
from parabo.gp.kernel import CAT, FLOAT, INT, Domain
from parabo.gp.model import GP, chol_solve
from parabo.gp.optimize import is_duplicate, maximize_acquisition


def _gp(d: int = 2, n: int = 15, seed: int = 0) -> GP:
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    y = np.sin(5 * X[:, 0]) + X[:, -1]
    th = np.r_[np.full(d, math.log(0.3)), 0.0, math.log(1e-4)]
    return GP(X, (y - y.mean()) / y.std(), th, np.zeros(d, bool))


def test_log_h_matches_naive_formula_where_that_is_stable() -> None:
    z = np.linspace(-8.0, 6.0, 141)
    naive = np.log(stats.norm.pdf(z) + z * stats.norm.cdf(z))
    np.testing.assert_allclose(log_h(z), naive, rtol=1e-9, atol=1e-12)


def test_log_h_is_finite_and_monotone_far_from_the_incumbent() -> None:
    z = -np.logspace(0, 12, 200)[::-1]
    v = log_h(z)
    assert np.all(np.isfinite(v))
    assert np.all(np.diff(v) > 0)
    # asymptote: log h(z) ~ -z^2/2 - log(sqrt(2 pi)) - 2 log|z|
    assert log_h(np.array([-1e5]))[0] == pytest.approx(
        -0.5e10 - 0.5 * math.log(2 * math.pi) - 2 * math.log(1e5), rel=1e-12
    )


def test_log_ei_matches_naive_expected_improvement() -> None:
    gp = _gp()
    Q = np.random.default_rng(1).random((20, 2))
    best = float(gp.y.min())
    mu, var = gp.predict(Q)
    sd = np.sqrt(var)
    z = (best - mu) / sd
    ei = sd * (stats.norm.pdf(z) + z * stats.norm.cdf(z))
    ok = ei > 1e-200
    v, _ = log_ei(gp, best, Q, grad=False)
    np.testing.assert_allclose(v[ok], np.log(ei[ok]), rtol=1e-8)


def _fantasies(gp: GP, P: np.ndarray, S: int = 5) -> tuple[GP, np.ndarray, np.ndarray, np.ndarray]:
    """The believer at ``P``, ``S`` fantasized outputs there ``(S, p)``, their ``K^-1 y`` and incumbents."""
    mu, _ = gp.predict(P)
    draws = mu + 0.4 * np.random.default_rng(3).standard_normal((S, P.shape[0]))
    model = gp.extend(P, mu)
    Y = np.vstack([np.repeat(gp.y[:, None], S, axis=1), draws.T])
    return model, draws, chol_solve(model.L, Y), np.minimum(gp.y.min(), draws.min(axis=1))


@pytest.mark.parametrize("which", ["logei", "ucb", "lp", "fantasy"])
def test_acquisition_gradients_match_finite_differences(which: str) -> None:
    gp = _gp()
    Q = np.random.default_rng(2).random((6, 2)) * 0.8 + 0.1
    best = float(gp.y.min())
    centres = np.array([[0.5, 0.5], [0.2, 0.9]])
    model, _, alphas, bests = _fantasies(gp, centres)

    def f(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if which == "logei":
            return log_ei(gp, best, X)
        if which == "ucb":
            return ucb(gp, 4.0, X)
        if which == "fantasy":
            return fantasy_log_ei(model, alphas, bests, X)
        return penalized_log_ei(gp, best, X, centres, lipschitz=3.0)

    _, g = f(Q)
    eps = 1e-6
    for j in range(2):
        e = np.zeros(2)
        e[j] = eps
        fd = (f(Q + e)[0] - f(Q - e)[0]) / (2 * eps)
        np.testing.assert_allclose(g[:, j], fd, rtol=1e-4, atol=1e-6)


def test_fantasy_log_ei_is_the_log_of_the_mean_ei_over_separate_models() -> None:
    gp = _gp()
    P = np.array([[0.5, 0.5], [0.2, 0.9], [0.8, 0.1]])
    model, draws, alphas, bests = _fantasies(gp, P)
    Q = np.random.default_rng(4).random((30, 2))
    naive = [
        np.exp(log_ei(gp.extend(P, y), b, Q, grad=False)[0])
        for y, b in zip(draws, bests, strict=True)
    ]
    mean = np.mean(naive, axis=0)
    ok = mean > 1e-200  # where the naive formula has not underflowed
    v, _ = fantasy_log_ei(model, alphas, bests, Q, grad=False)
    assert ok.sum() > 20 and np.all(np.isfinite(v))
    np.testing.assert_allclose(v[ok], np.log(mean[ok]), rtol=1e-9)


def test_local_penalization_matches_a_naive_formula_with_categoricals() -> None:
    rng = np.random.default_rng(1)
    cat = np.array([False, False, True])
    X = np.c_[rng.random((20, 2)), rng.integers(0, 3, 20)]
    th = np.r_[np.log([0.3, 0.5, 0.7]), 0.0, math.log(1e-4)]
    gp = GP(X, rng.standard_normal(20), th, cat)
    best = float(gp.y.min())
    Q = np.c_[rng.random((7, 2)), rng.integers(0, 3, 7)]
    C = np.c_[rng.random((5, 2)), rng.integers(0, 3, 5)]
    lip = 2.5
    val, _ = penalized_log_ei(gp, best, Q, C, lip, grad=False)
    base, _ = log_ei(gp, best, Q, grad=False)
    mu_c, var_c = gp.predict(C)
    naive = base.copy()
    for i in range(Q.shape[0]):
        for k in range(C.shape[0]):
            diff = Q[i] - C[k]
            r2 = np.sum(np.where(cat, diff != 0, diff * diff) / np.exp(2 * th[:3]))
            z = (lip * math.sqrt(r2) + best - mu_c[k]) / math.sqrt(var_c[k])
            naive[i] += stats.norm.logcdf(z)
    np.testing.assert_allclose(val, naive, rtol=1e-9, atol=1e-9)
    # a precomputed posterior of the centres gives the same values
    again, _ = penalized_log_ei(gp, best, Q, C, lip, grad=False, centre_posterior=(mu_c, var_c))
    np.testing.assert_allclose(again, val)


def test_local_penalization_lowers_the_acquisition_near_pending_points() -> None:
    gp = _gp()
    best = float(gp.y.min())
    c = np.array([[0.5, 0.5]])
    near, far = np.array([[0.5, 0.51]]), np.array([[0.9, 0.1]])
    base_near, _ = log_ei(gp, best, near, grad=False)
    pen_near, _ = penalized_log_ei(gp, best, near, c, 5.0, grad=False)
    base_far, _ = log_ei(gp, best, far, grad=False)
    pen_far, _ = penalized_log_ei(gp, best, far, c, 5.0, grad=False)
    assert base_near[0] - pen_near[0] > base_far[0] - pen_far[0] >= 0


def test_thompson_sample_is_reproducible() -> None:
    gp = _gp()
    Q = np.random.default_rng(3).random((50, 2))
    a = thompson_sample(gp, Q, np.random.default_rng(0))
    b = thompson_sample(gp, Q, np.random.default_rng(0))
    assert a.shape == (50,) and np.array_equal(a, b)


def _quadratic(target: np.ndarray):
    def acq(F: np.ndarray, grad: bool) -> tuple[np.ndarray, np.ndarray]:
        diff = F - target
        return -np.sum(diff**2, axis=1), -2 * diff

    return acq


def test_optimizer_finds_the_maximum_and_skips_forbidden_points() -> None:
    dom = Domain.continuous(3)
    target = np.array([0.3, 0.7, 0.55])
    cand = np.random.default_rng(0).random((64, 3))
    F, v = maximize_acquisition(_quadratic(target), dom, cand, np.empty((0, 3)))
    np.testing.assert_allclose(F[0], target, atol=1e-4)
    F2, _ = maximize_acquisition(_quadratic(target), dom, cand, F[:1], tol=1e-6)
    assert not is_duplicate(F2, F[:1], 1e-6).any()
    assert np.all(np.diff(v) <= 0)


def test_optimizer_stays_in_a_box() -> None:
    """A trust region: the maximum outside the box gives the nearest corner of it."""
    dom = Domain.continuous(2)
    cand = np.random.default_rng(0).random((64, 2))  # most of them outside the box
    box = (np.array([0.1, 0.2]), np.array([0.4, 0.5]))
    F, _ = maximize_acquisition(
        _quadratic(np.array([0.9, 0.9])), dom, cand, np.empty((0, 2)), box=box
    )
    assert (F - box[0]).min() >= -1e-12 and (box[1] - F).min() >= -1e-12
    np.testing.assert_allclose(F[0], [0.4, 0.5], atol=1e-6)


def test_optimizer_handles_integers_and_categoricals() -> None:
    centres = (np.arange(10) + 0.5) / 10
    dom = Domain(np.array([FLOAT, INT, CAT]), np.array([0, 10, 4]), (None, centres, None))
    target = np.array([0.42, 0.65, 2.0])
    cand = np.random.default_rng(0).random((32, 3))
    cand[:, 2] = np.floor(cand[:, 2] * 4)
    forbidden = np.array([[0.42, 0.65, 2.0]])
    F, _ = maximize_acquisition(_quadratic(target), dom, cand, forbidden, tol=1e-6)
    best = F[0]
    assert best[1] in centres and best[2] in (0.0, 1.0, 2.0, 3.0)
    assert not is_duplicate(best[None], forbidden, 1e-6)[0]
    # the best allowed point is one discrete step (or a tiny float move) away from the target
    assert abs(best[0] - 0.42) < 0.05 and abs(best[1] - 0.65) <= 0.1 + 1e-12
