from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from parabo.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def parabo(*args: str, cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parabo.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


STUDY = """
name: t
direction: minimize
metric: loss
space:
  x: {type: float, low: -5, high: 10}
  lr: {type: float, low: 1.0e-5, high: 0.1, log: true}
  layers: {type: int, low: 1, high: 4}
  optimizer: {type: categorical, choices: [adam, sgd]}
objective:
  python: helpers_objectives:metrics
run: {trials: 6, workers: 2, backend: process}
storage: out
"""


def test_run_status_best_export(tmp_path: Path) -> None:
    study = write(tmp_path / "study.yaml", STUDY)
    env_copy = tmp_path / "helpers_objectives.py"
    env_copy.write_text((ROOT / "tests" / "helpers_objectives.py").read_text())
    r = parabo("run", str(study), "--trials", "8", "--workers", "2", "--seed", "1", "-v")
    assert r.returncode == 0, r.stderr
    assert "8/8 done" in r.stderr and "trial 0:" in r.stderr
    out = tmp_path / "out"
    r = parabo("status", str(out), "--json")
    assert json.loads(r.stdout)["completed"] == 8
    r = parabo("best", str(out), "--json")
    best = json.loads(r.stdout)
    assert set(best["params"]) == {"x", "lr", "layers", "optimizer"}
    for fmt in ("csv", "parquet", "json"):
        r = parabo("export", str(out), "--format", fmt)
        assert r.returncode == 0, r.stderr
    df = pd.read_parquet(out / "trials.parquet")
    assert len(df) == 8 and {
        "params_x",
        "params_optimizer",
        "value",
        "state",
        "duration",
        "worker",
    } <= set(df.columns)
    assert len(pd.read_csv(out / "trials.csv")) == 8
    # running again resumes: nothing more to do at the same budget, 4 more with --trials 12
    r = parabo("run", str(study), "--trials", "12", "--workers", "2")
    assert r.returncode == 0 and "resuming with 8 finished" in r.stderr
    assert json.loads(parabo("status", str(out), "--json").stdout)["completed"] == 12


@pytest.mark.parametrize(
    "text, words",
    [
        ("name: [", "not valid YAML at line"),
        (STUDY.replace("run: {", "runn: {"), "runn: unknown key 'runn'"),
        (STUDY.replace("workers: 2", "workers: 0"), "run.workers"),
        (STUDY.replace("workers: 2", "workers: two"), "run.workers"),
        (STUDY.replace("backend: process", "backend: gpu"), "run.backend"),
        (
            STUDY.replace("low: -5, high: 10", "low: 10, high: -5"),
            "space.x: low (10) must be smaller",
        ),
        (STUDY.replace("direction: minimize", "direction: down"), "direction"),
        (
            STUDY.replace("python: helpers_objectives:metrics", "python: nomodule"),
            "objective.python",
        ),
        (
            STUDY.replace("python: helpers_objectives:metrics", "python: nomodule_xyz:f"),
            "cannot import module",
        ),
        (
            STUDY.replace("python: helpers_objectives:metrics", "command: 'python train.py'"),
            "objective.command",
        ),
        (STUDY + "sampler: bogus\n", "unknown sampler 'bogus'"),
        (STUDY.replace("run: {trials: 6,", "run: {timeout: -3, trials: 6,"), "run.timeout"),
    ],
)
def test_bad_study_files_exit_2_with_one_clear_line(tmp_path: Path, text: str, words: str) -> None:
    study = write(tmp_path / "study.yaml", text)
    r = parabo("run", str(study))
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert words in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--workers", "0"], "--workers"),
        (["--timeout", "soon"], "--timeout"),
        (["--sampler", "{bad"], "--sampler"),
        (["--backend", "x"], "--backend"),
        (["--seed", "-5"], "--seed: must be a whole number from 0 to"),
        (["--workers", "100000"], "--workers: must be at most 4096"),
        (["--trials", "100000000"], "--trials: must be at most 10000000"),
        (["--stop-grace", "-1"], "--stop-grace"),
        (["--target", "nan"], "--target"),
    ],
)
def test_bad_flags_exit_2(tmp_path: Path, flags: list[str], words: str) -> None:
    study = write(tmp_path / "study.yaml", STUDY)
    r = parabo("run", str(study), *flags)
    assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr


def test_missing_things(tmp_path: Path) -> None:
    r = parabo("run", str(tmp_path / "nope.yaml"))
    assert r.returncode == 2 and "no such study file" in r.stderr
    r = parabo("status", str(tmp_path))
    assert r.returncode == 2 and "not a study folder" in r.stderr


def test_ctrl_c_waits_for_running_trials_and_exits_130(tmp_path: Path) -> None:
    text = STUDY.replace(
        "python: helpers_objectives:metrics", "python: helpers_objectives:slow_quadratic"
    )
    text = text.replace("metric: loss\n", "").replace("trials: 6", "trials: 1000")
    text = text.replace("layers: {type: int, low: 1, high: 4}", "sleep: {type: fixed, value: 0.5}")
    study = write(tmp_path / "study.yaml", text)
    (tmp_path / "helpers_objectives.py").write_text(
        (ROOT / "tests" / "helpers_objectives.py").read_text()
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "parabo.cli", "run", str(study)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    journal = tmp_path / "out" / "journal.jsonl"
    while time.monotonic() < deadline and (
        not journal.exists() or journal.read_text().count('"e":"done"') < 2
    ):
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Ctrl-C: no new trials; waiting for the" in err  # the first Ctrl-C says what it does
    assert "Ctrl-C again cancels them" in err
    status = json.loads(parabo("status", str(tmp_path / "out"), "--json").stdout)
    assert status["running"] == 0 and status["completed"] >= 2  # the trials in flight finished


def test_every_help_text_is_printed_as_written() -> None:
    """Click does not %-format help texts: a literal ``%%`` would show doubled."""
    for args in ([], ["run"], ["simulate"], ["status"], ["best"], ["export"]):
        result = CliRunner().invoke(cli, [*args, "--help"])
        assert result.exit_code == 0, result.output
        assert "%%" not in result.output, (args, result.output)


def test_a_run_in_which_every_trial_failed_exits_1(tmp_path: Path) -> None:
    (tmp_path / "always_fails.py").write_text("def f(params):\n    raise RuntimeError('boom')\n")
    study = write(
        tmp_path / "study.yaml",
        "space:\n  x: {type: float, low: 0, high: 1}\nobjective: {python: always_fails:f}\n"
        "sampler: random\nrun: {trials: 3, backend: inline}\nstorage: out\n",
    )
    r = parabo("run", str(study), "-q", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "no trial succeeded (3 failed)" in r.stderr
