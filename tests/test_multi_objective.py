"""Several objectives and constraints: domination, hypervolume, records, resume, exports, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import parabo
from parabo.exceptions import ConfigError
from parabo.pareto import hypervolume, non_dominated, reference_point
from parabo.storage.journal import JOURNAL_FILE
from parabo.trial import FailReason, TrialState

ROOT = Path(__file__).resolve().parents[1]
SPACE = {"x": {"type": "float", "low": 0.0, "high": 1.0}}


# ---------------------------------------------------------------------- domination, hypervolume
def test_non_dominated_two_objectives_by_hand() -> None:
    Y = np.array([[1, 3], [2, 2], [3, 1], [3, 3], [2, 2], [1, 4]], dtype=float)
    # (3, 3) is dominated by (2, 2); (1, 4) by (1, 3); the duplicate (2, 2) is kept twice
    assert non_dominated(Y).tolist() == [True, True, True, False, True, False]


def test_non_dominated_three_objectives_by_hand() -> None:
    Y = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [0, 1, 1]], dtype=float)
    assert non_dominated(Y).tolist() == [True, True, True, False, False]


def test_the_two_objective_sweep_agrees_with_pairwise_domination() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        Y = rng.integers(0, 6, size=(40, 2)).astype(float)  # many ties and duplicates
        pairwise = [not any(np.all(o <= y) and np.any(o < y) for o in Y) for y in Y]
        assert non_dominated(Y).tolist() == pairwise


def test_hypervolume_two_objectives_by_hand() -> None:
    Y = np.array([[1, 3], [2, 2], [3, 1], [3, 3]], dtype=float)
    # staircase: 3*1 + 2*1 + 1*1
    assert hypervolume(Y, np.array([4.0, 4.0])) == pytest.approx(6.0)
    # a point outside the box or on its boundary adds nothing
    assert hypervolume(np.array([[5.0, 0.0], [4.0, 1.0]]), np.array([4.0, 4.0])) == 0.0
    assert hypervolume(np.array([[1.0, 1.0]]), np.array([3.0, 2.0])) == pytest.approx(2.0)


def test_hypervolume_three_objectives_by_hand() -> None:
    ref = np.array([2.0, 2.0, 2.0])
    assert hypervolume(np.array([[1.0, 1.0, 1.0]]), ref) == pytest.approx(1.0)
    # boxes 2*2*1 and 1*1*2 overlapping in a unit cube: 4 + 2 - 1
    assert hypervolume(np.array([[0, 0, 1], [1, 1, 0]], dtype=float), ref) == pytest.approx(5.0)
    # three boxes of 4, pairwise overlaps of 2, a common unit cube: 12 - 6 + 1
    Y = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=float)
    assert hypervolume(Y, ref) == pytest.approx(7.0)
    # a dominated point changes nothing
    assert hypervolume(np.vstack([Y, [1.5, 1.5, 1.5]]), ref) == pytest.approx(7.0)


def test_hypervolume_agrees_with_a_monte_carlo_estimate() -> None:
    rng = np.random.default_rng(0)
    Y = rng.random((12, 3))
    ref = np.ones(3) * 1.1
    U = rng.random((200_000, 3)) * 1.1
    covered = (np.all(U[:, None, :] >= Y[None, :, :], axis=2)).any(axis=1).mean() * 1.1**3
    assert hypervolume(Y, ref) == pytest.approx(covered, abs=0.01)


def test_derived_reference_point() -> None:
    Y = np.array([[0.0, 10.0], [1.0, 0.0]])
    assert reference_point(Y).tolist() == pytest.approx([1.1, 11.0])


# ---------------------------------------------------------------------- the study's records
def _study(**kw: object) -> parabo.Study:
    kw.setdefault("sampler", "random")
    kw.setdefault("seed", 0)
    return parabo.Study(SPACE, **kw)  # type: ignore[arg-type]


def test_tell_a_list_or_a_dict_and_the_front() -> None:
    study = _study(direction=["minimize", "maximize"], metric=["error", "acc"])
    points = [(0.1, 0.5), (0.2, 0.9), (0.3, 0.4), (0.05, 0.2)]
    for i, (e, a) in enumerate(points):
        t = study.ask()
        result = [e, a] if i % 2 else {"error": e, "acc": a, "extra": 7}
        done = study.tell(t, result)
        assert done.state is TrialState.COMPLETE and done.values == (e, a)
        assert done.metrics["error"] == e and done.metrics["acc"] == a
    # (0.3, 0.4) is worse than (0.1, 0.5) in both
    assert [t.id for t in study.pareto_front()] == [0, 1, 3]
    assert study.best is None  # several objectives: no single best
    # maximized accuracy: the reference point is below the front's worst accuracy
    ref = study.reference()
    assert ref is not None and ref[1] < 0.2 and ref[0] > 0.2
    expected = hypervolume(
        np.array([[0.1, -0.5], [0.2, -0.9], [0.05, -0.2]]), np.array([0.3, -0.0])
    )
    assert study.hypervolume([0.3, 0.0]) == pytest.approx(expected)


def test_a_missing_metric_fails_the_trial_naming_it() -> None:
    study = _study(direction=["minimize", "minimize"], metric=["error", "seconds"])
    t = study.tell(study.ask(), {"error": 0.1})
    assert t.state is TrialState.FAILED and t.reason is FailReason.INVALID_RESULT
    assert "'seconds'" in (t.error or "")
    t = study.tell(study.ask(), [0.1, 0.2, 0.3])
    assert "3 values for 2 objectives" in (t.error or "")
    t = study.tell(study.ask(), 0.5)
    assert "needs a list of 2 numbers" in (t.error or "")
    t = study.tell(study.ask(), [0.1, float("nan")])
    assert t.state is TrialState.FAILED and "'seconds'" in (t.error or "")
    cons = _study(metric="loss", constraints={"memory_gb": {"max": 8}})
    t = cons.tell(cons.ask(), {"loss": 1.0})
    assert t.state is TrialState.FAILED and "constrained metric 'memory_gb'" in (t.error or "")


def test_constraint_violation_is_complete_and_infeasible() -> None:
    study = _study(metric="loss", constraints={"memory_gb": {"max": 8}, "recall": {"min": 0.9}})
    a = study.tell(study.ask(), {"loss": 0.1, "memory_gb": 9.5, "recall": 0.8})
    b = study.tell(study.ask(), {"loss": 0.5, "memory_gb": 4.0, "recall": 0.95})
    c = study.tell(study.ask(), {"loss": 0.7, "memory_gb": 8.0, "recall": 0.9})
    assert a.state is TrialState.COMPLETE and not a.feasible
    assert a.violation == pytest.approx(1.5 + 0.1)
    assert b.feasible and b.violation == 0.0 and c.feasible  # the bounds themselves are allowed
    assert study.best is not None and study.best.id == b.id  # the best feasible, not the lowest
    assert [t.id for t in study.pareto_front()] == [b.id]
    df = study.to_dataframe()
    assert df["feasible"].tolist() == [False, True, True]
    assert df["violation_memory_gb"].tolist() == pytest.approx([1.5, 0.0, 0.0])
    assert df["violation_recall"].tolist() == pytest.approx([0.1, 0.0, 0.0])


def test_no_feasible_trial_means_no_best() -> None:
    study = _study(metric="loss", constraints={"m": {"max": 0}})
    study.tell(study.ask(), {"loss": 0.1, "m": 1})
    assert study.best is None and study.pareto_front() == []


def test_a_single_metric_keeps_the_same_journal(tmp_path: Path) -> None:
    with parabo.Study(SPACE, sampler="random", seed=0, storage=tmp_path / "s") as study:
        study.tell(study.ask(), 0.5)
    lines = (tmp_path / "s" / JOURNAL_FILE).read_text().splitlines()
    header, done = (json.loads(line.split(" ", 1)[1]) for line in (lines[0], lines[2]))
    assert set(header) == {"e", "name", "direction", "metric", "space", "t", "v"}
    assert set(done) == {"e", "id", "value", "metrics", "t", "started", "worker"}


def test_resume_with_several_objectives(tmp_path: Path) -> None:
    kw = dict(
        direction=["minimize", "minimize"],
        metric=["error", "seconds"],
        constraints={"memory_gb": {"max": 8}},
        reference_point=[2.0, 2.0],
    )
    from helpers_objectives import two_objectives

    with _study(storage=tmp_path / "s", **kw) as study:
        for _ in range(12):
            t = study.ask()
            study.tell(t, two_objectives(t.params))
        front = [(t.id, t.values) for t in study.pareto_front()]
        hv = study.hypervolume()
        sequence = [study.ask().params for _ in range(3)]
    with _study(storage=tmp_path / "s", **kw) as again:
        assert [(t.id, t.values) for t in again.pareto_front()] == front
        assert again.hypervolume() == hv and hv > 0
        assert all(t.feasible == (t.metrics["memory_gb"] <= 8) for t in again.history)
        assert len(again.interrupted) == 3
    loaded = parabo.Study.load(tmp_path / "s")
    assert loaded.directions == ("minimize", "minimize") and loaded.reference_point == (2.0, 2.0)
    assert [(t.id, t.values) for t in loaded.pareto_front()] == front
    loaded.close()
    assert len(sequence) == 3
    with pytest.raises(ConfigError) as err:
        _study(storage=tmp_path / "s", **{**kw, "direction": ["minimize", "maximize"]})
    assert err.value.field == "direction"
    with pytest.raises(ConfigError) as err:
        _study(storage=tmp_path / "s", **{**kw, "constraints": {"memory_gb": {"max": 4}}})
    assert err.value.field == "constraints"


# ---------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("kw", "field", "words"),
    [
        ({"direction": ["minimize", "maximize"], "metric": ["a"]}, "metric", "lists 1 metrics"),
        ({"direction": "minimize", "metric": ["a", "b"]}, "metric", "direction` as a list of 2"),
        ({"direction": ["minimize", "minimize"], "metric": "a"}, "metric", "names one metric"),
        ({"direction": ["minimize", "down"]}, "direction.1", "'minimize' or 'maximize'"),
        ({"direction": ["minimize", "minimize"], "metric": ["a", "a"]}, "metric", "twice"),
        ({"metric": "a", "constraints": {"m": {"maxx": 8}}}, "constraints.m", "{max: <number>}"),
        ({"metric": "a", "constraints": {"m": {"max": "8"}}}, "constraints.m.max", "finite"),
        ({"constraints": {"m": {"max": 8}}}, "metric", "set `metric`"),
        ({"metric": "a", "reference_point": [1.0]}, "reference_point", "several objectives"),
        (
            {"direction": ["minimize", "minimize"], "reference_point": [1.0]},
            "reference_point",
            "1 values for 2",
        ),
    ],
)
def test_bad_goals_name_the_field(kw: dict, field: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        _study(**kw)
    assert err.value.field == field and words in str(err.value)


def _study_file(tmp_path: Path, extra: str, sampler: str = "sobol") -> Path:
    (tmp_path / "helpers_objectives.py").write_text(
        (ROOT / "tests" / "helpers_objectives.py").read_text()
    )
    path = tmp_path / "study.yaml"
    path.write_text(
        f"""
name: mo
{extra}
space:
  x: {{type: float, low: 0, high: 1}}
objective:
  python: helpers_objectives:two_objectives
sampler: {sampler}
seed: 1
run: {{trials: 12, workers: 2, backend: thread}}
storage: out
"""
    )
    return path


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ("metric: [error, seconds]\ndirection: [minimize]", "metric: lists 2 metrics"),
        ("metric: error\nconstraints:\n  memory_gb: {below: 8}", "constraints.memory_gb:"),
        (
            "metric: [error, seconds]\ndirection: [minimize, minimize]\nreference_point: [1, 2, 3]",
            "reference_point: has 3 values for 2",
        ),
        (
            "metric: [error, seconds]\ndirection: [minimize, minimize]\nrun: {target: 0.1}",
            "run.target: applies to a study with one objective",
        ),
    ],
)
def test_bad_study_files_name_the_field(tmp_path: Path, extra: str, words: str) -> None:
    from parabo.config import load_study_file

    path = _study_file(tmp_path, extra)
    if "run:" in extra:  # one `run` section: the target goes into the file's own
        text = path.read_text().replace("run: {trials: 12,", "run: {target: 0.1, trials: 12,")
        path.write_text(text.replace("\nrun: {target: 0.1}\n", "\n"))
    with pytest.raises(ConfigError) as err:
        load_study_file(path)
    assert words in str(err.value)


# ---------------------------------------------------------------------- files and the CLI
def _parabo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parabo.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_run_writes_pareto_json_and_the_cli_prints_the_front(tmp_path: Path) -> None:
    path = _study_file(
        tmp_path,
        "metric: [error, seconds]\ndirection: [minimize, minimize]\n"
        "constraints:\n  memory_gb: {max: 8}",
    )
    r = _parabo("run", str(path), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    record = json.loads((out / "pareto.json").read_text())
    assert f"Pareto front: {record['pareto_size']} trials" in r.stderr
    assert not (out / "best.json").exists()
    assert record["directions"] == {"error": "minimize", "seconds": "minimize"}
    xs = [t["params"]["x"] for t in record["trials"]]
    # every x <= 0.8 is on the front (error and seconds trade off); larger x is infeasible
    assert xs and all(x <= 0.8 for x in xs) and all(t["feasible"] for t in record["trials"])
    assert record["pareto_size"] == len(xs) and record["hypervolume"] > 0

    r = _parabo("best", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"Pareto front: {len(xs)} trials of 12 completed"
    assert lines[1].split() == ["trial", "error", "(min)", "seconds", "(min)", "x"]
    assert len(lines) == 2 + len(xs)
    first = lines[2].split()  # sorted by the first objective: the largest feasible x first
    assert float(first[3]) == pytest.approx(max(xs), rel=1e-5)

    r = _parabo("best", str(out), "--json", cwd=tmp_path)
    assert json.loads(r.stdout)["pareto_size"] == len(xs)

    r = _parabo("status", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "(minimize error, minimize seconds)" in r.stdout
    assert f"Pareto front {len(xs)} trials, hypervolume" in r.stdout
    assert "derived from the front" in r.stdout
    status = json.loads(_parabo("status", str(out), "--json", cwd=tmp_path).stdout)
    assert status["pareto_size"] == len(xs) and status["reference_point_from"] == "derived"

    r = _parabo("export", str(out), "--format", "csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    import pandas as pd

    df = pd.read_csv(out / "trials.csv")
    assert {"values_error", "values_seconds", "feasible", "violation_memory_gb"} <= set(df)
    assert status["feasible"] == int(df["feasible"].sum()) == int((df["params_x"] <= 0.8).sum())
    infeasible = df[df["params_x"] > 0.8]
    assert (~infeasible["feasible"]).all()
    assert infeasible["violation"].tolist() == pytest.approx(
        (10 * infeasible["params_x"] - 8).tolist()
    )


def test_first_result_without_a_constrained_metric_stops_the_run(tmp_path: Path) -> None:
    path = _study_file(tmp_path, "metric: error\nconstraints:\n  gpu_gb: {max: 8}")
    r = _parabo("run", str(path), cwd=tmp_path)
    assert r.returncode == 1
    assert "'gpu_gb'" in r.stderr and "Stopped before running more trials" in r.stderr


def test_best_with_constraints_is_the_best_feasible(tmp_path: Path) -> None:
    path = _study_file(tmp_path, "metric: error\nconstraints:\n  memory_gb: {max: 8}")
    assert _parabo("run", str(path), cwd=tmp_path).returncode == 0
    out = tmp_path / "out"
    best = json.loads((out / "best.json").read_text())
    assert best["feasible"] is True and best["metrics"]["memory_gb"] <= 8
    r = _parabo("best", str(out), "--json", cwd=tmp_path)
    assert json.loads(r.stdout)["id"] == best["id"]


def test_a_study_file_with_gp_options_for_one_objective_is_refused(tmp_path: Path) -> None:
    from parabo.config import load_study_file

    path = _study_file(
        tmp_path,
        "metric: [error, seconds]\ndirection: [minimize, minimize]",
        sampler="{name: gp, pending: fantasy}",
    )
    with pytest.raises(ConfigError) as err:
        load_study_file(path)
    assert err.value.field == "sampler.pending" and "fantasy" in str(err.value)


def test_simulate_refuses_several_objectives(tmp_path: Path) -> None:
    path = _study_file(tmp_path, "metric: [error, seconds]\ndirection: [minimize, minimize]")
    r = _parabo("simulate", str(path), "--workers", "1", "--duration", "10s", cwd=tmp_path)
    assert r.returncode == 2 and "direction" in r.stderr and "one objective" in r.stderr
