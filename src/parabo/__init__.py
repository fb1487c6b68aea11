"""parabo: parallel, asynchronous Bayesian optimization for expensive black-box functions.

>>> import parabo
>>> study = parabo.Study({"x": {"type": "float", "low": -5, "high": 10}}, sampler="random", seed=0)
>>> trial = study.ask()
>>> _ = study.tell(trial, (trial.params["x"] - 2) ** 2)
"""

from __future__ import annotations

from parabo.exceptions import (
    ConfigError,
    ExecutorError,
    ParaboError,
    SpaceError,
    StorageError,
    StudyLockedError,
    TrialError,
)
from parabo.objectives import CommandObjective, PythonObjective
from parabo.optimize import maximize, minimize, optimize
from parabo.samplers import RandomSampler, Sampler, SobolSampler
from parabo.scheduler import RunSummary, Scheduler
from parabo.space import Categorical, Fixed, Float, Int, Space
from parabo.study import Study
from parabo.trial import Trial, TrialState

__version__ = "0.1.0"

__all__ = [
    "Categorical",
    "CommandObjective",
    "ConfigError",
    "ExecutorError",
    "Fixed",
    "Float",
    "Int",
    "ParaboError",
    "PythonObjective",
    "RandomSampler",
    "RunSummary",
    "Sampler",
    "Scheduler",
    "SobolSampler",
    "Space",
    "SpaceError",
    "StorageError",
    "Study",
    "StudyLockedError",
    "Trial",
    "TrialError",
    "TrialState",
    "__version__",
    "maximize",
    "minimize",
    "optimize",
]
