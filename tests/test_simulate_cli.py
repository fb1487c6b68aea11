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
    path.write_text(textwrap.dedent(f"""\
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
        """))
    return path


def test_simulate_prints_a_row_per_worker_count_and_writes_json_and_plot(study_file, tmp_path):
    out_json, out_png = tmp_path / "sim.json", tmp_path / "sim.png"
    result = CliRunner().invoke(cli, [
        "simulate", str(study_file), "--workers", "1,4", "--duration", "lognormal(60s, 0.5)",
        "--json", str(out_json), "--plot", str(out_png),
    ])
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
    result = runner.invoke(cli, [
        "simulate", str(study_file), "--workers", "1,2", "--trials", "10", "--no-plot",
        "--from-study", str(tmp_path / "runs" / "tiny"), "--json", str(tmp_path / "r.json"),
    ])
    assert result.exit_code == 0, result.output
    assert "replay" in result.output
    one = json.loads((tmp_path / "r.json").read_text())["runs"][0]
    assert one["elapsed"] == pytest.approx(10 * 60.0, rel=0.01)  # the recorded 60 s durations (simulated run)


def test_simulate_without_durations_names_the_option(study_file):
    result = CliRunner().invoke(cli, ["simulate", str(study_file), "--no-plot"])
    assert result.exit_code == 2
    assert "--duration" in result.output


def test_simulate_bad_workers_and_missing_matplotlib(study_file, monkeypatch):
    result = CliRunner().invoke(cli, ["simulate", str(study_file), "--workers", "1,x", "--duration", "1s"])
    assert result.exit_code == 2 and "--workers" in result.output
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = CliRunner().invoke(cli, ["simulate", str(study_file), "--duration", "1s"])
    assert result.exit_code == 1 and "parabo[plots]" in result.output
