"""Warm starts and enqueued points: the journal remembers them, the samplers see them."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import parabo
from parabo import Study
from parabo.config import load_study_file
from parabo.exceptions import ConfigError
from parabo.optimize import run_study
from parabo.samplers.gp import GPSampler

ROOT = Path(__file__).resolve().parents[1]
SPACE = {
    "x": {"type": "float", "low": -5, "high": 10},
    "y": {"type": "float", "low": 0, "high": 15},
    "opt": {"type": "categorical", "choices": ["adam", "sgd"]},
}
STUDY = """
name: warm
metric: loss
space:
  x: {type: float, low: -5, high: 10}
  y: {type: float, low: 0, high: 15}
  opt: {type: categorical, choices: [adam, sgd]}
objective:
  python: warm_start_objective:branin_loss
sampler: gp
seed: 4
run: {trials: TRIALS, backend: inline}
storage: out
"""


def branin(x: float, y: float) -> float:
    return (
        (y - 5.1 / (4 * math.pi**2) * x**2 + 5 / math.pi * x - 6) ** 2
        + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x)
        + 10
    )


@pytest.fixture
def study_dir(tmp_path: Path) -> Path:
    (tmp_path / "warm_start_objective.py").write_text(
        "import math\n"
        "def branin_loss(p):\n"
        "    x, y = p['x'], p['y']\n"
        "    v = (y - 5.1 / (4 * math.pi**2) * x**2 + 5 / math.pi * x - 6) ** 2 "
        "+ 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10\n"
        "    return {'loss': v + (p['opt'] == 'sgd')}\n"
    )
    return tmp_path


def _write(folder: Path, trials: int, extra: str = "") -> Path:
    path = folder / "study.yaml"
    path.write_text(STUDY.replace("TRIALS", str(trials)) + extra)
    return path


def _run(path: Path) -> Study:
    cfg, base = load_study_file(path)
    study, _ = run_study(cfg, base)
    return Study.load(base / "out")


def _table(n: int) -> pd.DataFrame:
    rows = []
    for i in range(n):
        x, y = -5 + 15 * ((i * 0.618) % 1), 15 * ((i * 0.382) % 1)
        opt = "adam" if i % 3 else "sgd"
        rows.append({"x": x, "y": y, "opt": opt, "loss": branin(x, y) + (opt == "sgd")})
    return pd.DataFrame(rows)


def test_enqueued_points_are_journaled_and_tried_first_after_a_resume(tmp_path: Path) -> None:
    with Study(SPACE, sampler="sobol", seed=0, storage=tmp_path / "s") as study:
        study.enqueue({"x": 1.0, "y": 2.0, "opt": "sgd"})
        study.enqueue({"x": 3.0, "y": 4.0, "opt": "adam"})
        first = study.ask()
        assert first.params == {"x": 1.0, "y": 2.0, "opt": "sgd"} and first.source == "enqueue"
    with Study(SPACE, sampler="sobol", seed=0, storage=tmp_path / "s") as study:
        assert study.queued == [{"x": 3.0, "y": 4.0, "opt": "adam"}]
        study.tell(0, 1.0)
        t = study.ask(2)
        assert t[0].params == {"x": 3.0, "y": 4.0, "opt": "adam"} and t[0].source == "enqueue"
        assert t[1].source is None and study.queued == []


def test_initial_points_run_first_and_once(study_dir: Path) -> None:
    extra = "initial:\n  - {x: 1.0, y: 2.0, opt: sgd}\n  - {x: 9.0, y: 14.0, opt: adam}\n"
    study = _run(_write(study_dir, 3, extra))
    assert [t.params for t in study.trials[:2]] == [
        {"x": 1.0, "y": 2.0, "opt": "sgd"},
        {"x": 9.0, "y": 14.0, "opt": "adam"},
    ]
    assert [t.source for t in study.trials] == ["initial", "initial", None]
    study = _run(_write(study_dir, 6, extra))  # resumed: the points are not enqueued again
    assert study.n_trials == 6 and [t.source for t in study.trials[2:]] == [None] * 4


def test_initial_points_are_checked_against_the_space(study_dir: Path) -> None:
    path = _write(study_dir, 3, "initial:\n  - {x: 1.0, y: 2.0, opt: sgd}\n  - {x: 99, y: 1}\n")
    with pytest.raises(ConfigError, match=r"initial: point 1: .*x.*outside"):
        load_study_file(path)


def test_warm_start_from_a_csv_is_told_first_and_the_first_gp_suggestion_uses_it(
    study_dir: Path,
) -> None:
    _table(12).to_csv(study_dir / "old.csv", index=False)
    study = _run(_write(study_dir, 2, "warm_start: old.csv\n"))
    # the warm start does not count toward run.trials: 12 told, 2 run
    assert study.n_trials == 14 and study.n_warm == 12
    assert [t.source for t in study.trials] == ["warm_start"] * 12 + [None, None]
    told = study.trials[:12]
    assert [t.value for t in told] == pytest.approx(list(_table(12)["loss"]))
    # the first suggestion is the GP's on the told trials (past its initial design of 5)
    expected = GPSampler(seed=4).ask(study.space, told, [], 1, "minimize")[0]
    assert dict(study.trials[12].params) == expected
    cold = Study(SPACE, sampler="gp", seed=4).ask()
    assert dict(study.trials[12].params) != dict(cold.params)
    status = subprocess.run(
        [sys.executable, "-m", "parabo.cli", "status", str(study_dir / "out")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert "told by a warm start 12" in status.stdout
    # resumed with a larger budget: told once
    study = _run(_write(study_dir, 4, "warm_start: old.csv\n"))
    assert study.n_warm == 12 and study.n_trials == 16
    exported = study.to_dataframe()
    assert list(exported["source"][:12]) == ["warm_start"] * 12


def test_warm_start_rows_that_do_not_fit_are_each_named(study_dir: Path) -> None:
    table = _table(6)
    table.loc[1, "x"] = 42.0
    table.loc[3, "opt"] = "rmsprop"
    table.loc[4, "loss"] = float("nan")
    table.to_csv(study_dir / "old.csv", index=False)
    with pytest.raises(ConfigError) as info:
        _run(_write(study_dir, 2, "warm_start: old.csv\n"))
    message = str(info.value)
    assert message.startswith("warm_start: 3 row(s)")
    assert "row 2: x: 42.0 is outside" in message
    assert "row 4: opt:" in message and "rmsprop" in message
    assert "row 5: the value nan is not a number" in message
    assert not (study_dir / "out").exists()  # refused before the study folder was made


def test_warm_start_table_without_the_metric_column(study_dir: Path) -> None:
    _table(3).drop(columns=["loss"]).to_csv(study_dir / "old.csv", index=False)
    with pytest.raises(ConfigError, match=r"warm_start: .*no column 'loss'"):
        _run(_write(study_dir, 1, "warm_start: old.csv\n"))


def test_warm_start_from_a_parquet_export_and_from_a_study_folder(study_dir: Path) -> None:
    old = parabo.minimize(
        lambda p: {"loss": branin(p["x"], p["y"])},
        SPACE,
        metric="loss",
        trials=6,
        sampler="sobol",
        seed=1,
        backend="inline",
        storage=study_dir / "old",
    )
    from parabo.results import export_trials

    export_trials(Study.load(study_dir / "old"), "parquet", study_dir / "old.parquet")
    for source in ("old", "old.parquet"):
        extra = (
            f"warm_start: {{path: {source}, metric: {'loss' if source == 'old' else 'value'}}}\n"
        )
        study = _run(_write(study_dir, 1, extra))
        assert [dict(t.params) for t in study.trials[:6]] == [dict(t.params) for t in old.trials]
        assert [t.value for t in study.trials[:6]] == [t.value for t in old.trials]
        import shutil

        shutil.rmtree(study_dir / "out")


def test_warm_start_from_an_optuna_journal(study_dir: Path) -> None:
    optuna = pytest.importorskip("optuna")
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    storage = JournalStorage(JournalFileBackend(str(study_dir / "optuna.log")))
    theirs = optuna.create_study(storage=storage, study_name="theirs")

    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", -5, 10)
        y = trial.suggest_float("y", 0, 15)
        opt = trial.suggest_categorical("opt", ["adam", "sgd"])
        return branin(x, y) + (opt == "sgd")

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    theirs.optimize(objective, n_trials=8)
    study = _run(_write(study_dir, 1, "warm_start: optuna.log\n"))
    assert study.n_warm == 8
    assert [dict(t.params) for t in study.trials[:8]] == [t.params for t in theirs.trials]
    assert [t.value for t in study.trials[:8]] == [t.value for t in theirs.trials]


def test_warm_start_from_an_optuna_storage_url(study_dir: Path) -> None:
    optuna = pytest.importorskip("optuna")
    pytest.importorskip("sqlalchemy")
    url = f"sqlite:///{study_dir / 'optuna.db'}"
    theirs = optuna.create_study(storage=url, study_name="a")
    optuna.create_study(storage=url, study_name="b")  # two studies: the file names one
    for x in (1.0, 2.0, 3.0):
        theirs.enqueue_trial({"x": x, "y": 1.0, "opt": "adam"})
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    theirs.optimize(
        lambda t: (
            t.suggest_float("x", -5, 10)
            + t.suggest_float("y", 0, 15)
            + (t.suggest_categorical("opt", ["adam", "sgd"]) == "sgd")
        ),
        n_trials=3,
    )
    with pytest.raises(ConfigError, match="holds 2 studies .*name one with warm_start.study"):
        _run(_write(study_dir, 1, f"warm_start: '{url}'\n"))
    study = _run(_write(study_dir, 1, f"warm_start: {{path: '{url}', study: a}}\n"))
    assert [t.value for t in study.trials[:3]] == [2.0, 3.0, 4.0] and study.n_warm == 3


def test_parabo_enqueue_command(study_dir: Path) -> None:
    path = _write(study_dir, 2)
    _run(path)
    (study_dir / "p.json").write_text(json.dumps([{"x": 0.5, "y": 0.5, "opt": "adam"}]))
    cmd = [sys.executable, "-m", "parabo.cli", "enqueue", str(path), str(study_dir / "p.json")]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=study_dir)
    assert done.returncode == 0, done.stderr
    assert "enqueued 1 point(s)" in done.stdout
    study = _run(_write(study_dir, 3))
    assert dict(study.trials[2].params) == {"x": 0.5, "y": 0.5, "opt": "adam"}
    assert study.trials[2].source == "enqueue"
    # a point that does not fit, and a running (locked) study
    (study_dir / "bad.json").write_text(json.dumps({"x": 50, "y": 1, "opt": "adam"}))
    bad = subprocess.run(
        [*cmd[:-1], str(study_dir / "bad.json")], capture_output=True, text=True, cwd=study_dir
    )
    assert bad.returncode == 2 and "x: 50" in bad.stderr
    # a running (locked) study: the points are left for its coordinator, which takes them
    (study_dir / "p.json").write_text(json.dumps({"x": 7.5, "y": 7.5, "opt": "sgd"}))
    with Study(SPACE, sampler="random", storage=study_dir / "out", metric="loss"):
        running = subprocess.run(cmd, capture_output=True, text=True, cwd=study_dir)
    assert running.returncode == 0 and "is running" in running.stdout
    assert len(list((study_dir / "out" / "enqueue").glob("*.json"))) == 1
    study = _run(_write(study_dir, 4))  # left while no coordinator ran: taken when it starts
    assert dict(study.trials[3].params) == {"x": 7.5, "y": 7.5, "opt": "sgd"}
    assert not list((study_dir / "out" / "enqueue").glob("*.json"))


def test_parabo_enqueue_into_a_running_study(study_dir: Path) -> None:
    (study_dir / "slow.py").write_text(
        "import time\ndef f(p):\n    time.sleep(0.2)\n    return {'loss': p['x'] ** 2}\n"
    )
    path = _write(study_dir, 30).read_text().replace("warm_start_objective:branin_loss", "slow:f")
    (study_dir / "study.yaml").write_text(path.replace("backend: inline", "backend: thread"))
    run = subprocess.Popen(
        [sys.executable, "-m", "parabo.cli", "run", "study.yaml", "-q"],
        cwd=study_dir,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        journal = study_dir / "out" / "journal.jsonl"
        for _ in range(200):  # until the run has started trials
            if journal.exists() and journal.read_text().count('"e":"done"') >= 2:
                break
            time.sleep(0.05)
        box = study_dir / "out" / "enqueue"
        box.mkdir(exist_ok=True)
        (box / "0-bad.json").write_text('{"x": 99}')  # refused, kept aside, named once
        (study_dir / "p.json").write_text(json.dumps({"x": -4.25, "y": 1.0, "opt": "adam"}))
        done = subprocess.run(
            [sys.executable, "-m", "parabo.cli", "enqueue", "study.yaml", "p.json"],
            cwd=study_dir,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0 and "is running" in done.stdout, done.stderr
        _, err = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, err
    study = Study.load(study_dir / "out")
    taken = [t for t in study.trials if t.source == "enqueue"]
    assert [dict(t.params) for t in taken] == [{"x": -4.25, "y": 1.0, "opt": "adam"}]
    assert study.n_trials == 30 and taken[0].id < 29
    assert (box / "0-bad.rejected").exists() and not list(box.glob("*.json"))
    assert "0-bad.json was not enqueued" in err
