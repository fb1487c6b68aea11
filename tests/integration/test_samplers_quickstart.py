"""`parabo run` of the shipped quickstart on 4 process workers with TPE, CMA-ES and the Optuna adapter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from parabo.storage.journal import decode_line

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "sampler",
    [
        "tpe",
        "cmaes",
        '{"name": "optuna", "class": "TPESampler", "options": {"n_startup_trials": 4}}',
    ],
    ids=["tpe", "cmaes", "optuna"],
)
def test_quickstart_on_four_process_workers(tmp_path: Path, sampler: str) -> None:
    pytest.importorskip("cmaes" if sampler == "cmaes" else "optuna")
    out = tmp_path / "qs"
    cmd = [
        sys.executable,
        "-m",
        "parabo.cli",
        "run",
        "examples/quickstart.yaml",
        "--sampler",
        sampler,
        "--workers",
        "4",
        "--backend",
        "process",
        "--trials",
        "16",
        "--storage",
        str(out),
        "-q",
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    status = subprocess.run(
        [sys.executable, "-m", "parabo.cli", "status", str(out), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    record = json.loads(status.stdout)
    assert record["completed"] == 16 and record["failed"] == 0 and record["running"] == 0
    events = [
        decode_line(line) for line in (out / "journal.jsonl").read_bytes().splitlines(keepends=True)
    ]
    groups = {e["pgid"] for e in events if e is not None and e["e"] == "proc"}
    assert len(groups) >= 4  # trials ran in four worker processes (more if one was replaced)
