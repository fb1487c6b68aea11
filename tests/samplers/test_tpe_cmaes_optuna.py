"""TPE, CMA-ES and the Optuna adapter: options, pending trials, seeds, restarts."""

from __future__ import annotations

import math
import re
import sys
from typing import Any

import pytest

from parabo import Study
from parabo.config import parse_study
from parabo.exceptions import ConfigError
from parabo.samplers import make_sampler

optuna = pytest.importorskip("optuna")
pytest.importorskip("cmaes")

SPACE = {
    "x": {"type": "float", "low": -5, "high": 10},
    "lr": {"type": "float", "low": 1e-4, "high": 1.0, "log": True},
    "k": {"type": "int", "low": 1, "high": 8},
    "c": {"type": "categorical", "choices": ["a", "b", "c"]},
    "fixed": {"type": "fixed", "value": 3},
}
SAMPLERS: list[Any] = [
    "tpe",
    "cmaes",
    {"name": "optuna", "class": "TPESampler", "options": {"n_startup_trials": 4}},
    {"name": "optuna", "class": "CmaEsSampler", "options": {"warn_independent_sampling": False}},
    {"name": "optuna", "class": "QMCSampler"},
]
IDS = ["tpe", "cmaes", "optuna-tpe", "optuna-cmaes", "optuna-qmc"]


def f(p: dict[str, Any]) -> float:
    return (
        (p["x"] - 1) ** 2
        + (math.log10(p["lr"]) + 2) ** 2
        + abs(p["k"] - 3)
        + {"a": 1.0, "b": 0.0, "c": 2.0}[p["c"]]
    )


def _run(sampler: Any, seed: int, n: int = 24) -> list[dict[str, Any]]:
    study = Study(SPACE, sampler=sampler, seed=seed)
    for _ in range(n):
        t = study.ask()
        study.tell(t, f(t.params))
    return [dict(t.params) for t in study.trials]


@pytest.mark.parametrize("sampler", SAMPLERS, ids=IDS)
def test_same_seed_same_sequence_and_valid_points(sampler: Any) -> None:
    a, b, other = _run(sampler, 3), _run(sampler, 3), _run(sampler, 4)
    assert a == b
    assert a != other
    for p in a:
        assert -5 <= p["x"] <= 10 and 1 <= p["k"] <= 8 and p["c"] in "abc" and p["fixed"] == 3


@pytest.mark.parametrize("sampler", ["tpe", SAMPLERS[2]], ids=["tpe", "optuna-tpe"])
def test_parabo_pending_trials_are_running_trials_of_the_optuna_study(sampler: Any) -> None:
    study = Study(SPACE, sampler=sampler, seed=0)
    for t in study.ask(6):  # past TPE's startup trials
        study.tell(t, f(t.params))
    pending = study.ask(3)
    study.enqueue({"x": 0.0, "lr": 0.01, "k": 2, "c": "b"})  # not a suggestion: still shown
    pending.append(study.ask())
    study.ask()  # syncs: every trial in flight is running in Optuna's study
    mirror = study.sampler._mirror  # type: ignore[attr-defined]
    running = mirror.get_trials(states=(optuna.trial.TrialState.RUNNING,))
    shown = sorted(str(sorted(t.params.items())) for t in running)
    expected = [{k: v for k, v in p.params.items() if k != "fixed"} for p in pending]
    # the newest suggestion is running too (asked, not yet seen by the study)
    assert len(running) == len(pending) + 1
    for params in expected:
        assert str(sorted(params.items())) in shown
    complete = mirror.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert sorted(t.value for t in complete) == sorted(t.value for t in study.history)


def test_constant_liar_spreads_a_batch_that_would_repeat_without_it() -> None:
    def batch(liar: bool) -> list[dict[str, Any]]:
        study = Study(SPACE, sampler={"name": "tpe", "constant_liar": liar, "n_startup": 5}, seed=1)
        for t in study.ask(12):
            study.tell(t, f(t.params))
        return [t.params for t in study.ask(4)]

    with_liar, without = batch(True), batch(False)
    # each ask is seeded from the trial count, so the difference is the pending trials alone
    assert with_liar[0] == without[0]
    assert with_liar[1:] != without[1:]


def test_cmaes_keeps_drawing_with_trials_in_flight_and_moves_on_per_generation() -> None:
    study = Study(SPACE, sampler={"name": "cmaes", "popsize": 4}, seed=0)
    sampler: Any = study.sampler
    first = study.ask(10)  # more than a generation in flight: all from generation 0
    assert sampler.generation == 0
    for t in first[:3]:
        study.tell(t, f(t.params))
    study.ask()
    assert sampler.generation == 0  # three of four told
    study.tell(first[3], f(first[3].params))
    study.ask()
    assert sampler.generation == 1
    for t in first[4:]:  # late results of generation 0 are not told to generation 1
        study.tell(t, f(t.params))
    study.ask()
    assert sampler.generation == 1


def test_cmaes_restarts_with_a_larger_population_when_it_converges() -> None:
    space = {
        "x": {"type": "float", "low": -1, "high": 1},
        "y": {"type": "float", "low": -1, "high": 1},
    }
    study = Study(space, sampler={"name": "cmaes", "sigma0": 0.3}, seed=0)
    sampler: Any = study.sampler
    sizes = set()
    for _ in range(1500):
        t = study.ask()
        study.tell(t, t.params["x"] ** 2 + t.params["y"] ** 2)
        sizes.add(sampler._cma.population_size)
        if sampler.restarts >= 2:
            break
    assert sampler.restarts >= 2
    assert len(sizes) >= 3  # IPOP: the population doubles at each restart
    assert study.best_value < 1e-6


def test_cmaes_first_mean_is_the_best_warm_start_trial() -> None:
    study = Study(SPACE, sampler={"name": "cmaes", "sigma0": 0.01}, seed=0)
    best = {"x": 7.0, "lr": 0.3, "k": 6, "c": "c"}
    study.add_trial(best, 0.0)
    study.add_trial({"x": -4.0, "lr": 0.001, "k": 1, "c": "a"}, 10.0)
    t = study.ask()
    assert abs(t.params["x"] - 7.0) < 0.5 and t.params["k"] == 6 and t.params["c"] == "c"


@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        ({"name": "tpe", "n_startup": 0}, "sampler.n_startup", "integer >= 1"),
        ({"name": "tpe", "multivariate": "yes"}, "sampler.multivariate", "true or false"),
        ({"name": "tpe", "gamma": 3}, "sampler", "gamma"),
        ({"name": "cmaes", "sigma0": 2}, "sampler.sigma0", "between 0 and 1"),
        ({"name": "cmaes", "popsize": 1}, "sampler.popsize", ">= 2"),
        ({"name": "cmaes", "restart": "bipop"}, "sampler.restart", "ipop, none"),
        ({"name": "optuna"}, "sampler.class", "missing 'class'"),
        ({"name": "optuna", "class": "TPESamplr"}, "sampler.class", "did you mean 'TPESampler'"),
        ({"name": "optuna", "class": "os.path"}, "sampler.class", "not an Optuna sampler"),
        ({"name": "optuna", "class": "no_such_pkg.Sampler"}, "sampler.class", "cannot import"),
        ({"name": "optuna", "class": "TPESampler", "n_startup_trials": 3}, "sampler", "options"),
        (
            {"name": "optuna", "class": "TPESampler", "options": {"n_startup": 3}},
            "sampler.options",
            "n_startup",
        ),
        (
            {"name": "optuna", "class": "TPESampler", "options": {"seed": 3}},
            "sampler.options.seed",
            "sampler.seed",
        ),
    ],
)
def test_options_are_validated_with_the_field_named(spec: Any, field: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        make_sampler(spec, 0)
    assert info.value.field == field and words in info.value.message
    data = {"space": SPACE, "objective": {"python": "m:f"}, "sampler": spec}
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        parse_study(data)


def test_an_optuna_sampler_by_import_path() -> None:
    sampler = make_sampler(
        {"name": "optuna", "class": "optuna.samplers.RandomSampler", "seed": 5}, None
    )
    assert "RandomSampler" in repr(sampler)
    assert _run(sampler, 5, 3) == _run(
        {"name": "optuna", "class": "RandomSampler", "seed": 5}, 5, 3
    )


@pytest.mark.parametrize(
    ("module", "spec", "extra"),
    [
        ("optuna", "tpe", "parabo[optuna]"),
        ("optuna", {"name": "optuna", "class": "TPESampler"}, "parabo[optuna]"),
        ("cmaes", "cmaes", "parabo[cmaes]"),
    ],
)
def test_a_missing_extra_is_named_with_its_install_command(
    monkeypatch: pytest.MonkeyPatch, module: str, spec: Any, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if it were not installed
    with pytest.raises(ConfigError, match=rf"pip install '{re.escape(extra)}'"):
        make_sampler(spec, 0)


@pytest.mark.parametrize(
    ("module", "tracking", "extra"),
    [
        ("mlflow", {"mlflow": {}}, "parabo[mlflow]"),
        ("wandb", {"wandb": {"project": "p"}}, "parabo[wandb]"),
    ],
)
def test_a_missing_tracker_is_named_with_its_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, module: str, tracking: Any, extra: str
) -> None:
    from parabo.config import TrackingConfig

    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(
        ConfigError, match=rf"tracking\.{module}: .*pip install '{re.escape(extra)}'"
    ):
        TrackingConfig.model_validate(tracking).callbacks(tmp_path)
