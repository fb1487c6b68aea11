"""GPSampler: determinism, pending handling, mixed spaces, direction, and a sanity check on Branin."""

from __future__ import annotations

import math

import numpy as np
import pytest

from parabo.exceptions import ConfigError
from parabo.gp.candidates import greedy_batch
from parabo.gp.trust_region import trust_box
from parabo.samplers import SAMPLERS, make_sampler
from parabo.samplers.gp import GPSampler, space_domain, trust_radius
from parabo.samplers.random import RandomSampler
from parabo.space import Space
from parabo.trial import Trial, TrialState

BRANIN = Space(
    {"x1": {"type": "float", "low": -5, "high": 10}, "x2": {"type": "float", "low": 0, "high": 15}}
)
MIXED = Space(
    {
        "lr": {"type": "float", "low": 1e-4, "high": 1.0, "log": True},
        "x": {"type": "float", "low": -2, "high": 2},
        "n": {"type": "int", "low": 1, "high": 8},
        "width": {"type": "int", "low": 4, "high": 512, "log": True},
        "act": {"type": "categorical", "choices": ["relu", "tanh", "gelu"]},
        "fixed": 3,
    }
)


def branin(p: dict) -> float:
    x1, x2 = p["x1"], p["x2"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def mixed(p: dict) -> float:
    return (
        (math.log10(p["lr"]) + 2) ** 2
        + p["x"] ** 2
        + 0.1 * (p["n"] - 3) ** 2
        + (math.log2(p["width"]) - 6) ** 2 / 10
        + {"relu": 0.5, "tanh": 0.0, "gelu": 1.0}[p["act"]]
    )


def run(sampler, space, f, n, direction="minimize", batch=1):
    history: list[Trial] = []
    while len(history) < n:
        for p in sampler.ask(space, history, [], batch, direction):
            history.append(Trial(len(history), p, TrialState.COMPLETE, value=f(p)))
    return history


def test_registered_in_the_factory() -> None:
    assert "gp" in SAMPLERS
    s = make_sampler({"name": "gp", "seed": 3, "pending": "cl"})
    assert isinstance(s, GPSampler) and s.seed == 3 and s.options.pending == "cl"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"acquisition": "ei2"},
        {"pending": "x"},
        {"failed": "drop"},
        {"n_startup": 0},
        {"max_points": 0},
        {"busy_max_points": 5},
        {"trust_region": -0.1},
        {"trust_region": float("nan")},
        {"trust_region_share": 1.5},
    ],
)
def test_invalid_options_raise_config_error(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        GPSampler(**kwargs)


def test_same_seed_same_sequence() -> None:
    a = [t.params for t in run(GPSampler(seed=7), BRANIN, branin, 12)]
    b = [t.params for t in run(GPSampler(seed=7), BRANIN, branin, 12)]
    c = [t.params for t in run(GPSampler(seed=8), BRANIN, branin, 12)]
    assert a == b
    assert a != c


def test_fresh_sampler_continues_a_resumed_history() -> None:
    history = run(GPSampler(seed=1), BRANIN, branin, 12)
    p = GPSampler(seed=1).ask(BRANIN, history, [], 2)
    assert len(p) == 2 and all(BRANIN.validate(x) == x for x in p)


@pytest.mark.parametrize("strategy", ["kb", "cl", "lp", "fantasy", "none"])
def test_no_duplicates_with_pending(strategy: str) -> None:
    history = run(GPSampler(seed=0), BRANIN, branin, 10)
    sampler = GPSampler(seed=0, pending=strategy)
    pending = [Trial(100 + i, p) for i, p in enumerate(sampler.ask(BRANIN, history, [], 4))]
    new = sampler.ask(BRANIN, history, pending, 4)
    U = BRANIN.to_unit_array([t.params for t in history + pending] + new)
    diff = np.abs(U[:, None, :] - U[None, :, :]).max(axis=2)
    assert diff[np.triu_indices(len(U), 1)].min() > 1e-6


def test_kriging_believer_spreads_a_batch() -> None:
    # over the whole space (the trust region off: with it, a batch near a converged
    # incumbent is spread over the box only, a few 1e-5 apart)
    history = run(GPSampler(seed=0), BRANIN, branin, 15)
    batch = GPSampler(seed=0, trust_region=0).ask(BRANIN, history, [], 6)
    U = BRANIN.to_unit_array(batch)
    d = np.sqrt(((U[:, None, :] - U[None, :, :]) ** 2).sum(-1))
    assert d[np.triu_indices(6, 1)].min() > 1e-3


def test_mixed_space_values_are_valid_and_cover_the_categories() -> None:
    history = run(GPSampler(seed=0), MIXED, mixed, 24)
    for t in history:
        assert MIXED.validate(t.params) == dict(t.params)
        assert isinstance(t.params["n"], int) and isinstance(t.params["width"], int)
    assert min(t.value for t in history) < 1.0
    assert len({t.params["act"] for t in history}) == 3


def test_discrete_space_is_exhausted_without_repeats() -> None:
    space = Space({"a": {"type": "int", "low": 0, "high": 3}, "b": ["x", "y"]})
    history = run(GPSampler(seed=0), space, lambda p: p["a"] + (p["b"] == "y"), 8)
    assert len({(t.params["a"], t.params["b"]) for t in history}) == 8


def test_maximize() -> None:
    history = run(GPSampler(seed=0), BRANIN, lambda p: -branin(p), 25, direction="maximize")
    assert max(t.value for t in history) > -1.0


@pytest.mark.parametrize("acq", ["ucb", "thompson"])
def test_other_acquisitions_work(acq: str) -> None:
    history = run(GPSampler(seed=0, acquisition=acq), BRANIN, branin, 20)
    assert min(t.value for t in history) < 5.0


def test_failed_trials_are_avoided_and_never_repeated() -> None:
    sampler = GPSampler(seed=0)
    history = run(sampler, BRANIN, branin, 10)
    failed = [
        Trial(10 + i, p, TrialState.FAILED, error="boom")
        for i, p in enumerate(sampler.ask(BRANIN, history, [], 3))
    ]
    history = history + failed
    for failed_mode in ("worst", "ignore"):
        new = GPSampler(seed=0, failed=failed_mode).ask(BRANIN, history, [], 2)
        U = BRANIN.to_unit_array(new)
        F = BRANIN.to_unit_array([t.params for t in failed])
        assert np.abs(U[:, None] - F[None]).max(axis=2).min() > 1e-6


def test_gp_beats_random_on_branin_at_30_evaluations() -> None:
    wins = 0
    for seed in range(3):
        gp_best = min(t.value for t in run(GPSampler(seed=seed), BRANIN, branin, 30))
        rs_best = min(t.value for t in run(RandomSampler(seed=seed), BRANIN, branin, 30))
        wins += gp_best < rs_best
        assert gp_best - 0.397887 < 0.05
    assert wins == 3


def test_large_study_path_uses_a_bounded_subset() -> None:
    # max_points and fit_max_points small so that the subset code path runs on a small study
    sampler = GPSampler(seed=0, max_points=20, fit_max_points=12, refit_every=0.2)
    history = run(sampler, BRANIN, branin, 32)
    assert sampler._fit is not None and sampler._fit.gp is not None
    assert sampler._fit.gp.n <= 20 + 8  # the subset, plus points appended between refits
    U = BRANIN.to_unit_array([t.params for t in history])
    diff = np.abs(U[:, None, :] - U[None, :, :]).max(axis=2)
    assert diff[np.triu_indices(len(U), 1)].min() > 1e-6
    assert min(t.value for t in history) < 1.0


def test_same_seed_gives_the_same_sequence() -> None:
    from parabo import Study

    space = {
        "x": {"type": "float", "low": 0, "high": 1},
        "y": {"type": "float", "low": 0, "high": 1},
    }
    runs = []
    for _ in range(2):
        study = Study(space, sampler={"name": "gp", "seed": 3})
        for _ in range(12):
            t = study.ask()
            study.tell(t, (t.params["x"] - 0.3) ** 2 + (t.params["y"] - 0.6) ** 2)
        runs.append([dict(t.params) for t in study.trials])
    assert runs[0] == runs[1]


def test_pending_beyond_the_cap_are_penalized_not_repeated() -> None:
    """Many trials in flight: the most recent are believed, the others penalized; all distinct."""
    history = run(GPSampler(seed=0), BRANIN, branin, 12)
    sampler = GPSampler(seed=0, pending_cap=4)
    pending = [Trial(100 + i, p) for i, p in enumerate(sampler.ask(BRANIN, history, [], 12))]
    new = sampler.ask(BRANIN, history, pending, 3)
    U = BRANIN.to_unit_array([t.params for t in history + pending] + new)
    diff = np.abs(U[:, None, :] - U[None, :, :]).max(axis=2)
    assert diff[np.triu_indices(len(U), 1)].min() > 1e-6
    # under the cap nothing changes: the same suggestions as with the default cap
    a = GPSampler(seed=0, pending_cap=12).ask(BRANIN, history, pending, 1)
    b = GPSampler(seed=0).ask(BRANIN, history, pending, 1)
    assert a == b


def test_pending_cap_is_validated() -> None:
    with pytest.raises(ConfigError, match="pending_cap"):
        GPSampler(pending_cap=0)


@pytest.mark.parametrize("options", [{"max_points": "abc"}, {"n_candidates": [1]}, {"bogus": 1}])
def test_bad_option_values_from_a_study_file_are_config_errors(options: dict) -> None:
    with pytest.raises(ConfigError, match="invalid option for sampler 'gp'"):
        make_sampler({"name": "gp", **options})


def test_many_trials_in_flight_use_the_smaller_posterior() -> None:
    """More than pending_cap trials in flight: the posterior shrinks to busy_max_points, and back."""
    sampler = GPSampler(seed=0, max_points=30, busy_max_points=12, pending_cap=3)
    history = run(sampler, BRANIN, branin, 24)
    pending = [Trial(100 + i, p) for i, p in enumerate(sampler.ask(BRANIN, history, [], 5))]
    sampler.ask(BRANIN, history, pending, 1)
    assert sampler._fit is not None and sampler._fit.gp is not None
    assert sampler._fit.gp.n == 12 and sampler._fit.cap == 12
    sampler.ask(BRANIN, history, pending[:2], 1)
    assert sampler._fit.gp.n == 24 and sampler._fit.cap == 30


def _in_box(U: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``(m,)``: rows of ``U`` inside ``[lo, hi]`` (to 1e-9)."""
    return np.asarray(((U - lo).min(axis=1) >= -1e-9) & ((hi - U).min(axis=1) >= -1e-9))


def test_trust_radius_follows_successes_and_failures() -> None:
    start = [5.0, 4.0, 3.0]  # the initial design only sets the incumbent
    assert trust_radius(start, 3, 0.2, 4) == 0.2
    assert trust_radius(start + [2, 1], 3, 0.2, 4) == pytest.approx(0.4)  # two wins: doubled
    assert trust_radius(start + list(range(2, -30, -1)), 3, 0.2, 4) == pytest.approx(0.8)  # capped
    assert trust_radius(start + [9] * 4, 3, 0.2, 4) == pytest.approx(
        0.1
    )  # `patience` losses: halved
    assert trust_radius(start + [9] * 3 + [0] + [9] * 3, 3, 0.2, 4) == 0.2  # a win resets the count
    assert trust_radius(start + [9] * 16, 3, 0.2, 4) == pytest.approx(0.0125)
    assert trust_radius(start + [9] * 20, 3, 0.2, 4) == 0.2  # below initial/16: starts again
    assert trust_radius(start + [2, 1], 3, 0.0, 4) == 0.0  # off


def test_suggestions_stay_in_the_trust_region() -> None:
    """With trust_region_share=1 every suggestion comes from the box around the best trial."""
    history = run(GPSampler(seed=1), BRANIN, branin, 8)
    sampler = GPSampler(seed=1, trust_region_share=1.0)
    pending = [Trial(100, sampler.ask(BRANIN, history, [], 1)[0])]
    new = sampler.ask(BRANIN, history, pending, 3)
    assert sampler._fit is not None and sampler._fit.gp is not None
    radius = trust_radius([t.value for t in history], 5, 0.2, 4)
    lo, hi = trust_box(sampler._fit.gp, space_domain(BRANIN), radius)
    assert np.all(hi - lo < 0.9)  # a real restriction, not the whole square
    U = BRANIN.to_unit_array(new)
    assert _in_box(U, lo, hi).all()
    # the box is centred on the best trial
    best = BRANIN.to_unit_array([min(history, key=lambda t: t.value).params])[0]
    assert np.all(best >= lo) and np.all(best <= hi)
    # with the trust region off, the same ask leaves the box
    wide = GPSampler(seed=1, trust_region=0).ask(BRANIN, history, pending, 3)
    W = BRANIN.to_unit_array(wide)
    assert not _in_box(W, lo, hi).all()


def test_with_many_trials_in_flight_every_suggestion_is_in_the_trust_region() -> None:
    """The share rises from trust_region_share (here 0) to 1 with 16 trials in flight."""
    history = run(GPSampler(seed=1), BRANIN, branin, 8)
    wide = GPSampler(seed=1, trust_region=0)
    pending = [Trial(100 + i, p) for i, p in enumerate(wide.ask(BRANIN, history, [], 16))]
    radius = trust_radius([t.value for t in history], 5, 0.2, 17)

    def inside(sampler: GPSampler, new: list) -> np.ndarray:
        assert sampler._fit is not None and sampler._fit.gp is not None
        lo, hi = trust_box(sampler._fit.gp, space_domain(BRANIN), radius)
        U = BRANIN.to_unit_array(new)
        return _in_box(U, lo, hi)

    # early in the study the search over the whole square leaves the box ...
    off = GPSampler(seed=1, trust_region=0)
    assert not inside(off, off.ask(BRANIN, history, pending, 3)).any()
    # ... and with 16 in flight every suggestion stays in it, even with trust_region_share 0
    sampler = GPSampler(seed=1, trust_region_share=0.0)
    assert inside(sampler, sampler.ask(BRANIN, history, pending, 3)).all()


def test_batch_size_is_one_until_pending_cap_trials_are_in_flight() -> None:
    sampler = GPSampler(seed=0, pending_cap=8)
    assert sampler.batch_size(5, 7) == 1
    assert sampler.batch_size(5, 8) == 5
    assert GPSampler(seed=0, pending_cap=8, acquisition="thompson").batch_size(5, 8) == 1
    assert GPSampler(seed=0, pending_cap=8, acquisition="ucb").batch_size(5, 8) == 1


def test_with_many_trials_in_flight_one_search_serves_a_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Over pending_cap in flight, ask(n) runs the acquisition optimizer once; the points spread."""
    import parabo.gp.search as gp_module

    calls: list[int] = []
    real = gp_module.maximize_acquisition

    def counted(*args: object, **kwargs: object) -> tuple[np.ndarray, np.ndarray]:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(gp_module, "maximize_acquisition", counted)
    history = run(GPSampler(seed=0), BRANIN, branin, 12)
    sampler = GPSampler(seed=0, pending_cap=4)
    pending = [Trial(100 + i, p) for i, p in enumerate(sampler.ask(BRANIN, history, [], 6))]
    calls.clear()
    new = sampler.ask(BRANIN, history, pending, 5)
    assert len(calls) == 1 and len(new) == 5
    assert sampler._fit is not None and sampler._fit.gp is not None
    ls = np.exp(sampler._fit.theta[:2])
    U = BRANIN.to_unit_array(new)
    scaled = np.linalg.norm((U[:, None, :] - U[None, :, :]) / ls, axis=2)
    assert scaled[np.triu_indices(5, 1)].min() >= 0.1 - 1e-9  # _BATCH_GAP length scales apart
    seen = BRANIN.to_unit_array([t.params for t in history + pending])
    assert np.abs(U[:, None, :] - seen[None, :, :]).max(axis=2).min() > 1e-6
    # under the cap each suggestion gets its own search
    calls.clear()
    GPSampler(seed=0, pending_cap=8).ask(BRANIN, history, pending, 3)
    assert len(calls) == 3


def test_a_batch_never_takes_two_points_closer_than_the_gap() -> None:
    """Where the penalty vanishes (a point expected to beat the incumbent), the gap still holds."""
    history = run(GPSampler(seed=0), BRANIN, branin, 12)
    sampler = GPSampler(seed=0)
    sampler.ask(BRANIN, history, [], 1)
    assert sampler._fit is not None and sampler._fit.gp is not None
    model = sampler._fit.gp
    ls = np.exp(model.theta[:2])
    x0 = np.array([0.5, 0.5])
    F = np.array([x0, x0 + 0.05 * ls, x0 + 0.5 * ls])  # the second is 0.07 length scales away
    mu, _ = model.predict(F)
    best = float(mu.max()) + 100.0  # everything far better than the incumbent: no penalty
    out = greedy_batch(model, best, F, np.array([0.0, -0.001, -5.0]), 2, 1.0, 1e-6)
    np.testing.assert_array_equal(out, F[[0, 2]])


def test_mean_incumbent_reads_noise_out_of_the_best_value() -> None:
    """incumbent="mean": EI improves on the posterior mean at the trials, not on a lucky draw."""
    rng = np.random.default_rng(0)
    space = Space({"x": {"type": "float", "low": -1, "high": 1}})
    history = [
        Trial(
            i, {"x": float(x)}, TrialState.COMPLETE, value=float(x**2 + 0.3 * rng.standard_normal())
        )
        for i, x in enumerate(np.linspace(-1, 1, 30))
    ]
    domain = space_domain(space)
    complete = list(history)
    bests = {}
    for incumbent in ("observed", "mean"):
        sampler = GPSampler(seed=0, incumbent=incumbent)
        _, bests[incumbent] = sampler._model(
            space, domain, complete, complete, 1.0, "minimize", 1000
        )
    # noisy data: the model's noise is well above its floor, and the incumbent rises by it
    assert bests["mean"] > bests["observed"] + 0.1
    # noise-free data: the two agree
    smooth = [t.evolve(value=float(t.params["x"] ** 2)) for t in history]
    for incumbent in ("observed", "mean"):
        sampler = GPSampler(seed=0, incumbent=incumbent)
        _, bests[incumbent] = sampler._model(space, domain, smooth, smooth, 1.0, "minimize", 1000)
    assert bests["mean"] == pytest.approx(bests["observed"], abs=1e-3)
    with pytest.raises(ConfigError, match="sampler.incumbent"):
        GPSampler(incumbent="best")


def test_the_initial_design_counts_the_trials_in_flight() -> None:
    """n_startup = 5 on Branin: sequentially the GP waits for 5 completions; with trials in
    flight it takes over once 5 were started and 4 completed (and never with fewer than 4)."""
    done = run(GPSampler(seed=3), BRANIN, branin, 5)
    flight = [Trial(50 + i, p) for i, p in enumerate(GPSampler(seed=4).ask(BRANIN, [], [], 3))]

    def uses_gp(history: list, pending: list) -> bool:
        sampler = GPSampler(seed=3)
        sampler.ask(BRANIN, history, pending, 1)
        return sampler._fit is not None  # a model was fitted: not the Sobol design

    assert not uses_gp(done[:4], [])  # sequential: 4 of 5 completed, still the design
    assert uses_gp(done, [])
    assert uses_gp(done[:4], flight[:1])  # 4 completed + 1 in flight = 5 started
    assert not uses_gp(done[:3], flight)  # 6 started, but only 3 completed
    # an n_startup below 4 is not raised by the rule
    small = GPSampler(seed=3, n_startup=2)
    small.ask(BRANIN, done[:2], flight, 1)
    assert small._fit is not None
