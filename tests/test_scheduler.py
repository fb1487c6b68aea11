from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

import parabo
from parabo import Study, TrialState
from parabo.executors import make_executor
from parabo.objectives import PythonObjective
from parabo.run_options import StopRule
from parabo.scheduler import Scheduler

SPACE = {"x": {"type": "float", "low": -5, "high": 10}}


def test_minimize_runs_the_loop() -> None:
    study = parabo.minimize(
        lambda p: (p["x"] - 2) ** 2, SPACE, trials=20, workers=2, backend="thread", seed=0
    )
    assert study.n_complete == 20 and len(study.trials) == 20
    assert study.best_value == min(t.value for t in study.trials)


def test_maximize_with_a_dict_metric() -> None:
    study = parabo.maximize(
        "helpers_objectives:metrics", SPACE, trials=8, workers=2, metric="loss", seed=0
    )
    assert study.best_value == max(t.value for t in study.trials)


@pytest.mark.parametrize("batch", [False, True])
def test_budget_is_exact_and_outputs_are_written(folder: Path, batch: bool) -> None:
    study = parabo.minimize(
        "helpers_objectives:misbehave",
        {"mode": ["ok", "raise", "nan"]},
        trials=15,
        workers=3,
        backend="thread",
        sampler="random",
        seed=0,
        storage=folder,
        batch=batch,
    )
    assert len(study.trials) == 15 and study.n_complete + study.n_failed == 15
    assert study.n_failed > 0  # failed trials count, and the study went on
    progress = json.loads((folder / "progress.json").read_text())
    assert progress["completed"] == study.n_complete and progress["failed"] == study.n_failed
    assert json.loads((folder / "best.json").read_text())["value"] == 1.0
    record = json.loads((folder / "trials" / "000000" / "trial.json").read_text())
    assert json.loads((folder / "trials" / "000000" / "params.json").read_text())["mode"] in (
        "ok",
        "raise",
        "nan",
    )
    assert record["state"] in ("complete", "failed")


def test_refill_is_asynchronous() -> None:
    """With one slow trial in flight, the other worker keeps taking new trials."""
    study = Study({"sleep": [0.0, 1.5], "x": {"type": "float", "low": 0, "high": 1}}, seed=0)
    study.enqueue({"sleep": 1.5, "x": 0.5})
    for _ in range(30):
        study.enqueue({"sleep": 0.0, "x": 0.5})
    ex = make_executor("thread", PythonObjective("helpers_objectives:slow_quadratic"), 2)
    Scheduler(study, ex, stop=StopRule(trials=31, max_failures=None)).run()
    slow = study.trials[0]
    during = [t for t in study.trials[1:] if t.started_at < slow.finished_at]
    assert len(during) >= 20


def test_batch_mode_waits_for_the_whole_batch() -> None:
    study = Study({"sleep": [0.01, 0.3]}, seed=0)
    ex = make_executor(
        "thread", PythonObjective(lambda p: __import__("time").sleep(p["sleep"]) or 1.0), 3
    )
    Scheduler(study, ex, batch=True, stop=StopRule(trials=9, max_failures=None)).run()
    trials = study.trials
    for k in range(0, 9, 3):
        batch_end = max(t.finished_at for t in trials[k : k + 3])
        if k + 3 < 9:
            assert all(t.asked_at >= batch_end for t in trials[k + 3 : k + 6])


def test_target_stops_asking() -> None:
    study = Study(SPACE, sampler="random", seed=0)
    ex = make_executor("inline", PythonObjective("helpers_objectives:quadratic"))
    summary = Scheduler(study, ex, stop=StopRule(trials=1000, target=4.0, max_failures=None)).run()
    assert summary.stop_reason == "target" and study.best_value <= 4.0 and len(study.trials) < 1000


def test_max_time_cancels_and_records_everything(folder: Path) -> None:
    study = Study(SPACE, storage=folder, seed=0)
    ex = make_executor("thread", PythonObjective(lambda p: __import__("time").sleep(30)), 2)
    summary = Scheduler(
        study, ex, handle_signals=False, stop=StopRule(trials=10, max_time=0.5, max_failures=None)
    ).run()
    assert summary.stop_reason == "time"
    # the two cancelled trials are not lost: they run again when the study resumes
    assert [t.reason for t in study.trials] == ["cancelled", "cancelled"]
    study.close()
    with Study(SPACE, storage=folder, seed=0) as again:
        assert len(again.interrupted) == 2


def test_request_stop_waits_then_cancels() -> None:
    study = Study(SPACE, seed=0)
    ex = make_executor("thread", PythonObjective("helpers_objectives:slow_quadratic"), 2)
    sched = Scheduler(
        study, ex, handle_signals=False, stop=StopRule(trials=1000, max_failures=None)
    )
    threading.Timer(0.5, sched.request_stop).start()
    summary = sched.run()
    assert summary.stop_reason == "interrupted"
    assert all(t.state is TrialState.COMPLETE for t in study.trials) and len(study.trials) < 1000
