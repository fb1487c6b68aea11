"""parabo: parallel, asynchronous Bayesian optimization for expensive black-box functions.

>>> import parabo
>>> study = parabo.Study({"x": {"type": "float", "low": -5, "high": 10}}, sampler="random", seed=0)
>>> trial = study.ask()
>>> _ = study.tell(trial, (trial.params["x"] - 2) ** 2)
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from parabo.exceptions import (
    ConfigError,
    ExecutorError,
    ParaboError,
    SpaceError,
    StorageError,
    StudyLockedError,
    TrialError,
    TrialPruned,
)
from parabo.objectives import CommandObjective, PythonObjective
from parabo.optimize import maximize, minimize, optimize
from parabo.pruning import EarlyStopping
from parabo.reporting import RunningTrial
from parabo.run_options import Backend, RetryPolicy, StopRule
from parabo.samplers import RandomSampler, Sampler, SobolSampler
from parabo.scheduler import RunSummary, Scheduler
from parabo.space import Categorical, Fixed, Float, Int, Space
from parabo.study import Study
from parabo.trial import FailReason, StopReason, Trial, TrialState

if TYPE_CHECKING:
    from parabo.samplers.gp import GPSampler

try:
    __version__ = version("parabo")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"


def __getattr__(name: str) -> Any:
    # the GP sampler's numeric core (scipy.optimize, scipy.linalg) loads when it is first used
    if name == "GPSampler":
        from parabo.samplers.gp import GPSampler

        return GPSampler
    raise AttributeError(f"module 'parabo' has no attribute {name!r}")


__all__ = [
    "Backend",
    "Categorical",
    "CommandObjective",
    "ConfigError",
    "EarlyStopping",
    "ExecutorError",
    "FailReason",
    "Fixed",
    "Float",
    "GPSampler",
    "Int",
    "ParaboError",
    "PythonObjective",
    "RandomSampler",
    "RetryPolicy",
    "RunSummary",
    "RunningTrial",
    "Sampler",
    "Scheduler",
    "SobolSampler",
    "Space",
    "SpaceError",
    "StopReason",
    "StopRule",
    "StorageError",
    "Study",
    "StudyLockedError",
    "Trial",
    "TrialError",
    "TrialPruned",
    "TrialState",
    "__version__",
    "maximize",
    "minimize",
    "optimize",
]
