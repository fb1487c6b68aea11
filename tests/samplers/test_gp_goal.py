"""The GP sampler with several objectives or constraints: the numeric pieces and the sampler."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import parabo
from parabo.exceptions import ConfigError
from parabo.gp.model import GP, OutputTransform, fit_theta
from parabo.gp.multi import Bound, Output, Scalarization, log_feasibility, scalarized_log_ei

CAT1 = np.array([False])


def _gp(X: np.ndarray, y: np.ndarray) -> Output:
    tr = OutputTransform(y, warp=False)
    t = tr(y)
    theta, ok = fit_theta(X, t, np.zeros(X.shape[1], dtype=bool))
    assert ok
    return Output(
        GP(X, t, theta, np.zeros(X.shape[1], dtype=bool)),
        tr.mean + tr.sd * tr.mean2,
        tr.sd * tr.sd2,
    )


def test_chebyshev_scalarization_by_hand() -> None:
    s = Scalarization(np.array([0.5, 0.5]), np.zeros(2), np.ones(2))
    # max(0.5 * 1, 0.5 * 0) + 0.05 * (0.5 + 0)
    assert s(np.array([[1.0, 0.0], [0.2, 0.4]])).tolist() == pytest.approx([0.525, 0.2 + 0.015])
    # normalized by the observed range: the scale of an objective does not matter
    Y = np.array([[0.0, 100.0], [1.0, 0.0]])
    d = Scalarization.draw(Y, np.random.default_rng(0))
    assert d.ideal.tolist() == [0.0, 0.0] and d.scale.tolist() == [1.0, 100.0]
    assert d.w.sum() == pytest.approx(1.0) and (d.w > 0).all()


def test_probability_of_feasibility_on_a_toy_problem() -> None:
    # the constrained metric is x itself, to stay at most 0.5: feasible left of 0.5
    X = np.linspace(0, 1, 21)[:, None]
    out = _gp(X, X[:, 0].copy())
    lower = Bound(out, 0.5, upper=True)
    Q = np.array([[0.05], [0.3], [0.5], [0.7], [0.95]])
    p = np.exp(log_feasibility([lower], Q, grad=False)[0])
    assert p[0] > 0.99 and p[1] > 0.99 and p[3] < 0.01 and p[4] < 0.01
    assert 0.3 < p[2] < 0.7  # on the bound: about even odds
    # a lower bound is the mirror image, and two constraints multiply
    upper = Bound(out, 0.5, upper=False)
    q = np.exp(log_feasibility([upper], Q, grad=False)[0])
    assert q == pytest.approx(1 - p, abs=1e-6)
    both = np.exp(log_feasibility([lower, Bound(out, 0.2, upper=False)], Q, grad=False)[0])
    assert both[1] > 0.98 and both[0] < 0.01 and both[4] < 0.01


def _fd(f: Any, X: np.ndarray, h: float = 1e-6) -> np.ndarray:
    g = np.zeros_like(X)
    for j in range(X.shape[1]):
        e = np.zeros(X.shape[1])
        e[j] = h
        g[:, j] = (f(X + e)[0] - f(X - e)[0]) / (2 * h)
    return g


def test_acquisition_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(1)
    X = rng.random((15, 2))
    f1 = X[:, 0] + 0.1 * np.sin(6 * X[:, 1])
    f2 = 1 - np.sqrt(X[:, 0]) + X[:, 1]
    objectives = [_gp(X, f1), _gp(X, f2)]
    bound = Bound(_gp(X, X[:, 1] + 0.05 * rng.standard_normal(15)), 0.6, upper=True)
    scal = Scalarization.draw(np.column_stack([f1, f2]), rng)
    best = float(scal(np.column_stack([f1, f2])).min())
    eps = rng.standard_normal((64, 2))
    Q = rng.random((6, 2)) * 0.9 + 0.05

    def acq(F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return scalarized_log_ei(objectives, scal, best, eps, F, grad=True)

    val, g = acq(Q)
    assert np.all(np.isfinite(val))
    np.testing.assert_allclose(g, _fd(acq, Q), rtol=1e-3, atol=1e-5)
    # values agree with and without gradients
    np.testing.assert_allclose(scalarized_log_ei(objectives, scal, best, eps, Q, False)[0], val)

    def feas(F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return log_feasibility([bound], F, grad=True)

    # near the bound, where the probability moves (deep in its tails log Phi is too steep
    # for a finite difference)
    Qb = np.column_stack([Q[:, 0], np.linspace(0.55, 0.65, Q.shape[0])])
    assert np.all(np.abs(feas(Qb)[0]) < 20)
    np.testing.assert_allclose(feas(Qb)[1], _fd(feas, Qb), rtol=1e-4, atol=1e-6)


def test_expected_improvement_is_larger_where_the_front_can_improve() -> None:
    # two objectives of one input that trade off (x and 1 - x): any x is on the front, but a
    # point far below the observed front in both is worth more than a point behind it
    X = np.linspace(0, 1, 9)[:, None]
    objectives = [_gp(X, X[:, 0] + 0.5), _gp(X, 1.5 - X[:, 0])]
    Y = np.column_stack([X[:, 0] + 0.5, 1.5 - X[:, 0]])
    scal = Scalarization(np.array([0.5, 0.5]), Y.min(axis=0), np.ones(2))
    best = float(scal(Y).min())
    eps = np.random.default_rng(0).standard_normal((64, 2))
    v = scalarized_log_ei(objectives, scal, best, eps, np.array([[0.5], [0.0625]]), False)[0]
    assert v[0] > v[1]  # weights (1/2, 1/2): the middle of the front is the one to improve


# ---------------------------------------------------------------------- the sampler
D = 4
SPACE = {f"x{i}": {"type": "float", "low": 0, "high": 1} for i in range(D)}


def zdt1(p: dict[str, float]) -> list[float]:
    x = np.array([p[f"x{i}"] for i in range(D)])
    g = 1 + 9 * x[1:].mean()
    return [float(x[0]), float(g * (1 - math.sqrt(x[0] / g)))]


def _hv(sampler: str, seed: int, n: int = 30) -> float:
    study = parabo.Study(
        SPACE, ["minimize", "minimize"], sampler, seed, reference_point=[1.1, 11.0]
    )
    for _ in range(n):
        t = study.ask()
        study.tell(t, zdt1(t.params))
    return study.hypervolume()


def test_gp_beats_sobol_on_zdt1() -> None:
    for seed in (0, 1):
        assert _hv("gp", seed) > _hv("sobol", seed) + 0.5


def test_constraints_alone_find_the_best_feasible_point() -> None:
    # the objective falls with x; only x <= 0.3 is allowed: the optimum is at the bound
    space = {
        "x": {"type": "float", "low": 0, "high": 1},
        "y": {"type": "float", "low": 0, "high": 1},
    }
    study = parabo.Study(space, sampler="gp", seed=0, metric="f", constraints={"x": {"max": 0.3}})
    for _ in range(25):
        t = study.ask()
        x, y = t.params["x"], t.params["y"]
        study.tell(t, {"f": -x + (y - 0.5) ** 2, "x": x})
    best = study.best
    assert best is not None and best.feasible
    assert best.params["x"] > 0.27 and abs(best.params["y"] - 0.5) < 0.1
    # after the initial design the search stays at the bound (feasible, or over it by a hair)
    later = study.trials[10:]
    assert sum(t.params["x"] <= 0.301 for t in later) >= 0.8 * len(later)


def test_a_small_feasible_region_is_found() -> None:
    # feasible: a disk of radius 0.1 around (0.7, 0.7): about 3% of the square
    space = {
        "x": {"type": "float", "low": 0, "high": 1},
        "y": {"type": "float", "low": 0, "high": 1},
    }
    study = parabo.Study(space, sampler="gp", seed=2, metric="f", constraints={"r": {"max": 0.1}})
    for _ in range(30):
        t = study.ask()
        x, y = t.params["x"], t.params["y"]
        study.tell(t, {"f": x + y, "r": math.hypot(x - 0.7, y - 0.7)})
    assert any(t.feasible for t in study.trials)


def test_pending_points_enter_every_model() -> None:
    def study(pending: str) -> parabo.Study:
        s = parabo.Study(
            SPACE,
            ["minimize", "minimize"],
            {"name": "gp", "pending": pending},
            3,
            metric=["a", "b"],
            constraints={"c": {"max": 0.7}},
        )
        for _ in range(12):
            t = s.ask()
            a, b = zdt1(t.params)
            s.tell(t, {"a": a, "b": b, "c": t.params["x1"]})
        return s

    kb, none = study("kb"), study("none")
    assert [t.params for t in kb.trials] == [t.params for t in none.trials]  # nothing in flight
    first_kb, first_none = kb.ask(), none.ask()
    assert first_kb.params == first_none.params  # the same ask with nothing in flight
    second_kb, second_none = kb.ask(), none.ask()  # now one trial is in flight
    assert second_kb.params != second_none.params
    f = np.array(list(first_kb.params.values()))
    # the believer's variance collapses at the pending point: the next one is elsewhere
    assert np.abs(np.array(list(second_kb.params.values())) - f).max() > 1e-3
    many = kb.ask(3)
    assert len({tuple(t.params.values()) for t in many}) == 3


def test_resumed_multi_objective_gp_suggests_what_the_uninterrupted_one_does(
    tmp_path: Path,
) -> None:
    kw: dict[str, Any] = dict(
        direction=["minimize", "minimize"],
        sampler="gp",
        seed=5,
        metric=["a", "b"],
        constraints={"c": {"max": 0.8}},
    )

    def step(s: parabo.Study) -> None:
        t = s.ask()
        a, b = zdt1(t.params)
        s.tell(t, {"a": a, "b": b, "c": t.params["x2"]})

    with parabo.Study(SPACE, storage=tmp_path / "one", **kw) as one:
        for _ in range(18):
            step(one)
        straight = [t.params for t in one.trials]
    for stop in (9, 13, 18):
        with parabo.Study(SPACE, storage=tmp_path / "two", **kw) as two:
            while two.n_trials < stop:
                step(two)
            resumed = [t.params for t in two.trials]
    assert resumed == straight


@pytest.mark.parametrize(
    ("options", "field"),
    [({"acquisition": "ucb"}, "sampler.acquisition"), ({"pending": "lp"}, "sampler.pending")],
)
def test_options_for_one_objective_only_are_refused(options: dict, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        parabo.Study(SPACE, ["minimize", "minimize"], {"name": "gp", **options}, 0)
    assert err.value.field == field
