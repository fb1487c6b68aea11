"""Learning curves (a study whose trials report steps) and the Pareto front (several objectives)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from viz_support import parabo

import parabo.plot as plots
from parabo import Study
from parabo.dashboard import Dashboard
from parabo.exceptions import ConfigError
from parabo.plot import _data
from parabo.report import render_report
from parabo.trial import TrialState
from parabo.view import snapshot

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("which", "kind"), [("curves_study", "curves"), ("pareto_study", "pareto")]
)
def test_png_from_the_command(
    which: str, kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    folder = request.getfixturevalue(which)
    out = tmp_path / f"{kind}.png"
    result = parabo("plot", str(folder), kind, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stdout
    data = out.read_bytes()
    assert data.startswith(PNG) and len(data) > 5000
    html = tmp_path / f"{kind}.html"
    result = parabo("plot", str(folder), kind, "--format", "html", "-o", str(html))
    assert result.returncode == 0, result.stderr
    assert "Plotly.newPlot" in html.read_text()


def test_curves_one_line_per_trial_pruned_apart_best_highlighted(curves_study: Path) -> None:
    study = Study.load(curves_study)
    try:
        pruned = [t.id for t in study.trials if t.state is TrialState.PRUNED]
        complete = [t.id for t in study.trials if t.state is TrialState.COMPLETE]
        assert pruned and complete, "the fixture must have pruned and complete trials"
        d = _data.curves(snapshot(curves_study))
        assert [ln.trial for ln in d.lines] == [t.id for t in study.trials]
        for ln in d.lines:
            curve = study.curve(ln.trial)
            assert ln.steps == [r.step for r in curve] and ln.values == [r.value for r in curve]
            assert ln.steps == sorted(ln.steps)
        assert {ln.trial for ln in d.lines if ln.state == "pruned"} == set(pruned)
        # the rule stops a trial after `min` steps at the earliest; complete ones run all 9
        # (a trial that finished before the coordinator read its reports can keep fewer)
        assert all(3 <= len(ln.steps) < 9 for ln in d.lines if ln.state == "pruned")
        assert any(len(ln.steps) == 9 for ln in d.lines if ln.state == "complete")
        assert study.best is not None and d.best == study.best.id
    finally:
        study.close()

    fig = plots.curves(curves_study)
    by_name = {t.name.split(" (")[0]: t for t in fig.data}
    assert by_name["pruned"].line.dash == "dash" and by_name["complete"].line.dash == "solid"
    assert by_name["pruned"].line.color != by_name["complete"].line.color
    # one line per trial in a state's trace: its points, then a gap
    assert list(by_name["pruned"].y).count(None) == len(pruned)
    assert list(by_name["complete"].y).count(None) == len(complete)
    best = by_name["best"]
    assert best.name == f"best (trial {d.best})" and best.line.width == 3
    stopped = [t for t in fig.data if t.name == "stopped"][0]
    assert len(stopped.x) == len(pruned) and stopped.marker.symbol == "x"
    ax = plots.curves(curves_study, engine="matplotlib").axes[0]
    labels = ax.get_legend_handles_labels()[1]
    assert labels == [
        f"pruned ({len(pruned)})",
        f"complete ({len(complete)})",
        f"best (trial {d.best})",
    ]


def test_pareto_front_of_two_objectives(pareto_study: Path) -> None:
    study = Study.load(pareto_study)
    try:
        front = {t.id for t in study.pareto_front()}
        infeasible = {
            t.id for t in study.trials if t.state is TrialState.COMPLETE and not t.feasible
        }
        n_complete = study.n_complete
    finally:
        study.close()
    d = _data.pareto(snapshot(pareto_study))
    assert d.names == ["error", "seconds"] and len(d.ids) == n_complete
    assert {d.ids[k] for k in d.front} == front
    assert {d.ids[k] for k in d.infeasible} == infeasible
    assert front and infeasible and d.dominated, "the fixture must have all three kinds"
    errors = d.column(0, d.front)
    assert errors == sorted(errors)  # the step line runs along the first objective
    seconds = d.column(1, d.front)
    assert seconds == sorted(seconds, reverse=True)  # both minimized: a descending staircase

    fig = plots.pareto(pareto_study)
    traces = {t.name.split(" (")[0]: t for t in fig.data}
    assert set(traces) == {"dominated", "infeasible", "Pareto front"}
    line = traces["Pareto front"]
    assert line.mode == "lines+markers" and line.line.shape == "hv"
    assert sorted(line.customdata) == sorted(front)
    assert traces["infeasible"].marker.symbol == "diamond-open"
    assert sorted(traces["infeasible"].customdata) == sorted(infeasible)
    assert traces["dominated"].mode == "markers"
    ax = plots.pareto(pareto_study, engine="matplotlib").axes[0]
    assert ax.get_xlabel() == "error (min)" and ax.get_ylabel() == "seconds (min)"


def test_pareto_step_line_follows_the_directions(tmp_path: Path) -> None:
    study = Study(
        {"x": {"type": "float", "low": 0, "high": 1}},
        direction=["maximize", "minimize"],
        metric=["acc", "cost"],
        storage=tmp_path / "s",
        seed=0,
    )
    for acc, cost in [(0.9, 5.0), (0.5, 1.0), (0.7, 2.0), (0.6, 4.0)]:
        study.tell(study.ask(), {"acc": acc, "cost": cost})
    study.close()
    d = _data.pareto(snapshot(tmp_path / "s"))
    assert sorted(d.ids[k] for k in d.front) == [0, 1, 2]  # (0.6, 4) is dominated by (0.7, 2)
    assert d.column(0, d.front) == [0.5, 0.7, 0.9] and d.step_shape == "vh"
    assert d.axis_labels == ["acc (max)", "cost (min)"]


def test_pareto_of_three_objectives_is_a_scatter_matrix(tmp_path: Path) -> None:
    study = Study(
        {"x": {"type": "float", "low": 0, "high": 1}},
        direction=["minimize"] * 3,
        metric=["a", "b", "c"],
        storage=tmp_path / "s",
        seed=0,
    )
    points = [(1, 2, 3), (3, 2, 1), (2, 2, 2), (3, 3, 3), (2, 1, 3)]
    for a, b, c in points:
        study.tell(study.ask(), {"a": a, "b": b, "c": c})
    study.close()
    d = _data.pareto(snapshot(tmp_path / "s"))
    assert sorted(d.ids[k] for k in d.front) == [0, 1, 2, 4] and d.dominated == [3]
    fig = plots.pareto(tmp_path / "s")
    assert {t.type for t in fig.data} == {"splom"}
    assert [dim.label for dim in fig.data[0].dimensions] == ["a (min)", "b (min)", "c (min)"]
    fig = plots.pareto(tmp_path / "s", engine="matplotlib")
    drawn = [ax for ax in fig.axes if ax.get_visible()]
    assert len(drawn) == 3  # a-b, a-c, b-c: each pair once
    assert {ax.get_xlabel() for ax in drawn if ax.get_xlabel()} == {"a (min)", "b (min)"}


def test_applicable_only_with_reports_and_several_objectives(
    quickstart_study: Path, curves_study: Path, pareto_study: Path
) -> None:
    quick = plots.applicable(quickstart_study)
    assert quick["curves"] == "no trial reported steps (trial.report in the objective)"
    assert quick["pareto"] == "needs several objectives; the study has one"
    curves = plots.applicable(curves_study)
    assert curves["curves"] == "" and curves["pareto"]
    pareto = plots.applicable(pareto_study)
    assert pareto["pareto"] == "" and pareto["curves"]
    for kind, words in [("curves", "has no reports"), ("pareto", "needs several objectives")]:
        result = parabo("plot", str(quickstart_study), kind, "-o", "/dev/null")
        assert result.returncode == 2 and words in result.stderr, result.stderr
        with pytest.raises(ConfigError) as err:
            plots.figure(quickstart_study, kind)
        assert err.value.field == kind


def test_report_and_dashboard_include_them(
    quickstart_study: Path, curves_study: Path, pareto_study: Path
) -> None:
    page = render_report(snapshot(curves_study))
    assert (
        "id=plot-curves" in page.replace('"', "")
        and "<h2>pareto</h2><p class=muted>not drawn" in page
    )
    page = render_report(snapshot(pareto_study))
    assert (
        "id=plot-pareto" in page.replace('"', "")
        and "<h2>curves</h2><p class=muted>not drawn" in page
    )
    page = render_report(snapshot(quickstart_study))
    assert "plot-curves" not in page and "plot-pareto" not in page
    for folder, kind, other in [
        (curves_study, "curves", "pareto"),
        (pareto_study, "pareto", "curves"),
    ]:
        board = Dashboard(folder)
        payload = json.loads(board.data())
        board.wait_for_importance(60)  # the fit it started in a thread
        assert payload["figures"][kind]["data"], kind
        assert other in payload["not_drawn"] and other not in payload["figures"]


def test_the_dashboard_keeps_the_whole_front_when_it_draws_the_newest_trials() -> None:
    from parabo.dashboard import newest

    study = Study(
        {"x": {"type": "float", "low": 0, "high": 1}},
        direction=["minimize", "minimize"],
        metric=["a", "b"],
        seed=0,
    )
    for k in range(30):  # the front is trials 0..4; the newer ones are all dominated
        a, b = (k, 4 - k) if k < 5 else (10 + k, 10 + k)
        study.tell(study.ask(), {"a": float(a), "b": float(b)})
    snap = snapshot(study)
    assert _data.front_ids(snap) == {t.id for t in study.pareto_front()} == set(range(5))
    cut = newest(snap, 10)
    assert [t.id for t in cut.trials] == [*range(5), *range(20, 30)]
    d = _data.pareto(cut)
    assert sorted(d.ids[k] for k in d.front) == list(range(5))
