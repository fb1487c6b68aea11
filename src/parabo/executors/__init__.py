"""Backends that run trials, all behind the protocol of :mod:`parabo.executors.base`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from parabo.exceptions import ConfigError
from parabo.executors.base import Executor, Outcome, Task
from parabo.objectives import Objective

__all__ = ["BACKENDS", "Executor", "Outcome", "Task", "make_executor"]

BACKENDS = ("inline", "thread", "process", "simulated", "dask")


def make_executor(
    backend: str, objective: Objective, workers: int = 1, *, runtime: Any = None, seed: int | None = None,
    dask: Mapping[str, Any] | None = None,
) -> Executor:
    """Start the executor of a backend name (``inline``, ``thread``, ``process``, ``simulated``).

    ``runtime`` (a runtime model, default 60 s) and ``seed`` apply to ``simulated`` only.
    ``dask`` holds the keyword options of :class:`~parabo.executors.dask.DaskExecutor`
    (``address``, ``cluster``, ``resources``, ``idle_timeout``).
    """
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ConfigError(f"must be a positive integer, got {workers!r}", field="run.workers")
    if backend == "inline":
        from parabo.executors.inline import InlineExecutor

        return InlineExecutor(objective)
    if backend == "thread":
        from parabo.executors.thread import ThreadExecutor

        return ThreadExecutor(objective, workers)
    if backend == "process":
        from parabo.executors.process import ProcessExecutor

        return ProcessExecutor(objective, workers)
    if backend == "simulated":
        from parabo.executors.simulated import SimulatedExecutor

        return SimulatedExecutor(objective, workers, runtime=60.0 if runtime is None else runtime, seed=seed)
    if backend == "dask":
        from parabo.executors.dask import DaskExecutor

        return DaskExecutor(objective, workers, **dict(dask or {}))
    raise ConfigError(f"unknown backend {backend!r}; use one of: {', '.join(BACKENDS)}", field="run.backend")
