"""Studies the plot, report and dashboard tests read: the quickstart, one with failed trials,
one whose trials report learning curves (early stopping), and one with two objectives.

Both are written by real `parabo run` commands with process workers, once per session.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from viz_support import (
    CURVES_STUDY,
    FLAKY_OBJECTIVE,
    FLAKY_STUDY,
    PARETO_OBJECTIVE,
    PARETO_STUDY,
    ROOT,
    parabo,
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
def quickstart_batch_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart example run in synchronous batches (--batch), to compare with the above."""
    folder = tmp_path_factory.mktemp("viz") / "quickstart-batch"
    out = parabo(
        "run", "examples/quickstart.yaml", "--trials", "20", "--workers", "2", "--batch",
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


@pytest.fixture(scope="session")
def curves_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Trials that report a value at each of 9 steps; the median rule prunes the worse ones."""
    base = tmp_path_factory.mktemp("viz")
    shutil.copy(ROOT / "tests" / "curves_objectives.py", base)
    (base / "curves.yaml").write_text(CURVES_STUDY)
    out = parabo("run", "curves.yaml", "--quiet", cwd=base)
    assert out.returncode == 0, out.stderr
    return base / "run"


@pytest.fixture(scope="session")
def pareto_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two objectives (error, seconds) and a memory constraint: a front, dominated and
    infeasible trials."""
    base = tmp_path_factory.mktemp("viz")
    (base / "pareto_objective.py").write_text(PARETO_OBJECTIVE)
    (base / "tradeoff.yaml").write_text(PARETO_STUDY)
    out = parabo("run", "tradeoff.yaml", "--quiet", cwd=base)
    assert out.returncode == 0, out.stderr
    return base / "run"


@pytest.fixture
def copy_of(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A fresh copy of a session study, for tests that write into the folder."""

    def copy(folder: Path) -> Path:
        target = tmp_path / folder.name
        shutil.copytree(folder, target, ignore=shutil.ignore_patterns("lock"))
        return target

    return copy
