"""Objectives for the core benchmarks (importable by worker processes)."""

from __future__ import annotations

import time


def cpu_bound(params: dict) -> float:
    """Pure-Python arithmetic, ~0.5 s on one core of the reference machine; holds the GIL throughout."""
    n = int(params.get("work", 2_600_000))
    acc = 0.0
    x = params["x"]
    for i in range(n):
        acc += (x * i) % 7.0
    return (x - 1.0) ** 2 + acc * 0.0


def trivial(params: dict) -> float:
    return (params["x"] - 1.0) ** 2


def sleeper(params: dict) -> float:
    time.sleep(params["seconds"])
    return params["seconds"]
