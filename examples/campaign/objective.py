"""The objective of the campaign example: one function, three problems (a fixed parameter picks one)."""

from __future__ import annotations

import math
import time
from typing import Any


def evaluate(params: dict[str, Any]) -> float:
    x, y = float(params["x"]), float(params["y"])
    time.sleep(float(params.get("seconds", 0.05)))  # a stand-in for real work
    problem = params["problem"]
    if problem == "sphere":
        return x * x + y * y
    if problem == "rastrigin":
        return 20 + sum(v * v - 10 * math.cos(2 * math.pi * v) for v in (x, y))
    if problem == "rosenbrock":
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2
    raise ValueError(f"unknown problem {problem!r}")
