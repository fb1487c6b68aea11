"""No process outlives its trial: children in its group and daemonized (``setsid``) descendants.

Before: a grandchild of an objective lived until the run ended, a daemonized one
outlived the run and held its output pipe (``parabo run | cat`` never returned),
a coordinator SIGKILL on the thread backend left the commands running, and
workers printed ``BrokenPipeError`` tracebacks when their coordinator was killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from parabo.executors.base import Executor, Outcome, Task
from parabo.executors.inline import InlineExecutor
from parabo.executors.process import ProcessExecutor
from parabo.executors.thread import ThreadExecutor
from parabo.objectives import CommandObjective, PythonObjective

TESTS = Path(__file__).resolve().parents[1]
SPAWN = str(TESTS / "robust_spawn.py")


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def pids(marks: Path) -> list[int]:
    return [
        int(p) for f in sorted(marks.glob("*")) if f.suffix != ".tmp" for p in f.read_text().split()
    ]


def gone_soon(found: list[int], within: float = 3.0) -> list[int]:
    """The pids of ``found`` still alive after ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and any(alive(p) for p in found):
        time.sleep(0.05)
    return [p for p in found if alive(p)]


def wait_outcome(ex: Executor, timeout: float = 20.0) -> Outcome:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = ex.collect(timeout=0.5)
        if out:
            return out[0]
    raise AssertionError("no outcome")


@pytest.fixture
def marks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "marks"
    folder.mkdir()
    monkeypatch.setenv("PARABO_TEST_MARKS", str(folder))
    yield folder
    for pid in pids(folder):  # never leave a sleeper behind, whatever the outcome
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def python(fn: str) -> PythonObjective:
    return PythonObjective(f"robust_objectives:{fn}", paths=(str(TESTS),))


def command(marks: Path, sleep: float | None = None) -> CommandObjective:
    argv = [sys.executable, SPAWN, str(marks), "{trial_id}"]
    return CommandObjective(tuple(argv + ([str(sleep)] if sleep else [])))


CASES = {
    "process-python": lambda m: ProcessExecutor(python("spawn_and_return"), 1),
    "process-command": lambda m: ProcessExecutor(command(m), 1),
    "thread-command": lambda m: ThreadExecutor(command(m), 1),
    "inline-python": lambda m: InlineExecutor(python("spawn_and_return")),
    "inline-command": lambda m: InlineExecutor(command(m)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_processes_of_a_finished_trial_are_killed_at_its_end(
    case: str, marks: Path, tmp_path: Path
) -> None:
    ex = CASES[case](marks)
    try:
        ex.submit(Task(0, {"x": 0.5}, str(tmp_path / "trials" / "000000")))
        out = wait_outcome(ex)
        assert out.error is None, out.error
        found = pids(marks)
        assert len(found) == 2
        # checked while the worker lives on: the trial's end, not the run's, kills them
        assert gone_soon(found, 1.0) == []
    finally:
        ex.close()


@pytest.mark.parametrize("backend", ["process", "thread"])
@pytest.mark.parametrize("how", ["timeout", "cancel"])
def test_processes_of_a_stopped_trial_are_killed(
    backend: str, how: str, marks: Path, tmp_path: Path
) -> None:
    (marks / "slow").write_text("")
    if backend == "process":
        ex: Executor = ProcessExecutor(python("spawn_and_sleep"), 1, kill_grace=0.3)
    else:
        obj = command(marks, sleep=300)
        ex = ThreadExecutor(CommandObjective(obj.command, kill_grace=0.3), 1)
    try:
        ex.submit(
            Task(0, {"x": 0.5}, str(tmp_path / "t0"), timeout=1.0 if how == "timeout" else None)
        )
        deadline = time.monotonic() + 10
        while len(pids(marks)) < 2 and time.monotonic() < deadline:
            ex.collect(timeout=0.05)
        found = pids(marks)
        assert len(found) == 2 and all(alive(p) for p in found)
        if how == "cancel":
            ex.cancel(0)
        out = wait_outcome(ex)
        assert out.reason == ("timeout" if how == "timeout" else "cancelled"), out
        assert gone_soon(found) == []
    finally:
        ex.close()


STUDY = """
space:
  x: {{type: float, low: 0, high: 1}}
objective:
  {objective}
run: {{trials: {trials}, workers: 2, backend: {backend}}}
storage: out
"""


def test_a_daemon_holding_stdout_does_not_keep_the_pipe_open(marks: Path, tmp_path: Path) -> None:
    (tmp_path / "robust_objectives.py").write_text((TESTS / "robust_objectives.py").read_text())
    study = tmp_path / "study.yaml"
    study.write_text(
        STUDY.format(
            objective="python: robust_objectives:spawn_and_return", trials=4, backend="process"
        )
    )
    # like `parabo run study.yaml | cat`: the run is over when its stdout closes
    r = subprocess.run(
        [sys.executable, "-m", "parabo.cli", "run", str(study)],
        cwd=tmp_path,
        capture_output=True,
        timeout=30,
    )
    assert r.returncode == 0, r.stderr
    found = pids(marks)
    assert len(found) == 8 and gone_soon(found) == []


def _start(study: Path, cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "parabo.cli", "run", str(study)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_marks(marks: Path, n: int, proc: subprocess.Popen[bytes]) -> list[int]:
    deadline = time.monotonic() + 30
    while len(pids(marks)) < n and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    found = pids(marks)
    assert len(found) >= n, proc.stderr.read() if proc.poll() is not None and proc.stderr else found
    return found


def test_after_a_coordinator_sigkill_on_threads_the_next_run_kills_the_leftovers(
    marks: Path, tmp_path: Path
) -> None:
    (marks / "slow").write_text("")
    study = tmp_path / "study.yaml"
    argv = f"[{sys.executable}, {SPAWN}, {marks}, '{{trial_id}}', '300']"
    study.write_text(STUDY.format(objective=f"command: {argv}", trials=2, backend="thread"))
    proc = _start(study, tmp_path)
    found = _wait_marks(marks, 4, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    time.sleep(0.3)
    assert all(alive(p) for p in found)  # nothing can act at a SIGKILL: left for the next run
    (marks / "slow").unlink()
    for f in marks.glob("*"):
        f.rename(f.with_name("first-" + f.name))
    r = subprocess.run(
        [sys.executable, "-m", "parabo.cli", "run", str(study)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "left running by trials of an earlier run" in r.stderr, r.stderr
    assert gone_soon(found) == []


def test_workers_leave_quietly_when_their_coordinator_is_killed(
    marks: Path, tmp_path: Path
) -> None:
    (tmp_path / "robust_objectives.py").write_text((TESTS / "robust_objectives.py").read_text())
    (marks / "slow").write_text("")
    study = tmp_path / "study.yaml"
    study.write_text(
        STUDY.format(
            objective="python: robust_objectives:spawn_and_sleep", trials=4, backend="process"
        )
    )
    proc = _start(study, tmp_path)
    found = _wait_marks(marks, 4, proc)
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=20)  # returns once every worker let go of stderr
    text = err.decode(errors="replace")
    assert "Traceback" not in text and "BrokenPipeError" not in text, text
    assert gone_soon(found) == []


def test_a_process_the_setup_hook_started_serves_every_trial(marks: Path, tmp_path: Path) -> None:
    obj = PythonObjective(
        "robust_objectives:with_helper", "robust_objectives:start_helper", paths=(str(TESTS),)
    )
    ex = ProcessExecutor(obj, 1)
    try:
        for i in range(3):
            ex.submit(Task(i, {"x": i / 10}, str(tmp_path / "trials" / f"{i:06d}")))
            out = wait_outcome(ex)
            assert out.error is None, out.error
        helper = int((marks / "helper").read_text())
        trial_pids = [p for f in marks.glob("0.*") for p in map(int, f.read_text().split())]
        assert len(trial_pids) == 6 and gone_soon(trial_pids) == []
        assert alive(helper)
    finally:
        ex.close()
    assert gone_soon([helper]) == []  # and it goes with its worker
