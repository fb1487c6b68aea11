"""Run a whole optimization in one call: ``minimize``, ``maximize``, ``optimize``, ``run_study``."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from parabo.cache import ResultCache
from parabo.config import StudyConfig
from parabo.exceptions import ConfigError
from parabo.executors import make_executor
from parabo.objectives import Objective, PythonObjective, as_objective
from parabo.samplers import Direction, Sampler
from parabo.scheduler import RunSummary, Scheduler, SchedulerListener
from parabo.space import Space
from parabo.study import Study

__all__ = ["maximize", "minimize", "optimize", "run_study"]


def _check(objective: Objective) -> None:
    if isinstance(objective, PythonObjective):
        objective.check()


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
    cache: bool | str | os.PathLike[str] = False,
    cache_key: str | None = None,
    backend_options: Mapping[str, Any] | None = None,
    listener: SchedulerListener | None = None,
    **options: Any,
) -> Study:
    """Optimize ``objective`` over ``space`` with ``workers`` trials in flight; returns the study.

    ``objective`` is a function ``f(params) -> float | dict`` (or ``f(params, data)``
    with ``setup``), an import path ``"module:function"``, or a command list.
    The study is left closed (its folder unlocked); read ``study.best``,
    ``study.trials`` or ``study.to_dataframe()``.

    ``backend_options``: options of the backend, e.g. ``{"address": "tcp://host:8786"}``
    for ``backend="dask"`` or ``{"gpus": [0, 1]}`` for ``process`` (see :func:`make_executor`).
    ``cache``: True (a ``cache`` folder in ``storage``) or a folder shared between
    studies: results of parameters already evaluated are reused. ``options``:
    more :class:`Scheduler` arguments (``retries``, ``retry_on``, ``max_failures``,
    ``stop_grace``, ``trial_folders``).
    """
    obj = as_objective(objective)
    if setup is not None:
        if not isinstance(obj, PythonObjective):
            raise TypeError("setup applies to Python objectives only")
        obj = PythonObjective(obj.function, setup, obj.paths)
    _check(obj)
    study = Study(space, direction, sampler, seed, storage=storage, metric=metric)
    try:
        if cache is not False:
            if cache is True:
                if study.folder is None:
                    raise ConfigError(
                        "cache=True needs a storage folder; or give the cache folder", field="cache"
                    )
                cache = study.folder / "cache"
            options["cache"] = make_cache(obj, Path(cache), cache_key)
        run_scheduler(
            study,
            obj,
            trials=trials,
            workers=workers,
            backend=backend,
            timeout=timeout,
            max_time=max_time,
            target=target,
            batch=batch,
            listener=listener,
            backend_options=backend_options,
            **options,
        )
    finally:
        study.close()
    return study


def minimize(
    objective: Callable[..., Any] | str | Sequence[str] | Objective,
    space: Space | Mapping[str, Any],
    **kwargs: Any,
) -> Study:
    """:func:`optimize` with ``direction="minimize"``."""
    return optimize(objective, space, direction="minimize", **kwargs)


def maximize(
    objective: Callable[..., Any] | str | Sequence[str] | Objective,
    space: Space | Mapping[str, Any],
    **kwargs: Any,
) -> Study:
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
    backend_options: Mapping[str, Any] | None = None,
    **options: Any,
) -> RunSummary:
    """Start the backend, run the scheduler on ``study`` and close the backend.

    ``backend_options``: keyword options of the backend (see :func:`make_executor`).
    ``options``: more keyword arguments of :class:`Scheduler` (retries, cache, ...).
    """
    executor = make_executor(backend, objective, workers, **dict(backend_options or {}))
    try:
        scheduler = Scheduler(
            study,
            executor,
            trials=trials,
            max_time=max_time,
            target=target,
            batch=batch,
            trial_timeout=timeout,
            listener=listener,
            **options,
        )
        return scheduler.run()
    finally:
        executor.close(cancel=True)


def _backend_options(cfg: StudyConfig) -> dict[str, Any]:
    """The options of the study's backend from its ``run`` section."""
    run = cfg.run
    if run.backend == "dask":
        return {
            "address": run.address,
            "cluster": run.cluster.options() if run.cluster is not None else None,
            "resources": run.resources.model_dump(exclude_none=True)
            if run.resources is not None
            else None,
            "idle_timeout": run.idle_timeout,
        }
    if run.backend == "process":
        from parabo.executors.dask_resources import detect_gpus

        wanted = run.resources.gpus if run.resources is not None else None
        if run.gpus is None and not wanted:
            return {}
        return {
            "gpus": run.gpus if run.gpus is not None else detect_gpus(),
            "gpus_per_trial": wanted or 1,
        }
    if run.backend == "simulated":
        return {"runtime": run.runtime, "seed": cfg.seed}
    return {}


def make_cache(objective: Objective, folder: Path, cache_key: str | None = None) -> ResultCache:
    """The result cache of ``objective`` in ``folder`` (``cache_key``: the user's version string)."""
    fingerprint = objective.fingerprint() + (f"|{cache_key}" if cache_key else "")
    return ResultCache(folder, fingerprint)


def _failure_options(
    cfg: StudyConfig, objective: Objective, study: Study, base_dir: Path
) -> dict[str, Any]:
    """Retries, failure limits, stop grace and the result cache from the ``run`` section."""
    run = cfg.run
    use_cache = run.cache if run.cache is not None else objective.external
    cache = None
    if use_cache:
        assert study.folder is not None
        folder = Path(run.cache_dir) if run.cache_dir else study.folder / "cache"
        if not folder.is_absolute():
            folder = base_dir / folder  # relative to the study file, like storage
        cache = make_cache(objective, folder, cfg.objective.cache_key)
    return {
        "retries": run.retries,
        "retry_on": run.retry_on,
        "max_failures": run.max_failures,
        "stop_grace": run.stop_grace,
        "cache": cache,
        "trial_folders": run.trial_folders,
    }


def run_study(
    cfg: StudyConfig, base_dir: Path, listener: SchedulerListener | None = None
) -> tuple[Study, RunSummary]:
    """Run a validated study file: open (or resume) its folder and run to a stop."""
    storage = Path(cfg.storage) if cfg.storage else Path("runs") / cfg.name
    if not storage.is_absolute():
        storage = base_dir / storage if cfg.storage else Path.cwd() / storage
    storage = storage.resolve()
    objective = cfg.objective.build(base_dir)
    _check(objective)  # a wrong import path fails before the study folder is made
    study = Study(
        cfg.build_space(),
        cfg.direction,
        cfg.sampler,
        cfg.seed,
        storage=storage,
        metric=cfg.metric,
        name=cfg.name,
    )
    try:
        summary = run_scheduler(
            study,
            objective,
            trials=cfg.run.trials,
            workers=cfg.run.workers,
            backend=cfg.run.backend,
            timeout=cfg.run.timeout,
            max_time=cfg.run.max_time,
            target=cfg.run.target,
            batch=cfg.run.batch,
            listener=listener,
            backend_options=_backend_options(cfg),
            **_failure_options(cfg, objective, study, base_dir),
        )
    finally:
        study.close()
    return study, summary
