"""A campaign on a real Dask cluster on 127.0.0.1: the same file, only the backend lines changed."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("distributed")

from parabo.campaign import load_campaign_file
from parabo.campaign_run import run_campaign  # noqa: E402
from parabo.study import Study  # noqa: E402

TEMPLATE = """
name: template
space:
  x: {type: float, low: -5, high: 5}
  problem: {type: fixed, value: "{problem}"}
objective:
  python: helpers_objectives:campaign_eval
sampler: "{sampler}"
seed: 0
run: {timeout: 30s}
"""

CAMPAIGN = """
name: on-dask
study: template.yaml
matrix:
  problem: [a, b, c]
  sampler: [random, sobol]
per_study: {trials: 5}
run: {workers: 2, backend: dask, cluster: local}
storage: out
"""


def test_a_3x2_campaign_runs_on_a_local_dask_cluster(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    (tmp_path / "campaign.yaml").write_text(CAMPAIGN)
    campaign = load_campaign_file(tmp_path / "campaign.yaml")
    summary = run_campaign(campaign)
    assert [(s.n_complete, s.n_failed) for s in summary.summaries] == [(5, 0)] * 6
    for cell in campaign.cells:
        study = Study.load(cell.folder)
        assert sorted(t.id for t in study.trials) == list(range(5))
        assert {t.params["problem"] for t in study.trials} == {cell.values["problem"]}
