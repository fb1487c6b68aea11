"""Objectives that misbehave in the ways a user's code can: odd results, escaping processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time


def _rebuild_fails() -> object:
    raise RuntimeError("cannot rebuild [/] in the coordinator")


class WontUnpickle:
    """Pickles fine; unpickling raises (e.g. its class is missing where it is read)."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (_rebuild_fails, ())


class WontUnpickleStr(str):
    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (_rebuild_fails, ())


class BrokenFloat:
    def __float__(self) -> float:
        raise RuntimeError("no float for you [/]")


class BrokenStr(Exception):
    def __str__(self) -> str:
        raise RuntimeError("str() of this exception fails")


def odd(params: dict) -> object:
    """A result or an exception chosen by ``params['mode']``; ``ok`` returns 1.0."""
    mode = params["mode"]
    if mode == "ok":
        return 1.0
    if mode == "bigint":
        return 10**5000
    if mode == "bigint_metric":
        return {"loss": 10**5000, "acc": 0.5}
    if mode == "markup":
        raise RuntimeError("bad [/] tag [bold]x[/bold] [/")
    if mode == "unpickle":
        return WontUnpickle()
    if mode == "unpickle_str":
        return WontUnpickleStr("1.0")
    if mode == "broken_float":
        return BrokenFloat()
    if mode == "huge_error":
        raise RuntimeError("x" * (20 << 20))
    if mode == "broken_str":
        raise BrokenStr()
    if mode == "no_metric":
        return {"acc": 0.5, "other": 1.0}
    raise AssertionError(mode)


def spawn_and_return(params: dict) -> float:
    """Starts a grandchild in the worker's group and a daemon in a session of its own, returns."""
    marks = os.environ["PARABO_TEST_MARKS"]
    # a plain grandchild (same process group)
    p = subprocess.Popen(["sleep", "300"])
    # a daemonized one: its own session, stdout kept open (like a careless server);
    # os.setsid in the child, so it is no longer in the worker's process group
    d = subprocess.Popen(["sleep", "301"], start_new_session=True)
    name = os.path.join(marks, f"{params['x']:.6f}")
    with open(name + ".tmp", "w") as f:
        f.write(f"{p.pid} {d.pid}\n")
    os.replace(name + ".tmp", name)
    return float(params["x"])


def spawn_and_sleep(params: dict) -> float:
    spawn_and_return(params)
    time.sleep(300)
    return 0.0


if __name__ == "__main__":  # pragma: no cover - used as a command objective
    print(sys.argv)


def start_helper() -> int:
    """A setup hook that starts a helper process meant to serve every trial of its worker."""
    helper = subprocess.Popen(["sleep", "302"])
    with open(os.path.join(os.environ["PARABO_TEST_MARKS"], "helper"), "w") as f:
        f.write(f"{helper.pid}\n")
    return helper.pid


def with_helper(params: dict, helper: int) -> float:
    os.kill(helper, 0)  # still there
    return spawn_and_return(params)
