"""Objectives the tests run in real worker processes (importable by path)."""

from __future__ import annotations

import math
import os
import signal
import time

CALLS_FILE = "PARABO_TEST_CALLS"


def quadratic(params: dict) -> float:
    return (params["x"] - 1.0) ** 2


def slow_quadratic(params: dict) -> float:
    time.sleep(float(params.get("sleep", 0.05)))
    return (params["x"] - 1.0) ** 2


def metrics(params: dict) -> dict:
    return {"loss": (params["x"] - 1.0) ** 2, "acc": 0.5}


def misbehave(params: dict) -> object:
    """What happens depends on params['mode']."""
    mode = params["mode"]
    if mode == "ok":
        return 1.0
    if mode == "raise":
        raise RuntimeError("boom")
    if mode == "nan":
        return math.nan
    if mode == "inf":
        return math.inf
    if mode == "string":
        return "not a number"
    if mode == "none":
        return None
    if mode == "exit":
        os._exit(3)
    if mode == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "sleep":
        time.sleep(3600)
    if mode == "ignore_term":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(3600)
    raise AssertionError(mode)


def load_data() -> dict:
    # counts how often setup runs: one line per call, in a file named by the environment
    path = os.environ.get(CALLS_FILE)
    if path:
        with open(path, "a") as f:
            f.write(f"{os.getpid()}\n")
    return {"offset": 1.0}


def with_data(params: dict, data: dict) -> float:
    return (params["x"] - data["offset"]) ** 2


def pid(params: dict) -> float:
    return float(os.getpid())
