"""Every benchmark question is a folder with an entry script that starts, a README and results."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
QUESTIONS = sorted(p for p in BENCHMARKS.iterdir() if p.is_dir() and (p / "run.py").exists())


def test_every_folder_but_the_shared_code_is_a_question() -> None:
    folders = {p.name for p in BENCHMARKS.iterdir() if p.is_dir() and not p.name.startswith(".")}
    assert folders - {"common", "__pycache__"} == {q.name for q in QUESTIONS}
    index = (BENCHMARKS / "README.md").read_text()
    for q in QUESTIONS:
        assert f"({q.name}/README.md)" in index, f"benchmarks/README.md does not list {q.name}"


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda p: p.name)
def test_a_question_has_its_readme_results_and_a_working_help(question: Path) -> None:
    readme = (question / "README.md").read_text()
    assert f"python3 benchmarks/{question.name}/run.py" in readme
    assert any((question / "results").glob("*.md")), "no results/*.md: run the command"
    out = subprocess.run(
        [sys.executable, str(question / "run.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "usage:" in out.stdout
