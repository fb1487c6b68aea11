"""Studies the plot, report and dashboard tests read: the quickstart, and one with failed trials.

Both are written by real `parabo run` commands with process workers, once per session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FLAKY_OBJECTIVE = '''
import math, time

def evaluate(params):
    time.sleep(0.02)
    if params["x"] > 0.65:
        raise RuntimeError("diverged")
    if params["y"] < 0.1:
        return math.nan
    return (params["x"] - 0.3) ** 2 + 0.1 * params["y"] + (0.2 if params["kind"] == "b" else 0.0)
'''

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


@pytest.fixture(scope="session")
def quickstart_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart example (examples/quickstart.yaml), 20 trials on 2 process workers."""
    folder = tmp_path_factory.mktemp("viz") / "quickstart"
    out = parabo(
        "run", "examples/quickstart.yaml", "--trials", "20", "--workers", "2",
        "--storage", str(folder), "--quiet",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return folder


@pytest.fixture(scope="session")
def flaky_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A study where some trials raise and some return NaN (failed trials of two reasons)."""
    base = tmp_path_factory.mktemp("viz")
    (base / "flaky_objective.py").write_text(FLAKY_OBJECTIVE)
    (base / "flaky.yaml").write_text(FLAKY_STUDY)
    out = parabo("run", "flaky.yaml", "--quiet", cwd=base)
    assert out.returncode in (0, 1), out.stderr
    return base / "run"


@pytest.fixture
def copy_of(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A fresh copy of a session study, for tests that write into the folder."""

    def copy(folder: Path) -> Path:
        target = tmp_path / folder.name
        shutil.copytree(folder, target, ignore=shutil.ignore_patterns("lock"))
        return target

    return copy


def chromium() -> str | None:
    """Debian's chromium (installed by .ci/run), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")
