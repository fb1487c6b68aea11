"""The simulated backend: event order, determinism, time limits, and the unchanged scheduler on it."""

from __future__ import annotations

import pytest

import parabo
from parabo.exceptions import ConfigError
from parabo.executors import make_executor
from parabo.executors.base import Task
from parabo.executors.simulated import SimulatedExecutor, parse_runtime
from parabo.objectives import PythonObjective
from parabo.run_options import StopRule
from parabo.scheduler import Scheduler
from parabo.study import Study

SPACE = {"x": {"type": "float", "low": -5.0, "high": 5.0}}


def square(params):
    return (params["x"] - 1.0) ** 2


def by_x(params):
    return params["x"]  # a runtime model: trials with larger x run longer


def test_outcomes_come_in_order_of_their_simulated_end():
    ex = SimulatedExecutor(square, workers=3, runtime=by_x, overhead=0)
    for tid, x in enumerate([30.0, 10.0, 20.0]):
        ex.submit(Task(tid, {"x": x}))
    ends = []
    while ex.running:
        for o in ex.collect():
            ends.append((o.trial_id, o.started_at, o.finished_at, o.result))
    assert ends == [(1, 0.0, 10.0, 81.0), (2, 0.0, 20.0, 361.0), (0, 0.0, 30.0, 841.0)]
    assert ex.now() == 30.0


def test_a_busy_pool_queues_and_refills_the_freed_worker():
    ex = SimulatedExecutor(square, workers=2, runtime="10s", overhead=0)
    for tid in range(3):
        ex.submit(Task(tid, {"x": 0.0}))
    first = ex.collect()
    assert sorted(o.trial_id for o in first) == [0, 1]  # both end at t=10
    (third,) = ex.collect()
    assert (third.trial_id, third.started_at, third.finished_at) == (2, 10.0, 20.0)
    assert third.worker == "sim-0"


def test_collect_timeout_is_virtual_seconds():
    ex = SimulatedExecutor(square, workers=1, runtime="60s", overhead=0)
    ex.submit(Task(0, {"x": 0.0}))
    assert ex.collect(timeout=25) == []
    assert ex.now() == 25.0
    assert ex.collect(timeout=25) == []
    (o,) = ex.collect(timeout=25)
    assert o.finished_at == 60.0 and ex.now() == 60.0


def test_trial_time_limit_in_virtual_time():
    ex = SimulatedExecutor(square, workers=2, runtime=by_x, overhead=0)
    ex.submit(Task(0, {"x": 50.0}, timeout=20.0))
    ex.submit(Task(1, {"x": 5.0}, timeout=20.0))
    out = ex.collect() + ex.collect()
    assert [(o.trial_id, o.reason, o.finished_at) for o in out] == [
        (1, None, 5.0),
        (0, "timeout", 20.0),
    ]
    assert "time limit" in out[1].error


def test_cancel_frees_the_worker_and_reports_cancelled():
    ex = SimulatedExecutor(square, workers=1, runtime="60s", overhead=0)
    ex.submit(Task(0, {"x": 0.0}))
    ex.submit(Task(1, {"x": 0.0}))  # queued
    ex.collect(timeout=10)
    ex.cancel(0)
    (o,) = ex.collect(timeout=0)
    assert (o.trial_id, o.reason, o.finished_at) == (0, "cancelled", 10.0)
    (o,) = ex.collect()
    assert (o.trial_id, o.started_at, o.finished_at) == (1, 10.0, 70.0)


def test_objective_failure_is_an_outcome():
    def boom(params):
        raise ValueError("bad point")

    ex = SimulatedExecutor(boom, workers=1, runtime=1, overhead=0)
    ex.submit(Task(0, {"x": 0.0}))
    (o,) = ex.collect()
    assert o.reason == "exception" and "bad point" in o.error and o.finished_at == 1.0


def test_runtime_models_parse_and_name_the_field():
    assert parse_runtime("90s").sample({}, None) == 90.0
    assert parse_runtime(2).mean == 2.0
    assert parse_runtime("lognormal(1m, 0.5)").mean == 60.0
    assert parse_runtime("uniform(0, 2m)").mean == 60.0
    assert parse_runtime("exponential(10s)").kind == "exponential"
    with pytest.raises(ConfigError, match="run.runtime"):
        parse_runtime("gamma(1, 2)")
    with pytest.raises(ConfigError, match="--duration"):
        parse_runtime("lognormal(60s)", "--duration")


def _run(seed, workers=4, trials=40, **kw):
    study = Study(SPACE, sampler="random", seed=seed)
    ex = SimulatedExecutor(
        PythonObjective(square), workers, runtime="lognormal(60s, 0.8)", seed=seed, overhead=0, **kw
    )
    summary = Scheduler(
        study, ex, handle_signals=False, stop=StopRule(trials=trials, max_failures=None)
    ).run()
    rows = [
        (t.id, t.params["x"], t.value, t.started_at, t.finished_at, t.worker) for t in study.trials
    ]
    return summary, rows, ex


def test_the_unchanged_scheduler_runs_on_it_and_is_deterministic():
    s1, rows1, ex = _run(seed=3)
    s2, rows2, _ = _run(seed=3)
    _, rows3, _ = _run(seed=4)
    assert rows1 == rows2 and rows1 != rows3
    assert s1.stop_reason == "trials" and s1.n_complete == 40
    assert s1.elapsed == max(r[4] for r in rows1)  # the scheduler's clock is the virtual one
    # asynchronous refill: a worker never waits once the study runs
    assert len({r[5] for r in rows1}) == 4
    assert 0.8 < ex.utilization() <= 1.0
    # at most 4 trials overlap at any time
    events = sorted(
        [(r[3], 1) for r in rows1] + [(r[4], -1) for r in rows1], key=lambda e: (e[0], e[1])
    )
    level = peak = 0
    for _, d in events:
        level += d
        peak = max(peak, level)
    assert peak == 4


def test_scheduler_time_limit_and_batches_in_virtual_time():
    study = Study(SPACE, sampler="random", seed=0)
    ex = SimulatedExecutor(square, 4, runtime="60s", overhead=0)
    summary = Scheduler(
        study, ex, handle_signals=False, stop=StopRule(trials=100, max_time=150, max_failures=None)
    ).run()
    assert (
        summary.stop_reason == "time"
        and summary.n_complete == 8
        and summary.elapsed == pytest.approx(150)
    )
    study = Study(SPACE, sampler="random", seed=0)
    ex = SimulatedExecutor(square, 4, runtime=lambda p: 10 + p["x"], overhead=0)
    Scheduler(
        study, ex, batch=True, handle_signals=False, stop=StopRule(trials=8, max_failures=None)
    ).run()
    first, second = study.trials[:4], study.trials[4:]
    assert min(t.started_at for t in second) == max(t.finished_at for t in first)


def test_measured_coordinator_time_is_charged():
    import time

    class SlowSampler(parabo.RandomSampler):
        def ask(self, *args, **kwargs):
            time.sleep(0.02)
            return super().ask(*args, **kwargs)

    study = Study(SPACE, sampler=SlowSampler(seed=0))
    ex = SimulatedExecutor(square, 1, runtime="1s")  # measured
    summary = Scheduler(
        study, ex, handle_signals=False, stop=StopRule(trials=5, max_failures=None)
    ).run()
    assert ex.coordinator_time >= 5 * 0.02
    assert summary.elapsed >= 5 * 1.0 + 5 * 0.02
    assert ex.utilization() < 1.0


def test_backend_simulated_through_minimize_and_make_executor():
    study = parabo.minimize(
        square, SPACE, backend="simulated", workers=8, trials=24, seed=0, sampler="random"
    )
    assert study.n_complete == 24
    assert max(t.finished_at for t in study.trials) < 24 * 60  # 8 in parallel, 60 s each
    ex = make_executor("simulated", PythonObjective(square), 2, runtime="5s", seed=1)
    assert isinstance(ex, SimulatedExecutor) and ex.workers == 2


def test_timeouts_fail_trials_under_the_scheduler():
    study = Study(SPACE, sampler="random", seed=0)
    ex = SimulatedExecutor(square, 2, runtime=lambda p: 100.0 if p["x"] > 0 else 1.0, overhead=0)
    Scheduler(
        study,
        ex,
        trial_timeout=50,
        handle_signals=False,
        stop=StopRule(trials=10, max_failures=None),
    ).run()
    for t in study.trials:
        if t.params["x"] > 0:
            assert t.reason == "timeout" and t.finished_at - t.started_at == pytest.approx(50)
        else:
            assert t.value is not None


def test_asynchronous_runs_ask_as_many_as_the_sampler_batches():
    """The scheduler asks one suggestion at a time unless the sampler's batch_size says more."""

    class Recording(parabo.RandomSampler):
        def __init__(self, seed, batches):
            super().__init__(seed)
            self.batches, self.sizes = batches, []

        def batch_size(self, free, pending):
            return free if self.batches else 1

        def ask(self, space, history, pending, n=1, direction="minimize"):
            self.sizes.append(n)
            return super().ask(space, history, pending, n, direction)

    for batches in (False, True):
        sampler = Recording(0, batches)
        study = Study(SPACE, sampler=sampler)
        ex = SimulatedExecutor(square, 8, runtime="60s", overhead=0)
        Scheduler(
            study, ex, handle_signals=False, stop=StopRule(trials=24, max_failures=None)
        ).run()
        assert study.n_complete == 24
        # constant durations: all 8 workers free up together, three times
        assert sampler.sizes == ([1] * 24 if not batches else [8, 8, 8])


def _reporting(params, trial):
    for step in range(1, 11):
        trial.report(float(step), step=step)
    return 10.0


def test_a_stop_decided_after_the_trials_end_comes_too_late():
    # 10 reports over 10 ms (virtual); the coordinator takes 50 ms (real, charged) to decide
    # at the first one: the trial has ended by then and completes, it does not end past its end
    import time

    ex = SimulatedExecutor(_reporting, workers=1, runtime=0.01)

    def slow_stop(trial_id, step, value, metrics):
        time.sleep(0.05)
        ex.now()
        ex.prune(trial_id)

    ex.on_report = slow_stop
    ex.submit(Task(0, {}))
    outcomes = []
    while not outcomes:
        outcomes = ex.collect()
    assert [(o.result, o.reason) for o in outcomes] == [(10.0, None)]
    assert ex.records[0].end == pytest.approx(ex.records[0].start + 0.01)


def test_the_time_to_handle_a_report_is_charged():
    import time

    ex = SimulatedExecutor(_reporting, workers=1, runtime=0.01)
    ex.on_report = lambda *a: time.sleep(0.01)
    ex.submit(Task(0, {}))
    outcomes = []
    while not outcomes:
        outcomes = ex.collect()
    assert ex.coordinator_time >= 0.1  # ten reports, 10 ms each
    assert ex.now() >= 0.1
