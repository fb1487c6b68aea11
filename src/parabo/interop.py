"""A parabo study as an Optuna journal file (``parabo export STUDY --format optuna``).

The file is what Optuna's ``JournalFileBackend`` writes, so ``optuna.load_study``
and optuna-dashboard open it. Trial numbers are parabo's ids; parameters (fixed
ones as one-choice categoricals), values, states and start and finish times are
Optuna's own fields; metrics, failure reasons, errors, the worker, the attempt and
the source are user attributes (``parabo_metrics``, ``parabo_reason``, ...).
``warm_start`` reads such a file back.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parabo.exceptions import ConfigError
from parabo.trial import Trial, TrialState

if TYPE_CHECKING:
    from parabo.study import Study

__all__ = ["OPTUNA_FILE", "export_optuna"]

#: the default file name, in the study folder
OPTUNA_FILE = "optuna-journal.log"


def _time(t: float | None) -> datetime.datetime | None:
    return None if t is None else datetime.datetime.fromtimestamp(t)


def _frozen(trial: Trial, distributions: dict[str, Any], optuna: Any) -> Any:
    states = {
        TrialState.COMPLETE: optuna.trial.TrialState.COMPLETE,
        TrialState.FAILED: optuna.trial.TrialState.FAIL,
        TrialState.PRUNED: optuna.trial.TrialState.PRUNED,
        TrialState.PAUSED: optuna.trial.TrialState.PRUNED,  # Optuna has no paused trials
        TrialState.RUNNING: optuna.trial.TrialState.RUNNING,
    }
    attrs: dict[str, Any] = {"parabo_id": trial.id, "parabo_metrics": dict(trial.metrics)}
    for key in ("reason", "error", "worker", "source"):
        value = getattr(trial, key)
        if value is not None:
            attrs[f"parabo_{key}"] = str(value)
    attrs["parabo_attempt"] = trial.attempt
    state = states[trial.state]
    finished = state != optuna.trial.TrialState.RUNNING
    start = trial.started_at if trial.started_at is not None else trial.asked_at
    return optuna.trial.FrozenTrial(
        number=trial.id,
        state=state,
        value=trial.value if trial.state is TrialState.COMPLETE else None,
        datetime_start=_time(start),
        datetime_complete=_time(trial.finished_at) if finished else None,
        params={k: trial.params[k] for k in distributions if k in trial.params},
        distributions={k: d for k, d in distributions.items() if k in trial.params},
        user_attrs=attrs,
        system_attrs={},
        intermediate_values={},
        trial_id=trial.id,
    )


def export_optuna(study: Study, output: str | os.PathLike[str] | None = None) -> Path:
    """Write ``study`` as an Optuna journal file; returns its path.

    The default path is ``optuna-journal.log`` in the study folder; an existing file
    there is replaced (the new one is written beside it, then renamed).

    Raises:
        ConfigError: Optuna is not installed, or an in-memory study has no output path.
    """
    try:
        import optuna
        from optuna.distributions import CategoricalDistribution
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend
    except ImportError:
        raise ConfigError(
            "--format optuna needs Optuna, which is not installed; pip install 'parabo[optuna]'",
            field="--format",
        ) from None
    from parabo.samplers.optuna import optuna_distributions, quiet_optuna

    if output is None:
        if study.folder is None:
            raise ConfigError("an in-memory study needs an output path", field="--output")
        output = study.folder / OPTUNA_FILE
    path = Path(output)
    distributions = optuna_distributions(study.space)
    for name, param in study.space.items():
        if param.kind == "fixed":
            distributions[name] = CategoricalDistribution([param.value])  # type: ignore[attr-defined]
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        storage = JournalStorage(JournalFileBackend(str(tmp)))
        with quiet_optuna():
            target = optuna.create_study(
                storage=storage, study_name=study.name, direction=study.direction
            )
        target.set_user_attr("parabo_metric", study.metric)
        for trial in study.trials:
            target.add_trial(_frozen(trial, distributions, optuna))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
