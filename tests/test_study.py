from __future__ import annotations

import math
from pathlib import Path

import pytest

import parabo
from parabo import ConfigError, Study, TrialError, TrialState

SPACE = {"x": {"type": "float", "low": -5, "high": 10}}


def test_ask_tell_shape() -> None:
    study = parabo.Study(SPACE, direction="minimize", sampler="random", seed=0)
    trial = study.ask()
    assert (
        isinstance(trial.id, int) and isinstance(trial.params, dict) and set(trial.params) == {"x"}
    )
    done = study.tell(trial, 3.2)
    assert done.state is TrialState.COMPLETE and done.value == 3.2
    assert study.best.id == trial.id and study.best_value == 3.2


def test_ask_n_are_all_pending_until_told() -> None:
    study = Study(SPACE, sampler="sobol", seed=0)
    batch = study.ask(4)
    assert len(batch) == 4 and len({t.id for t in batch}) == 4
    assert {t.id for t in study.pending} == {t.id for t in batch}
    study.tell(batch[1], 1.0)
    assert {t.id for t in study.pending} == {batch[0].id, batch[2].id, batch[3].id}
    with pytest.raises(TrialError, match="already complete"):
        study.tell(batch[1], 2.0)
    with pytest.raises(TrialError, match="no trial"):
        study.tell(99, 2.0)


def test_sampler_sees_history_and_pending() -> None:
    seen = []

    class Spy(parabo.RandomSampler):
        def ask(self, space, history, pending, n=1, direction="minimize"):  # type: ignore[no-untyped-def]
            seen.append((len(history), len(pending), n, direction))
            return super().ask(space, history, pending, n, direction)

    study = Study(SPACE, "maximize", Spy(seed=0))
    a = study.ask(2)
    study.tell(a[0], 1.0)
    study.ask()
    assert seen == [(0, 0, 2, "maximize"), (1, 1, 1, "maximize")]


@pytest.mark.parametrize(
    "value, reason",
    [
        (math.nan, "invalid_result"),
        (math.inf, "invalid_result"),
        ("3", "invalid_result"),
        (None, "invalid_result"),
        ({"acc": 1.0}, "invalid_result"),
        ({"loss": "x"}, "invalid_result"),
    ],
)
def test_garbage_results_fail_the_trial(value: object, reason: str) -> None:
    study = Study(SPACE, metric="loss", seed=0)
    t = study.tell(study.ask(), value)
    assert t.state is TrialState.FAILED and t.reason == reason and t.error
    ok = study.tell(study.ask(), {"loss": 2.0, "acc": 0.9, "note": "text"})
    assert ok.value == 2.0 and ok.metrics == {"loss": 2.0, "acc": 0.9}


def test_dict_with_one_number_needs_no_metric() -> None:
    study = Study(SPACE)
    assert study.tell(study.ask(), {"score": 4, "tag": "a"}).value == 4.0


def test_failure_by_hand_and_maximize() -> None:
    study = Study(SPACE, direction="maximize", seed=0)
    a, b, c = study.ask(3)
    study.tell(a, 1.0)
    study.tell(b, 5.0)
    f = study.tell(c, error="out of memory")
    assert f.state is TrialState.FAILED and f.error == "out of memory" and f.reason == "told"
    assert study.best.id == b.id and study.n_complete == 2 and study.n_failed == 1


def test_enqueue_and_add_trial() -> None:
    study = Study(SPACE, seed=0)
    study.enqueue({"x": 1.5})
    assert study.ask().params == {"x": 1.5}
    t = study.add_trial({"x": 2.0}, 7.0)
    assert t.state is TrialState.COMPLETE and t.params == {"x": 2.0}
    with pytest.raises(parabo.SpaceError):
        study.enqueue({"x": 99})


def test_resume_keeps_trials_and_reruns_in_flight(folder: Path) -> None:
    s = Study(SPACE, sampler="random", seed=0, storage=folder)
    a, b, c = s.ask(3)
    s.mark_started(b)
    s.tell(a, 1.0)
    s.close()
    r = Study(SPACE, sampler="random", seed=0, storage=folder)
    assert r.n_finished == 1 and r.best.value == 1.0
    assert {t.id for t in r.interrupted} == {b.id, c.id}
    again = r.mark_started(b.id)
    assert again.attempt == 2 and again.params == b.params
    r.close()


@pytest.mark.parametrize(
    "change, field", [({"direction": "maximize"}, "direction"), ({"metric": "acc"}, "metric")]
)
def test_resume_refuses_a_different_study(folder: Path, change: dict, field: str) -> None:
    Study(SPACE, storage=folder).close()
    with pytest.raises(ConfigError) as info:
        Study(SPACE, storage=folder, **change)
    assert info.value.field == field
    with pytest.raises(ConfigError, match="different space"):
        Study({"y": {"type": "float", "low": 0, "high": 1}}, storage=folder)


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="direction"):
        Study(SPACE, direction="down")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown sampler"):
        Study(SPACE, sampler="nope")
    with pytest.raises(ConfigError, match="sampler.seed"):
        Study(SPACE, sampler={"name": "sobol", "seed": "x"})


def test_dataframe() -> None:
    study = Study(
        {"x": {"type": "float", "low": 0, "high": 1}, "c": ["a", "b"]}, metric="loss", seed=0
    )
    study.tell(study.ask(), {"loss": 1.0, "acc": 0.5})
    study.tell(study.ask(), error="boom")
    study.ask()
    df = study.to_dataframe()
    assert list(df["state"]) == ["complete", "failed", "running"]
    assert {
        "params_x",
        "params_c",
        "metrics_loss",
        "metrics_acc",
        "duration",
        "worker",
        "error",
    } <= set(df.columns)


def test_random_and_sobol_are_reproducible() -> None:
    for name in ("random", "sobol"):
        a = [t.params for t in Study(SPACE, sampler=name, seed=3).ask(5)]
        b = [t.params for t in Study(SPACE, sampler=name, seed=3).ask(5)]
        c = [t.params for t in Study(SPACE, sampler=name, seed=4).ask(5)]
        assert a == b and a != c
