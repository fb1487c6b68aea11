"""The coordinator is SIGKILLed at random moments; `parabo run` again resumes, nothing lost or doubled."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from parabo.storage.journal import decode_line

ROOT = Path(__file__).resolve().parents[2]

STUDY = """
name: crash
space:
  x: {type: float, low: -5, high: 10}
  sleep: {type: fixed, value: SLEEP}
objective:
  python: helpers_objectives:slow_quadratic
sampler: SAMPLER
seed: 0
run: {trials: TRIALS, workers: 3, backend: BACKEND}
storage: out
"""


def _done(journal: Path) -> int:
    """Finished trials in a journal so far (lines with a ``done`` event)."""
    try:
        return journal.read_bytes().count(b'"e":"done"')
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize(
    "backend, trials, sleep, kills, sampler",
    [
        ("process", 150, 0.02, 8, "random"),
        ("thread", 400, 0.05, 8, "random"),
        ("inline", 150, 0.03, 6, "random"),
        # the samplers that keep state across asks rebuild it on each resume
        ("process", 80, 0.05, 4, "tpe"),
        ("process", 80, 0.05, 4, "cmaes"),
        ("process", 80, 0.05, 4, "{name: optuna, class: CmaEsSampler}"),
    ],
    ids=["process", "thread", "inline", "process-tpe", "process-cmaes", "process-optuna-cmaes"],
)
def test_sigkill_at_random_moments_then_resume(
    tmp_path: Path, backend: str, trials: int, sleep: float, kills: int, sampler: str
) -> None:
    if sampler != "random":
        pytest.importorskip("cmaes" if sampler == "cmaes" else "optuna")
    (tmp_path / "helpers_objectives.py").write_text(
        (ROOT / "tests" / "helpers_objectives.py").read_text()
    )
    study = tmp_path / "study.yaml"
    study.write_text(
        STUDY.replace("TRIALS", str(trials))
        .replace("BACKEND", backend)
        .replace("SLEEP", str(sleep))
        .replace("SAMPLER", sampler)
    )
    rng = random.Random(1234)
    cmd = [sys.executable, "-m", "parabo.cli", "run", str(study), "-q"]
    killed = 0
    for _ in range(kills + 20):
        proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        if killed < kills:
            # a random moment after this run has finished a random few trials, whatever the
            # machine's load (a fixed delay lets a fast machine finish before any kill)
            journal = tmp_path / "out" / "journal.jsonl"
            before = _done(journal)
            wanted = before + rng.randint(1, max(2, trials // (kills + 3)))
            deadline = time.monotonic() + 60
            while proc.poll() is None and _done(journal) < wanted and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.05))
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
    assert killed >= 3  # kills landed mid-study (each run resumes the previous one)
    events = [
        decode_line(line)
        for line in (tmp_path / "out" / "journal.jsonl").read_bytes().splitlines(keepends=True)
    ]
    assert all(e is not None for e in events)
    done = Counter(e["id"] for e in events if e["e"] == "done")
    asked = [e["id"] for e in events if e["e"] == "ask"]
    assert len(done) == trials and max(done.values()) == 1  # none lost, none counted twice
    assert sorted(asked) == list(range(len(asked))) and len(asked) == trials
    status = subprocess.run(
        [sys.executable, "-m", "parabo.cli", "status", str(tmp_path / "out"), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    record = json.loads(status.stdout)
    assert record["completed"] == trials and record["running"] == 0 and record["failed"] == 0
