"""Run a whole optimization in one call: ``minimize``, ``maximize``, ``optimize``, ``run_study``."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from parabo.config import StudyConfig
from parabo.executors import make_executor
from parabo.objectives import Objective, PythonObjective, as_objective
from parabo.samplers import Direction, Sampler
from parabo.scheduler import RunSummary, Scheduler, SchedulerListener
from parabo.space import Space
from parabo.study import Study

__all__ = ["maximize", "minimize", "optimize", "run_study"]


def optimize(
    objective: Callable[..., Any] | str | Sequence[str] | Objective,
    space: Space | Mapping[str, Any],
    *,
    direction: Direction = "minimize",
    trials: int = 100,
    workers: int = 1,
    backend: str = "process",
    sampler: str | Mapping[str, Any] | Sampler | None = None,
    seed: int | None = None,
    storage: str | os.PathLike[str] | None = None,
    metric: str | None = None,
    timeout: float | None = None,
    max_time: float | None = None,
    target: float | None = None,
    batch: bool = False,
    setup: Callable[[], Any] | str | None = None,
    listener: SchedulerListener | None = None,
) -> Study:
    """Optimize ``objective`` over ``space`` with ``workers`` trials in flight; returns the study.

    ``objective`` is a function ``f(params) -> float | dict`` (or ``f(params, data)``
    with ``setup``), an import path ``"module:function"``, or a command list.
    The study is left closed (its folder unlocked); read ``study.best``,
    ``study.trials`` or ``study.to_dataframe()``.
    """
    obj = as_objective(objective)
    if setup is not None:
        if not isinstance(obj, PythonObjective):
            raise TypeError("setup applies to Python objectives only")
        obj = PythonObjective(obj.function, setup, obj.paths)
    study = Study(space, direction, sampler, seed, storage=storage, metric=metric)
    try:
        run_scheduler(study, obj, trials=trials, workers=workers, backend=backend, timeout=timeout,
                      max_time=max_time, target=target, batch=batch, listener=listener)
    finally:
        study.close()
    return study


def minimize(objective: Callable[..., Any] | str | Sequence[str] | Objective,
             space: Space | Mapping[str, Any], **kwargs: Any) -> Study:
    """:func:`optimize` with ``direction="minimize"``."""
    return optimize(objective, space, direction="minimize", **kwargs)


def maximize(objective: Callable[..., Any] | str | Sequence[str] | Objective,
             space: Space | Mapping[str, Any], **kwargs: Any) -> Study:
    """:func:`optimize` with ``direction="maximize"``."""
    return optimize(objective, space, direction="maximize", **kwargs)


def run_scheduler(
    study: Study,
    objective: Objective,
    *,
    trials: int,
    workers: int,
    backend: str,
    timeout: float | None = None,
    max_time: float | None = None,
    target: float | None = None,
    batch: bool = False,
    listener: SchedulerListener | None = None,
) -> RunSummary:
    """Start the backend, run the scheduler on ``study`` and close the backend."""
    if isinstance(objective, PythonObjective):
        objective.check()
    executor = make_executor(backend, objective, workers)
    try:
        scheduler = Scheduler(study, executor, trials=trials, max_time=max_time, target=target,
                              batch=batch, trial_timeout=timeout, listener=listener)
        return scheduler.run()
    finally:
        executor.close(cancel=True)


def run_study(cfg: StudyConfig, base_dir: Path, listener: SchedulerListener | None = None) -> tuple[Study, RunSummary]:
    """Run a validated study file: open (or resume) its folder and run to a stop."""
    storage = Path(cfg.storage) if cfg.storage else Path("runs") / cfg.name
    if not storage.is_absolute():
        storage = base_dir / storage if cfg.storage else Path.cwd() / storage
    storage = storage.resolve()
    study = Study(cfg.build_space(), cfg.direction, cfg.sampler, cfg.seed,
                  storage=storage, metric=cfg.metric, name=cfg.name)
    try:
        summary = run_scheduler(
            study, cfg.objective.build(base_dir), trials=cfg.run.trials, workers=cfg.run.workers,
            backend=cfg.run.backend, timeout=cfg.run.timeout, max_time=cfg.run.max_time,
            target=cfg.run.target, batch=cfg.run.batch, listener=listener,
        )
    finally:
        study.close()
    return study, summary
