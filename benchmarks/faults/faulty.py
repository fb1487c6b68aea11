"""Objectives that fail in every way we know; each writes the moment of its fault to $FAULT_LOG/<mode>."""

from __future__ import annotations

import ctypes
import math
import os
import resource
import signal
import subprocess
import time


def _mark(mode: str) -> None:
    with open(os.path.join(os.environ["FAULT_LOG"], mode), "w") as f:
        f.write(repr(time.time()))


def faulty(params: dict) -> object:
    mode = params["mode"]
    if mode == "healthy":
        time.sleep(0.2)
        return 1.0
    _mark(mode)
    if mode == "sleeps forever":
        time.sleep(10**6)
    if mode == "ignores SIGTERM":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(10**6)
    if mode == "forks a sleeping grandchild":
        subprocess.Popen(["sleep", "100000"])
        time.sleep(10**6)
    if mode == "SIGKILLs itself":
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "segfaults (ctypes)":
        ctypes.string_at(0)
    if mode == "os._exit(3)":
        os._exit(3)
    if mode == "allocates past a ulimit":
        with open("/proc/self/statm") as f:
            in_use = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (in_use + (256 << 20),) * 2)
        hog = []
        while True:
            hog.append(bytearray(64 << 20))
    if mode == "raises":
        raise ValueError("bad input")
    if mode == "returns NaN":
        return math.nan
    if mode == "returns inf":
        return math.inf
    if mode == "returns a string":
        return "0.5"
    if mode == "returns nothing":
        return None
    if mode == "returns 50 MB":
        return "x" * (50 << 20)
    raise AssertionError(mode)
