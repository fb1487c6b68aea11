"""Callbacks, and MLflow (local stores) and W&B (offline) runs holding every trial."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path
from typing import Any

import pytest

import parabo
from parabo.config import load_study_file
from parabo.optimize import run_study
from parabo.study import Study
from parabo.tracking import Callback
from parabo.trial import Trial, TrialState

SPACE = {"x": {"type": "float", "low": -5, "high": 10}, "k": {"type": "int", "low": 1, "high": 4}}
SCRIPT = """
import json, sys
p = json.load(open(sys.argv[1]))
open("log.txt", "w").write("trial log\\n")
json.dump({"loss": (p["x"] - 1) ** 2 + p["k"], "acc": 0.5}, open("result.json", "w"))
"""
STUDY = f"""
name: tracked
metric: loss
space:
  x: {{type: float, low: -5, high: 10}}
  k: {{type: int, low: 1, high: 4}}
objective:
  command: ["{sys.executable}", "{{study_file_dir}}/obj.py", "{{params_file}}"]
sampler: sobol
seed: 0
run: {{trials: TRIALS, workers: 2, backend: thread}}
storage: out
"""


def _study_file(folder: Path, trials: int, tracking: str) -> Path:
    (folder / "obj.py").write_text(SCRIPT)
    path = folder / "study.yaml"
    path.write_text(STUDY.replace("TRIALS", str(trials)) + tracking)
    return path


def _run(path: Path) -> Study:
    cfg, base = load_study_file(path)
    run_study(cfg, base)
    return Study.load(base / "out")


class Recorder(Callback):
    def __init__(self) -> None:
        self.trials: list[tuple[int, bool]] = []
        self.ends: list[Any] = []

    def on_trial_end(self, study: Study, trial: Trial, folder: Path | None) -> None:
        self.trials.append((trial.id, folder is not None and folder.is_dir()))

    def on_study_end(self, study: Study, summary: Any) -> None:
        self.ends.append((summary.stop_reason, len(self.trials)))


def test_callbacks_see_every_trial_then_the_end(tmp_path: Path) -> None:
    rec = Recorder()
    parabo.minimize(
        lambda p: p["x"] ** 2,
        SPACE,
        trials=7,
        workers=2,
        backend="thread",
        storage=tmp_path / "s",
        callbacks=[rec],
    )
    assert sorted(i for i, _ in rec.trials) == list(range(7))
    assert all(has_folder for _, has_folder in rec.trials)
    assert rec.ends == [("trials", 7)]


class Broken(Callback):
    name = "broken"

    def on_trial_end(self, study: Study, trial: Trial, folder: Path | None) -> None:
        raise ConnectionError("server down")


def test_a_failing_callback_never_stops_the_study_and_is_reported_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = Recorder()
    study = parabo.minimize(
        lambda p: p["x"] ** 2, SPACE, trials=6, backend="inline", callbacks=[Broken(), rec]
    )
    assert study.n_complete == 6 and len(rec.trials) == 6  # the others still get every trial
    err = capsys.readouterr().err
    assert err.count("tracking with broken failed (ConnectionError: server down)") == 1
    assert "broken: 6 finished trial(s) were not logged" in err


@pytest.mark.parametrize("store", ["file", "sqlite"])
def test_mlflow_local_store_holds_a_parent_run_and_every_trial(
    tmp_path: Path, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("mlflow")
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 asks for it on file stores
    monkeypatch.chdir(tmp_path)  # a SQLite store keeps its artifacts in ./mlruns
    uri = f"file://{tmp_path / 'mlruns'}" if store == "file" else f"sqlite:///{tmp_path / 'm.db'}"
    tracking = f"tracking: {{mlflow: {{experiment: exp, tracking_uri: '{uri}'}}}}\n"
    _run(_study_file(tmp_path, 5, tracking))
    study = _run(_study_file(tmp_path, 8, tracking))  # resumed: the same parent run
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("exp")
    runs = client.search_runs([exp.experiment_id], max_results=100)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1 and len(children) == 8
    parent = parents[0]
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parent.info.run_id}
    assert parent.data.metrics["best_value"] == study.best_value
    assert parent.info.status == "FINISHED"
    by_id = {int(r.data.tags["parabo.trial"]): r for r in children}
    assert sorted(by_id) == list(range(8))
    for trial in study.trials:
        run = by_id[trial.id]
        assert run.data.params == {k: str(v) for k, v in trial.params.items()}
        assert run.data.metrics["loss"] == trial.value == run.data.metrics["value"]
        assert run.data.metrics["acc"] == 0.5
        assert run.info.status == "FINISHED"
        files = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"log.txt", "result.json", "params.json"} <= files


def test_mlflow_server_down_never_stops_the_study(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    tracking = "tracking: {mlflow: {tracking_uri: 'http://127.0.0.1:9'}}\n"  # nothing listens
    study = _run(_study_file(tmp_path, 4, tracking))
    assert study.n_complete == 4
    err = capsys.readouterr().err
    assert err.count("tracking with mlflow failed") == 1
    assert "mlflow: 4 finished trial(s) were not logged" in err


def _wandb_records(path: Path) -> list[bytes]:
    """The records of an offline run's ``.wandb`` file (a LevelDB-style log of 32 KiB blocks)."""
    data = path.read_bytes()
    assert data[:4] == b":W&B"
    pos, block, out, buf = 7, 32768, [], b""
    while pos + 7 <= len(data):
        left = block - pos % block
        if left < 7:  # a block's tail too short for a record header is padding
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        chunk = data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind == 1:  # a whole record
            out.append(chunk)
        elif kind == 2:  # first, middle and last pieces of a record
            buf = chunk
        elif kind == 3:
            buf += chunk
        elif kind == 4:
            out.append(buf + chunk)
    return out


def _wandb_run(path: Path) -> dict[str, Any]:
    from wandb.proto import wandb_internal_pb2 as pb

    run: dict[str, Any] = {"summary": {}, "config": {}, "artifacts": [], "history": []}
    for raw in _wandb_records(path):
        record = pb.Record()
        record.ParseFromString(raw)
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run.update(name=record.run.display_name, group=record.run.run_group)
            run["job_type"] = record.run.job_type
            run["tags"] = list(record.run.tags)
            for item in record.run.config.update:
                run["config"][item.key] = json.loads(item.value_json)
        elif kind == "history":  # one row of run.log: its step and the values logged
            row = {"_step": record.history.step.num}
            for h in record.history.item:
                key = h.key or ".".join(h.nested_key)
                if not key.startswith("_"):
                    typed = h.WhichOneof("value")
                    row[key] = getattr(h, typed) if typed else json.loads(h.value_json)
            run["history"].append(row)
        elif kind == "exit":
            run["exit_code"] = record.exit.exit_code
        elif kind == "summary":
            for item in record.summary.update:
                if item.key and not item.key.startswith("_"):
                    run["summary"][item.key] = json.loads(item.value_json)
        elif kind == "artifact":
            run["artifacts"] += [m.path for m in record.artifact.manifest.contents]
    return run


def test_wandb_offline_runs_hold_every_trial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wandb = pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_SILENT", "true")
    tracking = "tracking: {wandb: {project: parabo-test, mode: offline, dir: wb}}\n"
    try:
        study = _run(_study_file(tmp_path, 4, tracking))
    finally:
        wandb.teardown()  # W&B's service process: not left to the tests that count processes
    files = sorted((tmp_path / "wb" / "wandb").glob("offline-run-*/run-*.wandb"))
    runs = [_wandb_run(f) for f in files]
    assert len(runs) == 5  # one per trial and the study's
    assert {r["group"] for r in runs} == {"tracked"}
    (study_run,) = [r for r in runs if r["job_type"] == "study"]
    assert study_run["summary"]["best_value"] == study.best_value
    assert study_run["summary"]["completed"] == 4
    trials = {r["config"]["parabo_trial"]: r for r in runs if r["job_type"] == "trial"}
    assert sorted(trials) == [0, 1, 2, 3]
    for trial in study.trials:
        got = trials[trial.id]
        assert got["summary"]["loss"] == trial.value and got["summary"]["state"] == "complete"
        assert {k: got["config"][k] for k in trial.params} == dict(trial.params)
        assert {"log.txt", "result.json", "params.json"} <= set(got["artifacts"])


REPORTING = """
name: reporting
metric: loss
space:
  x: {type: float, low: 0, high: 10}
  stride: {type: fixed, value: STRIDE}
objective: {python: curves_objectives:tracked}
sampler: random
seed: 0
initial: [{x: 0}, {x: 9}, {x: 0.5}]
early_stopping: {rule: median, min_trials: 1}
run: {trials: 3, workers: 1, backend: BACKEND}
storage: out
"""


def _reporting_study(folder: Path, stride: float, backend: str, tracking: str) -> Study:
    """Trial 0 runs its 6 steps, trial 1 (far worse) is pruned; each reports loss and acc."""
    path = folder / "study.yaml"
    text = REPORTING.replace("STRIDE", str(stride)).replace("BACKEND", backend)
    path.write_text(text + tracking)
    study = _run(path)
    states = [t.state for t in study.trials]
    assert states[0] is TrialState.COMPLETE and states[1] is TrialState.PRUNED
    assert len(study.curve(0)) == 6 and 1 <= len(study.curve(1)) < 6
    return study


def _expected_steps(
    study: Study, trial: Trial, stride: float
) -> dict[str, list[tuple[int, float]]]:
    """Each metric's (step, value) as a tracker logs them: every report, then what is new at the end."""
    curve = study.curve(trial)
    steps = [int(r.step) if stride == 1 else i for i, r in enumerate(curve)]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    pairs = list(zip(steps, curve, strict=True))
    out = {
        "loss": [(s, r.metrics["loss"]) for s, r in pairs],
        "value": [(s, r.metrics["loss"]) for s, r in pairs],
        "acc": [(s, r.metrics["acc"]) for s, r in pairs],
    }
    if stride != 1:  # fractional steps: the reports are numbered and the step is a metric
        out["step"] = [(s, r.step) for s, r in pairs]
    if trial.state is TrialState.COMPLETE:
        out["acc"].append((steps[-1], 2.0))  # the returned acc differs from the last report's
    return out


@pytest.mark.parametrize(("stride", "store"), [(1, "file"), (0.5, "file"), (1, "sqlite")])
def test_mlflow_runs_hold_every_reported_step(
    tmp_path: Path, stride: float, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("mlflow")
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.chdir(tmp_path)  # a SQLite store keeps its artifacts in ./mlruns
    uri = f"file://{tmp_path / 'mlruns'}" if store == "file" else f"sqlite:///{tmp_path / 'm.db'}"
    tracking = f"tracking: {{mlflow: {{experiment: exp, tracking_uri: '{uri}'}}}}\n"
    study = _reporting_study(tmp_path, stride, "thread", tracking)
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("exp")
    runs = client.search_runs([exp.experiment_id], max_results=100)
    by_id = {int(r.data.tags["parabo.trial"]): r for r in runs if "parabo.trial" in r.data.tags}
    assert sorted(by_id) == [t.id for t in study.trials]
    for trial in study.trials:
        run = by_id[trial.id]
        for key, want in _expected_steps(study, trial, stride).items():
            history = client.get_metric_history(run.info.run_id, key)
            got = [(m.step, m.value) for m in sorted(history, key=lambda m: (m.step, m.timestamp))]
            assert got == want, (trial.id, key)
        assert [m.value for m in client.get_metric_history(run.info.run_id, "duration")] == [
            trial.duration
        ]
        assert run.data.tags["parabo.state"] == trial.state.value
        if trial.state is TrialState.COMPLETE:
            assert run.info.status == "FINISHED"
            assert run.data.metrics["acc"] == 2.0  # the final value is the latest
            assert run.data.metrics["loss"] == trial.value
        else:
            assert run.info.status == "KILLED"
            assert run.data.tags["parabo.stopped"] == trial.stopped
            assert run.data.metrics["value"] == trial.value == study.curve(trial)[-1].value


def test_wandb_offline_runs_hold_every_reported_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wandb = pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_SILENT", "true")
    tracking = "tracking: {wandb: {project: parabo-test, mode: offline, dir: wb}}\n"
    try:
        study = _reporting_study(tmp_path, 0.5, "process", tracking)
    finally:
        wandb.teardown()
    files = sorted((tmp_path / "wb" / "wandb").glob("offline-run-*/run-*.wandb"))
    runs = [_wandb_run(f) for f in files]
    trials = {r["config"]["parabo_trial"]: r for r in runs if r["job_type"] == "trial"}
    assert sorted(trials) == [t.id for t in study.trials]
    for trial in study.trials:
        got = trials[trial.id]
        curve = study.curve(trial)
        # one history row per report, in step order, numbered (the steps are fractional)
        assert [row["_step"] for row in got["history"]] == list(range(len(curve)))
        assert [{k: v for k, v in row.items() if k != "_step"} for row in got["history"]] == [
            {"loss": r.metrics["loss"], "acc": r.metrics["acc"], "value": r.value, "step": r.step}
            for r in curve
        ]
        assert got["summary"]["state"] == trial.state.value
        assert trial.state.value in got["tags"]
        if trial.state is TrialState.COMPLETE:
            assert got["summary"]["acc"] == 2.0 and got["exit_code"] == 0
        else:
            assert got["summary"]["stopped"] == trial.stopped and got["exit_code"] == 0
            assert got["summary"]["value"] == trial.value == curve[-1].value


def test_mlflow_logs_the_reports_of_the_final_attempt_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("mlflow")
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    uri = f"file://{tmp_path / 'mlruns'}"
    path = tmp_path / "study.yaml"
    path.write_text(
        "name: retried\nspace: {x: {type: float, low: 0, high: 1}}\n"
        "objective: {python: curves_objectives:flaky_reporter}\nsampler: random\nseed: 0\n"
        "run: {trials: 2, workers: 1, backend: thread, retries: 1, retry_on: [exception]}\n"
        f"storage: out\ntracking: {{mlflow: {{experiment: exp, tracking_uri: '{uri}'}}}}\n"
    )
    study = _run(path)
    assert study.n_complete == 2 and len(study.reports) == 12  # 4 + 2 reports per trial
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("exp")
    runs = client.search_runs([exp.experiment_id], max_results=100)
    by_id = {int(r.data.tags["parabo.trial"]): r for r in runs if "parabo.trial" in r.data.tags}
    assert sorted(by_id) == [0, 1]
    for trial in study.trials:
        x = trial.params["x"]
        history = client.get_metric_history(by_id[trial.id].info.run_id, "value")
        got = [(m.step, m.value) for m in sorted(history, key=lambda m: m.step)]
        assert got == [(1, 10 * (x + 1)), (2, 10 * (x + 2))]  # the first attempt's 4 are not
