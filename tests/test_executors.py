from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from conftest import descendants
from parabo.executors import make_executor
from parabo.executors.base import Outcome, Task
from parabo.objectives import PythonObjective


def drain(ex, n: int, limit: float = 60.0) -> dict[int, Outcome]:
    out: dict[int, Outcome] = {}
    end = time.monotonic() + limit
    while len(out) < n and time.monotonic() < end:
        for o in ex.collect(timeout=0.5):
            out[o.trial_id] = o
    assert len(out) == n, f"only {len(out)} of {n} outcomes"
    return out


@pytest.mark.parametrize("backend", ["inline", "thread", "process"])
def test_results_and_exceptions(backend: str) -> None:
    ex = make_executor(backend, PythonObjective("helpers_objectives:misbehave"), 2)
    try:
        for i, mode in enumerate(["ok", "raise", "nan", "ok"]):
            ex.submit(Task(i, {"mode": mode}))
        out = drain(ex, 4)
    finally:
        ex.close()
    assert out[0].result == 1.0 and out[0].error is None and out[0].worker
    assert out[1].reason == "exception" and "RuntimeError: boom" in (out[1].error or "")
    assert out[2].error is None  # NaN is judged by the study, not the executor
    assert out[0].started_at <= out[0].finished_at


@pytest.mark.parametrize("mode, words", [("exit", "exited with code 3"), ("sigkill", "SIGKILL")])
def test_a_dying_worker_fails_only_its_trial_and_is_replaced(mode: str, words: str) -> None:
    ex = make_executor("process", PythonObjective("helpers_objectives:misbehave"), 2)
    try:
        ex.submit(Task(0, {"mode": mode}))
        ex.submit(Task(1, {"mode": "ok"}))
        out = drain(ex, 2)
        assert out[0].reason == "crashed" and words in (out[0].error or "")
        assert out[1].result == 1.0
        for i in range(2, 6):  # the pool still has two working workers
            ex.submit(Task(i, {"mode": "ok"}))
        assert all(o.result == 1.0 for o in drain(ex, 4).values())
    finally:
        ex.close()


def test_time_limit_kills_the_worker_even_if_it_ignores_sigterm() -> None:
    ex = make_executor("process", PythonObjective("helpers_objectives:misbehave"), 2)
    ex.kill_grace = 0.5  # type: ignore[attr-defined]
    try:
        t0 = time.monotonic()
        ex.submit(Task(0, {"mode": "sleep"}, timeout=0.5))
        ex.submit(Task(1, {"mode": "ignore_term"}, timeout=0.5))
        out = drain(ex, 2, limit=20)
        assert {o.reason for o in out.values()} == {"timeout"}
        assert time.monotonic() - t0 < 5
        ex.submit(Task(2, {"mode": "ok"}))
        assert drain(ex, 1)[2].result == 1.0
    finally:
        ex.close()


def test_cancel_a_running_trial() -> None:
    ex = make_executor("process", PythonObjective("helpers_objectives:misbehave"), 1)
    try:
        ex.submit(Task(0, {"mode": "sleep"}))
        ex.submit(Task(1, {"mode": "ok"}))
        time.sleep(1.0)
        ex.cancel(1)  # still queued
        ex.cancel(0)  # running
        out = drain(ex, 2)
        assert out[0].reason == "cancelled" and out[1].reason == "cancelled"
    finally:
        ex.close()


def test_setup_runs_once_per_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = tmp_path / "calls"
    monkeypatch.setenv("PARABO_TEST_CALLS", str(calls))
    ex = make_executor(
        "process",
        PythonObjective("helpers_objectives:with_data", "helpers_objectives:load_data"),
        2,
    )
    try:
        for i in range(10):
            ex.submit(Task(i, {"x": float(i)}))
        out = drain(ex, 10)
    finally:
        ex.close()
    assert out[3].result == 4.0
    assert len(calls.read_text().split()) == 2


def test_a_callable_is_sent_once_and_workers_are_long_lived() -> None:
    offset = 2.0
    ex = make_executor("process", PythonObjective(lambda p: float(os.getpid()) + 0 * offset), 2)
    try:
        for i in range(12):
            ex.submit(Task(i, {}))
        pids = {o.result for o in drain(ex, 12).values()}
    finally:
        ex.close()
    assert 1 <= len(pids) <= 2  # 12 trials on at most 2 processes: no process per trial


def test_close_leaves_no_process_behind() -> None:
    before = descendants()
    ex = make_executor("process", PythonObjective("helpers_objectives:misbehave"), 2)
    ex.submit(Task(0, {"mode": "sleep"}))
    ex.submit(Task(1, {"mode": "ok"}))
    drain(ex, 1)
    ex.close(cancel=True)
    time.sleep(0.2)
    assert descendants() - before == set()


def test_thread_backend_fails_an_overdue_python_trial() -> None:
    ex = make_executor("thread", PythonObjective("helpers_objectives:slow_quadratic"), 1)
    try:
        ex.submit(Task(0, {"x": 1.0, "sleep": 2.0}, timeout=0.3))
        ex.submit(Task(1, {"x": 2.0, "sleep": 0.0}))
        out = drain(ex, 2)
        assert out[0].reason == "timeout" and out[1].result == 1.0
    finally:
        ex.close()


def test_gpus_are_shared_round_robin_and_a_replacement_keeps_its_slot() -> None:
    ex = make_executor(
        "process", PythonObjective("helpers_objectives:visible_gpu"), 4, gpus=["0", "1"]
    )
    try:
        for i in range(40):
            ex.submit(Task(i, {}))
        seen = {o.worker: o.result for o in drain(ex, 40).values()}
    finally:
        ex.close()
    assert set(seen.values()) <= {0.0, 1.0} and len(seen) >= 1
    study = parabo_minimize_gpu()
    assert sorted(study) == [0.0, 0.0, 1.0, 1.0]


def parabo_minimize_gpu() -> list[float]:
    """One trial per worker slot at once: slots 0..3 see GPUs 0, 1, 0, 1."""
    ex = make_executor(
        "process", PythonObjective("helpers_objectives:visible_gpu_slow"), 4, gpus=["0", "1"]
    )
    try:
        for i in range(4):
            ex.submit(Task(i, {}))
        return [o.result for o in drain(ex, 4).values()]
    finally:
        ex.close()


@pytest.mark.parametrize("backend", ["inline", "thread", "process", "simulated"])
def test_a_closed_executor_refuses_new_trials(backend: str) -> None:
    from parabo.exceptions import ExecutorError

    ex = make_executor(backend, PythonObjective("helpers_objectives:quadratic"), 1)
    ex.close()
    with pytest.raises(ExecutorError, match="closed"):
        ex.submit(Task(0, {"x": 1.0}))
