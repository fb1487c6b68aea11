"""Every plot kind, for the quickstart study and a study with failed trials, as PNG and HTML."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from viz_support import parabo

import parabo.plot as plots
from parabo import Study
from parabo.exceptions import ConfigError
from parabo.plot import _data
from parabo.view import snapshot

PNG = b"\x89PNG\r\n\x1a\n"
#: the kinds that apply to every study with completed trials (curves and pareto need reports
#: and several objectives: tests/viz/test_viz_curves_pareto.py)
GENERAL = [k for k in plots.KINDS if k not in ("curves", "pareto")]


@pytest.mark.parametrize("kind", GENERAL)
@pytest.mark.parametrize("which", ["quickstart_study", "flaky_study"])
def test_every_kind_as_png_from_the_command(
    kind: str, which: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    folder = request.getfixturevalue(which)
    out = tmp_path / f"{kind}.png"
    result = parabo("plot", str(folder), kind, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stdout
    data = out.read_bytes()
    assert data.startswith(PNG) and len(data) > 5000


@pytest.mark.parametrize("kind", GENERAL)
def test_every_kind_as_interactive_figure(kind: str, flaky_study: Path) -> None:
    fig = plots.figure(flaky_study, kind)
    assert fig.data, kind
    assert plots.figure(flaky_study, kind, engine="matplotlib").axes


def test_plot_formats_and_default_path(quickstart_study: Path, copy_of) -> None:  # type: ignore[no-untyped-def]
    folder = copy_of(quickstart_study)
    result = parabo("plot", str(folder), "history", "--format", "svg")
    assert result.returncode == 0, result.stderr
    assert (folder / "plots" / "history.svg").read_text().lstrip().startswith("<?xml")
    result = parabo("plot", str(folder), "timeline", "--format", "html")
    page = (folder / "plots" / "timeline.html").read_text()
    assert "Plotly.newPlot" in page and "<script src" not in page  # plotly.js embedded


def test_failed_trials_shown_distinctly(flaky_study: Path) -> None:
    snap = snapshot(flaky_study)
    failed = snap.failed
    assert failed and snap.complete, "the fixture must have both kinds of trial"
    reasons = {str(t.reason) for t in failed}
    assert reasons == {"exception", "invalid_result"}
    for kind in ("history", "slice", "contour"):
        names = [t.name for t in plots.figure(flaky_study, kind).data]
        assert "failed" in names, kind
    hist = [t for t in plots.history(flaky_study).data if t.name == "failed"][0]
    assert len(hist.x) == len(failed)
    timeline = plots.timeline(flaky_study)
    assert {t.name for t in timeline.data} == {"complete", "failed"}
    par = plots.parallel(flaky_study).data[0]
    assert "failed" in par.dimensions[-1].ticktext
    assert max(par.line.color) == 1.0  # the red end of the scale


def test_history_best_so_far(quickstart_study: Path) -> None:
    d = _data.history(snapshot(quickstart_study))
    assert len(d.values) == 20
    assert d.best_by_id == list(np.minimum.accumulate(d.values))
    assert d.best_by_time[-1] == min(d.values)
    assert d.seconds == sorted(d.seconds) and d.seconds[0] >= 0


def _hand_study(tmp_path: Path) -> Study:
    study = Study({"x": {"type": "float", "low": 0, "high": 1}}, storage=tmp_path / "s")
    return study


def test_timeline_utilization_and_gaps(tmp_path: Path) -> None:
    """Two workers over 2 s: w1 busy 0-1 and 1.5-2, w2 busy 0-2: utilization 3.5 / 4."""
    study = _hand_study(tmp_path)
    t0 = 1000.0
    runs = [("w1", 0.0, 1.0), ("w2", 0.0, 2.0), ("w1", 1.5, 2.0)]
    for worker, start, end in runs:
        trial = study.ask()
        study.tell(trial, start, started_at=t0 + start, finished_at=t0 + end, worker=worker)
    study.close()
    d = _data.timeline(snapshot(tmp_path / "s"))
    assert d.workers == ["w1", "w2"]
    assert d.utilization == pytest.approx(3.5 / 4, rel=1e-6)
    assert d.span == pytest.approx(2.0)
    assert d.asks == 3 and d.ask_mean is not None
    assert "utilization 87.5%" in d.caption and "coordinator ask time" in d.caption


def test_importance_known_answer(tmp_path: Path) -> None:
    """The value depends on x alone: fANOVA gives x nearly all the variance."""
    study = Study(
        {
            "x": {"type": "float", "low": 0, "high": 1},
            "y": {"type": "float", "low": 0, "high": 1},
            "c": {"type": "categorical", "choices": ["a", "b"]},
        },
        sampler="random",
        seed=1,
    )
    for _ in range(40):
        trial = study.ask()
        study.tell(trial, 10 * trial.params["x"])
    d = _data.importance(snapshot(study))
    assert d.names[0] == "x"
    assert d.shares[0] > 0.9
    assert sum(d.shares) == pytest.approx(1.0)


def test_importance_needs_trials(tmp_path: Path) -> None:
    study = Study({"x": {"type": "float", "low": 0, "high": 1}}, seed=0)
    study.tell(study.ask(), 1.0)
    with pytest.raises(ConfigError, match="at least 4 completed trials"):
        plots.importance(study)
    assert "needs 4 completed" in plots.applicable(study)["importance"]


def test_contour_checks_its_pair(quickstart_study: Path) -> None:
    d = _data.contour(snapshot(quickstart_study), ("x", "lr"))
    assert d.y_log and not d.x_log
    assert any(v is not None for row in d.z for v in row)
    with pytest.raises(ConfigError, match="'optimizer' is not a numeric parameter"):
        plots.contour(quickstart_study, ("x", "optimizer"))
    with pytest.raises(ConfigError, match="two different"):
        plots.contour(quickstart_study, ("x", "x"))


def test_plot_command_errors(quickstart_study: Path) -> None:
    result = parabo("plot", str(quickstart_study), "histroy")
    assert result.returncode == 2
    assert "unknown plot 'histroy'" in result.stderr and "history" in result.stderr
    result = parabo("plot", str(quickstart_study), "history", "--format", "jpg")
    assert result.returncode == 2 and "--format" in result.stderr
    result = parabo("plot", str(quickstart_study), "history", "--params", "x,lr")
    assert result.returncode == 2 and "only the contour" in result.stderr
    result = parabo("plot", str(quickstart_study), "contour", "--params", "x")
    assert result.returncode == 2 and "two names" in result.stderr
    result = parabo("plot", str(quickstart_study.parent), "history")
    assert result.returncode == 2 and "not a study folder" in result.stderr


def test_plot_without_the_extra_says_what_to_install(quickstart_study: Path) -> None:
    code = (
        "import sys; sys.modules['matplotlib'] = None; sys.argv = ['parabo', 'plot', "
        f"{str(quickstart_study)!r}, 'history']\n"
        "from parabo.cli import main; main()"
    )
    result = parabo_python(code)
    assert result.returncode == 2
    assert "pip install 'parabo[plots]'" in result.stderr


def parabo_python(code: str):  # type: ignore[no-untyped-def]
    import os
    import subprocess

    from viz_support import ROOT

    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )


def test_importance_on_a_large_study_uses_a_sample() -> None:
    study = Study(
        {"x": {"type": "float", "low": 0, "high": 1}, "y": {"type": "int", "low": 1, "high": 3}},
        sampler="random",
        seed=2,
    )
    for _ in range(_data.MAX_IMPORTANCE_TRIALS + 20):
        trial = study.ask()
        study.tell(trial, trial.params["y"])
    d = _data.importance(snapshot(study))
    assert (d.trials, d.of) == (_data.MAX_IMPORTANCE_TRIALS, _data.MAX_IMPORTANCE_TRIALS + 20)
    assert "a random sample of 300 of 320" in d.caption
    assert d.names[0] == "y"


def test_contour_of_many_trials_is_the_mean_per_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_data, "CONTOUR_MAX_TRIALS", 10)
    space = {
        "a": {"type": "float", "low": 0, "high": 1},
        "b": {"type": "float", "low": 0, "high": 1},
    }
    study = Study(space, sampler="random", seed=3)
    for _ in range(400):
        trial = study.ask()
        study.tell(trial, trial.params["a"])
    d = _data.contour(snapshot(study), ("a", "b"), size=10)
    step = d.grid_x[1] - d.grid_x[0]
    cells = [(i, v) for row in d.z for i, v in enumerate(row) if v is not None]
    assert len(cells) > 50
    for i, v in cells:  # the mean of values a inside a cell lies within the cell
        assert abs(v - d.grid_x[i]) <= step / 2 + 1e-9


def test_a_study_whose_every_trial_failed(tmp_path: Path) -> None:
    study = Study({"x": {"type": "float", "low": 0, "high": 1}}, storage=tmp_path / "s", seed=0)
    for _ in range(3):
        study.tell(study.ask(), error="boom")
    study.close()
    why = plots.applicable(tmp_path / "s")
    assert why["importance"].startswith("needs 4 completed trials")
    for kind in ("history", "parallel", "slice", "timeline"):
        assert plots.figure(tmp_path / "s", kind, engine="matplotlib").axes
    from parabo.report import write_report

    page = write_report(tmp_path / "s").read_text()
    assert "No completed trial yet" in page and page.count("<tr class=failed>") == 3


def test_compare_asynchronous_and_synchronous_runs(
    quickstart_study: Path, quickstart_batch_study: Path, tmp_path: Path
) -> None:
    out = tmp_path / "regret.png"
    result = parabo(
        "compare", str(quickstart_study), str(quickstart_batch_study), "--optimum", "0",
        "--labels", "async,batch", "-o", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(PNG)
    fig = plots.compare([quickstart_study, quickstart_batch_study], optimum=0.0)
    assert [t.name for t in fig.data if t.showlegend is not False] == [
        "quickstart (1)",
        "quickstart (2)",
    ]
    d = _data.compare([snapshot(quickstart_study), snapshot(quickstart_batch_study)], None, 0.0)
    for curve in d.curves:
        assert len(curve.best) == 20 and curve.best == sorted(curve.best, reverse=True)
        assert all(b >= 0 for b in curve.best)
    assert fig.layout.yaxis.type == "log"


def test_compare_errors(quickstart_study: Path, flaky_study: Path) -> None:
    result = parabo("compare", str(quickstart_study))
    assert result.returncode == 2 and "two studies or more" in result.stderr
    result = parabo("compare", str(quickstart_study), str(flaky_study), "--labels", "a")
    assert result.returncode == 2 and "one name per study" in result.stderr
    with pytest.raises(ConfigError, match="one label per study"):
        plots.compare([quickstart_study, flaky_study], labels=["a"])
