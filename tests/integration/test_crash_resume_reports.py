"""The coordinator of a study with early stopping is SIGKILLed at random moments; resuming keeps
every report and counts every trial exactly once."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from parabo.storage.journal import decode_line

ROOT = Path(__file__).resolve().parents[2]

STUDY = """
name: crash-reports
space:
  x: {type: float, low: 0, high: 5}
  steps: {type: fixed, value: 12}
  sleep: {type: fixed, value: 0.02}
objective:
  python: curves_objectives:curve
sampler: random
seed: 0
early_stopping: {rule: asha, resource: epoch, min: 1, max: 12, eta: 2}
run: {trials: TRIALS, workers: 3, backend: BACKEND}
storage: out
"""


@pytest.mark.parametrize("backend, trials, kills", [("process", 150, 6), ("thread", 150, 6)])
def test_sigkill_with_reports_then_resume(
    tmp_path: Path, backend: str, trials: int, kills: int
) -> None:
    (tmp_path / "curves_objectives.py").write_text(
        (ROOT / "tests" / "curves_objectives.py").read_text()
    )
    study = tmp_path / "study.yaml"
    study.write_text(STUDY.replace("TRIALS", str(trials)).replace("BACKEND", backend))
    rng = random.Random(7)
    cmd = [sys.executable, "-m", "parabo.cli", "run", str(study), "-q"]
    killed = 0
    for _ in range(kills + 20):
        proc = subprocess.Popen(
            cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        if killed < kills:
            time.sleep(rng.uniform(0.6, 1.6))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                killed += 1
                continue
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        break
    else:
        pytest.fail("the study never finished")
    assert killed >= 3
    events = [
        decode_line(line)
        for line in (tmp_path / "out" / "journal.jsonl").read_bytes().splitlines(keepends=True)
    ]
    assert all(e is not None for e in events)
    final = Counter(e["id"] for e in events if e["e"] in ("done", "pruned", "fail"))
    assert len(final) == trials and max(final.values()) == 1  # none lost, none counted twice
    assert not [e for e in events if e["e"] == "fail"]
    # reports: within each attempt of a trial, steps grow one by one from 1, never twice
    steps: dict[tuple[int, int], list[float]] = defaultdict(list)
    for e in events:
        if e["e"] == "report":
            steps[(e["id"], e["attempt"])].append(e["step"])
    assert steps
    for curve in steps.values():
        assert curve == [float(s) for s in range(1, len(curve) + 1)]
    # a pruned trial keeps the last report of its last attempt
    last_attempt: dict[int, int] = {}
    for tid, attempt in steps:
        last_attempt[tid] = max(attempt, last_attempt.get(tid, 0))
    pruned = [e for e in events if e["e"] == "pruned"]
    assert pruned
    for e in pruned:
        assert e["step"] == steps[(e["id"], last_attempt[e["id"]])][-1]
    status = subprocess.run(
        [sys.executable, "-m", "parabo.cli", "status", str(tmp_path / "out"), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    record = json.loads(status.stdout)
    assert record["completed"] + record["pruned"] == trials
    assert record["pruned"] == len(pruned) and record["running"] == 0 and record["failed"] == 0
    assert record["reports"] == sum(len(c) for c in steps.values())
