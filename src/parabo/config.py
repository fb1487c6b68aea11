"""Study files (YAML or JSON): load, validate, apply command-line overrides.

Every problem is a :class:`ConfigError` that names the field (``run.workers``)
and says what to do; nothing runs before the whole file is valid.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from parabo.exceptions import ConfigError
from parabo.objectives import CommandObjective, Objective, PythonObjective
from parabo.run_options import DEFAULT_BACKEND, Backend, RetryPolicy, StopRule
from parabo.samplers import make_sampler
from parabo.space import Space

__all__ = ["ObjectiveConfig", "RunConfig", "StudyConfig", "load_study_file", "parse_duration"]

_UNITS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "ms": 0.001}


def parse_duration(value: Any, field: str = "duration") -> float:
    """Seconds from a number or a string like ``"90"``, ``"30s"``, ``"10m"``, ``"2h"``, ``"1.5d"``."""
    if isinstance(value, bool):
        raise ConfigError(f"expected seconds or a duration like '10m', got {value!r}", field=field)
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-z]*)\s*", value)
        if not m or m.group(2) not in ("", *_UNITS):
            raise ConfigError(
                f"cannot read {value!r} as a duration; use seconds or a number with s, m, h or d (e.g. '10m')",
                field=field,
            )
        seconds = float(m.group(1)) * _UNITS.get(m.group(2), 1.0)
    else:
        raise ConfigError(f"expected seconds or a duration like '10m', got {value!r}", field=field)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ConfigError(f"must be a positive duration, got {value!r}", field=field)
    return seconds


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_CLUSTER_TYPES = ("local", "slurm", "pbs", "sge", "lsf", "htcondor", "oar", "moab")


class ClusterConfig(BaseModel):
    """``run.cluster`` of the dask backend: ``local``, or a dask-jobqueue cluster; other keys go to dask-jobqueue."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: Literal["local", "slurm", "pbs", "sge", "lsf", "htcondor", "oar", "moab"]
    cores: int | None = Field(None, ge=1)
    memory: str | int | None = None
    processes: int | None = Field(None, ge=1)
    gpus: int | None = Field(None, ge=0)
    walltime: str | None = None
    queue: str | None = None
    account: str | None = None
    jobs: int | None = Field(None, ge=1)
    job_extra: list[str] | None = None

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

    cpus: float | None = Field(None, gt=0)
    gpus: int | None = Field(None, ge=0)
    memory: str | int | None = None

    @field_validator("memory")
    @classmethod
    def _memory(cls, v: str | int | None) -> str | int | None:
        return ClusterConfig._memory(v)


class RunConfig(_Strict):
    """The ``run`` section: how many trials, where and how they run."""

    trials: int = Field(50, ge=0)
    workers: int = Field(1, ge=1)
    backend: Backend = DEFAULT_BACKEND
    batch: bool = False
    timeout: float | None = None  # per trial, seconds
    max_time: float | None = None  # whole run, seconds
    target: float | None = None
    # failures (docs: README "Failures"): retries of the same parameters, and when to give up
    retries: int = Field(0, ge=0)
    retry_on: list[str] = Field(default_factory=lambda: ["crashed", "timeout"])
    max_failures: int | None = Field(20, ge=1)  # consecutive failed trials that stop the study
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
    gpus: list[int | str] | None = (
        None  # backend process: GPU ids shared round-robin (default: detected)
    )
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

    @field_validator("timeout", "max_time", "idle_timeout", mode="before")
    @classmethod
    def _duration(cls, v: Any, info: Any) -> float | None:
        return None if v is None else parse_duration(v, f"run.{info.field_name}")

    @field_validator("trials", "workers", "retries", "max_failures", mode="before")
    @classmethod
    def _integer(cls, v: Any) -> Any:
        if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
            raise ValueError(f"expected a whole number, got {v!r}")
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
    def _argv(cls, v: Any) -> Any:
        if isinstance(v, str):
            raise ValueError(
                "give the command as a list of arguments, e.g. [python, train.py, --params, '{params_file}'] "
                "(a string would need a shell, and parameter values never go through a shell)"
            )
        if isinstance(v, list):
            out = []
            for a in v:
                if isinstance(a, bool) or not isinstance(a, (str, int, float)):
                    raise ValueError(f"every argument must be a string, got {a!r}")
                out.append(str(a))
            if not out:
                raise ValueError("the command list is empty")
            return out
        return v

    @field_validator("python", "setup")
    @classmethod
    def _import_path(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*", v):
            raise ValueError(
                f"expected 'module:function' (e.g. examples.quickstart_objective:evaluate), got {v!r}"
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

    def build(self, base_dir: Path) -> Objective:
        if self.python is not None:
            # the study file's folder and the current folder, so both 'mod:fn' and 'pkg.mod:fn' import
            return PythonObjective(self.python, self.setup, paths=(str(base_dir), os.getcwd()))
        assert self.command is not None
        return CommandObjective(
            tuple(self.command), self.result_file, dict(self.env), cwd=str(base_dir)
        )


class StudyConfig(_Strict):
    """A whole study file."""

    name: str = "study"
    direction: Literal["minimize", "maximize"] = "minimize"
    metric: str | None = None
    space: dict[str, Any]
    objective: ObjectiveConfig
    sampler: str | dict[str, Any] = "gp"
    seed: int | None = None
    run: RunConfig = Field(default_factory=RunConfig)  # type: ignore[arg-type]
    storage: str | None = None

    @field_validator("seed", mode="before")
    @classmethod
    def _seed(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError("expected an integer")
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v

    def build_space(self) -> Space:
        return Space(self.space)


def _format_errors(exc: ValidationError, model: type[BaseModel]) -> ConfigError:
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"] if not str(p).startswith("function-")]
    field = ".".join(loc) or None
    kind = err["type"]
    if kind == "extra_forbidden":
        parent: Any = model
        for part in loc[:-1]:
            ann = (
                parent.model_fields.get(part)
                if isinstance(parent, type) and issubclass(parent, BaseModel)
                else None
            )
            parent = ann.annotation if ann is not None else None
        allowed = (
            sorted(parent.model_fields)
            if isinstance(parent, type) and issubclass(parent, BaseModel)
            else []
        )
        msg = f"unknown key {loc[-1]!r}" + (
            f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        )
    elif kind == "missing":
        msg = "missing required key"
    elif kind in ("literal_error", "enum"):
        msg = f"{err['msg'].replace('Input should be', 'must be')}, got {err.get('input')!r}"
    else:
        msg = err["msg"].removeprefix("Value error, ")
        if (
            "input" in err
            and kind not in ("value_error",)
            and not isinstance(err["input"], (dict, list))
        ):
            msg += f", got {err['input']!r}"
    more = len(exc.errors()) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ConfigError(msg, field=field)


def parse_study(data: Any, base_dir: Path | None = None) -> StudyConfig:
    """Validate a study mapping (the parsed file) into a :class:`StudyConfig`.

    Also checks the space and the sampler, so every error comes before any trial runs.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"a study file must hold a mapping at the top, got {type(data).__name__}")
    try:
        cfg = StudyConfig.model_validate(dict(data))
    except ValidationError as exc:
        raise _format_errors(exc, StudyConfig) from None
    cfg.build_space()
    make_sampler(cfg.sampler, cfg.seed)
    return cfg


def load_study_file(path: str | Path) -> tuple[StudyConfig, Path]:
    """Read and validate a study file; returns the config and the file's folder."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"no such study file: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the study file {p}: {exc}") from None
    try:
        data = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{p} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{p} is not valid YAML{where}: {problem}") from None
    if data is None:
        raise ConfigError(f"the study file {p} is empty")
    return parse_study(data, p.parent), p.parent.resolve()


def with_overrides(cfg: StudyConfig, **overrides: Any) -> StudyConfig:
    """A copy of ``cfg`` with command-line values (``None`` = not given) applied and validated."""
    data = cfg.model_dump()
    run_keys = set(RunConfig.model_fields)
    for key, value in overrides.items():
        if value is None:
            continue
        if key in run_keys:
            data["run"][key] = value
        else:
            data[key] = value
    return parse_study(data)
