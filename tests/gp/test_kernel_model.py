"""Kernel, MAP objective and GP posterior of the numeric core, checked against direct formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from parabo.gp.kernel import CAT, FLOAT, INT, Domain, dm52_dr2, matern52, pair_dists, sq_dist
from parabo.gp.model import (
    GP,
    NOISE_FLOOR,
    OutputTransform,
    Prior,
    fit_theta,
    neg_log_posterior,
)

CAT_MASK = np.array([False, False, True])


def _data(n: int = 25, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.random((n, 3))
    X[:, 2] = rng.integers(0, 3, n)
    y = np.sin(6 * X[:, 0]) + X[:, 1] ** 2 + 0.3 * X[:, 2] + 0.01 * rng.standard_normal(n)
    return X, (y - y.mean()) / y.std()


def _theta() -> np.ndarray:
    return np.r_[np.log([0.3, 0.5, 0.7]), 0.2, math.log(1e-2)]


def _direct_kernel(A: np.ndarray, B: np.ndarray, theta: np.ndarray) -> np.ndarray:
    ls = np.exp(theta[:3])
    r2 = np.zeros((A.shape[0], B.shape[0]))
    for j in range(3):
        if CAT_MASK[j]:
            r2 += (A[:, j, None] != B[None, :, j]) / ls[j] ** 2
        else:
            r2 += (A[:, j, None] - B[None, :, j]) ** 2 / ls[j] ** 2
    r = np.sqrt(r2)
    return math.exp(theta[3]) * (1 + math.sqrt(5) * r + 5 / 3 * r2) * np.exp(-math.sqrt(5) * r)


def test_sq_dist_matches_direct_with_hamming_on_categoricals() -> None:
    X, _ = _data()
    th = _theta()
    inv_l2 = np.exp(-2 * th[:3])
    K = math.exp(th[3]) * matern52(sq_dist(X[:7], X, inv_l2, CAT_MASK))
    np.testing.assert_allclose(K, _direct_kernel(X[:7], X, th), rtol=1e-10, atol=1e-12)
    D = pair_dists(X, CAT_MASK)
    np.testing.assert_allclose(D @ inv_l2, sq_dist(X, X, inv_l2, CAT_MASK), atol=1e-12)


def test_matern_derivative_matches_finite_differences() -> None:
    r2 = np.linspace(0.0, 4.0, 41) + 1e-3
    eps = 1e-7
    fd = (matern52(r2 + eps) - matern52(r2 - eps)) / (2 * eps)
    np.testing.assert_allclose(dm52_dr2(r2), fd, rtol=1e-6, atol=1e-8)
    assert dm52_dr2(np.zeros(1))[0] == pytest.approx(-5 / 6)


@pytest.mark.parametrize("kind", ["lognormal", "gamma"])
def test_neg_log_posterior_gradient_matches_finite_differences(kind: str) -> None:
    X, y = _data()
    D = pair_dists(X, CAT_MASK)
    prior = Prior(kind=kind)
    th = _theta()
    _, g = neg_log_posterior(th, D, y, prior)
    eps = 1e-6
    fd = np.array(
        [
            (
                neg_log_posterior(th + eps * e, D, y, prior)[0]
                - neg_log_posterior(th - eps * e, D, y, prior)[0]
            )
            / (2 * eps)
            for e in np.eye(th.size)
        ]
    )
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6)


def test_marginal_likelihood_matches_direct_formula() -> None:
    X, y = _data()
    th = _theta()
    K = _direct_kernel(X, X, th) + (math.exp(th[4]) + NOISE_FLOOR) * np.eye(len(y))
    _, logdet = np.linalg.slogdet(K)
    nll = 0.5 * y @ np.linalg.solve(K, y) + 0.5 * logdet + 0.5 * len(y) * math.log(2 * math.pi)
    prior = Prior()
    pen, _ = prior.penalty(th)
    got, _ = neg_log_posterior(th, pair_dists(X, CAT_MASK), y, prior)
    assert got == pytest.approx(nll + pen, rel=1e-10)


def test_posterior_matches_direct_solve() -> None:
    X, y = _data()
    th = _theta()
    gp = GP(X, y, th, CAT_MASK)
    rng = np.random.default_rng(1)
    Q = rng.random((6, 3))
    Q[:, 2] = rng.integers(0, 3, 6)
    K = _direct_kernel(X, X, th) + (math.exp(th[4]) + NOISE_FLOOR) * np.eye(len(y))
    Kq = _direct_kernel(Q, X, th)
    mu = Kq @ np.linalg.solve(K, y)
    cov = _direct_kernel(Q, Q, th) - Kq @ np.linalg.solve(K, Kq.T)
    m, v = gp.predict(Q)
    np.testing.assert_allclose(m, mu, atol=1e-9)
    np.testing.assert_allclose(v, np.diag(cov), atol=1e-9)
    np.testing.assert_allclose(gp.cov(Q), cov, atol=1e-9)


def test_posterior_gradients_match_finite_differences() -> None:
    X, y = _data()
    gp = GP(X, y, _theta(), CAT_MASK)
    Q = np.random.default_rng(2).random((5, 3))
    Q[:, 2] = 1.0
    _, _, dmu, dvar = gp.predict_grad(Q)
    eps = 1e-6
    for j in (0, 1):
        e = np.zeros(3)
        e[j] = eps
        m1, v1 = gp.predict(Q + e)
        m0, v0 = gp.predict(Q - e)
        np.testing.assert_allclose(dmu[:, j], (m1 - m0) / (2 * eps), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(dvar[:, j], (v1 - v0) / (2 * eps), rtol=1e-5, atol=1e-7)
    assert np.all(dmu[:, 2] == 0) and np.all(dvar[:, 2] == 0)


def test_incremental_cholesky_matches_fresh_factorization() -> None:
    X, y = _data(30)
    th = _theta()
    fresh = GP(X, y, th, CAT_MASK)
    grown = GP(X[:20], y[:20], th, CAT_MASK).extend(X[20:27], y[20:27]).extend(X[27:], y[27:])
    np.testing.assert_allclose(grown.L, fresh.L, atol=1e-10)
    np.testing.assert_allclose(grown.alpha, fresh.alpha, atol=1e-8)
    Q = np.random.default_rng(3).random((4, 3))
    for a, b in zip(grown.predict(Q), fresh.predict(Q), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-10)


def test_extend_with_a_duplicate_point_stays_finite() -> None:
    X, y = _data(10)
    gp = GP(X, y, np.r_[np.log([0.3, 0.5, 0.7]), 0.0, math.log(1e-10)], CAT_MASK)
    g2 = gp.extend(X[:3], y[:3])
    m, v = g2.predict(X[:3])
    assert np.all(np.isfinite(m)) and np.all(v >= 0)


def test_fit_recovers_short_length_scale_for_the_relevant_coordinate() -> None:
    rng = np.random.default_rng(0)
    X = rng.random((40, 2))
    y = np.sin(10 * X[:, 0])
    theta, ok = fit_theta(X, (y - y.mean()) / y.std(), np.zeros(2, bool))
    assert ok
    ls = np.exp(theta[:2])
    assert ls[0] < 0.5 < ls[1]


def test_fit_falls_back_when_the_data_are_unusable() -> None:
    X = np.random.default_rng(0).random((5, 2))
    y = np.array([0.0, np.nan, 1.0, 2.0, 3.0])
    theta, ok = fit_theta(X, y, np.zeros(2, bool))
    assert not ok and np.all(np.isfinite(theta))


def test_output_transform_is_monotone_and_standardized() -> None:
    y = np.exp(np.random.default_rng(0).standard_normal(50) * 2)  # heavy upper tail
    t = OutputTransform(y)
    z = t(y)
    # the upper tail is compressed: the worst value ends up closer to the median
    plain = (y - y.mean()) / y.std()
    assert z.max() - np.median(z) < plain.max() - np.median(plain)
    # the good half stays linear (equal gaps in y give equal gaps in z)
    lo = np.sort(y)[:10]
    slopes = np.diff(t(lo)) / np.diff(lo)
    np.testing.assert_allclose(slopes, slopes[0], rtol=1e-6)
    assert np.all(np.diff(z[np.argsort(y)]) > 0)
    assert abs(z.mean()) < 1e-9 and z.std() == pytest.approx(1.0)
    assert OutputTransform(np.ones(4))(np.ones(4)).tolist() == [0.0] * 4


def test_domain_snaps_and_steps_discrete_coordinates() -> None:
    centres = (np.arange(5) + 0.5) / 5
    dom = Domain(np.array([FLOAT, INT, CAT]), np.array([0, 5, 3]), (None, centres, None))
    F = dom.snap(np.array([[1.2, 0.33, 2.6], [-0.1, 0.0, -1.0]]))
    np.testing.assert_allclose(F, [[1.0, 0.3, 2.0], [0.0, 0.1, 0.0]])
    nb = dom.neighbours(F[0])
    assert {tuple(r) for r in nb} == {
        (1.0, 0.1, 2.0),
        (1.0, 0.5, 2.0),
        (1.0, 0.3, 0.0),
        (1.0, 0.3, 1.0),
    }
    assert dom.kinds[2] == CAT
