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
