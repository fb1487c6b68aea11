"""One trial can only fail itself: whatever an objective returns or raises, the study goes on.

Each case here crashed the coordinator (on every rerun) before: an integer
beyond a float's range, an exception whose text holds rich markup, a result that
cannot be unpickled in the coordinator, an object whose ``float()`` raises, an
exception message of many megabytes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from parabo import Study, TrialState
from parabo.executors.base import Task, format_exception, portable_result, run_task
from parabo.executors.inline import InlineExecutor
from parabo.executors.process import ProcessExecutor
from parabo.executors.thread import ThreadExecutor
from parabo.objectives import ObjectiveFailure, PythonObjective
from parabo.run_options import StopRule
from parabo.scheduler import Scheduler
from robust_objectives import BrokenFloat, BrokenStr, WontUnpickle, odd

HERE = Path(__file__).resolve().parent

#: mode -> (reason, words in the error)
BAD = {
    "bigint": ("invalid_result", "too large for a float"),
    "bigint_metric": ("invalid_result", "too large for a float"),
    "markup": ("exception", "bad [/] tag [bold]x[/bold] [/"),
    "unpickle": ("invalid_result", "WontUnpickle"),
    "broken_float": ("invalid_result", "float() raised RuntimeError"),
    "huge_error": ("exception", "characters cut"),
    "broken_str": ("exception", "BrokenStr"),
}


def test_portable_result_is_plain_data_or_a_failure() -> None:
    assert portable_result(2) == 2.0 and type(portable_result(2)) is float
    assert portable_result(None) is None and portable_result("a") == "a"
    assert type(portable_result(type("S", (str,), {})("1"))) is str
    plain = portable_result({"loss": 10**5000, "acc": 0.5, 3: "x", "ok": True})
    assert plain["acc"] == 0.5 and plain["3"] == "x" and plain["ok"] is True
    assert "too large" in plain["loss"]
    for bad, words in [
        (10**5000, "about 5001 digits"),
        (WontUnpickle(), "WontUnpickle"),
        (BrokenFloat(), "float() raised RuntimeError: no float for you"),
        (object(), "object <object object"),
    ]:
        with pytest.raises(ObjectiveFailure, match="not a number") as info:
            portable_result(bad)
        assert info.value.reason == "invalid_result" and words in str(info.value)


def test_error_text_is_capped_and_never_raises() -> None:
    try:
        raise RuntimeError("y" * (5 << 20))
    except RuntimeError as exc:
        text = format_exception(exc)
    assert len(text) < 10_000 and "characters cut" in text
    try:
        raise BrokenStr()
    except BrokenStr as exc:
        assert "BrokenStr" in format_exception(exc)
    out = run_task(lambda ctx: odd({"mode": "broken_str"}), Task(0, {}), "w")
    assert out.reason == "exception" and "BrokenStr" in (out.error or "")


def _run(executor_kind: str, tmp_path: Path) -> list[tuple[str, TrialState, str | None, str]]:
    modes = ["ok"]
    for m in BAD:
        modes += [m, "ok"]
    study = Study(
        {"mode": sorted(set(modes))}, storage=tmp_path / executor_kind, seed=0, metric="loss"
    )
    for m in modes:
        study.enqueue({"mode": m})
    objective = PythonObjective("robust_objectives:odd", paths=(str(HERE),))
    if executor_kind == "process":
        ex: object = ProcessExecutor(objective, 2)
    elif executor_kind == "thread":
        ex = ThreadExecutor(objective, 2)
    else:
        ex = InlineExecutor(objective)
    summary = Scheduler(
        study,
        ex,  # type: ignore[arg-type]
        handle_signals=False,
        stop=StopRule(trials=len(modes), max_failures=None),
    ).run()
    assert summary.stop_reason == "trials"
    rows = [(t.params["mode"], t.state, t.reason, t.error or "") for t in study.trials]
    study.close()
    # the journal reads back: a rerun does not die on the same trial
    again = Study.load(tmp_path / executor_kind)
    assert len(again.trials) == len(modes)
    again.close()
    return rows


@pytest.mark.parametrize("kind", ["process", "thread", "inline"])
def test_bad_results_fail_only_their_trial(kind: str, tmp_path: Path) -> None:
    rows = _run(kind, tmp_path)
    assert len(rows) == 1 + 2 * len(BAD)
    for mode, state, reason, error in rows:
        if mode == "ok":
            assert state is TrialState.COMPLETE, error
            continue
        want_reason, words = BAD[mode]
        assert state is TrialState.FAILED and reason == want_reason, (mode, reason, error)
        assert words in error, (mode, error[:300])
        assert len(error) < 10_000


def test_markup_in_errors_and_names_is_printed_as_text(tmp_path: Path) -> None:
    (tmp_path / "robust_objectives.py").write_text((HERE / "robust_objectives.py").read_text())
    study = tmp_path / "study.yaml"
    study.write_text(
        "name: '[bold]s[/]'\n"
        "space:\n  mode: {type: categorical, choices: ['ok', 'markup', '[/]']}\n"
        "objective:\n  python: robust_objectives:odd\n"
        "run: {trials: 3, workers: 1, backend: inline}\n"
        f"storage: {tmp_path / 'out'}\n"
    )
    r = subprocess.run(
        [sys.executable, "-m", "parabo.cli", "run", "-v", str(study)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in r.stderr and "MarkupError" not in r.stderr, r.stderr[-2000:]
    assert "bad [/] tag [bold]x[/bold] [/" in r.stderr
    assert "'[bold]s[/]'" in r.stderr
