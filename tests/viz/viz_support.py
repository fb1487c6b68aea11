"""Helpers of the plot, report and dashboard tests: the real `parabo` command, the studies they run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FLAKY_OBJECTIVE = """
import math, time

def evaluate(params):
    time.sleep(0.02)
    if params["x"] > 0.65:
        raise RuntimeError("diverged")
    if params["y"] < 0.1:
        return math.nan
    return (params["x"] - 0.3) ** 2 + 0.1 * params["y"] + (0.2 if params["kind"] == "b" else 0.0)
"""

FLAKY_STUDY = """
name: flaky
direction: minimize
space:
  x: {type: float, low: 0, high: 1}
  y: {type: float, low: 0.01, high: 1, log: true}
  kind: {type: categorical, choices: [a, b]}
objective:
  python: flaky_objective:evaluate
sampler: sobol
seed: 0
run:
  trials: 24
  workers: 3
  backend: process
storage: run
"""


def parabo(*args: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real `parabo` command (with this checkout's sources)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "parabo.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def chromium() -> str | None:
    """Debian's chromium (installed by .ci/run), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


#: a study whose trials report learning curves (tests/curves_objectives.py) and are stopped
#: by the median rule: pruned and complete trials, each with several steps
CURVES_STUDY = """
name: curves
space:
  x: {type: float, low: 0, high: 5}
  steps: {type: fixed, value: 9}
  sleep: {type: fixed, value: 0.005}
objective:
  python: curves_objectives:curve
sampler: random
seed: 3
early_stopping: {rule: median, min: 3}
run: {trials: 14, workers: 2, backend: process}
storage: run
"""

#: two objectives that trade off along x, a third parameter that only makes both worse (so
#: some feasible trials are dominated), and a constraint that x > 0.8 violates
PARETO_OBJECTIVE = """
def evaluate(params):
    x, y = params["x"], params["y"]
    return {"error": (x - 1.0) ** 2 + y, "seconds": x**2 + y, "memory_gb": 10.0 * x}
"""

PARETO_STUDY = """
name: tradeoff
metric: [error, seconds]
direction: [minimize, minimize]
constraints:
  memory_gb: {max: 8}
space:
  x: {type: float, low: 0, high: 1}
  y: {type: float, low: 0, high: 0.5}
objective:
  python: pareto_objective:evaluate
sampler: sobol
seed: 1
run: {trials: 20, workers: 2, backend: process}
storage: run
"""
