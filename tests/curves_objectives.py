"""Objectives with learning curves, for the early-stopping tests (importable by path)."""

from __future__ import annotations

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
