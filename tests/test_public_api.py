"""The public surface: what `import parabo` offers, and what it costs."""

from __future__ import annotations

import subprocess
import sys
import types

import parabo

PUBLIC = {
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
}


def test_all_is_the_public_surface() -> None:
    """Adding or removing a public name is a decision: change this list with it."""
    assert set(parabo.__all__) == PUBLIC
    assert len(parabo.__all__) == len(set(parabo.__all__))
    for name in parabo.__all__:
        assert getattr(parabo, name) is not None
    # nothing public that __all__ does not name (submodules aside)
    extra = {
        n
        for n in vars(parabo)
        if not n.startswith("_")
        and not isinstance(getattr(parabo, n), types.ModuleType)
        and n not in ("annotations", "TYPE_CHECKING", "Any", "version", "PackageNotFoundError")
    }
    assert extra <= PUBLIC, extra - PUBLIC


def test_version_comes_from_the_package_metadata() -> None:
    from importlib.metadata import version

    assert parabo.__version__ == version("parabo")


def test_import_parabo_loads_no_study_file_machinery() -> None:
    code = (
        "import sys, parabo; "
        "print(sorted(m for m in ('pydantic', 'yaml', 'pandas', 'matplotlib', 'scipy.optimize', 'rich') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
