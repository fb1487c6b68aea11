"""``parabo simulate`` on a tiny study: the table, the JSON, the plot, replay, clear errors."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest
from click.testing import CliRunner

from parabo.cli import cli


@pytest.fixture()
def study_file(tmp_path):
    (tmp_path / "tiny_objective.py").write_text(
        "def evaluate(params):\n    return (params['x'] - 0.3) ** 2 + (params['y'] + 1) ** 2\n"
    )
    path = tmp_path / "tiny.yaml"
    path.write_text(
        textwrap.dedent(f"""\
        name: tiny
        space:
          x: {{type: float, low: -2, high: 2}}
          y: {{type: float, low: -2, high: 2}}
        objective:
          python: tiny_objective:evaluate
        sampler: random
        seed: 1
        run:
          trials: 24
          backend: simulated
        storage: {tmp_path / "runs" / "tiny"}
        """)
    )
    return path


def test_simulate_prints_a_row_per_worker_count_and_writes_json_and_plot(study_file, tmp_path):
    out_json, out_png = tmp_path / "sim.json", tmp_path / "sim.png"
    result = CliRunner().invoke(
        cli,
        [
            "simulate",
            str(study_file),
            "--workers",
            "1,4",
            "--duration",
            "lognormal(60s, 0.5)",
            "--json",
            str(out_json),
            "--plot",
            str(out_png),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines() if line.strip()[:1].isdigit()]
    assert [r[0] for r in rows] == ["1", "4"]
    report = json.loads(out_json.read_text())
    one, four = report["runs"]
    assert one["trials"] == four["trials"] == 24
    assert report["target"] == one["best"] and one["time_to_target"] is not None
    assert four["elapsed"] < one["elapsed"] / 2  # four workers finish the same trials much sooner
    assert 0.5 < four["utilization"] <= 1.0 and 0 <= four["coordinator_share"] < 0.5
    assert out_png.stat().st_size > 1000


def test_simulate_replays_a_recorded_study(study_file, tmp_path):
    runner = CliRunner()
    ran = runner.invoke(cli, ["run", str(study_file), "--quiet", "--workers", "2"])
    assert ran.exit_code == 0, ran.output
    result = runner.invoke(
        cli,
        [
            "simulate",
            str(study_file),
            "--workers",
            "1,2",
            "--trials",
            "10",
            "--no-plot",
            "--from-study",
            str(tmp_path / "runs" / "tiny"),
            "--json",
            str(tmp_path / "r.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "replay" in result.output
    one = json.loads((tmp_path / "r.json").read_text())["runs"][0]
    assert one["elapsed"] == pytest.approx(
        10 * 60.0, rel=0.01
    )  # the recorded 60 s durations (simulated run)


def test_simulate_without_durations_names_the_option(study_file):
    result = CliRunner().invoke(cli, ["simulate", str(study_file), "--no-plot"])
    assert result.exit_code == 2
    assert "--duration" in result.output


def test_simulate_bad_workers_and_missing_matplotlib(study_file, monkeypatch):
    result = CliRunner().invoke(
        cli, ["simulate", str(study_file), "--workers", "1,x", "--duration", "1s"]
    )
    assert result.exit_code == 2 and "--workers" in result.output
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    # without matplotlib the report is printed, and the way to get the plot is said
    result = CliRunner().invoke(
        cli, ["simulate", str(study_file), "--workers", "1,2", "--duration", "1s"]
    )
    assert result.exit_code == 0, result.output
    assert "utilization" in result.output.lower() and "parabo[plots]" in result.output
    # a plot asked for by name is bad input without it
    result = CliRunner().invoke(
        cli, ["simulate", str(study_file), "--duration", "1s", "--plot", "x.png"]
    )
    assert result.exit_code == 2 and "parabo[plots]" in result.output


def test_simulate_repeats_reports_medians_reach_counts_and_an_interval(study_file, tmp_path):
    out_json = tmp_path / "sim.json"
    result = CliRunner().invoke(
        cli,
        [
            "simulate",
            str(study_file),
            "--workers",
            "1,4",
            "--duration",
            "lognormal(60s, 0.5)",
            "--repeats",
            "5",
            "--no-plot",
            "--json",
            str(out_json),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "runs per worker count: 5 (seeds 1..5)" in result.output
    rows = [line.split() for line in result.output.splitlines() if line.strip()[:1].isdigit()]
    assert [r[0] for r in rows] == ["1", "4"] and all(
        any(c.endswith("/5") for c in r) for r in rows
    )
    report = json.loads(out_json.read_text())
    assert report["repeats"] == 5
    assert [(r["workers"], r["seed"]) for r in report["runs"]] == [
        (n, s) for n in (1, 4) for s in range(1, 6)
    ]
    finals = sorted(r["best"] for r in report["runs"] if r["workers"] == 1)
    assert report["target"] == finals[2]  # the median: three of the five 1-worker runs reach it
    one, four = report["summary"]
    assert one["reached"] == 3 and one["speedup"] == 1.0 and one["speedup_interval"] is None
    times = sorted(r["time_to_target"] or float("inf") for r in report["runs"] if r["workers"] == 4)
    assert four["time_to_target"] == (times[2] if times[2] != float("inf") else None)
    if four["speedup"] is not None:  # random search on a 24-trial budget may miss with 4 workers
        lo, hi = four["speedup_interval"]
        assert 0.0 <= lo <= hi


def test_simulate_even_repeats_keep_a_target_most_sequential_runs_reach(study_file, tmp_path):
    from parabo.config import load_study_file
    from parabo.simulate import simulate_study

    cfg, base = load_study_file(study_file)
    report = simulate_study(
        cfg, base, workers=[1], duration="30s", trials=12, repeats=4, overhead=0.0
    )
    one = report.summary()[0]
    assert (
        one.runs == 4 and one.reached >= 3 and one.time_to_target is not None
    )  # not a mean of two


def test_simulate_summary_counts_misses_as_never():
    from parabo.simulate import SimulationRun, summarize_runs

    def run(n: int, seed: int, t: float | None) -> SimulationRun:
        return SimulationRun(n, 10, 100.0, 1.0, 1.0, 0.0, t, [], seed)

    rows = summarize_runs(
        [run(1, s, t) for s, t in enumerate([400.0, 500.0, 600.0, None, 800.0])]
        + [run(4, s, t) for s, t in enumerate([100.0, None, None, 150.0, 200.0])]
    )
    one, four = rows
    assert (one.time_to_target, one.reached) == (600.0, 4)
    assert (four.time_to_target, four.reached, four.speedup) == (200.0, 3, 3.0)
    lo, hi = four.speedup_interval
    assert (
        lo == 0.0 and hi == 6.0
    )  # some draws miss with most runs (0x), some keep only the fastest ones
    rows = summarize_runs([run(1, 0, 400.0), run(4, 0, None), run(4, 1, None)])
    assert rows[1].time_to_target is None and rows[1].speedup is None and rows[1].reached == 0


def test_simulate_rejects_bad_repeats(study_file):
    result = CliRunner().invoke(
        cli, ["simulate", str(study_file), "--duration", "1s", "--repeats", "0"]
    )
    assert result.exit_code == 2 and "--repeats" in result.output


def test_simulate_plans_the_quickstart_as_shipped(tmp_path, monkeypatch):
    """The README's planning command on the shipped quickstart: durations come from the file."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as on a plain `pip install parabo`
    result = CliRunner().invoke(
        cli, ["simulate", "examples/quickstart.yaml", "--workers", "1,16", "--trials", "24"]
    )
    assert result.exit_code == 0, result.output
    assert "utilization" in result.output and "lognormal(30s, 0.5)" in result.output
