"""Backends that run trials, all behind the protocol of :mod:`parabo.executors.base`."""

from __future__ import annotations

from parabo.exceptions import ConfigError
from parabo.executors.base import Executor, Outcome, Task
from parabo.objectives import Objective

__all__ = ["BACKENDS", "Executor", "Outcome", "Task", "make_executor"]

BACKENDS = ("inline", "thread", "process")


def make_executor(backend: str, objective: Objective, workers: int = 1) -> Executor:
    """Start the executor of a backend name (``inline``, ``thread``, ``process``)."""
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
    raise ConfigError(f"unknown backend {backend!r}; use one of: {', '.join(BACKENDS)}", field="run.backend")
