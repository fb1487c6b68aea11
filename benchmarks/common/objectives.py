"""Objectives that worker processes import by name (``common.objectives:trivial``)."""

from __future__ import annotations

import math
import time
from typing import Any


def trivial(params: dict[str, Any]) -> float:
    """No work at all: a run measures the scheduler's dispatch cost alone."""
    return (float(params["x"]) - 1.0) ** 2


def sleeper(params: dict[str, Any]) -> float:
    """Sleep ``params["seconds"]``: durations without CPU use."""
    time.sleep(float(params["seconds"]))
    return float(params["seconds"])


def burn(params: dict[str, Any]) -> float:
    """Pure-Python arithmetic, ``params["work"]`` iterations (1e6 is ~0.2 s); holds the GIL throughout."""
    x, y = float(params["x"]), float(params.get("y", 0.0))
    acc = 0.0
    for i in range(int(params.get("work", 1_000_000))):
        acc += math.sin(i * x) * 1e-9
    return (x - 0.3) ** 2 + (y + 0.2) ** 2 + acc


def matrix_problem(params: dict[str, Any]) -> float:
    """The campaign question's objective: ``params["problem"]`` picks a 2-D function; it sleeps
    ``params["seconds"]`` (0 on the simulated backend, whose runtime model gives durations)."""
    from common.problems import branin

    time.sleep(float(params.get("seconds", 0.0)))
    x0, x1 = float(params["x0"]), float(params["x1"])
    if params["problem"] == "branin":
        return branin({"x0": x0, "x1": x1})
    if params["problem"] == "sphere":
        return (x0 - 2.5) ** 2 + (x1 - 7.5) ** 2
    return (1 - x0 / 5) ** 2 + 100 * (x1 / 15 - (x0 / 5) ** 2) ** 2
