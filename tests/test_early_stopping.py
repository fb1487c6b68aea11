"""Reports and early stopping on the inline, thread and process backends, Python and commands."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

import parabo
from parabo import EarlyStopping, StopRule, Study, TrialState
from parabo.exceptions import ConfigError
from parabo.objectives import CommandObjective, PythonObjective
from parabo.optimize import run_scheduler
from parabo.pruning import Rule, Stop
from parabo.storage.events import Pruned, Reported, StopDecided, decode, encode
from parabo.storage.journal import JOURNAL_FILE, decode_line

BACKENDS = ["inline", "thread", "process", "simulated"]
SPACE = {"x": {"type": "float", "low": 0, "high": 20}}


def _study(folder: Path, xs: list[float], space: dict | None = None, **kw: object) -> Study:
    study = Study(space or SPACE, sampler="random", seed=0, storage=folder, **kw)  # type: ignore[arg-type]
    for x in xs:
        study.enqueue({"x": x})
    return study


def test_events_round_trip() -> None:
    for event in (
        Reported(3, 2.0, 0.5, {"loss": 0.5}, 1, 10.0),
        Reported(3, 2.5, None, {"acc": 0.5}, 2, 10.0),
        StopDecided(3, 2.0, "median: worse", 11.0),
        Pruned(3, 0.5, 2.0, "median: worse", 4, 12.0, 9.0, "w"),
        Pruned(4, None, None, "the objective raised TrialPruned"),
    ):
        assert decode(json.loads(json.dumps(encode(event)))) == event
    with pytest.raises(ValueError):
        decode({"e": "report", "id": 1})  # a report without its step


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_bad_trial_is_pruned_with_its_last_value(tmp_path: Path, backend: str) -> None:
    study = _study(tmp_path / "s", [0.0, 0.1, 10.0])
    summary = run_scheduler(
        study,
        PythonObjective("curves_objectives:curve"),
        stop=StopRule(3),
        workers=1,
        backend=backend,
        early_stopping=EarlyStopping("median", min_trials=1),
    )
    assert summary.n_complete == 1
    trials = study.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.PRUNED, TrialState.PRUNED]
    bad = trials[2]
    curve = study.curve(bad)
    assert bad.value == curve[-1].value and bad.step == curve[-1].step < 20
    assert bad.stopped is not None and bad.stopped.startswith("median:")
    assert study.n_pruned == 2 and study.n_failed == 0 and study.best is trials[0]
    assert [r.step for r in study.curve(trials[0])] == [float(s) for s in range(1, 21)]
    study.close()
    # every report is in the journal: a reopened study knows every curve
    again = Study.load(tmp_path / "s")
    assert [(r.id, r.step, r.value) for r in again.reports] == [
        (r.id, r.step, r.value) for r in study.reports
    ]
    assert again.trials[2].state is TrialState.PRUNED and again.trials[2].value == bad.value
    assert again.n_pruned == 2 and again.n_finished == 3
    record = json.loads((tmp_path / "s" / "trials" / "000002" / "trial.json").read_text())
    assert record["state"] == "pruned" and record["stopped"] == bad.stopped


@pytest.mark.parametrize("backend", BACKENDS)
def test_reports_with_setup_data_and_metrics(tmp_path: Path, backend: str) -> None:
    study = _study(tmp_path / "s", [0.0, 5.0], metric="loss")
    run_scheduler(
        study,
        PythonObjective("curves_objectives:curve_with_data", "curves_objectives:setup_offset"),
        stop=StopRule(2),
        workers=1,
        backend=backend,
        early_stopping=EarlyStopping("none"),
    )
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 2  # rule none stops nothing
    first = study.curve(0)
    assert len(first) == 20 and first[0].value == pytest.approx(101.0)
    assert first[0].metrics == {"loss": pytest.approx(101.0), "acc": pytest.approx(-100.0)}
    study.close()


@pytest.mark.parametrize("backend", ["thread", "process"])
def test_reports_after_the_stop_are_ignored_and_said(tmp_path: Path, backend: str) -> None:
    study = _study(tmp_path / "s", [0.0, 9.0])
    run_scheduler(
        study,
        PythonObjective("curves_objectives:stubborn"),
        stop=StopRule(2),
        workers=1,
        backend=backend,
        early_stopping=EarlyStopping("median", min_trials=1),
    )
    late = study.trials[1]
    assert late.state is TrialState.PRUNED
    assert late.stopped is not None and "after the stop were ignored" in late.stopped
    decided = study.stop_decided(late)
    assert decided is not None and late.step == decided.step  # nothing recorded after the stop
    events = [
        decode_line(line)
        for line in (tmp_path / "s" / JOURNAL_FILE).read_bytes().splitlines(keepends=True)
    ]
    pruned = [e for e in events if e and e["e"] == "pruned"]
    assert len(pruned) == 1 and pruned[0]["ignored"] >= 3
    study.close()


def test_simulated_reports_arrive_on_the_virtual_clock() -> None:
    from parabo.executors.simulated import SimulatedExecutor
    from parabo.scheduler import Scheduler

    space = {**SPACE, "sleep": {"type": "fixed", "value": 0.0}}
    study = Study(space, sampler="random", seed=0)
    for x in [0.0, 0.5, 9.0, 9.5]:
        study.enqueue({"x": x})
    executor = SimulatedExecutor(
        PythonObjective("curves_objectives:curve"), 2, runtime=100.0, overhead=0
    )
    Scheduler(
        study,
        executor,
        stop=StopRule(4),
        early_stopping=EarlyStopping("asha", min=1, max=20, eta=3),
        handle_signals=False,
    ).run()
    trials = study.trials
    assert [t.state for t in trials] == [
        TrialState.COMPLETE,
        TrialState.PRUNED,
        TrialState.PRUNED,
        TrialState.PRUNED,
    ]
    # 20 steps over 100 virtual seconds: a trial stopped at step 1 frees its worker at 5 s
    for t in trials[1:]:
        assert t.step == 1.0
        assert t.finished_at is not None and t.started_at is not None
        assert t.finished_at - t.started_at == pytest.approx(5.0)
    assert trials[0].finished_at == pytest.approx(100.0)
    assert trials[2].started_at == pytest.approx(5.0)  # on the worker trial 1 freed
    assert [r.t for r in study.curve(0)][:2] == [pytest.approx(5.0), pytest.approx(10.0)]


def test_an_objective_without_trial_is_unchanged(tmp_path: Path) -> None:
    study = parabo.minimize(
        "curves_objectives:no_trial", SPACE, trials=3, sampler="random", seed=0, backend="inline"
    )
    assert study.n_complete == 3 and study.reports == []


def test_trial_pruned_without_a_rule(tmp_path: Path) -> None:
    def evaluate(params: dict, trial: parabo.RunningTrial) -> float:
        trial.report(params["x"], step=1)
        raise parabo.TrialPruned("I give up")

    study = parabo.minimize(evaluate, SPACE, trials=2, sampler="random", seed=0, backend="inline")
    assert [t.state for t in study.trials] == [TrialState.PRUNED] * 2
    assert study.trials[0].stopped == "I give up" and study.trials[0].value is not None


def test_report_checks_its_arguments() -> None:
    trial = parabo.RunningTrial(0, {})
    trial.report(1.0, step=1)
    with pytest.raises(ValueError, match="must grow"):
        trial.report(1.0, step=1)
    with pytest.raises(ValueError, match="finite"):
        trial.report(float("nan"), step=2)
    with pytest.raises(ValueError, match="number"):
        trial.report("bad", step=3)  # type: ignore[arg-type]
    assert trial.should_prune() is False


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


@pytest.mark.parametrize("backend", ["inline", "thread", "process"])
def test_a_command_that_ignores_sigterm_is_stopped_with_no_process_left(
    tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "train.py"
    script.write_text(COMMAND)
    pids = tmp_path / "pids"
    monkeypatch.setenv("PIDS", str(pids))
    space = {**SPACE, "to_file": {"type": "categorical", "choices": [True, False]}}
    study = Study(space, sampler="random", seed=0, storage=tmp_path / "s", metric="loss")
    for x, to_file in [(0.0, False), (0.1, True), (10.0, False), (10.0, True)]:
        study.enqueue({"x": x, "to_file": to_file})
    run_scheduler(
        study,
        CommandObjective((sys.executable, str(script)), kill_grace=0.3, report_key="epoch"),
        stop=StopRule(4),
        workers=1,
        backend=backend,
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


def test_study_file_early_stopping(tmp_path: Path) -> None:
    from parabo.config import parse_study

    base = {
        "space": SPACE,
        "objective": {"python": "curves_objectives:curve"},
        "early_stopping": {"rule": "asha", "resource": "epoch", "min": 1, "max": 81, "eta": 3},
    }
    cfg = parse_study(base)
    assert cfg.early_stopping is not None and cfg.early_stopping.settings().eta == 3
    with pytest.raises(ConfigError) as info:
        parse_study({**base, "early_stopping": {"rule": "median", "eta": 3}})
    assert info.value.field == "early_stopping.eta"
    # every backend carries reports (dask: tests/integration/test_dask_reports.py)
    assert parse_study({**base, "run": {"backend": "dask"}}).early_stopping is not None
    with pytest.raises(ConfigError) as info:
        parse_study({**base, "early_stopping": {"rule": "asha", "mx": 3}})
    assert (info.value.field or "").startswith("early_stopping")


CLI_STUDY = """
name: es
space:
  x: {type: float, low: 0, high: 5}
  steps: {type: fixed, value: 9}
  sleep: {type: fixed, value: 0.0}
objective:
  python: curves_objectives:curve
sampler: random
seed: 3
early_stopping: {rule: asha, resource: epoch, min: 1, max: 9, eta: 3}
run: {trials: 12, workers: 2, backend: thread}
storage: out
"""


def test_cli_run_status_and_export_curves(tmp_path: Path) -> None:
    import subprocess

    import pandas as pd

    root = Path(__file__).resolve().parents[1]
    (tmp_path / "curves_objectives.py").write_text(
        (root / "tests" / "curves_objectives.py").read_text()
    )
    study = tmp_path / "study.yaml"
    study.write_text(CLI_STUDY)

    def parabo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "parabo.cli", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    r = parabo("run", str(study), "-v")
    assert r.returncode == 0, r.stderr
    record = json.loads(parabo("status", str(study), "--json").stdout)
    assert record["completed"] + record["pruned"] == 12 and record["pruned"] >= 1
    text = parabo("status", str(study)).stdout
    assert f"pruned {record['pruned']}" in text and f"reports {record['reports']}" in text
    r = parabo("export", str(study), "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert f"wrote {record['reports']} reports" in r.stdout
    curves = pd.read_csv(tmp_path / "out" / "curves.csv")
    assert list(curves.columns[:4]) == ["trial", "attempt", "epoch", "value"]
    assert len(curves) == record["reports"]
    trials = pd.read_csv(tmp_path / "out" / "trials.csv")
    pruned = trials[trials["state"] == "pruned"]
    assert len(pruned) == record["pruned"] and pruned["stopped"].str.startswith("asha").all()
    # a pruned trial's value is its last report
    for _, row in pruned.iterrows():
        last = curves[curves["trial"] == row["id"]].iloc[-1]
        assert last["value"] == pytest.approx(row["value"]) and last["epoch"] == row["step"]
    r = parabo("export", str(study), "--format", "json", "-o", str(tmp_path / "t.json"))
    assert r.returncode == 0 and (tmp_path / "t-curves.json").exists()


def test_simulate_plans_a_study_with_early_stopping(tmp_path: Path) -> None:
    from parabo.config import parse_study
    from parabo.simulate import simulate_study

    data = {
        "name": "plan",
        "space": {
            "x": {"type": "float", "low": 0, "high": 1},
            "y": {"type": "float", "low": 0, "high": 1},
        },
        "objective": {"command": ["python3", "train.py"]},
        "sampler": "random",
        "seed": 0,
        "run": {"trials": 30, "runtime": "270s"},
    }
    without = simulate_study(parse_study(data), tmp_path, workers=[1, 4], overhead=0.0)
    data["early_stopping"] = {"rule": "asha", "resource": "epoch", "min": 1, "max": 27, "eta": 3}
    cfg = parse_study(data)
    report = simulate_study(cfg, tmp_path, workers=[1, 4], overhead=0.0)
    assert "learning curves" in report.stand_in
    for a, b in zip(without.runs, report.runs, strict=True):
        assert a.trials == b.trials == 30
        assert b.elapsed < a.elapsed / 2  # most trials stop at the first rungs
    # the full-budget runs take their 270 s each: 30 of them on one worker
    assert without.runs[0].elapsed == pytest.approx(30 * 270.0)


def test_simulate_replays_recorded_curves(tmp_path: Path) -> None:
    from parabo.config import parse_study
    from parabo.simulate import simulate_study

    folder = tmp_path / "recorded"
    study = _study(folder, [0.0, 4.0, 8.0, 12.0, 16.0])  # five distinct curves to replay
    run_scheduler(
        study,
        PythonObjective("curves_objectives:curve"),
        stop=StopRule(5),
        workers=1,
        backend="thread",
        early_stopping=EarlyStopping("none"),
    )
    study.close()
    cfg = parse_study(
        {
            "space": SPACE,
            "objective": {"python": "curves_objectives:curve"},
            "sampler": "random",
            "early_stopping": {"rule": "asha", "min": 1, "max": 20, "eta": 3},
            "run": {"trials": 12, "runtime": "20s"},
        }
    )
    report = simulate_study(cfg, tmp_path, workers=[1], from_study=folder, overhead=0.0)
    assert "learning curve" in report.stand_in
    assert report.runs[0].trials == 12 and report.runs[0].elapsed < 12 * 20.0


def test_a_rule_without_a_reporting_objective_is_refused() -> None:
    with pytest.raises(ConfigError, match="declares no `trial`") as info:
        parabo.minimize(
            "curves_objectives:no_trial",
            SPACE,
            trials=1,
            backend="inline",
            early_stopping={"rule": "median"},
        )
    assert info.value.field == "objective.python"


def test_successive_halving_stops_a_whole_rung_through_the_scheduler(tmp_path: Path) -> None:
    study = _study(tmp_path / "s", [0.0, 1.0, 5.0])
    run_scheduler(
        study,
        PythonObjective("curves_objectives:curve"),
        stop=StopRule(3),
        workers=3,
        backend="thread",
        early_stopping=EarlyStopping(
            "successive_halving", min=2, max=20, eta=3, trials_per_bracket=3
        ),
    )
    trials = study.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.PRUNED, TrialState.PRUNED]
    for t in trials[1:]:
        assert t.stopped is not None and t.stopped.startswith("successive_halving")
        assert t.step is not None and t.step >= 2  # not before the rung
    study.close()


@pytest.mark.parametrize("rule", ["percentile", "hyperband"])
def test_every_rule_runs_a_study(rule: str) -> None:
    settings = EarlyStopping(rule, min=1, max=20) if rule == "hyperband" else EarlyStopping(rule)
    study = parabo.minimize(
        "curves_objectives:curve",
        {**SPACE, "sleep": {"type": "fixed", "value": 0.0}},
        trials=30,
        sampler="random",
        seed=1,
        backend="inline",
        early_stopping=settings,
    )
    assert study.n_complete + study.n_pruned == 30 and study.n_pruned > 0
    assert all(t.stopped and t.stopped.startswith(rule) for t in study.trials if t.stopped)


class _StopAtTwo(Rule):
    """Stops every trial at its report at step 2."""

    name = "stop-at-two"

    def report(self, trial: int, step: float, value: float) -> list[Stop]:
        return [Stop(trial, "step 2")] if step == 2 else []


@pytest.mark.parametrize("backend", ["inline", "process"])
def test_a_trial_that_completes_after_its_stop_keeps_every_report(
    tmp_path: Path, backend: str
) -> None:
    # the objective never asks should_prune(): the stop reaches it after its last step, it
    # completes, and the reports that came after the decision are part of its curve
    space = {
        **SPACE,
        "steps": {"type": "fixed", "value": 5},
        "sleep": {"type": "fixed", "value": 0},
    }
    study = Study(space, sampler="random", seed=0, storage=tmp_path / "s2")
    run_scheduler(
        study,
        PythonObjective("curves_objectives:ignores_stop"),
        stop=StopRule(2),
        workers=1,
        backend=backend,
        early_stopping=_StopAtTwo(),
    )
    for t in study.trials:
        assert t.state is TrialState.COMPLETE
        assert [r.step for r in study.curve(t)] == [1.0, 2.0, 3.0, 4.0, 5.0]
        assert study.stop_decided(t) is not None
    study.close()
    again = Study.load(tmp_path / "s2")
    assert [r.step for r in again.curve(0)] == [1.0, 2.0, 3.0, 4.0, 5.0]
