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
