"""Fault injection with real processes: every bad trial fails with the right reason, the study goes on,
healthy trials all complete, and no process is left over."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from conftest import descendants
from parabo import Study, TrialState
from parabo.executors.process import ProcessExecutor
from parabo.executors.thread import ThreadExecutor
from parabo.objectives import CommandObjective, PythonObjective
from parabo.run_options import RetryPolicy, StopRule
from parabo.scheduler import Scheduler

TIMEOUT = 2.0

PYTHON_FAULTS = {
    # mode: (reason, words in the error)
    "sleep": ("timeout", "time limit"),
    "ignore_term": ("timeout", "time limit"),
    "fork_sleep": ("timeout", "time limit"),
    "sigkill": ("crashed", "SIGKILL"),
    "exit": ("crashed", "exited with code 3"),
    "segfault": ("crashed", "SIGSEGV"),
    "memory": ("exception", "MemoryError"),
    "raise": ("exception", "RuntimeError: boom"),
    "sysexit": ("exception", "sys.exit(4)"),
    "nan": ("invalid_result", "nan"),
    "inf": ("invalid_result", "inf"),
    "string": ("invalid_result", "not a number"),
    "none": ("invalid_result", "None"),
    "huge": ("invalid_result", "not a number"),
}


def test_python_faults_with_healthy_trials_around(tmp_path: Path) -> None:
    before = descendants()
    modes = []
    for mode in PYTHON_FAULTS:
        modes += ["ok", mode]
    modes += ["fork_return", "ok", "ok"]
    study = Study({"mode": sorted(set(modes))}, storage=tmp_path / "s", seed=0)
    for m in modes:
        study.enqueue({"mode": m})
    ex = ProcessExecutor(PythonObjective("helpers_objectives:misbehave"), 3, kill_grace=0.5)
    t0 = time.monotonic()
    summary = Scheduler(
        study,
        ex,
        trial_timeout=TIMEOUT,
        handle_signals=False,
        stop=StopRule(trials=len(modes), max_failures=None),
    ).run()
    ex.close()
    assert summary.stop_reason == "trials" and time.monotonic() - t0 < 90
    trials = study.trials
    study.close()
    assert len(trials) == len(modes)
    for t in trials:
        mode = t.params["mode"]
        if mode in ("ok", "fork_return"):
            assert t.state is TrialState.COMPLETE, (mode, t.error)
            continue
        reason, words = PYTHON_FAULTS[mode]
        assert t.state is TrialState.FAILED and t.reason == reason, (mode, t.reason, t.error)
        assert words in (t.error or ""), (mode, t.error)
        if reason == "timeout":  # enforced within a second of the limit (plus the kill grace)
            assert t.duration is not None and TIMEOUT <= t.duration < TIMEOUT + 0.5 + 1.0, (
                mode,
                t.duration,
            )
        if mode in ("sigkill", "exit", "segfault"):  # a dead worker is seen in well under a second
            assert t.duration is not None and t.duration < 1.0, (mode, t.duration)
    time.sleep(0.3)
    assert descendants() - before == set()  # no worker, grandchild or sleeper left


HOSTILE = [
    "; rm -rf ~",
    "$(touch pwned)",
    "`touch pwned2`",
    "a'b\"c",
    "line1\nline2",
    "ünïcødé ✓ 日本",
    "x" * 10_000,
    "--help",
    "{params_file}",
    "$HOME",
    "*",
    "-rf /",
]

ECHO = """
import json, os, sys
params = json.load(open(os.environ["PARABO_PARAMS_FILE"]))
print(json.dumps({"argv": sys.argv[1:], "env": os.environ["PARABO_PARAM_S"], "params": params, "loss": 1.0}))
"""


def test_hostile_values_reach_the_command_verbatim_as_data(tmp_path: Path) -> None:
    script = tmp_path / "echo.py"
    script.write_text(ECHO)
    work = tmp_path / "work"
    study = Study({"s": HOSTILE}, storage=work, seed=0, metric="loss")
    for v in HOSTILE:
        study.enqueue({"s": v})
    objective = CommandObjective(
        (sys.executable, str(script), "{params.s}", "--dir", "{trial_dir}"), cwd=str(tmp_path)
    )
    ex = ThreadExecutor(objective, 2)
    Scheduler(
        study, ex, handle_signals=False, stop=StopRule(trials=len(HOSTILE), max_failures=None)
    ).run()
    ex.close()
    for t in study.trials:
        assert t.state is TrialState.COMPLETE, t.error
        out = json.loads(
            (work / "trials" / f"{t.id:06d}" / "stdout.txt").read_text().splitlines()[-1]
        )
        value = t.params["s"]
        assert out["argv"][0] == value and out["params"]["s"] == value and out["env"] == value
        assert out["argv"][1:] == ["--dir", str(work / "trials" / f"{t.id:06d}")]
    study.close()
    for name in ("pwned", "pwned2"):
        assert not list(tmp_path.rglob(name)) and not Path(name).exists()


COMMAND_FAULTS = {
    # shell snippet run by sh -c (the snippet is the study's code, not a parameter): (reason, words)
    "exit 7": ("exit_code", "exited with code 7"),
    "echo oops >&2; exit 1": ("exit_code", "oops"),
    "echo not json": ("invalid_result", "not JSON"),
    "true": ("invalid_result", "printed nothing"),
    'echo \'{"loss": "NaN"}\'': ("invalid_result", "not a number"),
    "echo NaN": ("invalid_result", "nan"),
    "echo Infinity": ("invalid_result", "inf"),
    "echo '{\"acc\": 1}'": ("invalid_result", "no metric 'loss'"),
    ": > result.json": ("invalid_result", "empty"),
    "echo '{' > result.json": ("invalid_result", "not JSON"),
    "sleep 1000 & sleep 1000": ("timeout", "time limit"),
    "trap '' TERM; sleep 1000": ("timeout", "time limit"),
    "kill -SEGV $$": ("crashed", "signal 11"),
    "echo '{\"loss\": 2.5}'": (None, None),
    "echo '{\"loss\": 3.5}' > result.json; echo ignored": (None, None),
}


@pytest.mark.parametrize("backend", ["thread", "process"])
def test_command_faults(tmp_path: Path, backend: str) -> None:
    before = descendants()
    snippets = list(COMMAND_FAULTS)
    study = Study({"snippet": snippets}, storage=tmp_path / "s", seed=0, metric="loss")
    for sn in snippets:
        study.enqueue({"snippet": sn})
    objective = CommandObjective(("sh", "-c", "{params.snippet}"), kill_grace=0.5)
    ex = (
        ThreadExecutor(objective, 3)
        if backend == "thread"
        else ProcessExecutor(objective, 3, kill_grace=0.5)
    )
    Scheduler(
        study,
        ex,
        trial_timeout=TIMEOUT,
        handle_signals=False,
        stop=StopRule(trials=len(snippets), max_failures=None),
    ).run()
    ex.close()
    for t in study.trials:
        reason, words = COMMAND_FAULTS[t.params["snippet"]]
        if reason is None:
            assert t.state is TrialState.COMPLETE, t.error
            continue
        assert t.state is TrialState.FAILED and t.reason == reason, (t.params, t.reason, t.error)
        assert words in (t.error or ""), (t.params, t.error)
    study.close()
    time.sleep(0.3)
    assert descendants() - before == set()


def test_output_is_captured_and_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import parabo.objectives as objectives

    monkeypatch.setattr(objectives, "OUTPUT_CAP", 1000)
    study = Study({"n": [5000]}, storage=tmp_path / "s", seed=0)
    objective = CommandObjective(
        (
            sys.executable,
            "-c",
            "import sys; sys.stderr.write('e' * 5000); print('y' * 5000); print(1.5)",
        )
    )
    ex = ThreadExecutor(objective, 1)
    Scheduler(study, ex, handle_signals=False, stop=StopRule(trials=1, max_failures=None)).run()
    ex.close()
    assert study.trials[0].value == 1.5
    folder = tmp_path / "s" / "trials" / "000000"
    for name in ("stdout.txt", "stderr.txt"):
        text = (folder / name).read_text()
        assert len(text) < 1100 and text.startswith("[parabo: the first")
    study.close()


def test_retries_run_the_same_parameters_again(tmp_path: Path) -> None:
    flaky = tmp_path / "flaky.py"
    flaky.write_text(
        "import os, sys, pathlib\n"
        "p = pathlib.Path(os.environ['PARABO_TRIAL_DIR']) / 'count'\n"
        "n = int(p.read_text()) if p.exists() else 0\n"
        "p.write_text(str(n + 1))\n"
        "if n < 2: os.kill(os.getpid(), 9)\n"
        "print(float(n))\n"
    )
    study = Study({"x": {"type": "float", "low": 0, "high": 1}}, storage=tmp_path / "s", seed=0)
    ex = ThreadExecutor(CommandObjective((sys.executable, str(flaky))), 2)
    summary = Scheduler(
        study,
        ex,
        handle_signals=False,
        stop=StopRule(trials=4, max_failures=None),
        retry=RetryPolicy(retries=2),
    ).run()
    ex.close()
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 4
    assert all(t.attempt == 3 and t.value == 2.0 for t in study.trials)
    assert summary.retried == 8
    study.close()
    journal = (tmp_path / "s" / "journal.jsonl").read_text()
    assert journal.count('"e":"retry"') == 8


def test_consecutive_failures_stop_the_study(tmp_path: Path) -> None:
    study = Study({"mode": ["raise"]}, storage=tmp_path / "s", seed=0)
    ex = ThreadExecutor(PythonObjective("helpers_objectives:misbehave"), 2)
    summary = Scheduler(
        study, ex, handle_signals=False, stop=StopRule(trials=100, max_failures=5)
    ).run()
    ex.close()
    assert summary.stop_reason == "failures" and "5 trials in a row failed" in (
        summary.message or ""
    )
    assert "RuntimeError: boom" in (summary.message or "")
    assert 5 <= len(study.trials) <= 7
    study.close()
