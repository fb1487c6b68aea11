"""Nothing outside the study folder is touched, and what can be checked once is checked before the first trial.

Before: ``objective.result_file: ../../../precious.txt`` deleted that file before
every trial; a ``name`` with ``..`` or an absolute path wrote the study outside
``runs/``; a program that does not exist, or a dict result without the metric,
showed only trial by trial (21 failures, then a stop).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from parabo.exceptions import ConfigError
from parabo.objectives import CommandObjective, TrialContext, check_result_file


def parabo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parabo.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def study_file(folder: Path, body: str) -> Path:
    path = folder / "study.yaml"
    path.write_text("space:\n  x: {type: float, low: 0, high: 1}\n" + body)
    return path


PRINT_ONE = "objective:\n  command: [python3, -c, 'print(1.0)']\n"


@pytest.mark.parametrize(
    "name", ["../../../precious.txt", "/etc/passwd", "a/../../b", "~/x", "..", "x/..", ""]
)
def test_result_file_outside_the_trial_folder_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        check_result_file(name)
    with pytest.raises(ConfigError, match="objective.result_file"):
        CommandObjective(("true",), result_file=name)


def test_result_file_traversal_never_removes_the_file(tmp_path: Path) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    path = study_file(
        work,
        PRINT_ONE
        + "  result_file: ../../../precious.txt\nrun: {trials: 2, backend: thread}\n"
        + "storage: out\n",
    )
    r = parabo("run", str(path), cwd=work)
    assert r.returncode == 2 and "objective.result_file" in r.stderr, r.stderr
    assert "no '..'" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert precious.read_text() == "keep me" and not (work / "out").exists()


def test_a_symlinked_result_folder_is_refused_at_trial_time(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "result.json").write_text("keep")
    trial = tmp_path / "trial"
    trial.mkdir()
    (trial / "out").symlink_to(outside)
    obj = CommandObjective(("true",), result_file="out/result.json")
    from parabo.objectives import ObjectiveFailure

    with pytest.raises(ObjectiveFailure, match="outside the trial folder"):
        obj.run(TrialContext(0, {"x": 0.5}, trial_dir=str(trial)))
    assert (outside / "result.json").read_text() == "keep"


@pytest.mark.parametrize("name", ["../../escaped", "/ABS/elsewhere", "a/../../b", ".."])
def test_a_name_never_puts_the_study_outside_runs(name: str, tmp_path: Path) -> None:
    name = name.replace("/ABS", str(tmp_path))
    work = tmp_path / "w" / "x"
    work.mkdir(parents=True)
    path = study_file(work, f"name: '{name}'\n" + PRINT_ONE + "run: {trials: 1, backend: thread}\n")
    before = sorted(p for p in tmp_path.rglob("*"))
    r = parabo("run", str(path), cwd=work)
    assert r.returncode == 2 and r.stderr.startswith("error: name:"), r.stderr
    assert "outside runs/" in r.stderr and "storage" in r.stderr
    assert sorted(p for p in tmp_path.rglob("*")) == before


def test_a_nested_plain_name_stays_under_runs(tmp_path: Path) -> None:
    path = study_file(
        tmp_path, "name: exp/one\n" + PRINT_ONE + "run: {trials: 1, backend: thread}\n"
    )
    r = parabo("run", str(path), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "runs" / "exp" / "one" / "journal.jsonl").exists()


@pytest.mark.parametrize(
    ("program", "words"),
    [
        ("no-such-program-parabo", "not found on PATH"),
        ("./missing.sh", "is not a file"),
        ("./plain.sh", "is not executable"),
    ],
)
def test_a_missing_program_is_found_before_the_first_trial(
    program: str, words: str, tmp_path: Path
) -> None:
    (tmp_path / "plain.sh").write_text("echo 1\n")
    path = study_file(
        tmp_path, f"objective:\n  command: ['{program}']\nrun: {{trials: 30, backend: thread}}\n"
    )
    r = parabo("run", str(path), cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("error: objective.command:") and words in r.stderr, r.stderr
    assert not (tmp_path / "runs").exists()  # nothing started


def test_a_program_on_the_objectives_own_path_is_found(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "my-tool"
    tool.write_text("#!/bin/sh\necho 2.0\n")
    tool.chmod(0o755)
    CommandObjective(("my-tool",), env={"PATH": f"{bin_dir}{os.pathsep}/usr/bin"}).check()
    CommandObjective(("./bin/my-tool",), cwd=str(tmp_path)).check()
    CommandObjective(("{study_file_dir}/bin/my-tool",), cwd=str(tmp_path)).check()


def test_a_missing_metric_stops_on_the_first_result(tmp_path: Path) -> None:
    path = study_file(
        tmp_path,
        "metric: loss\n"
        'objective:\n  command: [python3, -c, \'print("{\\"acc\\": 0.5}")\']\n'
        "run: {trials: 30, workers: 1, backend: thread}\n",
    )
    r = parabo("run", str(path), cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the objective's first result cannot be read"), r.stderr
    assert "no metric 'loss'" in last and "acc" in last
    assert r.stderr.count("failed (invalid_result)") == 1  # not 20 failures in a row


def test_a_timed_out_python_thread_says_it_cannot_be_stopped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import time

    from parabo.executors.base import Task
    from parabo.executors.thread import ThreadExecutor
    from parabo.objectives import PythonObjective

    ex = ThreadExecutor(PythonObjective(lambda p: time.sleep(1.5) or 1.0), 1)
    ex.submit(Task(0, {}, timeout=0.2))
    t0 = time.monotonic()
    out = []
    while not out and time.monotonic() - t0 < 5:
        out = ex.collect(timeout=0.5)
    ex.close(cancel=True)
    assert len(out) == 1 and out[0].reason == "timeout"
    error = out[0].error or ""
    assert "cannot be stopped" in error and "process backend" in error, error
    assert any("cannot be stopped" in r.getMessage() for r in caplog.records)


def test_on_dask_a_command_program_is_left_to_the_workers() -> None:
    from parabo.optimize import _check
    from parabo.run_options import Backend

    missing = CommandObjective(("/cluster/only/train",))
    _check(missing, Backend.DASK)  # may exist on the cluster's machines only
    _check(missing, "dask")
    with pytest.raises(ConfigError, match="objective.command"):
        _check(missing, Backend.THREAD)


def _nan_first(params: dict) -> dict:
    return {"loss": float("nan") if params["i"] == 0 else float(params["i"]), "acc": 1.0}


def test_a_nan_metric_first_fails_only_its_trial() -> None:
    from parabo import Study, TrialState
    from parabo.executors.inline import InlineExecutor
    from parabo.objectives import PythonObjective
    from parabo.run_options import StopRule
    from parabo.scheduler import Scheduler

    study = Study({"i": {"type": "int", "low": 0, "high": 3}}, metric="loss", seed=0)
    for i in range(3):
        study.enqueue({"i": i})
    summary = Scheduler(
        study,
        InlineExecutor(PythonObjective(_nan_first)),
        stop=StopRule(trials=3),
        handle_signals=False,
    ).run()
    assert summary.stop_reason == "trials" and summary.message is None
    assert [t.state for t in study.trials] == [
        TrialState.FAILED,
        TrialState.COMPLETE,
        TrialState.COMPLETE,
    ]
