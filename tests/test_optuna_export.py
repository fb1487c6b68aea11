"""`parabo export --format optuna`: Optuna opens the file and every trial is equal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from parabo import Study
from parabo.config import load_study_file
from parabo.optimize import run_study

optuna = pytest.importorskip("optuna")
from optuna.storages import JournalStorage  # noqa: E402
from optuna.storages.journal import JournalFileBackend  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SPACE = {
    "lr": {"type": "float", "low": 1e-4, "high": 1.0, "log": True},
    "k": {"type": "int", "low": 1, "high": 9},
    "opt": {"type": "categorical", "choices": ["adam", "sgd", 3]},
    "epochs": {"type": "fixed", "value": 10},
}


def _study(folder: Path) -> Study:
    with Study(SPACE, "maximize", sampler="sobol", seed=2, storage=folder, metric="acc") as study:
        study.add_trial({"lr": 0.01, "k": 3, "opt": "adam"}, {"acc": 0.9, "loss": 0.1})
        for t in study.ask(7):
            if t.params["k"] % 3 == 0:
                study.tell(t, error="diverged", reason="exception")
            else:
                study.mark_started(t, worker="w1")
                study.tell(t, {"acc": 1 / t.params["k"], "loss": t.params["lr"]})
        study.ask()  # left running
    return Study.load(folder)


def test_exported_study_opens_in_optuna_with_every_trial_equal(tmp_path: Path) -> None:
    study = _study(tmp_path / "s")
    done = subprocess.run(
        [sys.executable, "-m", "parabo.cli", "export", str(tmp_path / "s"), "--format", "optuna"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    path = tmp_path / "s" / "optuna-journal.log"
    assert f"wrote {study.n_trials} trials to {path}" in done.stdout
    loaded = optuna.load_study(
        study_name=study.name, storage=JournalStorage(JournalFileBackend(str(path)))
    )
    assert loaded.direction == optuna.study.StudyDirection.MAXIMIZE
    theirs = loaded.get_trials(deepcopy=False)
    assert len(theirs) == study.n_trials == 9
    states = {"complete": "COMPLETE", "failed": "FAIL", "running": "RUNNING"}
    for mine, t in zip(study.trials, theirs, strict=True):
        assert t.number == mine.id
        assert t.state.name == states[mine.state.value]
        assert t.params == dict(mine.params)  # the fixed parameter included
        assert t.value == mine.value
        assert t.user_attrs["parabo_metrics"] == dict(mine.metrics)
        assert t.user_attrs.get("parabo_source") == mine.source
        assert t.user_attrs.get("parabo_error") == mine.error
        if mine.finished_at is not None:
            assert t.datetime_complete is not None
            assert abs(t.datetime_complete.timestamp() - mine.finished_at) < 1e-3
    assert loaded.best_trial.number == study.best.id  # type: ignore[union-attr]
    assert (
        isinstance(theirs[0].distributions["lr"], optuna.distributions.FloatDistribution)
        and theirs[0].distributions["lr"].log
    )


def test_an_exported_study_warm_starts_another(tmp_path: Path) -> None:
    study = _study(tmp_path / "s")
    from parabo.results import export_trials

    path = export_trials(study, "optuna", tmp_path / "exported.log")
    (tmp_path / "export_objective.py").write_text("def f(p):\n    return {'acc': 1 / p['k']}\n")
    (tmp_path / "study.yaml").write_text(
        f"name: again\ndirection: maximize\nmetric: acc\nspace: {SPACE!r}\n".replace("'", '"')
        + "objective: {python: export_objective:f}\nsampler: random\nseed: 0\n"
        f"run: {{trials: 1, backend: inline}}\nstorage: out\nwarm_start: {path.name}\n"
    )
    cfg, base = load_study_file(tmp_path / "study.yaml")
    run_study(cfg, base)
    again = Study.load(tmp_path / "out")
    complete = [t for t in study.trials if t.state.value == "complete"]
    assert again.n_warm == len(complete)
    assert [dict(t.params) for t in again.trials[: len(complete)]] == [
        dict(t.params) for t in complete
    ]
    assert [t.value for t in again.trials[: len(complete)]] == [t.value for t in complete]


def test_optuna_dashboard_serves_every_exported_trial(tmp_path: Path) -> None:
    pytest.importorskip("optuna_dashboard")
    import io
    import json
    from wsgiref.util import setup_testing_defaults

    from optuna_dashboard._app import create_app
    from optuna_dashboard._cli import get_storage  # how `optuna-dashboard FILE` opens a file

    from parabo.results import export_trials

    study = _study(tmp_path / "s")
    app = create_app(get_storage(str(export_trials(study, "optuna"))))

    def get(path: str) -> dict:
        env: dict = {"PATH_INFO": path, "wsgi.input": io.BytesIO()}
        setup_testing_defaults(env)
        status: list[str] = []
        body = b"".join(app(env, lambda s, h, e=None: status.append(s)))
        assert status == ["200 OK"], (path, status, body[:200])
        return json.loads(body)

    (summary,) = get("/api/studies")["study_summaries"]
    assert summary["study_name"] == study.name
    shown = get(f"/api/studies/{summary['study_id']}")["trials"]
    assert [t["number"] for t in shown] == [t.id for t in study.trials]
    for mine, t in zip(study.trials, shown, strict=True):
        assert (t.get("values") or [None])[0] == mine.value
        assert {p["name"]: p["param_internal_value"] for p in t["params"]}.keys() == set(
            mine.params
        )
