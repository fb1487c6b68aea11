"""A study under ASHA's promotion variant has its coordinator SIGKILLed again and again while
trials pause and are promoted; resuming loses nothing and counts nothing twice."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from parabo import Study, TrialState
from parabo.storage.journal import decode_line

ROOT = Path(__file__).resolve().parents[2]

STUDY = """
name: crash-promotion
space:
  x: {type: float, low: 0, high: 1}
  sleep: {type: fixed, value: 0.03}
objective:
  python: curves_objectives:checkpointed
sampler: random
seed: 0
early_stopping: {rule: asha, variant: promotion, resource: epoch, min: 1, max: 9, eta: 3}
run: {trials: 45, workers: 3, backend: process}
storage: out
"""


def _lines(journal: Path) -> int:
    try:
        return journal.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def test_sigkill_during_promotion_then_resume(tmp_path: Path) -> None:
    (tmp_path / "curves_objectives.py").write_text(
        (ROOT / "tests" / "curves_objectives.py").read_text()
    )
    (tmp_path / "study.yaml").write_text(STUDY)
    journal = tmp_path / "out" / "journal.jsonl"
    cmd = [sys.executable, "-m", "parabo.cli", "run", "study.yaml", "-q"]
    killed = 0
    for _ in range(30):
        proc = subprocess.Popen(
            cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        if killed < 5:
            # kill once this coordinator has journaled some progress of its own
            start, deadline = _lines(journal), time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                if _lines(journal) >= start + 25 + 10 * killed:
                    break
                time.sleep(0.02)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                killed += 1
                continue
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        break
    else:
        pytest.fail("the study never finished")
    assert killed >= 3, killed
    events = [decode_line(line) for line in journal.read_bytes().splitlines(keepends=True)]
    assert all(e is not None for e in events)
    resumed = [e for e in events if e["e"] == "resume"]
    assert len(resumed) >= 3
    # a trial is promoted to each budget once
    assert max(Counter((e["id"], e["budget"]) for e in resumed).values()) == 1

    study = Study.load(tmp_path / "out")
    trials = study.trials
    states = Counter(t.state for t in trials)
    assert len(trials) == 45 and not study.pending, states
    assert states[TrialState.COMPLETE] + states[TrialState.PAUSED] == 45, states
    assert states[TrialState.COMPLETE] >= 1
    level = {1.0: 0, 3.0: 1, 9.0: 2}
    for t in trials:
        assert t.promotions == level[t.budget or 0.0], t  # one promotion per rung climbed
        steps = [r.step for r in study.curve(t)]
        assert steps == sorted(set(steps)) and steps[-1] == t.budget, (t.id, steps)
        # every step up to its budget was computed (resumed from the checkpoint, or again)
        ran = tmp_path / "out" / "trials" / f"{t.id:06d}" / "ran.txt"
        assert set(range(1, int(t.budget or 0) + 1)) <= {int(s) for s in ran.read_text().split()}
    assert study.n_promotions == len(resumed) == sum(t.promotions for t in trials)
    status = subprocess.run(
        [sys.executable, "-m", "parabo.cli", "status", str(tmp_path / "out"), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    record = json.loads(status.stdout)
    assert record["paused"] == states[TrialState.PAUSED]
    assert record["promotions"] == len(resumed) and record["running"] == 0
    # run again: nothing left to promote or run, nothing changes
    before = journal.read_bytes()
    again = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    added = [decode_line(x) for x in journal.read_bytes()[len(before) :].splitlines(True)]
    assert not [e for e in added if e and e["e"] in ("ask", "start", "resume", "report")]
