"""Backends that run trials, all behind the protocol of :mod:`parabo.executors.base`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from parabo.exceptions import ConfigError
from parabo.executors.base import Executor, Outcome, Task
from parabo.objectives import Objective
from parabo.run_options import BACKENDS

__all__ = ["BACKENDS", "Executor", "Outcome", "Task", "make_executor"]


def make_executor(
    backend: str,
    objective: Objective,
    workers: int = 1,
    *,
    on_process: Callable[[int, int], None] | None = None,
    **options: Any,
) -> Executor:
    """Start the executor of a backend name; ``options`` go to that backend's class.

    ``on_process(trial_id, pgid)`` is called (from :meth:`Executor.collect`) for each
    process group a trial runs in, so that it can be journaled and killed if orphaned.

    - ``process``: ``gpus`` (ids shared round-robin), ``gpus_per_trial``, ``kill_grace``;
    - ``simulated``: ``runtime`` (a runtime model, default 60 s), ``seed``, ``overhead``;
    - ``dask``: ``address``, ``cluster``, ``resources``, ``idle_timeout`` (see :class:`~parabo.executors.dask.DaskExecutor`).
    """
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ConfigError(f"must be a positive integer, got {workers!r}", field="run.workers")
    options = {k: v for k, v in options.items() if v is not None}
    executor = _start(str(backend), objective, workers, options)
    executor.on_process = on_process
    return executor


def _start(backend: str, objective: Objective, workers: int, options: dict[str, Any]) -> Executor:
    if backend == "inline":
        from parabo.executors.inline import InlineExecutor

        return InlineExecutor(objective)
    if backend == "thread":
        from parabo.executors.thread import ThreadExecutor

        return ThreadExecutor(objective, workers)
    if backend == "process":
        from parabo.executors.process import ProcessExecutor

        return ProcessExecutor(objective, workers, **options)
    if backend == "simulated":
        from parabo.executors.simulated import SimulatedExecutor

        options.setdefault("runtime", 60.0)
        return SimulatedExecutor(objective, workers, **options)
    if backend == "dask":
        from parabo.executors.dask import DaskExecutor

        return DaskExecutor(objective, workers, **options)
    raise ConfigError(
        f"unknown backend {backend!r}; use one of: {', '.join(BACKENDS)}", field="run.backend"
    )
