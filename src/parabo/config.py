"""Study files (YAML or JSON): load, validate, apply command-line overrides.

Every problem is a :class:`ConfigError` that names the field (``run.workers``)
and says what to do; nothing runs before the whole file is valid.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from parabo._problems import MAX_PROBLEMS, Problem, check_tree, combine, problems_of
from parabo._yaml import MAX_FILE_BYTES, load_text
from parabo.exceptions import ConfigError
from parabo.goals import Goal
from parabo.objectives import (
    _PLACEHOLDER,
    CommandObjective,
    Objective,
    PythonObjective,
    check_result_file,
)
from parabo.pruning import EarlyStopping
from parabo.run_options import DEFAULT_BACKEND, Backend, RetryPolicy, StopRule
from parabo.samplers import make_sampler
from parabo.space import Space, brief, check_space, did_you_mean

__all__ = [
    "MAX_CONSTRAINTS",
    "MAX_OBJECTIVES",
    "MAX_PROBLEMS",
    "MAX_RETRIES",
    "MAX_SECONDS",
    "MAX_SEED",
    "MAX_TRIALS",
    "MAX_WORKERS",
    "EarlyStoppingConfig",
    "MAX_INITIAL",
    "ObjectiveConfig",
    "RunConfig",
    "MLflowConfig",
    "StudyConfig",
    "TrackingConfig",
    "WandbConfig",
    "WarmStartConfig",
    "load_study_file",
    "parse_duration",
    "parse_study",
    "storage_folder",
    "with_overrides",
]

#: the most trials in flight at once (run.workers, --workers)
MAX_WORKERS = 4096
#: the most finished trials a run may ask for (run.trials, --trials, run.max_failures)
MAX_TRIALS = 10_000_000
#: the most retries of one trial (run.retries, --retries)
MAX_RETRIES = 100
#: seeds are 0 .. 2**63 - 1 (numpy takes any non-negative integer; the journal keeps 64 bits)
MAX_SEED = 2**63 - 1
#: objectives of one study (the hypervolume is exact and costs more with each one)
MAX_OBJECTIVES = 8
#: constraints of one study
MAX_CONSTRAINTS = 64
#: the longest duration (ten years of seconds; Python's timers refuse much longer waits)
MAX_SECONDS = 10 * 365 * 86400.0

_UNITS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "ms": 0.001}


def parse_duration(value: Any, field: str = "duration", *, allow_zero: bool = False) -> float:
    """Seconds from a number or a string like ``"90"``, ``"30s"``, ``"10m"``, ``"2h"``, ``"1.5d"``.

    Positive (or zero with ``allow_zero``) and at most ``MAX_SECONDS``; raises
    :class:`ConfigError` naming ``field`` otherwise.
    """
    if isinstance(value, bool):
        raise ConfigError(
            f"expected seconds or a duration like '10m', got {brief(value)}", field=field
        )
    if isinstance(value, (int, float)):
        try:
            seconds = float(value)
        except OverflowError:
            seconds = math.inf
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-z]*)\s*", value)
        if not m or m.group(2) not in ("", *_UNITS):
            raise ConfigError(
                f"cannot read {brief(value)} as a duration; use seconds or a number with "
                "s, m, h or d (e.g. '10m')",
                field=field,
            )
        seconds = float(m.group(1)) * _UNITS.get(m.group(2), 1.0)
    else:
        raise ConfigError(
            f"expected seconds or a duration like '10m', got {brief(value)}", field=field
        )
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not allow_zero):
        kind = "zero or a positive duration" if allow_zero else "a positive duration"
        raise ConfigError(f"must be {kind}, got {brief(value)}", field=field)
    if seconds > MAX_SECONDS:
        raise ConfigError(
            f"must be at most {MAX_SECONDS:.0f} seconds (ten years), got {brief(value)}",
            field=field,
        )
    return seconds


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_CLUSTER_TYPES = ("local", "slurm", "pbs", "sge", "lsf", "htcondor", "oar", "moab")


class ClusterConfig(BaseModel):
    """``run.cluster`` of the dask backend: ``local``, or a dask-jobqueue cluster; other keys go to dask-jobqueue."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: Literal["local", "slurm", "pbs", "sge", "lsf", "htcondor", "oar", "moab"]
    cores: int | None = Field(None, ge=1, le=MAX_WORKERS)
    memory: str | int | None = None
    processes: int | None = Field(None, ge=1, le=MAX_WORKERS)
    gpus: int | None = Field(None, ge=0, le=MAX_WORKERS)
    walltime: str | None = None
    queue: str | None = None
    account: str | None = None
    jobs: int | None = Field(None, ge=1, le=MAX_WORKERS)
    job_extra: list[str] | None = Field(None, max_length=1000)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        if isinstance(v, str):
            if v.lower() not in _CLUSTER_TYPES:
                raise ValueError(
                    f"must be 'local' or a mapping with type: one of {', '.join(_CLUSTER_TYPES[1:])}, got {v!r}"
                )
            return {"type": v.lower()}
        return v

    @field_validator("memory")
    @classmethod
    def _memory(cls, v: str | int | None) -> str | int | None:
        if v is not None:
            from parabo.executors.dask_resources import parse_memory

            try:
                parse_memory(v)
            except ConfigError as exc:
                raise ValueError(exc.message) from None
        return v

    def options(self) -> dict[str, Any]:
        """The mapping given to the dask backend (keys left out are left to dask-jobqueue's defaults)."""
        return self.model_dump(exclude_none=True)


class ResourcesConfig(_Strict):
    """``run.resources``: what one trial needs (Dask worker resources; GPUs also on the process backend)."""

    cpus: float | None = Field(None, gt=0, le=MAX_WORKERS)
    gpus: int | None = Field(None, ge=0, le=MAX_WORKERS)
    memory: str | int | None = None

    @field_validator("memory")
    @classmethod
    def _memory(cls, v: str | int | None) -> str | int | None:
        return ClusterConfig._memory(v)


class RunConfig(_Strict):
    """The ``run`` section: how many trials, where and how they run."""

    trials: int = Field(50, ge=0, le=MAX_TRIALS)
    workers: int = Field(1, ge=1)  # at most MAX_WORKERS: _workers says so with the core count
    backend: Backend = DEFAULT_BACKEND
    batch: bool = False
    timeout: float | None = None  # per trial, seconds
    max_time: float | None = None  # whole run, seconds
    target: float | None = None
    # failures (docs: README "Failures"): retries of the same parameters, and when to give up
    retries: int = Field(0, ge=0, le=MAX_RETRIES)
    retry_on: list[str] = Field(default_factory=lambda: ["crashed", "timeout"])
    max_failures: int | None = Field(
        20, ge=1, le=MAX_TRIALS
    )  # consecutive failed trials that stop the study
    stop_grace: float | None = None  # seconds in-flight trials get after a stop signal
    # result cache (default: on for external commands, off for Python functions)
    cache: bool | None = None
    cache_dir: str | None = None  # default: <study folder>/cache; share it between studies
    trial_folders: Literal["id", "key"] = "id"  # name trial folders by id or by cache key
    runtime: str | float | None = (
        None  # backend simulated: trial durations, e.g. 'lognormal(60s, 0.5)'
    )
    # backend dask (docs/cluster.md): an existing scheduler, or a cluster parabo starts
    address: str | None = None  # e.g. tcp://10.0.0.5:8786
    cluster: ClusterConfig | None = None  # local, or {type: slurm, cores, memory, walltime, ...}
    idle_timeout: float | None = (
        None  # stop when no Dask worker is connected this long (default 10m)
    )
    gpus: list[int | str] | None = Field(
        None, max_length=MAX_WORKERS
    )  # backend process: GPU ids shared round-robin (default: detected)
    resources: ResourcesConfig | None = None  # what one trial needs: {cpus, gpus, memory}

    @field_validator("retry_on")
    @classmethod
    def _retryable(cls, v: list[str]) -> list[str]:
        try:
            RetryPolicy(0, v)
        except ConfigError as exc:
            raise ValueError(exc.message) from None
        return v

    def stop_rule(self) -> StopRule:
        """When the run stops: trials, max_time, target, max_failures, stop_grace."""
        return StopRule(self.trials, self.max_time, self.target, self.max_failures, self.stop_grace)

    def retry_policy(self) -> RetryPolicy:
        """Which failed trials run again: retries, retry_on."""
        return RetryPolicy(self.retries, self.retry_on)

    def backend_options(self, seed: int | None = None) -> dict[str, Any]:
        """The options of the backend (:func:`parabo.executors.make_executor`) from this section."""
        if self.backend == Backend.DASK:
            return {
                "address": self.address,
                "cluster": self.cluster.options() if self.cluster is not None else None,
                "resources": self.resources.model_dump(exclude_none=True)
                if self.resources is not None
                else None,
                "idle_timeout": self.idle_timeout,
            }
        if self.backend == Backend.PROCESS:
            from parabo.executors.dask_resources import detect_gpus

            wanted = self.resources.gpus if self.resources is not None else None
            if self.gpus is None and not wanted:
                return {}
            return {
                "gpus": self.gpus if self.gpus is not None else detect_gpus(),
                "gpus_per_trial": wanted or 1,
            }
        if self.backend == Backend.SIMULATED:
            return {"runtime": self.runtime, "seed": seed}
        return {}

    @field_validator("address", "cluster", "idle_timeout")
    @classmethod
    def _dask_only(cls, v: Any, info: Any) -> Any:
        if v is not None and info.data.get("backend") != "dask":
            raise ValueError("applies to backend: dask only; set backend: dask")
        if info.field_name == "cluster" and v is not None and info.data.get("address") is not None:
            raise ValueError(
                "give either address (an existing scheduler) or cluster (one parabo starts), not both"
            )
        if (
            info.field_name == "address"
            and v is not None
            and not re.fullmatch(r"[a-z]+://\S+|[^\s:/]+:\d+", v)
        ):
            raise ValueError(f"expected a scheduler address like tcp://10.0.0.5:8786, got {v!r}")
        return v

    @field_validator("runtime")
    @classmethod
    def _runtime(cls, v: str | float | None) -> str | float | None:
        if v is not None:
            from parabo.executors.simulated import parse_runtime

            try:
                parse_runtime(v, "run.runtime")
            except ConfigError as exc:
                raise ValueError(exc.message) from None
        return v

    @field_validator("timeout", "max_time", "idle_timeout", "stop_grace", mode="before")
    @classmethod
    def _duration(cls, v: Any, info: Any) -> float | None:
        if v is None:
            return None
        try:
            return parse_duration(
                v, f"run.{info.field_name}", allow_zero=info.field_name == "stop_grace"
            )
        except ConfigError as exc:
            raise ValueError(exc.message) from None  # the field is added once, by the caller

    @field_validator("trials", "workers", "retries", "max_failures", mode="before")
    @classmethod
    def _integer(cls, v: Any) -> Any:
        if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
            raise ValueError(f"expected a whole number, got {brief(v)}")
        return v

    @field_validator("workers")
    @classmethod
    def _workers(cls, v: int) -> int:
        if v > MAX_WORKERS:
            raise ValueError(
                f"must be at most {MAX_WORKERS}, got {v} (this machine has {os.cpu_count() or 1} "
                "CPU cores; the process backend starts one process per worker)"
            )
        return v

    @field_validator("gpus")
    @classmethod
    def _gpu_ids(cls, v: list[int | str] | None) -> list[int | str] | None:
        for g in v or ():
            if (isinstance(g, int) and g < 0) or (isinstance(g, str) and not g.strip()):
                raise ValueError(f"GPU ids are integers from 0 or non-empty names, got {brief(g)}")
        return v

    @field_validator("target")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v


class ObjectiveConfig(_Strict):
    """The ``objective`` section: a Python function by import path, or an external command."""

    python: str | None = None
    command: list[str] | None = None
    setup: str | None = None
    result_file: str = "result.json"
    env: dict[str, str] = Field(default_factory=dict)
    cache_key: str | None = None  # a version string: change it to invalidate cached results

    @field_validator("command", mode="before")
    @classmethod
    def _argv(cls, v: Any) -> Any:  # noqa: C901
        if isinstance(v, str):
            raise ValueError(
                "give the command as a list of arguments, e.g. [python, train.py, --params, '{params_file}'] "
                "(a string would need a shell, and parameter values never go through a shell)"
            )
        if isinstance(v, list):
            out = []
            for a in v:
                if isinstance(a, bool) or not isinstance(a, (str, int, float)):
                    raise ValueError(f"every argument must be a string, got {brief(a)}")
                out.append(str(a))
            if not out:
                raise ValueError("the command list is empty")
            if not out[0].strip():
                raise ValueError(
                    "the program (the first argument) is empty; give its name or path, e.g. python"
                )
            return out
        return v

    @field_validator("env")
    @classmethod
    def _env_names(cls, v: dict[str, str]) -> dict[str, str]:
        for name in v:
            if not name or "=" in name:
                raise ValueError(
                    f"environment variable names must be non-empty and hold no '=', got {brief(name)}"
                )
        return v

    @field_validator("result_file")
    @classmethod
    def _result_file(cls, v: str) -> str:
        return check_result_file(v)  # inside the trial folder: it is removed before each trial

    @field_validator("python", "setup")
    @classmethod
    def _import_path(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*", v):
            raise ValueError(
                "expected 'module:function' (e.g. examples.quickstart_objective:evaluate), "
                f"got {brief(v)}"
            )
        return v

    @model_validator(mode="after")
    def _one_kind(self) -> ObjectiveConfig:
        if (self.python is None) == (self.command is None):
            raise ValueError(
                "give exactly one of 'python' (module:function) or 'command' (a list of arguments)"
            )
        if self.setup is not None and self.command is not None:
            raise ValueError("'setup' applies to Python objectives only")
        return self

    def build(self, base_dir: Path, report_key: str | None = None) -> Objective:
        """The objective; ``report_key``: with early stopping, a command's reports are read."""
        if self.python is not None:
            # the study file's folder and the current folder, so both 'mod:fn' and 'pkg.mod:fn' import
            return PythonObjective(self.python, self.setup, paths=(str(base_dir), os.getcwd()))
        assert self.command is not None
        return CommandObjective(
            tuple(self.command),
            self.result_file,
            dict(self.env),
            cwd=str(base_dir),
            report_key=report_key,
        )


class EarlyStoppingConfig(_Strict):
    """The ``early_stopping`` section: which rule stops trials from their reports (docs: early stopping)."""

    rule: Literal["none", "median", "percentile", "successive_halving", "asha", "hyperband"] = (
        "none"
    )
    resource: str = "step"  # what a step is called in reports and tables, e.g. epoch
    min: float | None = None  # smallest resource a trial gets before it can be stopped
    max: float | None = None  # the full budget (halving rules)
    eta: float | None = None  # reduction factor (successive_halving, asha, hyperband)
    percentile: float | None = None  # percentile rule: stop trials worse than this (0-100)
    warmup: float | None = None  # median, percentile: first steps never compared
    min_trials: int | None = None  # median, percentile: others that reached the step
    trials_per_bracket: int | None = None  # successive_halving: trials per bracket
    variant: Literal["stopping", "promotion"] | None = None  # asha, hyperband: stop or pause

    @field_validator("resource")
    @classmethod
    def _resource(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][\w.-]{0,63}", v):
            raise ValueError(f"must name the step like a metric (e.g. epoch), got {brief(v)}")
        return v

    def settings(self) -> EarlyStopping:
        """The validated settings (raises ConfigError naming the field, per rule)."""
        return EarlyStopping(**self.model_dump())


#: the most points in ``initial``
MAX_INITIAL = 100_000


class WarmStartConfig(_Strict):
    """``warm_start``: earlier results told before the first ask (a path, or a mapping)."""

    path: str
    study: str | None = None  # the Optuna study, when the journal holds several
    metric: str | None = (
        None  # the table's column of values (default: the study's metric or 'value')
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        return {"path": v} if isinstance(v, str) else v

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        if not v.strip() or "\0" in v:
            raise ValueError(
                "expected the path of a study folder, a .csv/.parquet table or an Optuna journal"
            )
        return v

    def resolve(self, base_dir: Path) -> Path | str:
        """The path, relative to the study file's folder (an Optuna storage URL as it is)."""
        if re.match(r"[a-z][a-z0-9+]*://", self.path):
            return self.path
        p = Path(self.path).expanduser()
        return p if p.is_absolute() else base_dir / p


class MLflowConfig(_Strict):
    """``tracking.mlflow``: log the study and each trial to MLflow."""

    experiment: str | None = None  # default: the study's name
    tracking_uri: str | None = None  # default: MLflow's (MLFLOW_TRACKING_URI)


class WandbConfig(_Strict):
    """``tracking.wandb``: log each trial to Weights & Biases."""

    project: str
    entity: str | None = None
    mode: Literal["online", "offline", "disabled"] = "online"
    dir: str | None = None  # default: the study folder; relative to the study file


class TrackingConfig(_Strict):
    """``tracking``: where trials are logged besides the journal."""

    mlflow: MLflowConfig | None = None
    wandb: WandbConfig | None = None

    def callbacks(self, base_dir: Path) -> list[Any]:
        """The trackers this section asks for (their packages are imported now)."""
        from parabo.tracking import MLflowTracker, WandbTracker

        out: list[Any] = []
        if self.mlflow is not None:
            out.append(MLflowTracker(self.mlflow.experiment, self.mlflow.tracking_uri))
        if self.wandb is not None:
            w = self.wandb
            folder = None if w.dir is None else str(base_dir / Path(w.dir).expanduser())
            out.append(WandbTracker(w.project, w.entity, w.mode, folder))
        return out


class StudyConfig(_Strict):
    """A whole study file."""

    name: str = "study"
    direction: Literal["minimize", "maximize"] | list[Literal["minimize", "maximize"]] = "minimize"
    metric: str | list[str] | None = None
    constraints: dict[str, dict[str, float]] | None = Field(None, max_length=MAX_CONSTRAINTS)
    reference_point: list[float] | None = Field(None, max_length=MAX_OBJECTIVES)
    space: dict[str, Any]
    objective: ObjectiveConfig
    sampler: str | dict[str, Any] = "gp"
    seed: int | None = None
    run: RunConfig = Field(default_factory=RunConfig)  # type: ignore[arg-type]
    storage: str | None = None
    early_stopping: EarlyStoppingConfig | None = None
    initial: list[dict[str, Any]] | None = Field(None, max_length=MAX_INITIAL)
    warm_start: WarmStartConfig | None = None
    tracking: TrackingConfig | None = None

    @field_validator("seed", mode="before")
    @classmethod
    def _seed(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError(f"expected a whole number from 0 to {MAX_SEED} (2**63 - 1)")
        return v

    @field_validator("seed")
    @classmethod
    def _seed_range(cls, v: int | None) -> int | None:
        if v is not None and not 0 <= v <= MAX_SEED:
            raise ValueError(f"must be a whole number from 0 to {MAX_SEED} (2**63 - 1), got {v}")
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        if len(v) > 200:
            raise ValueError(f"must be at most 200 characters (it names a folder), got {len(v)}")
        return v

    def build_space(self) -> Space:
        return Space(self.space)

    def goal(self) -> Goal:
        """The objectives and constraints (:class:`parabo.goals.Goal`) of ``metric``, ``direction``, ``constraints``."""
        return Goal.build(self.metric, self.direction, self.constraints)


def _check_goal(cfg: StudyConfig) -> list[Problem]:
    """Lists of metrics and directions that disagree, malformed constraints, a misplaced target."""
    if isinstance(cfg.direction, list) and len(cfg.direction) > MAX_OBJECTIVES:
        return [("direction", f"lists {len(cfg.direction)} objectives; at most {MAX_OBJECTIVES}")]
    try:
        goal = cfg.goal()
    except ConfigError as exc:
        return [(exc.field, exc.message)]
    problems: list[Problem] = []
    if goal.multi and cfg.run.target is not None:
        problems.append(
            ("run.target", "applies to a study with one objective; leave it out with several")
        )
    if cfg.reference_point is not None:
        if not goal.multi:
            problems.append(
                ("reference_point", "applies to studies with several objectives; leave it out")
            )
        elif len(cfg.reference_point) != len(goal.directions):
            problems.append(
                (
                    "reference_point",
                    f"has {len(cfg.reference_point)} values for {len(goal.directions)} "
                    "objectives; give one per objective, in the order of `metric`",
                )
            )
        elif not all(math.isfinite(x) for x in cfg.reference_point):
            problems.append(("reference_point", "must hold finite numbers"))
    if not goal.simple and not problems:
        try:
            make_sampler(cfg.sampler, cfg.seed).bind(goal)
        except ConfigError as exc:
            problems.append((exc.field, exc.message))
    return problems


_PLACEHOLDER_NAMES = ("params_file", "trial_dir", "trial_id", "result_file", "study_file_dir")


def _check_placeholders(command: list[str], space: Space) -> list[Problem]:
    """Placeholders of ``objective.command`` that no trial could fill, found before any trial."""
    problems: list[Problem] = []
    for i, arg in enumerate(command):
        where = f"objective.command.{i}"
        for m in _PLACEHOLDER.finditer(arg):
            name = m.group(2)
            if name is not None and name not in space:
                problems.append(
                    (
                        where,
                        f"placeholder {m.group(0)} names no parameter"
                        + did_you_mean(name, list(space))
                        + f"; the space has {brief(list(space))}",
                    )
                )
        # a misspelt placeholder would reach the command as literal text
        for m in re.finditer(r"\{([A-Za-z_][\w.]*)\}", arg):
            if _PLACEHOLDER.fullmatch(m.group(0)) is None:
                close = difflib.get_close_matches(m.group(1), _PLACEHOLDER_NAMES, n=1, cutoff=0.75)
                if close:
                    problems.append(
                        (where, f"unknown placeholder {m.group(0)} (did you mean {{{close[0]}}}?)")
                    )
    return problems


def _check_budget(command: list[str], early_stopping: Any) -> list[Problem]:
    """``{budget}`` in a command needs the full budget, ``early_stopping.max``."""
    if early_stopping is not None and early_stopping.max is not None:
        return []
    for i, arg in enumerate(command):
        if "{budget}" in arg:
            return [
                (
                    f"objective.command.{i}",
                    "placeholder {budget} needs early_stopping with a max (the full budget); "
                    "set early_stopping.max, or take {budget} out of the command",
                )
            ]
    return []


def _check_sampler(data: Mapping[str, Any], problems: list[Problem]) -> list[Problem]:
    sampler, seed = data.get("sampler", "gp"), data.get("seed")
    if isinstance(sampler, Mapping) and "seed" in sampler:
        s = sampler["seed"]
        if isinstance(s, int) and not isinstance(s, bool) and not 0 <= s <= MAX_SEED:
            return [
                (
                    "sampler.seed",
                    f"must be a whole number from 0 to {MAX_SEED} (2**63 - 1), got {s}",
                )
            ]
    fields = {(f or "").split(".")[0] for f, _ in problems}
    if fields & {"sampler", "seed"} or not isinstance(sampler, (str, Mapping)):
        return []
    try:
        make_sampler(sampler, seed)
    except ConfigError as exc:
        return [(exc.field, exc.message)]
    return []


def _check_early_stopping(cfg: StudyConfig) -> list[Problem]:
    """The rule's own settings (every backend carries reports and stop decisions)."""
    assert cfg.early_stopping is not None
    try:
        cfg.early_stopping.settings()
    except ConfigError as exc:
        return [(exc.field, exc.message)]
    if isinstance(cfg.metric, list) and len(cfg.metric) > 1:
        return [
            (
                "early_stopping",
                "compares one objective's curves; a study with several objectives cannot "
                "use it yet: remove early_stopping, or optimize one metric",
            )
        ]
    return []


def _flag_name(field: str | None, flags: Mapping[str, str]) -> str | None:
    for key, flag in flags.items():
        if field == key or (field or "").startswith(key + "."):
            return flag
    return field


def _validate(data: Any, flags: Mapping[str, str] | None = None) -> StudyConfig:
    if not isinstance(data, Mapping):
        raise ConfigError(f"a study file must hold a mapping at the top, got {type(data).__name__}")
    problems = check_tree(data)
    cfg: StudyConfig | None = None
    try:
        cfg = StudyConfig.model_validate(dict(data))
    except ValidationError as exc:
        problems += problems_of(exc, StudyConfig)
    space = data.get("space")
    if isinstance(space, Mapping) and not any((f or "").startswith("space") for f, _ in problems):
        problems += [(e.field, e.message) for e in check_space(space)]
    problems += _check_sampler(data, problems)
    if cfg is not None and not problems:
        problems += _check_goal(cfg)
    if cfg is not None and not problems and cfg.initial:
        from parabo.warm_start import check_points

        try:
            check_points(cfg.initial, cfg.build_space(), "initial")
        except ConfigError as exc:
            problems.append((exc.field, exc.message))
    if cfg is not None and not problems and cfg.objective.command is not None:
        problems += _check_placeholders(cfg.objective.command, cfg.build_space())
    if cfg is not None and cfg.early_stopping is not None:
        problems += _check_early_stopping(cfg)
    if cfg is not None and cfg.objective.command is not None:
        problems += _check_budget(cfg.objective.command, cfg.early_stopping)
    if problems:
        seen: set[str | None] = set()
        unique: list[Problem] = []
        for f, m in problems:
            if f not in seen:
                seen.add(f)
                unique.append((_flag_name(f, flags or {}), m))
        raise combine(unique, [str(k) for k in data])
    assert cfg is not None
    return cfg


def parse_study(data: Any, base_dir: Path | None = None) -> StudyConfig:
    """Validate a study mapping (the parsed file) into a :class:`StudyConfig`.

    Also checks the space, the sampler and the command's placeholders, so every
    error comes before any trial runs. Raises one :class:`ConfigError` that
    lists every problem found on one line, each with its field (the first
    one's field is ``exc.field``).
    """
    return _validate(data)


def read_file(path: str | Path, what: str = "study file") -> Any:
    """Read a study (or campaign) file within the limits of :mod:`parabo._yaml`; the parsed data."""
    p = Path(path)
    if "\0" in str(p):
        raise ConfigError(f"the {what}'s path contains a NUL byte (\\0)")
    try:
        if p.stat().st_size > 4 * MAX_FILE_BYTES:  # refuse a huge file without reading it
            raise ConfigError(
                f"{p} is {p.stat().st_size} bytes; a {what} may be at most {MAX_FILE_BYTES} bytes"
            )
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"no such {what}: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the {what} {p}: {exc}") from None
    data = load_text(text, str(p), json_file=p.suffix.lower() == ".json")
    if data is None:
        raise ConfigError(f"the {what} {p} is empty")
    return data


def load_study_file(path: str | Path) -> tuple[StudyConfig, Path]:
    """Read and validate a study file; returns the config and the file's folder.

    The file is read within the limits of :mod:`parabo._yaml` (size, nesting,
    aliases, duplicate keys).
    """
    p = Path(path)
    return parse_study(read_file(p), p.parent), p.parent.resolve()


def storage_folder(cfg: StudyConfig, base_dir: Path) -> Path:
    """The study folder of a study file, resolved as ``parabo run`` does.

    ``storage`` is relative to the study file's folder ``base_dir``; without
    it, the folder is ``runs/<name>`` in the current folder, and must stay
    inside ``runs/`` (a ``name`` with ``..`` or an absolute path is refused:
    name another folder with ``storage``).
    """
    if cfg.storage:
        storage = Path(cfg.storage)
        return (storage if storage.is_absolute() else base_dir / storage).resolve()
    runs = (Path.cwd() / "runs").resolve()
    name = cfg.name
    inside = "\0" not in name and not Path(name).is_absolute() and ".." not in Path(name).parts
    folder = (runs / name).resolve() if inside else runs
    if not inside or folder == runs or runs not in folder.parents:
        raise ConfigError(
            f"without `storage`, the study folder is runs/<name>, and {name!r} would put it "
            "outside runs/; use a plain name (e.g. my-study), or set `storage` to the folder "
            "you want",
            field="name",
        )
    return folder


#: the command-line flag of each overridable field, for messages
_FLAGS = {"max_time": "--max-time", "stop_grace": "--stop-grace"}


def with_overrides(cfg: StudyConfig, **overrides: Any) -> StudyConfig:
    """A copy of ``cfg`` with command-line values (``None`` = not given) applied and validated.

    A problem with an override is reported under its flag (``--workers: ...``).
    """
    data = cfg.model_dump()
    run_keys = set(RunConfig.model_fields)
    flags: dict[str, str] = {}
    for key, value in overrides.items():
        if value is None:
            continue
        field = f"run.{key}" if key in run_keys else key
        flags[field] = _FLAGS.get(key, "--" + key.replace("_", "-"))
        if key in run_keys:
            data["run"][key] = value
        else:
            data[key] = value
    return _validate(data, flags)
