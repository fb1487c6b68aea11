"""A CPU-bound pure-Python objective (about 0.2 s per call on one core), shared by the real-process benchmark."""

from __future__ import annotations

import math


def burn(x: float, y: float, n: int = 1_000_000) -> float:
    acc = 0.0
    for i in range(n):
        acc += math.sin(i * x) * 1e-9
    return (x - 0.3) ** 2 + (y + 0.2) ** 2 + acc


def evaluate(params: dict) -> float:
    return burn(params["x"], params["y"])


def optuna_objective(trial) -> float:  # noqa: ANN001
    return burn(trial.suggest_float("x", -1, 1), trial.suggest_float("y", -1, 1))
