"""Run a whole optimization in one call: ``minimize``, ``maximize``, ``optimize``, ``run_study``."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parabo.cache import ResultCache
from parabo.exceptions import ConfigError
from parabo.executors import make_executor
from parabo.objectives import CommandObjective, Objective, PythonObjective, as_objective
from parabo.pruning import EarlyStopping
from parabo.reporting import wants_trial
from parabo.run_options import DEFAULT_BACKEND, RetryPolicy, StopRule
from parabo.samplers import Direction, Sampler
from parabo.scheduler import RunSummary, Scheduler, SchedulerListener, process_recorder
from parabo.space import Space
from parabo.study import Study
from parabo.tracking import Callback, CallbackRunner

if TYPE_CHECKING:
    from parabo.config import StudyConfig  # pydantic and YAML load only when a study file is read

__all__ = ["maximize", "minimize", "optimize", "run_study"]


def _check(
    objective: Objective, backend: str | None = None, stopping: EarlyStopping | None = None
) -> None:
    """Check an import path, or a command's program, before the first trial.

    On the dask backend a command runs on other machines, where its program may be
    and here may not: only they can tell. With an early-stopping rule, a Python
    objective must declare the ``trial`` parameter it reports through.
    """
    if objective.external and str(getattr(backend, "value", backend)) == "dask":
        return
    objective.check()
    if stopping is not None and stopping.rule != "none" and isinstance(objective, PythonObjective):
        fn, _ = objective._resolve()
        if not wants_trial(fn):
            name = getattr(fn, "__qualname__", repr(fn))
            raise ConfigError(
                f"early stopping ({stopping.rule}) needs reports, and {name} declares no `trial` "
                "parameter: write it as evaluate(params, trial) and call "
                "trial.report(value, step) as it goes (docs: early stopping)",
                field="objective.python" if isinstance(objective.function, str) else "objective",
            )


def optimize(
    objective: Callable[..., Any] | str | Sequence[str] | Objective,
    space: Space | Mapping[str, Any],
    *,
    direction: Direction | Sequence[Direction] = "minimize",
    trials: int = 100,
    workers: int = 1,
    backend: str = DEFAULT_BACKEND.value,
    sampler: str | Mapping[str, Any] | Sampler | None = None,
    seed: int | None = None,
    storage: str | os.PathLike[str] | None = None,
    metric: str | Sequence[str] | None = None,
    constraints: Mapping[str, Mapping[str, float]] | None = None,
    reference_point: Sequence[float] | None = None,
    timeout: float | None = None,
    max_time: float | None = None,
    target: float | None = None,
    max_failures: int | None = 20,
    stop_grace: float | None = None,
    retries: int = 0,
    retry_on: Collection[str] = ("crashed", "timeout"),
    batch: bool = False,
    setup: Callable[[], Any] | str | None = None,
    cache: bool | str | os.PathLike[str] = False,
    cache_key: str | None = None,
    trial_folders: str = "id",
    backend_options: Mapping[str, Any] | None = None,
    listener: SchedulerListener | None = None,
    early_stopping: EarlyStopping | Mapping[str, Any] | str | None = None,
    callbacks: Sequence[Callback] = (),
) -> Study:
    """Optimize ``objective`` over ``space`` with ``workers`` trials in flight; returns the study.

    ``objective`` is a function ``f(params) -> float | dict`` (or ``f(params, data)``
    with ``setup``), an import path ``"module:function"``, or a command list.
    The study is left closed (its folder unlocked); read ``study.best``,
    ``study.trials`` or ``study.to_dataframe()``.

    The arguments are those of a study file's ``run`` section (docs: the study file):
    ``trials``, ``max_time``, ``target``, ``max_failures`` and ``stop_grace`` make its
    :class:`~parabo.run_options.StopRule`; ``retries`` and ``retry_on`` its
    :class:`~parabo.run_options.RetryPolicy`; ``timeout`` is the per-trial time limit.
    ``backend_options``: options of the backend, e.g. ``{"address": "tcp://host:8786"}``
    for ``backend="dask"`` or ``{"gpus": [0, 1]}`` for ``process`` (see :func:`make_executor`).
    ``cache``: True (a ``cache`` folder in ``storage``) or a folder shared between
    studies: results of parameters already evaluated are reused.
    ``early_stopping``: a rule name (``"asha"``) or the settings of a study file's
    ``early_stopping`` section (:class:`~parabo.pruning.EarlyStopping`); the objective
    reports through its ``trial`` parameter, a command through its output.
    ``direction``, ``metric``, ``constraints`` and ``reference_point`` are as in
    :class:`~parabo.Study` (lists for several objectives).
    ``callbacks``: :class:`~parabo.tracking.Callback` objects told of each finished trial
    and of the end of the run (e.g. :class:`~parabo.tracking.MLflowTracker`).
    """
    stop = StopRule(trials, max_time, target, max_failures, stop_grace)
    retry = RetryPolicy(retries, retry_on)
    stopping = None if early_stopping is None else EarlyStopping.of(early_stopping)
    obj = as_objective(objective)
    if stopping is not None and isinstance(obj, CommandObjective) and obj.report_key is None:
        obj = dataclasses.replace(obj, report_key=stopping.resource)
    if setup is not None:
        if not isinstance(obj, PythonObjective):
            raise TypeError("setup applies to Python objectives only")
        obj = PythonObjective(obj.function, setup, obj.paths)
    _check(obj, backend, stopping)
    study = Study(
        space,
        direction,
        sampler,
        seed,
        storage=storage,
        metric=metric,
        constraints=constraints,
        reference_point=reference_point,
    )
    try:
        result_cache = None
        if cache is not False:
            if cache is True:
                if study.folder is None:
                    raise ConfigError(
                        "cache=True needs a storage folder; or give the cache folder", field="cache"
                    )
                cache = study.folder / "cache"
            result_cache = make_cache(obj, Path(cache), cache_key)
        run_scheduler(
            study,
            obj,
            stop=stop,
            retry=retry,
            workers=workers,
            backend=backend,
            timeout=timeout,
            batch=batch,
            listener=listener,
            backend_options=backend_options,
            cache=result_cache,
            trial_folders=trial_folders,
            early_stopping=stopping,
            callbacks=callbacks,
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
    stop: StopRule,
    retry: RetryPolicy | None = None,
    workers: int,
    backend: str,
    timeout: float | None = None,
    batch: bool = False,
    listener: SchedulerListener | None = None,
    backend_options: Mapping[str, Any] | None = None,
    cache: ResultCache | None = None,
    trial_folders: str = "id",
    early_stopping: EarlyStopping | None = None,
    callbacks: Sequence[Callback] = (),
) -> RunSummary:
    """Start the backend, run the scheduler on ``study`` and close the backend.

    ``backend_options``: keyword options of the backend (see :func:`make_executor`).
    ``callbacks`` are called on a background thread (:class:`~parabo.tracking.CallbackRunner`).
    """
    runner = CallbackRunner(callbacks, listener) if callbacks else None
    executor = make_executor(
        backend,
        objective,
        workers,
        on_process=process_recorder(study),
        **dict(backend_options or {}),
    )
    try:
        scheduler = Scheduler(
            study,
            executor,
            stop=stop,
            retry=retry,
            batch=batch,
            trial_timeout=timeout,
            cache=cache,
            trial_folders=trial_folders,
            listener=runner or listener,
            early_stopping=early_stopping,
        )
        return scheduler.run()
    finally:
        executor.close(cancel=True)
        if runner is not None:
            runner.close()


def make_cache(objective: Objective, folder: Path, cache_key: str | None = None) -> ResultCache:
    """The result cache of ``objective`` in ``folder`` (``cache_key``: the user's version string)."""
    fingerprint = objective.fingerprint() + (f"|{cache_key}" if cache_key else "")
    return ResultCache(folder, fingerprint)


def _study_cache(
    cfg: StudyConfig, objective: Objective, study: Study, base_dir: Path
) -> ResultCache | None:
    """The result cache the ``run`` section asks for (default: on for external commands)."""
    run = cfg.run
    use_cache = run.cache if run.cache is not None else objective.external
    if not use_cache:
        return None
    assert study.folder is not None
    folder = Path(run.cache_dir) if run.cache_dir else study.folder / "cache"
    if not folder.is_absolute():
        folder = base_dir / folder  # relative to the study file, like storage
    return make_cache(objective, folder, cfg.objective.cache_key)


def study_folder(cfg: StudyConfig, base_dir: Path) -> Path:
    """The study folder of a study file: ``storage`` relative to the file, else ``runs/<name>`` here."""
    from parabo.config import storage_folder

    return storage_folder(cfg, base_dir)


def open_study(cfg: StudyConfig, storage: Path) -> Study:
    """Open (or resume) in ``storage`` the study a validated study file describes."""
    return Study(
        cfg.build_space(),
        cfg.direction,
        cfg.sampler,
        cfg.seed,
        storage=storage,
        metric=cfg.metric,
        constraints=cfg.constraints,
        reference_point=cfg.reference_point,
        name=cfg.name,
    )


def run_study(
    cfg: StudyConfig, base_dir: Path, listener: SchedulerListener | None = None
) -> tuple[Study, RunSummary]:
    """Run a validated study file: open (or resume) its folder and run to a stop."""
    storage = study_folder(cfg, base_dir)
    stopping = cfg.early_stopping.settings() if cfg.early_stopping is not None else None
    objective = cfg.objective.build(base_dir, stopping.resource if stopping else None)
    # a wrong import path fails before the study folder is made
    _check(objective, cfg.run.backend, stopping)
    trackers = cfg.tracking.callbacks(base_dir) if cfg.tracking is not None else []
    warm: list[tuple[dict[str, Any], float]] = []
    if cfg.warm_start is not None:
        from parabo.warm_start import read_warm_start

        ws = cfg.warm_start
        if isinstance(cfg.metric, list) and len(cfg.metric) > 1:
            raise ConfigError(
                "tells one objective's values; a study with several objectives cannot use it "
                "yet (remove warm_start, or enqueue the points with `initial`)",
                field="warm_start",
            )
        metric = cfg.metric[0] if isinstance(cfg.metric, list) else cfg.metric
        # read and checked in full before the study folder is made or anything is told
        warm = read_warm_start(
            ws.resolve(base_dir), cfg.build_space(), ws.metric or metric, ws.study
        )
    study = open_study(cfg, storage)
    try:
        if warm:
            from parabo.warm_start import apply_warm_start

            with study.batched():
                apply_warm_start(study, warm)
        if cfg.initial:
            with study.batched():
                study.enqueue_initial(cfg.initial)
        run = cfg.run
        summary = run_scheduler(
            study,
            objective,
            stop=run.stop_rule(),
            retry=run.retry_policy(),
            workers=run.workers,
            backend=run.backend,
            timeout=run.timeout,
            batch=run.batch,
            listener=listener,
            backend_options=run.backend_options(cfg.seed),
            cache=_study_cache(cfg, objective, study, base_dir),
            trial_folders=run.trial_folders,
            early_stopping=stopping,
            callbacks=trackers,
        )
    finally:
        study.close()
    return study, summary
