"""Early stopping on the dask backend, against a real Dask scheduler and workers on loopback.

Reports come up from the trial's sandbox through the Dask worker's events to the
coordinator's ``on_report``; a stop decision goes down to the trial's worker and
its sandbox. Every process started here is stopped and checked gone.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

pytest.importorskip("distributed")

from test_dask import LoopbackCluster, _alive, _env, _sandboxes, _wait_gone  # noqa: E402

import parabo  # noqa: E402
from parabo import EarlyStopping, StopRule, Study, TrialState  # noqa: E402
from parabo.executors import make_executor  # noqa: E402
from parabo.executors.base import Task  # noqa: E402
from parabo.objectives import CommandObjective, PythonObjective  # noqa: E402
from parabo.optimize import run_scheduler  # noqa: E402
from parabo.pruning import Rule, Stop  # noqa: E402
from parabo.scheduler import Scheduler  # noqa: E402

SPACE = {
    "x": {"type": "float", "low": 0, "high": 20},
    "steps": {"type": "fixed", "value": 27},
    "sleep": {"type": "fixed", "value": 0.01},
}


# ---------------------------------------------------------------- objectives (run in sandboxes)
def waits_for_the_stop(params: dict[str, Any], trial: parabo.RunningTrial) -> float:
    """Reports once, then loops until told to stop (or 30 s pass: then it completes)."""
    trial.report(float(params["x"]), step=1)
    began = time.monotonic()
    while time.monotonic() - began < 30.0:
        if trial.should_prune():
            raise parabo.TrialPruned()
        time.sleep(0.005)
    return float(params["x"])


def reports_forever(params: dict[str, Any], trial: parabo.RunningTrial) -> float:
    """Reports every 20 ms and never asks whether to stop; marks its Dask worker's pid first."""
    marks = os.environ.get("PARABO_TEST_MARKS")
    if marks:
        Path(marks, f"{os.getppid()}-{os.getpid()}").write_text("")
    step = 0
    while True:
        step += 1
        trial.report(float(params["x"]) + 1.0 / step, step=step)
        time.sleep(0.02)


class StopAtFirst(Rule):
    """Stops every trial at its first report."""

    name = "stop-at-first"

    def report(self, trial: int, step: float, value: float) -> list[Stop]:
        return [Stop(trial, "stop-at-first: every trial stops at its first report")]


# ---------------------------------------------------------------- a loopback cluster
@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackCluster]:
    c = LoopbackCluster(2, _env(tmp_path_factory.mktemp("marks"), 0.3))
    try:
        yield c
    finally:
        c.close()
        assert all(p.poll() is not None for p in c.procs)
        assert _wait_gone(_sandboxes) == []


def _study(folder: Path, xs: list[float], **kw: Any) -> Study:
    study = Study(SPACE, sampler="random", seed=0, storage=folder, **kw)
    for x in xs:
        study.enqueue({"x": x})
    return study


# ---------------------------------------------------------------- tests
def test_asha_prunes_the_bad_trials_with_their_curves(
    cluster: LoopbackCluster, tmp_path: Path
) -> None:
    study = _study(tmp_path / "s", [0.0, 0.1, 10.0, 12.0, 15.0, 11.0])
    summary = run_scheduler(
        study,
        PythonObjective("curves_objectives:curve"),
        stop=StopRule(6),
        workers=2,
        backend="dask",
        backend_options={"address": cluster.address},
        early_stopping=EarlyStopping("asha", min=1, max=27, eta=3),
    )
    trials = study.trials
    assert summary.n_failed == 0 and len(trials) == 6
    best = trials[0]
    assert best.state is TrialState.COMPLETE  # the best at every rung: never stopped
    assert [r.step for r in study.curve(best)] == [float(s) for s in range(1, 28)]
    for bad in trials[2:]:  # x >= 10: worse than 1/3 of the trials at rung 1
        assert bad.state is TrialState.PRUNED, bad
        curve = study.curve(bad)
        assert [r.step for r in curve] == [float(s) for s in range(1, len(curve) + 1)]
        assert bad.step is not None and bad.step < 27 and bad.value == curve[-1].value
        assert bad.stopped is not None and bad.stopped.startswith("asha:")
    assert study.n_pruned >= 4
    study.close()
    again = Study.load(tmp_path / "s")  # every report is in the journal
    assert [(r.id, r.step, r.value) for r in again.reports] == [
        (r.id, r.step, r.value) for r in study.reports
    ]
    assert [t.state for t in again.trials] == [t.state for t in trials]
    assert _wait_gone(_sandboxes) == []


def test_rule_none_records_every_report_of_every_trial_in_step_order(
    cluster: LoopbackCluster, tmp_path: Path
) -> None:
    study = _study(tmp_path / "s", [])
    run_scheduler(
        study,
        PythonObjective("curves_objectives:curve"),
        stop=StopRule(6),
        workers=2,
        backend="dask",
        backend_options={"address": cluster.address},
        early_stopping=EarlyStopping("none"),
    )
    trials = study.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 6
    for t in trials:
        curve = study.curve(t)
        assert [r.step for r in curve] == [float(s) for s in range(1, 28)], t
        assert [r.value for r in curve] == [
            pytest.approx(t.params["x"] + 1.0 / s) for s in range(1, 28)
        ]
        assert t.value == pytest.approx(curve[-1].value)
    assert len(study.reports) == 6 * 27
    study.close()


def test_a_stop_decision_reaches_the_trial_at_once(
    cluster: LoopbackCluster, tmp_path: Path
) -> None:
    study = Study({"x": SPACE["x"]}, sampler="random", seed=1, storage=tmp_path / "s")
    executor = make_executor(
        "dask", PythonObjective(waits_for_the_stop), 2, address=cluster.address
    )
    try:
        Scheduler(
            study, executor, stop=StopRule(4), early_stopping=StopAtFirst(), handle_signals=False
        ).run()
    finally:
        executor.close()
    trials = study.trials
    assert [t.state for t in trials] == [TrialState.PRUNED] * 4
    for t in trials:
        assert t.stopped is not None and t.stopped.startswith("stop-at-first")
        assert t.finished_at is not None and t.started_at is not None
        assert t.finished_at - t.started_at < 10.0  # far from the objective's 30 s
        assert [r.step for r in study.curve(t)] == [1.0]
    study.close()


def test_reports_of_a_cancelled_trial_are_ignored(cluster: LoopbackCluster) -> None:
    seen: list[tuple[int, float]] = []
    with make_executor("dask", PythonObjective(reports_forever), 1, address=cluster.address) as ex:
        ex.on_report = lambda tid, step, value, metrics: seen.append((tid, step))
        ex.submit(Task(7, {"x": 1.0}))
        deadline = time.monotonic() + 30
        while len(seen) < 3 and time.monotonic() < deadline:
            ex.collect(timeout=0.2)
        assert [s for _, s in seen[:3]] == [1.0, 2.0, 3.0]  # while it runs, in order
        ex.cancel(7)
        n = len(seen)
        [outcome] = ex.collect(timeout=1)
        assert outcome.reason == "cancelled"
        t0 = time.monotonic()
        while time.monotonic() - t0 < 0.5:
            ex.collect(timeout=0.1)
        assert len(seen) == n
        assert [s for _, s in seen] == [float(s) for s in range(1, n + 1)]
    assert _wait_gone(_sandboxes) == []


COMMAND = textwrap.dedent(
    """
    import json, os, signal, subprocess, sys, time
    params = json.load(open(os.environ["PARABO_PARAMS_FILE"]))
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # it will not stop when asked
    child = subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(1000)"])
    with open(os.environ["PIDS"], "a") as f:
        f.write(f"{os.getpid()} {child.pid}\\n")
    for step in range(1, 41):
        loss = params["x"] + 1.0 / step
        line = json.dumps({"epoch": step, "loss": loss})
        if params["to_file"]:
            with open(os.environ["PARABO_REPORT_FILE"], "a") as f:
                f.write(line + "\\n")
        else:
            print("training...", flush=True)
            print(line, flush=True)
        time.sleep(0.02)
    child.kill()
    print(json.dumps({"epoch": 40, "loss": loss}))
    """
)


def test_a_command_that_ignores_sigterm_is_stopped_with_no_process_left(
    cluster: LoopbackCluster, tmp_path: Path
) -> None:
    script = tmp_path / "train.py"
    script.write_text(COMMAND)
    pids = tmp_path / "pids"
    space = {
        "x": SPACE["x"],
        "to_file": {"type": "categorical", "choices": [True, False]},
    }
    study = Study(space, sampler="random", seed=0, storage=tmp_path / "s", metric="loss")
    for x, to_file in [(0.0, False), (0.1, True), (10.0, False), (10.0, True)]:
        study.enqueue({"x": x, "to_file": to_file})
    run_scheduler(
        study,
        CommandObjective(
            (sys.executable, str(script)),
            env={"PIDS": str(pids)},  # the command runs on the Dask worker, not here
            kill_grace=0.3,
            report_key="epoch",
        ),
        stop=StopRule(4),
        workers=1,
        backend="dask",
        backend_options={"address": cluster.address},
        early_stopping=EarlyStopping("median", resource="epoch", min_trials=1),
    )
    trials = study.trials
    assert trials[0].state is TrialState.COMPLETE and trials[0].value == pytest.approx(0.025)
    assert trials[0].metrics == {"loss": pytest.approx(0.025)}  # the step is not a metric
    for bad in trials[2:]:
        assert bad.state is TrialState.PRUNED, bad
        assert bad.value == study.curve(bad)[-1].value and bad.step is not None and bad.step < 40
    assert len(study.curve(1)) >= 1  # reports from $PARABO_REPORT_FILE
    study.close()
    left = []
    for line in pids.read_text().split("\n"):
        for pid in map(int, line.split()):
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    left.append(pid)
            except psutil.NoSuchProcess:
                pass
    assert left == []
    record = json.loads((tmp_path / "s" / "trials" / "000002" / "trial.json").read_text())
    assert record["state"] == "pruned"


def test_a_stopped_trial_whose_worker_is_lost_ends_pruned_and_nothing_hangs(
    tmp_path: Path,
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    cl = LoopbackCluster(2, _env(marks))
    try:
        with make_executor("dask", PythonObjective(reports_forever), 1, address=cl.address) as ex:
            stopped: list[int] = []

            def on_report(tid: int, step: float, value: float | None, metrics: Any) -> None:
                if not stopped:  # the trial never asks should_prune(): it runs on
                    stopped.append(tid)
                    ex.prune(tid)

            ex.on_report = on_report
            ex.submit(Task(3, {"x": 1.0}))
            deadline = time.monotonic() + 30
            while not (stopped and list(marks.iterdir())) and time.monotonic() < deadline:
                ex.collect(timeout=0.2)
            assert stopped == [3]
            mark = next(marks.iterdir())
            worker_pid, trial_pid = map(int, mark.name.split("-"))
            os.kill(worker_pid, signal.SIGKILL)
            t0 = time.monotonic()
            outcomes = []
            while not outcomes and time.monotonic() - t0 < 30:
                outcomes = ex.collect(timeout=0.5)
            [outcome] = outcomes
            assert outcome.reason == "pruned" and "was lost" in (outcome.error or "")
            assert time.monotonic() - t0 < 15
            assert ex.running == 0  # not run again
        assert _wait_gone(lambda: _alive(trial_pid), 10) == []
    finally:
        cl.close()
    assert _wait_gone(_sandboxes) == []
