"""`parabo report CAMPAIGN`: one self-contained page of every study of a real campaign, opened
in a real headless Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from viz_browser import open_page, rendered_plots
from viz_support import parabo

from parabo.report_campaign import _y_scale

OBJECTIVE = """
import time

def evaluate(params):
    time.sleep(0.01)
    if params["problem"] == "c" and params["x"] > 3:
        raise RuntimeError("diverged")
    shift = {"a": 1.0, "b": -1.0, "c": 2.0}[params["problem"]]
    return (params["x"] - shift) ** 2
"""

TEMPLATE = """
name: template
space:
  x: {type: float, low: -5, high: 5}
  problem: {type: fixed, value: "{problem}"}
objective:
  python: camp_objective:evaluate
sampler: "{sampler}"
seed: 0
run: {trials: 10}
"""

CAMPAIGN = """
name: camp
study: template.yaml
MATRIX
per_study: {trials: 6}
run: {workers: 2, backend: thread}
storage: out
"""

TWO_KEYS = "matrix:\n  problem: [a, b, c]\n  sampler: [random, sobol]"


def run_campaign(base: Path, matrix: str = TWO_KEYS, sampler: str = '"{sampler}"') -> Path:
    (base / "camp_objective.py").write_text(OBJECTIVE)
    (base / "template.yaml").write_text(TEMPLATE.replace('"{sampler}"', sampler))
    (base / "campaign.yaml").write_text(CAMPAIGN.replace("MATRIX", matrix))
    out = parabo("run", "campaign.yaml", "--quiet", cwd=base)
    assert out.returncode == 0, out.stderr
    return base / "out"


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 3x2 campaign (problem x sampler), 6 trials per study on 2 thread workers; the
    studies of problem c have failed trials."""
    return run_campaign(tmp_path_factory.mktemp("campaign"))


def status_rows(folder: Path) -> list[dict]:  # type: ignore[type-arg]
    out = parabo("status", str(folder), "--json")
    assert out.returncode == 0, out.stderr
    return list(json.loads(out.stdout)["studies"])


def test_campaign_report_in_a_real_browser(campaign: Path) -> None:
    base = campaign.parent
    result = parabo("report", "campaign.yaml", cwd=base)  # the campaign file works too
    assert result.returncode == 0, result.stderr
    report = campaign / "report.html"
    assert result.stdout.strip() == f"wrote {report}"
    page = report.read_text()
    assert "<script src" not in page and "<link" not in page  # everything embedded
    rows = status_rows(campaign)
    assert len(rows) == 6
    for r in rows:  # every study has its section
        assert f"id='study-{r['folder']}'" in page
    embedded = re.search(r"<script type=application/json id=campaign>(.*?)</script>", page)
    assert embedded is not None
    data = json.loads(embedded.group(1))
    assert data["keys"] == ["problem", "sampler"]
    for mine, theirs in zip(data["studies"], rows, strict=True):
        for key in ("folder", "problem", "sampler", "state", "completed", "failed", "best"):
            assert mine[key] == theirs[key]
    assert sum(r["failed"] for r in rows) > 0  # problem c diverges for x > 3

    with open_page(report.as_uri()) as p:
        p.page.wait_for_function(
            "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 1", timeout=30_000
        )
        assert rendered_plots(p.page) == 1
        traces = p.page.evaluate("document.getElementById('plot-progress').data.length")
        assert traces == 2 * 6  # each study by wall-clock and by trials
        for scale in ("log", "linear"):  # the values are positive: both axes can be chosen
            p.page.locator(".updatemenu-button", has_text=scale).click()
            p.page.wait_for_function(
                f"document.getElementById('plot-progress').layout.yaxis.type === '{scale}'"
                f" && document.getElementById('plot-progress').layout.yaxis2.type === '{scale}'",
                timeout=10_000,
            )
        assert p.errors == []
        assert p.outside == []  # nothing left the machine
        assert all(u.startswith("file:") for u in p.requests)
        # the matrix: problems down, samplers across, each cell its study's best value
        grid = p.page.eval_on_selector_all(
            "#matrix tbody tr",
            "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent))",
        )
        assert [g[0] for g in grid] == ["a", "b", "c"]
        by = {(r["problem"], r["sampler"]): r for r in rows}
        for g, problem in zip(grid, "abc", strict=True):
            for cell, sampler in zip(g[1:], ["random", "sobol"], strict=True):
                r = by[(problem, sampler)]
                assert cell.startswith(f"{r['best']:.6g}") and r["state"] in cell
                assert f"{r['completed']} complete, {r['failed']} failed" in cell
        # one row per study, sorted by its best value, then reversed
        assert p.page.locator("#studies tbody tr").count() == 6
        best_col = p.page.locator("#studies th", has_text=re.compile("^best$"))
        best_col.click()
        values = p.page.eval_on_selector_all(
            "#studies tbody tr", "rows => rows.map(r => Number(r.cells[7].textContent))"
        )
        assert values == sorted(values) and len(values) == 6
        best_col.click()
        values = p.page.eval_on_selector_all(
            "#studies tbody tr", "rows => rows.map(r => Number(r.cells[7].textContent))"
        )
        assert values == sorted(values, reverse=True)
        # a cell of the matrix links to its study's section, which holds its summary
        p.page.locator("#matrix a").first.click()
        assert p.page.evaluate("location.hash") == f"#study-{rows[0]['folder']}"
        section = p.page.locator(f"#study-{rows[0]['folder']}").inner_text()
        assert "problem=a, sampler=random" in section and "Trial " in section


def test_studies_flag_writes_each_study_report_and_links_it(campaign: Path, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere" / "camp.html"
    out.parent.mkdir()
    result = parabo("report", str(campaign), "--studies", "-o", str(out))
    assert result.returncode == 0, result.stderr
    rows = status_rows(campaign)
    for r in rows:
        assert (campaign / r["folder"] / "report.html").is_file()
    with open_page(out.as_uri()) as p:
        links = p.page.locator("a.own")
        assert links.count() == 6  # links start at the page's folder, not the campaign's
        links.first.click()
        p.page.wait_for_function(
            "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 1", timeout=30_000
        )
        assert p.page.url == (campaign / rows[0]["folder"] / "report.html").as_uri()
        want = rows[0]["completed"] + rows[0]["failed"]
        # the table fills after the plots: wait for its rows rather than count them at once
        p.page.wait_for_function(
            f"document.querySelectorAll('#trials tbody tr').length >= {want}", timeout=30_000
        )
        assert p.page.locator("#trials tbody tr").count() == want
        assert p.errors == [] and p.outside == []
    one = parabo("report", str(campaign / rows[0]["folder"]), "--studies")
    assert one.returncode == 2 and "--studies" in one.stderr


def test_one_key_campaign_lists_one_row_per_study_and_studies_not_started(
    tmp_path: Path,
) -> None:
    folder = run_campaign(tmp_path, "matrix:\n  problem: [a, b]", sampler="sobol").parent
    # a campaign stopped before its last study started: the record lists a study with no folder
    record_path = folder / "out" / "campaign.json"
    record = json.loads(record_path.read_text())
    assert record["keys"] == ["problem"]
    record["cells"].append({"values": {"problem": "c"}, "folder": "problem-c"})
    record_path.write_text(json.dumps(record))
    out = tmp_path / "elsewhere.html"
    result = parabo("report", str(folder / "out"), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert not (folder / "out" / "report.html").exists()
    page = out.read_text()
    assert "id=matrix" not in page  # no grid with one key
    with open_page(out.as_uri()) as p:
        p.page.wait_for_function(
            "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 1", timeout=30_000
        )
        assert p.errors == [] and p.outside == []
        cells = p.page.eval_on_selector_all(
            "#studies tbody tr",
            "rows => rows.map(r => [r.cells[0].textContent, r.cells[1].textContent])",
        )
        assert cells == [["a", "done"], ["b", "done"], ["c", "not started"]]
        assert "Not started." in p.page.locator("#study-problem-c").inner_text()
        traces = p.page.evaluate("document.getElementById('plot-progress').data.length")
        assert traces == 2 * 2  # the study not started draws nothing


def test_campaign_report_of_a_campaign_with_no_trial_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "campaign.json").write_text(
        json.dumps({"name": "e", "keys": ["k"], "cells": [{"values": {"k": 1}, "folder": "k-1"}]})
    )
    result = parabo("report", str(folder))
    assert result.returncode == 2
    assert "has a trial yet" in result.stderr
    assert not (folder / "report.html").exists()


def test_campaign_report_of_a_campaign_file_that_has_not_run_is_refused(tmp_path: Path) -> None:
    (tmp_path / "camp_objective.py").write_text(OBJECTIVE)
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    (tmp_path / "campaign.yaml").write_text(CAMPAIGN.replace("MATRIX", TWO_KEYS))
    result = parabo("report", "campaign.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "the campaign has not run yet" in result.stderr
    assert "parabo run campaign.yaml" in result.stderr
    assert not (tmp_path / "out").exists()


def test_the_figure_opens_on_a_log_axis_only_for_positive_values_of_wide_span() -> None:
    assert _y_scale([0.001, 5.0]) == "log"  # more than 1000 times
    assert _y_scale([1.0, 5.0]) == "linear"  # a log axis can be chosen
    assert _y_scale([-1.0, 5.0]) == "none" and _y_scale([0.0, 5.0]) == "none"
    assert _y_scale([]) == "none"


def test_studies_of_both_directions_are_listed_but_not_ranked(tmp_path: Path) -> None:
    base = tmp_path
    (base / "camp_objective.py").write_text(OBJECTIVE)
    (base / "template.yaml").write_text(
        TEMPLATE.replace('sampler: "{sampler}"', 'sampler: random\ndirection: "{direction}"')
    )
    (base / "campaign.yaml").write_text(
        CAMPAIGN.replace("MATRIX", "matrix:\n  problem: [a, b]\n  direction: [minimize, maximize]")
    )
    assert parabo("run", "campaign.yaml", "--quiet", cwd=base).returncode == 0
    result = parabo("report", "out", cwd=base)
    assert result.returncode == 0, result.stderr
    page = (base / "out" / "report.html").read_text()
    assert page.count("<td><a href='#study-") == 2 * 4  # in the grid (none shaded), the table
    assert "best-of-row'" not in page and "class=best-of-row>" not in page
    assert "not drawn: the studies do not share a direction" in page
    assert "<td>mixed</td>" in page
