"""`parabo report`: one self-contained file; checked as a file and in a real headless Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from viz_browser import open_page, rendered_plots
from viz_support import parabo

from parabo.report import render_report, summary
from parabo.view import snapshot


@pytest.mark.parametrize("which", ["quickstart_study", "flaky_study"])
def test_report_in_a_real_browser(which: str, request: pytest.FixtureRequest, copy_of) -> None:  # type: ignore[no-untyped-def]
    folder = copy_of(request.getfixturevalue(which))
    result = parabo("report", str(folder))
    assert result.returncode == 0, result.stderr
    report = folder / "report.html"
    assert result.stdout.strip() == f"wrote {report}"
    with open_page(report.as_uri()) as p:
        p.page.wait_for_function(
            "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 6", timeout=30_000
        )
        assert rendered_plots(p.page) == 6  # every kind applies to both studies
        assert p.errors == []
        assert p.outside == []  # nothing left the machine
        assert all(u.startswith("file:") for u in p.requests)
        rows = p.page.locator("#trials tbody tr")
        n = len(snapshot(folder).trials)
        assert rows.count() == n
        # sort by the value column, then reverse it
        p.page.locator("#trials th", has_text=re.compile("^(loss|value)$")).click()
        values = p.page.eval_on_selector_all(
            "#trials tbody tr", "rows => rows.map(r => r.cells[2].textContent)"
        )
        numbers = [float(v) for v in values if v]
        assert numbers == sorted(numbers) and len(numbers) == len(snapshot(folder).complete)
        assert values[len(numbers) :] == [""] * (n - len(numbers))  # failed last
        p.page.locator("#trials th", has_text="id").first.click()
        p.page.locator("#trials th", has_text="id").first.click()
        ids = p.page.eval_on_selector_all(
            "#trials tbody tr", "rows => rows.map(r => Number(r.cells[0].textContent))"
        )
        assert ids == sorted(ids, reverse=True)


@pytest.mark.parametrize(
    ("which", "kind"), [("curves_study", "curves"), ("pareto_study", "pareto")]
)
def test_report_draws_curves_and_pareto_in_a_real_browser(
    which: str, kind: str, request: pytest.FixtureRequest, copy_of
) -> None:  # type: ignore[no-untyped-def]
    import parabo.plot as plots

    folder = copy_of(request.getfixturevalue(which))
    result = parabo("report", str(folder))
    assert result.returncode == 0, result.stderr
    drawn = [k for k, why in plots.applicable(folder).items() if not why]
    assert kind in drawn
    with open_page((folder / "report.html").as_uri()) as p:
        p.page.wait_for_function(
            f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {len(drawn)}",
            timeout=30_000,
        )
        assert rendered_plots(p.page) == len(drawn)
        traces = p.page.evaluate(f"document.getElementById('plot-{kind}').data.length")
        assert traces >= 2  # e.g. complete and pruned curves; the front and the other trials
        assert p.errors == [] and p.outside == []


def test_report_content(flaky_study: Path) -> None:
    snap = snapshot(flaky_study)
    page = render_report(snap)
    assert "<script src" not in page and "<link" not in page  # everything embedded
    s = summary(snap)
    assert s["complete"] + s["failed"] == s["trials"] == 24
    assert s["failed"] > 0 and s["workers"] == 3
    embedded = re.search(r"<script type=application/json id=summary>(.*?)</script>", page)
    assert embedded is not None and json.loads(embedded.group(1))["best_trial"] == s["best_trial"]
    assert f"Trial <b>{s['best_trial']}</b>" in page
    assert page.count("<tr class=failed>") == s["failed"]
    assert "utilization" in page and "coordinator ask time" in page


def test_report_output_and_errors(quickstart_study: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = parabo("report", str(quickstart_study), "-o", str(out))
    assert result.returncode == 0 and out.stat().st_size > 100_000
    assert not (quickstart_study / "report.html").exists()
    result = parabo("report", str(tmp_path))
    assert result.returncode == 2 and "not a study folder" in result.stderr
