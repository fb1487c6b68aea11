"""Objectives with learning curves, for the early-stopping tests (importable by path)."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import parabo


def curve(params: dict[str, Any], trial: parabo.RunningTrial) -> float:
    """Loss ``x + 1/step`` over ``steps`` steps; obeys the rule at each step."""
    loss = 0.0
    for step in range(1, int(params.get("steps", 20)) + 1):
        loss = params["x"] + 1.0 / step
        trial.report(loss, step=step)
        time.sleep(float(params.get("sleep", 0.01)))
        if trial.should_prune():
            raise parabo.TrialPruned()
    return loss


def curve_with_data(params: dict[str, Any], data: float, trial: parabo.RunningTrial) -> float:
    """``curve`` with a setup hook's data added to every value."""
    loss = 0.0
    for step in range(1, int(params.get("steps", 20)) + 1):
        loss = params["x"] + data + 1.0 / step
        trial.report({"loss": loss, "acc": 1.0 - loss}, step=step)
        time.sleep(float(params.get("sleep", 0.01)))
        if trial.should_prune():
            raise parabo.TrialPruned()
    return loss


def setup_offset() -> float:
    return 100.0


def stubborn(params: dict[str, Any], trial: parabo.RunningTrial) -> float:
    """Reports three more times after it was told to stop, then stops."""
    late = 0
    loss = 0.0
    for step in range(1, int(params.get("steps", 200)) + 1):
        loss = params["x"] + 1.0 / step
        trial.report(loss, step=step)
        time.sleep(float(params.get("sleep", 0.01)))
        if trial.should_prune():
            late += 1
            if late > 3:
                raise parabo.TrialPruned("stopped after three late reports")
    return loss


def no_trial(params: dict[str, Any]) -> float:
    """An objective without a trial parameter: unchanged behaviour."""
    return float(params["x"])


def pid_file() -> str:
    return os.environ.get("PARABO_TEST_PIDS", "")


def tracked(params: dict[str, Any], trial: parabo.RunningTrial) -> dict[str, float]:
    """Reports ``loss`` and ``acc`` at steps ``stride, 2 stride, ...``; obeys the rule."""
    stride = float(params.get("stride", 1))
    loss = 0.0
    for i in range(1, int(params.get("steps", 6)) + 1):
        loss = params["x"] + 1.0 / i
        trial.report({"loss": loss, "acc": 1.0 / i}, step=i * stride)
        time.sleep(float(params.get("sleep", 0.02)))
        if trial.should_prune():
            raise parabo.TrialPruned()
    return {"loss": loss, "acc": 2.0}


def flaky_reporter(params: dict[str, Any], trial: parabo.RunningTrial) -> float:
    """Reports steps 1-4 and raises on its first attempt; reports steps 1-2 (x 10) on the next."""
    if trial.attempt == 1:
        for step in range(1, 5):
            trial.report(params["x"] + step, step=step)
        raise RuntimeError("first attempt fails")
    for step in (1, 2):
        trial.report(10 * (params["x"] + step), step=step)
    return 10 * (params["x"] + 2)


def _ran(trial: parabo.RunningTrial, step: int) -> None:
    """Note in the trial folder that ``step`` was computed (to count the work really done)."""
    if trial.trial_dir is not None:
        os.makedirs(trial.trial_dir, exist_ok=True)
        with open(os.path.join(trial.trial_dir, "ran.txt"), "a") as f:
            f.write(f"{step}\n")


def checkpointed(params: dict[str, Any], trial: parabo.RunningTrial) -> float:
    """Loss ``x + 1/step`` up to ``trial.budget``, resuming from its checkpoint (saved each step)."""
    assert trial.checkpoint_dir is not None and trial.budget is not None
    saved = os.path.join(trial.checkpoint_dir, "state.json")
    done = 0
    if os.path.exists(saved):
        with open(saved) as f:
            done = int(json.load(f)["step"])
    for step in range(done + 1, int(trial.budget) + 1):
        time.sleep(float(params.get("sleep", 0.0)))
        _ran(trial, step)
        trial.report(params["x"] + 1.0 / step, step=step)
        tmp = saved + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"step": step}, f)
        os.replace(tmp, saved)
    return float(params["x"] + 1.0 / trial.budget)


def from_scratch(params: dict[str, Any], trial: parabo.RunningTrial) -> float:
    """Loss ``x + 1/step`` from step 1 up to ``trial.budget`` every time (no checkpoint)."""
    assert trial.budget is not None
    for step in range(1, int(trial.budget) + 1):
        _ran(trial, step)
        trial.report(params["x"] + 1.0 / step, step=step)
    return float(params["x"] + 1.0 / trial.budget)


def silent_budget(params: dict[str, Any], trial: parabo.RunningTrial) -> float:
    """Reports nothing: returns the loss at ``trial.budget``."""
    assert trial.budget is not None
    return float(params["x"] + 1.0 / trial.budget)


def ignores_stop(params: dict[str, Any], trial: parabo.RunningTrial) -> float:
    """Reports ``x + 1/step`` at steps 1..``steps`` and never asks whether to stop."""
    loss = 0.0
    for step in range(1, int(params.get("steps", 5)) + 1):
        loss = params["x"] + 1.0 / step
        trial.report(loss, step=step)
        time.sleep(float(params.get("sleep", 0.0)))
    return loss
