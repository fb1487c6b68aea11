"""Campaigns: many studies from one template over one pool of workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from parabo.campaign import load_campaign_file
from parabo.campaign_run import run_campaign
from parabo.exceptions import ConfigError
from parabo.storage.journal import decode_line
from parabo.study import Study

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = """
name: template
space:
  x: {type: float, low: -5, high: 5}
  problem: {type: fixed, value: "{problem}"}
  sleep: {type: fixed, value: SLEEP}
objective:
  python: helpers_objectives:campaign_eval
sampler: "{sampler}"
seed: 0
run: {trials: 10}
"""


def write(tmp: Path, campaign: str, sleep: float = 0.0) -> Path:
    (tmp / "template.yaml").write_text(TEMPLATE.replace("SLEEP", str(sleep)))
    path = tmp / "campaign.yaml"
    path.write_text(campaign)
    return path


CAMPAIGN = """
name: c
study: template.yaml
matrix:
  problem: [a, b, c]
  sampler: [random, sobol]
per_study: {trials: TRIALS}
run: {workers: WORKERS, backend: BACKEND}
storage: out
"""


def campaign_text(trials: int = 8, workers: int = 3, backend: str = "process") -> str:
    return (
        CAMPAIGN.replace("TRIALS", str(trials))
        .replace("WORKERS", str(workers))
        .replace("BACKEND", backend)
    )


def journal_counts(folder: Path) -> tuple[Counter[int], list[int]]:
    events = [
        decode_line(line)
        for line in (folder / "journal.jsonl").read_bytes().splitlines(keepends=True)
    ]
    assert all(e is not None for e in events)
    done = Counter(e["id"] for e in events if e["e"] == "done")
    asked = [e["id"] for e in events if e["e"] == "ask"]
    return done, asked


# ---------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "change, field, words",
    [
        ("run: {workers: 2, trials: 5}", "run.trials", "belongs in `per_study`"),
        ("run: {workers: 2, wrokers: 5}", "run.wrokers", "did you mean 'workers'"),
        ("run: {workers: 2, policy: fastest}", "run.policy", "round_robin or gain"),
        ("run: {workers: 0}", "run.workers", "the study problem=a, sampler=random"),
        ("per_study: {workers: 2}", "per_study.workers", "belongs in `run`"),
    ],
)
def test_bad_campaign_settings_name_their_field(
    tmp_path: Path, change: str, field: str, words: str
) -> None:
    if change.startswith("per_study"):
        text = campaign_text().replace("per_study: {trials: 8}", change)
    else:
        text = campaign_text().replace("run: {workers: 3, backend: process}", change)
    with pytest.raises(ConfigError) as info:
        load_campaign_file(write(tmp_path, text))
    assert info.value.field == field and words in str(info.value), str(info.value)


def test_the_whole_matrix_is_checked_before_anything_runs(tmp_path: Path) -> None:
    text = campaign_text().replace("sampler: [random, sobol]", "sampler: [random, bogus]")
    with pytest.raises(ConfigError) as info:
        load_campaign_file(write(tmp_path, text))
    assert "the study problem=a, sampler=bogus" in str(info.value)
    assert info.value.field == "sampler"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "text, field, words",
    [
        ("name: c\nstudy: template.yaml\nstorage: out\n", "matrix", "either `matrix` or `cells`"),
        (
            "study: template.yaml\nmatrix: {problem: [a], sampler: [random], seed: [1, 2]}\n",
            "matrix.seed",
            "never uses {seed}",
        ),
        (
            "study: template.yaml\nmatrix: {problem: [a, a], sampler: [random]}\n",
            "matrix.problem",
            "twice",
        ),
        ("study: missing.yaml\nmatrix: {problem: [a]}\n", "study", "no such study template"),
        (
            "study: template.yaml\ncells: [{problem: a, sampler: random}, {problem: b}]\n",
            "cells.1",
            "same keys",
        ),
        (
            "study: template.yaml\nmatrix: {problem: [a], sampler: [random]}\nextra: 1\n",
            "extra",
            "",
        ),
    ],
)
def test_bad_campaign_files(tmp_path: Path, text: str, field: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_campaign_file(write(tmp_path, text))
    assert info.value.field == field and words in str(info.value), str(info.value)


def test_an_explicit_list_of_studies(tmp_path: Path) -> None:
    text = (
        "name: l\nstudy: template.yaml\nstorage: out\nper_study: {trials: 3}\n"
        "run: {workers: 2, backend: inline}\n"
        "cells: [{problem: a, sampler: random}, {problem: c, sampler: sobol}]\n"
    )
    campaign = load_campaign_file(write(tmp_path, text))
    assert [c.label for c in campaign.cells] == [
        "problem=a, sampler=random",
        "problem=c, sampler=sobol",
    ]
    summary = run_campaign(campaign)
    assert [s.n_complete for s in summary.summaries] == [3, 3]


# ---------------------------------------------------------------------- one pool, many studies
def test_simulated_campaign_keeps_64_workers_busy_and_beats_one_study_after_another(
    tmp_path: Path,
) -> None:
    text = (
        campaign_text(trials=100, workers=64, backend="simulated")
        .replace("sampler: [random, sobol]", "sampler: [random, sobol]")
        .replace("backend: simulated}", "backend: simulated, runtime: 'lognormal(60s, 0.8)'}")
    )
    campaign = load_campaign_file(write(tmp_path, text))
    summary = run_campaign(campaign)
    assert [s.n_complete for s in summary.summaries] == [100] * 6
    assert summary.utilization is not None and summary.utilization > 0.95
    # the same six studies one after the other, each with the same 64 workers
    one_by_one = 0.0
    for i, cell in enumerate(campaign.cells):
        alone = (
            text.replace("storage: out", f"storage: alone{i}")
            .replace("problem: [a, b, c]", f"problem: [{cell.values['problem']}]")
            .replace("sampler: [random, sobol]", f"sampler: [{cell.values['sampler']}]")
        )
        single = tmp_path / f"alone{i}.yaml"
        single.write_text(alone)
        one_by_one += run_campaign(load_campaign_file(single)).elapsed
    assert summary.elapsed < 0.8 * one_by_one


def test_process_campaign_status_and_export(tmp_path: Path) -> None:
    path = write(tmp_path, campaign_text(trials=6, workers=3), sleep=0.02)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT / "src")])}
    run = subprocess.run(
        [sys.executable, "-m", "parabo.cli", "run", str(path), "-q"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    out = tmp_path / "out"
    for cell in load_campaign_file(path).cells:
        study = Study.load(cell.folder)  # every cell is a normal study folder
        assert study.n_complete == 6 and study.name.startswith("c[")
    status = subprocess.run(
        [sys.executable, "-m", "parabo.cli", "status", str(out), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    rows = json.loads(status.stdout)["studies"]
    assert len(rows) == 6 and {r["state"] for r in rows} == {"done"}
    assert {(r["problem"], r["sampler"]) for r in rows} == {
        (p, s) for p in "abc" for s in ("random", "sobol")
    }
    assert abs(sum(r["worker_share"] for r in rows) - 1.0) < 0.01
    table = subprocess.run(
        [sys.executable, "-m", "parabo.cli", "status", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert "problem" in table.stdout and table.stdout.count("done") == 6
    best = subprocess.run(
        [sys.executable, "-m", "parabo.cli", "best", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert best.returncode == 0 and best.stdout.count("best value") == 6, best.stderr
    exported = subprocess.run(
        [sys.executable, "-m", "parabo.cli", "export", str(out), "--format", "parquet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert exported.returncode == 0, exported.stderr
    df = pd.read_parquet(out / "trials.parquet")
    assert len(df) == 36 and list(df.columns[:3]) == ["problem", "sampler", "study"]
    assert df.groupby(["problem", "sampler"]).size().tolist() == [6] * 6


def _done_so_far(out: Path) -> int:
    total = 0
    for journal in out.glob("*/journal.jsonl"):
        total += journal.read_bytes().count(b'"e":"done"')
    return total


def test_sigkill_during_a_campaign_then_resume_gives_exact_counts(tmp_path: Path) -> None:
    path = write(tmp_path, campaign_text(trials=30, workers=3), sleep=0.05)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT / "src")])}
    cmd = [sys.executable, "-m", "parabo.cli", "run", str(path), "-q"]
    killed = 0
    for attempt in range(20):
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
        if attempt < 3:
            # kill once this run has finished a few more trials: mid-campaign, whatever the load
            before = _done_so_far(tmp_path / "out")
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                if _done_so_far(tmp_path / "out") >= before + 5 + 3 * attempt:
                    break
                time.sleep(0.02)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                killed += 1
                continue
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        break
    assert killed >= 2
    for cell in load_campaign_file(path).cells:
        done, asked = journal_counts(cell.folder)
        assert len(done) == 30 and max(done.values()) == 1, cell.label  # none lost or doubled
        assert sorted(asked) == list(range(30)), cell.label


def test_a_rerun_with_one_more_value_evaluates_only_the_new_studies(tmp_path: Path) -> None:
    calls = tmp_path / "calls.txt"
    base = campaign_text(trials=5, workers=2, backend="thread").replace(
        "per_study: {trials: 5}", f"per_study: {{trials: 5, cache_dir: {tmp_path / 'shared'}}}"
    )
    first = base.replace("problem: [a, b, c]", "problem: [a, b]")
    os.environ["PARABO_TEST_CALLS"] = str(calls)
    try:
        run_campaign(load_campaign_file(write(tmp_path, first)))
        assert len(calls.read_text().splitlines()) == 20
        calls.write_text("")
        # the whole campaign again, in a new folder, one more problem: only its studies run
        again = write(tmp_path, base.replace("storage: out", "storage: out2"))
        summary = run_campaign(load_campaign_file(again))
    finally:
        del os.environ["PARABO_TEST_CALLS"]
    evaluated = [line.split()[0] for line in calls.read_text().splitlines()]
    assert evaluated and set(evaluated) == {"c"} and len(evaluated) == 10
    assert [s.n_complete for s in summary.summaries] == [5] * 6
    assert sum(s.reused for s in summary.summaries) == 20


def test_gain_policy_runs_every_study_to_its_budget(tmp_path: Path) -> None:
    text = campaign_text(trials=30, workers=8, backend="simulated").replace(
        "backend: simulated}", "backend: simulated, policy: gain}"
    )
    summary = run_campaign(load_campaign_file(write(tmp_path, text)))
    assert [s.n_complete for s in summary.summaries] == [30] * 6


def test_a_setup_stage_per_problem_runs_once_for_the_whole_campaign(tmp_path: Path) -> None:
    calls = tmp_path / "calls.txt"
    template = TEMPLATE.replace(
        "python: helpers_objectives:campaign_eval",
        "python: helpers_objectives:campaign_with_reference\n  setup: helpers_objectives:campaign_reference",
    )
    path = write(tmp_path, campaign_text(trials=4, workers=3))
    (tmp_path / "template.yaml").write_text(template.replace("SLEEP", "0.0"))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT / "src")]),
        "PARABO_TEST_CALLS": str(calls),
    }
    cmd = [sys.executable, "-m", "parabo.cli", "run", str(path), "-q"]
    for _ in range(2):  # the second run resumes: nothing left to compute
        run = subprocess.run(
            cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300
        )
        assert run.returncode == 0, run.stderr
    # three problems, two studies each, three worker processes: one reference per problem
    assert sorted(calls.read_text().splitlines()) == ["reference a", "reference b", "reference c"]
    best = Study.load(load_campaign_file(path).cells[0].folder).best
    assert best is not None and best.value < 1.0


def test_initial_points_of_the_template_are_tried_first_in_every_study(tmp_path: Path) -> None:
    text = campaign_text(trials=3, workers=2, backend="inline")
    path = write(tmp_path, text)
    (tmp_path / "template.yaml").write_text(
        TEMPLATE.replace("SLEEP", "0.0") + "initial: [{x: 0.25}]\n"
    )
    campaign = load_campaign_file(path)
    run_campaign(campaign)
    for cell in campaign.cells:
        first = Study.load(cell.folder).trials[0]
        assert first.params["x"] == 0.25 and first.source == "initial"


@pytest.mark.parametrize(
    "key, text", [("tracking", "tracking: {wandb: {project: p, mode: offline}}")]
)
def test_a_template_with_what_campaigns_cannot_do_yet_is_refused(
    tmp_path: Path, key: str, text: str
) -> None:
    path = write(tmp_path, campaign_text(trials=3, workers=2, backend="inline"))
    (tmp_path / "template.yaml").write_text(TEMPLATE.replace("SLEEP", "0.0") + text + "\n")
    with pytest.raises(ConfigError) as info:
        run_campaign(load_campaign_file(path))
    assert info.value.field == key and "campaigns" in str(info.value)
    assert not (tmp_path / "out").exists()


def test_two_writers_of_the_same_cache_entry_never_break_each_other(tmp_path: Path) -> None:
    # studies of a campaign share a cache folder: two may write the same entry at once
    import threading

    from parabo.results import write_text_atomic

    path, errors = tmp_path / "entry.json", []

    def write(text: str) -> None:
        try:
            for _ in range(300):
                write_text_atomic(path, text)
        except OSError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(t,)) for t in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert path.read_text() in ("a", "b")
    assert [p.name for p in tmp_path.iterdir()] == ["entry.json"]
