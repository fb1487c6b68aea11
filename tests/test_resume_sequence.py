"""A seeded sequential study stopped after k trials and resumed suggests what the uninterrupted one does."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import parabo
from parabo import Study

FLOATS = {
    "x": {"type": "float", "low": -5, "high": 10},
    "y": {"type": "float", "low": 0, "high": 15},
}
MIXED = {
    "lr": {"type": "float", "low": 1e-4, "high": 1.0, "log": True},
    "k": {"type": "int", "low": 1, "high": 20},
    "c": {"type": "categorical", "choices": ["u", "v", "w"]},
}
N = 16


def branin(p: dict[str, Any]) -> float:
    x, y = p["x"], p["y"]
    return (
        (y - 5.1 / (4 * math.pi**2) * x**2 + 5 / math.pi * x - 6) ** 2
        + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x)
        + 10
    )


def mixed(p: dict[str, Any]) -> float:
    if p["k"] == 13:
        raise ValueError("unlucky")  # failed trials are part of the history too
    return (
        (math.log10(p["lr"]) + 2) ** 2
        + (p["k"] - 7) ** 2 / 10
        + {"u": 0.5, "v": 0.0, "w": 1.0}[p["c"]]
    )


def _run(study: Study, f: Any, n: int) -> None:
    for _ in range(n):
        t = study.ask()
        try:
            study.tell(t, f(t.params))
        except ValueError as exc:
            study.tell(t, error=str(exc))


def _sequence(
    folder: Path, space: dict[str, Any], sampler: Any, f: Any, stops: list[int]
) -> list[dict[str, Any]]:
    """Run to N trials, closing and reopening the study folder after each count in ``stops``."""
    done = 0
    for stop in [*stops, N]:
        with Study(space, sampler=sampler, seed=7, storage=folder) as study:
            assert study.n_trials == done
            _run(study, f, stop - done)
            done = stop
    return [dict(t.params) for t in Study.load(folder).trials]


@pytest.mark.parametrize(
    ("space", "f", "sampler"),
    [
        (FLOATS, branin, "gp"),
        (MIXED, mixed, "gp"),
        (FLOATS, branin, "sobol"),
        (MIXED, mixed, "random"),
        (MIXED, mixed, "tpe"),
        (MIXED, mixed, "cmaes"),
        (
            FLOATS,
            branin,
            {"name": "optuna", "class": "TPESampler", "options": {"n_startup_trials": 5}},
        ),
        (MIXED, mixed, {"name": "optuna", "class": "CmaEsSampler", "options": {"popsize": 4}}),
    ],
    ids=["gp-floats", "gp-mixed", "sobol", "random", "tpe", "cmaes", "optuna-tpe", "optuna-cmaes"],
)
def test_resumed_study_suggests_what_the_uninterrupted_one_does(
    tmp_path: Path, space: dict[str, Any], f: Any, sampler: Any
) -> None:
    if sampler in ("tpe", "cmaes") or isinstance(sampler, dict):
        pytest.importorskip("optuna" if sampler != "cmaes" else "cmaes")
    # the initial design is min(10, d + 3) = 5 (floats) or 6 (mixed) trials: 3 stops inside it
    whole = _sequence(tmp_path / "whole", space, sampler, f, [])
    for stops in ([3], [7], [12], [2, 6, 9, 13]):
        resumed = _sequence(
            tmp_path / f"stopped-{'-'.join(map(str, stops))}", space, sampler, f, stops
        )
        assert resumed == whole, f"resumed at {stops}: diverges at trial " + str(
            next(i for i, (a, b) in enumerate(zip(resumed, whole, strict=True)) if a != b)
        )


def test_resumed_run_through_the_scheduler_continues_the_same_sequence(tmp_path: Path) -> None:
    """`parabo run` stopped by its trial budget and run again with a larger one: same trials."""

    def run(folder: Path, trials: int) -> None:
        parabo.minimize(
            branin, FLOATS, trials=trials, backend="inline", sampler="gp", seed=3, storage=folder
        )

    run(tmp_path / "a", N)
    run(tmp_path / "b", 4)
    run(tmp_path / "b", 9)
    run(tmp_path / "b", N)
    a, b = Study.load(tmp_path / "a").trials, Study.load(tmp_path / "b").trials
    assert [dict(t.params) for t in a] == [dict(t.params) for t in b]
    assert [t.value for t in a] == [t.value for t in b]
