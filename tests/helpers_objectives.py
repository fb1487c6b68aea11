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
    if mode == "fork_sleep":
        # a grandchild in the worker's process group that would outlive the trial
        import subprocess

        subprocess.Popen(["sleep", "3600"])
        time.sleep(3600)
    if mode == "fork_return":
        import subprocess

        subprocess.Popen(["sleep", "3600"])
        return 2.0
    if mode == "segfault":
        import ctypes

        ctypes.string_at(0)
    if mode == "memory":
        import resource

        with open("/proc/self/statm") as f:
            in_use = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = in_use + (256 << 20)  # a ulimit 256 MiB above what the worker uses now
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        hog = []
        while True:
            hog.append(bytearray(64 << 20))
    if mode == "huge":
        return "x" * (50 << 20)
    if mode == "sysexit":
        raise SystemExit(4)
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


def visible_gpu(params: dict) -> float:
    return float(os.environ.get("CUDA_VISIBLE_DEVICES", "-1"))


def visible_gpu_slow(params: dict) -> float:
    time.sleep(1.0)  # long enough that each of the workers takes one trial
    return float(os.environ.get("CUDA_VISIBLE_DEVICES", "-1"))


def campaign_eval(params: dict) -> float:
    """A campaign's objective: the fixed parameter ``problem`` picks the function; every call is
    counted in the file named by ``$PARABO_TEST_CALLS`` (one line: problem and x)."""
    time.sleep(float(params.get("sleep", 0.0)))
    path = os.environ.get(CALLS_FILE)
    if path:
        with open(path, "a") as f:
            f.write(f"{params['problem']} {params['x']!r}\n")
    shift = {"a": 1.0, "b": -1.0, "c": 2.0}[params["problem"]]
    return (params["x"] - shift) ** 2


def campaign_reference(problem: str) -> dict:
    """A per-problem reference computed by a campaign's setup stage; every call is counted."""
    path = os.environ.get(CALLS_FILE)
    if path:
        with open(path, "a") as f:
            f.write(f"reference {problem}\n")
    return {"shift": {"a": 1.0, "b": -1.0, "c": 2.0}[problem]}


def campaign_with_reference(params: dict, data: dict) -> float:
    return (params["x"] - data["shift"]) ** 2


def two_objectives(params: dict) -> dict:
    """A front along x in [0, 1] (error falls, seconds rise), memory over 8 for x > 0.8."""
    x = params["x"]
    return {"error": (x - 1.0) ** 2, "seconds": x**2, "memory_gb": 10.0 * x}
