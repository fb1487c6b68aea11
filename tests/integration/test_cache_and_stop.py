"""Result cache, graceful stop and orphan clean-up with real processes and a real CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

import parabo
from parabo import Study, TrialState
from parabo.executors.thread import ThreadExecutor
from parabo.objectives import CommandObjective
from parabo.optimize import make_cache
from parabo.run_options import StopRule
from parabo.scheduler import Scheduler

ROOT = Path(__file__).resolve().parents[2]

COUNTING = """
import json, os, pathlib
p = json.load(open(os.environ["PARABO_PARAMS_FILE"]))
log = pathlib.Path(os.environ["RUNS_LOG"])
with open(log, "a") as f:
    f.write("run\\n")
print(json.dumps({"loss": (p["k"] - 3) ** 2}))
"""


def test_cache_reuses_results_across_studies_and_reruns_are_idempotent(
    tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "count.py"
    script.write_text(COUNTING)
    log = tmp_path / "runs.log"
    monkeypatch.setenv("RUNS_LOG", str(log))
    objective = CommandObjective((sys.executable, str(script)))
    cache_dir = tmp_path / "shared-cache"
    space = {"k": {"type": "int", "low": 0, "high": 5}}

    def run(folder: str, trials: int) -> Study:
        study = Study(space, sampler="sobol", seed=0, storage=tmp_path / folder, metric="loss")
        ex = ThreadExecutor(objective, 2)
        Scheduler(
            study,
            ex,
            cache=make_cache(objective, cache_dir),
            trial_folders="key",
            handle_signals=False,
            stop=StopRule(trials=trials, max_failures=None),
        ).run()
        ex.close()
        study.close()
        return study

    first = run("a", 12)  # 6 distinct values: at least 6 of 12 trials come from the cache
    runs_first = len(log.read_text().split())
    reused = [t for t in first.trials if t.reused]
    assert (
        runs_first + len(reused) == 12 and runs_first <= 6 + 2
    )  # two may run at once before a hit
    assert all(t.state is TrialState.COMPLETE and t.worker == "cache" for t in reused)
    second = run("b", 12)  # another study sharing the cache: nothing runs again
    assert len(log.read_text().split()) == runs_first
    assert all(t.reused for t in second.trials)
    assert [t.value for t in second.trials] == [(t.params["k"] - 3) ** 2 for t in second.trials]
    folders = sorted(p.name for p in (tmp_path / "a" / "trials").iterdir())
    assert len(folders) == runs_first and all(len(name.split("-")[0]) == 20 for name in folders)
    changed = make_cache(objective, cache_dir, cache_key="v2")  # a new version string: a new key
    assert changed.fingerprint != make_cache(objective, cache_dir).fingerprint


def test_python_cache_with_minimize(tmp_path: Path) -> None:
    calls = []

    def f(p: dict) -> float:
        calls.append(p["c"])
        return float(len(p["c"]))

    parabo.minimize(
        f,
        {"c": ["a", "bb", "ccc"]},
        trials=9,
        backend="inline",
        seed=0,
        storage=tmp_path / "s",
        cache=True,
    )
    assert len(calls) == 3


STUDY = """
name: stop
space:
  x: {type: float, low: 0, high: 1}
objective:
  command: [sh, -c, "sleep 300 & sleep 300; echo 1"]
run: {trials: 50, workers: 2, backend: BACKEND, stop_grace: 1}
storage: out
"""


def _sleepers() -> set[int]:
    return {
        p.pid for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", "300"]
    }


def _wait_for(cond, limit: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + limit
    while time.monotonic() < end and not cond():
        time.sleep(0.1)
    assert cond()


def _start_study(
    tmp_path: Path, backend: str, before: set[int]
) -> tuple[Path, subprocess.Popen[str]]:
    """Start `parabo run` on a study of two never-ending commands; return once both are running."""
    study = tmp_path / "study.yaml"
    study.write_text(STUDY.replace("BACKEND", backend))
    proc = subprocess.Popen(
        [sys.executable, "-m", "parabo.cli", "run", str(study), "-q"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(lambda: len(_sleepers() - before) >= 4)
    # this coordinator's own trials have started (other `sleep 300` on a shared machine are not
    # proof that it runs and handles its signals yet)
    journal = tmp_path / "out" / "journal.jsonl"
    _wait_for(lambda: journal.exists() and journal.read_bytes().count(b'"e":"start"') >= 2)
    return study, proc


def test_sigterm_stops_with_grace_and_exit_143_leaving_no_process(tmp_path: Path) -> None:
    before = _sleepers()
    study, proc = _start_study(tmp_path, "process", before)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert time.monotonic() - t0 < 10  # 1 s grace, then killed
    time.sleep(0.5)
    assert _sleepers() - before == set()
    status = json.loads(
        subprocess.run(
            [sys.executable, "-m", "parabo.cli", "status", str(tmp_path / "out"), "--json"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout
    )
    assert status["completed"] == 0 and status["running"] == 2  # recorded, and run again on resume


def test_resume_kills_orphans_of_a_killed_coordinator(tmp_path: Path) -> None:
    before = _sleepers()
    study, proc = _start_study(tmp_path, "thread", before)
    time.sleep(0.5)  # let the journal record the process groups
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    orphans = _sleepers() - before
    assert len(orphans) >= 4  # the commands outlived their coordinator
    study.write_text(STUDY.replace("BACKEND", "thread").replace("trials: 50", "trials: 0"))
    r = subprocess.run(
        [sys.executable, "-m", "parabo.cli", "run", str(study), "-q", "--max-time", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    _wait_for(lambda: not (orphans & _sleepers()), limit=10)
    for pid in _sleepers() - before:
        os.kill(pid, signal.SIGKILL)


def test_workers_of_a_killed_coordinator_take_their_trials_down(tmp_path: Path) -> None:
    before = _sleepers()
    study, proc = _start_study(tmp_path, "process", before)
    workers = [
        c.pid
        for c in psutil.Process(proc.pid).children()
        if "parabo.executors._worker" in " ".join(c.cmdline())
    ]
    assert len(workers) == 2
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # no resume here: the workers notice they were orphaned and stop their trials themselves
    _wait_for(
        lambda: not (_sleepers() - before) and not any(psutil.pid_exists(w) for w in workers),
        limit=10,
    )
