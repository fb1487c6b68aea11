"""Callbacks at the end of each trial and of the study, and the MLflow and W&B trackers.

A callback is an object with ``on_trial_end(study, trial, folder)`` and
``on_study_end(study, summary)`` (subclass :class:`Callback` and override what you
need). The scheduler hands finished trials to a background thread that calls the
callbacks in order, so a slow tracking server never delays the next trial. A
callback that raises never stops the study: its first failure is reported once
(on standard error), it gets no more calls in this run, and the end of the run
says how many trials it missed.

The trackers are extras: ``pip install 'parabo[mlflow]'`` or ``'parabo[wandb]'``.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parabo.exceptions import ConfigError
from parabo.trial import Trial, TrialState

if TYPE_CHECKING:
    from parabo.scheduler import RunSummary, Scheduler, SchedulerListener
    from parabo.storage.events import Reported
    from parabo.study import Study

__all__ = ["Callback", "CallbackRunner", "MLflowTracker", "WandbTracker"]


class Callback:
    """Called at the end of every trial and of the run; the defaults do nothing.

    Methods run on a background thread of the coordinator, one call at a time, in the
    order trials finished.
    """

    #: the name used in messages (``"mlflow"``)
    name: str = ""

    def on_trial_end(self, study: Study, trial: Trial, folder: Path | None) -> None:
        """A trial finished (COMPLETE, FAILED or PRUNED); ``folder`` holds its files (``None`` without one).

        A trial paused at a rung (ASHA's promotion variant) is delivered once, when it ends
        for good, or, if it is still paused, when the run stops.
        """

    def on_study_end(self, study: Study, summary: RunSummary) -> None:
        """The run stopped (``summary.stop_reason`` says why); every trial end was delivered first."""


def _say(message: str) -> None:
    sys.stderr.write(f"parabo: {message}\n")
    sys.stderr.flush()


class CallbackRunner:
    """A scheduler listener that hands trial ends to callbacks on a background thread.

    It forwards every event to ``inner`` (the progress display) first.
    """

    def __init__(
        self,
        callbacks: Sequence[Callback],
        inner: SchedulerListener | None = None,
        say: Callable[[str], None] = _say,
    ) -> None:
        self.callbacks = list(callbacks)
        self.inner = inner
        self.say = say
        self.failed: dict[int, int] = {}  # callback index -> trials it missed
        self._queue: queue.Queue[tuple[Scheduler, Trial, Path | None] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._paused: set[int] = set()  # trials this run paused: delivered at its end if still so

    def _label(self, i: int) -> str:
        cb = self.callbacks[i]
        return cb.name or type(cb).__name__

    def _call(self, i: int, what: str, fn: Callable[..., None], *args: Any) -> None:
        if i in self.failed:
            self.failed[i] += what == "trial"
            return
        try:
            fn(*args)
        except Exception as exc:  # a tracker's failure (network, disk, its bug) is not the study's
            self.failed[i] = int(what == "trial")
            self.say(
                f"tracking with {self._label(i)} failed ({type(exc).__name__}: {exc}); the study "
                "goes on without it"
            )

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            scheduler, trial, folder = item
            scheduler.wait_trial_files(trial)  # here, never on the scheduler's thread
            study = scheduler.study
            for i, cb in enumerate(self.callbacks):
                self._call(i, "trial", cb.on_trial_end, study, trial, folder)

    def on_start(self, scheduler: Scheduler) -> None:
        if self.inner is not None:
            self.inner.on_start(scheduler)
        self._thread = threading.Thread(target=self._work, name="parabo-tracking", daemon=True)
        self._thread.start()

    def on_trial(self, scheduler: Scheduler, trial: Trial) -> None:
        if self.inner is not None:
            self.inner.on_trial(scheduler, trial)
        if trial.state is TrialState.PAUSED:
            self._paused.add(trial.id)  # it may be promoted: delivered when it ends
            return
        self._paused.discard(trial.id)
        self._queue.put((scheduler, trial, scheduler.trial_folder(trial)))

    def on_tick(self, scheduler: Scheduler) -> None:
        if self.inner is not None:
            self.inner.on_tick(scheduler)

    def on_notice(self, scheduler: Scheduler, message: str) -> None:
        say = getattr(self.inner, "on_notice", None)
        if say is not None:
            say(scheduler, message)

    def close(self) -> None:
        """Deliver what is queued and end the thread (also when the run ended by an exception)."""
        if self._thread is not None:
            thread, self._thread = self._thread, None
            self._queue.put(None)
            thread.join()

    def on_stop(self, scheduler: Scheduler, summary: RunSummary) -> None:
        for trial in scheduler.study.paused:
            if trial.id in self._paused:
                self._queue.put((scheduler, trial, scheduler.trial_folder(trial)))
        self._paused.clear()
        self.close()
        for i, cb in enumerate(self.callbacks):
            self._call(i, "study", cb.on_study_end, scheduler.study, summary)
        for i, missed in self.failed.items():
            if missed:
                self.say(f"{self._label(i)}: {missed} finished trial(s) were not logged")
        if self.inner is not None:
            self.inner.on_stop(scheduler, summary)


def _params(trial: Trial) -> dict[str, str]:
    return {str(k): str(v) for k, v in trial.params.items()}


def _metrics(trial: Trial) -> dict[str, float]:
    out = {str(k): float(v) for k, v in trial.metrics.items()}
    if trial.value is not None:
        out["value"] = float(trial.value)
    if trial.duration is not None:
        out["duration"] = float(trial.duration)
    return out


#: the largest step MLflow (a 64-bit integer) and W&B take
_MAX_STEP = 2**63 - 1


def _report_rows(curve: Sequence[Reported]) -> list[tuple[int, dict[str, float], float | None]]:
    """``(step, metrics, t)`` for each report of a trial's final attempt, in step order.

    Each row holds the report's metrics and its ``value`` (the study's metric). MLflow
    and W&B take whole steps from 0 up: when every reported step is one, it is the
    step; otherwise (a fractional or negative step) the reports are numbered 0, 1, 2...
    and each row also holds the reported step as ``step``.

    >>> from parabo.storage.events import Reported
    >>> _report_rows([Reported(0, 1.0, 0.5), Reported(0, 2.0, None, {"acc": 0.9})])
    [(1, {'value': 0.5}, None), (2, {'acc': 0.9}, None)]
    >>> _report_rows([Reported(0, 0.5, 0.5)])
    [(0, {'value': 0.5, 'step': 0.5}, None)]
    """
    whole = all(r.step.is_integer() and 0 <= r.step <= _MAX_STEP for r in curve)
    rows = []
    for i, r in enumerate(curve):
        metrics = {str(k): float(v) for k, v in r.metrics.items()}
        if r.value is not None:
            metrics["value"] = float(r.value)
        if not whole:
            metrics["step"] = float(r.step)
        rows.append((int(r.step) if whole else i, metrics, r.t))
    return rows


#: the most metrics in one MLflow ``log_batch`` call
_MLFLOW_BATCH = 1000
#: a trial's state as the status of its MLflow run
_MLFLOW_STATUS = {
    TrialState.COMPLETE: "FINISHED",
    TrialState.PRUNED: "KILLED",
    TrialState.PAUSED: "KILLED",  # stopped at a rung (its state tag says paused)
    TrialState.FAILED: "FAILED",
}


class MLflowTracker(Callback):
    """Log to MLflow: one parent run per study, one nested run per trial.

    A trial's run holds its parameters, every report of its final attempt (each metric
    and ``value`` at the reported step), its final metrics (and ``value``, ``duration``)
    at the last step, tags with its id, state, failure reason, early-stopping reason
    and source, and its folder's files as artifacts; its status is FINISHED, KILLED
    (pruned) or FAILED. The parent run holds the best value and parameters; a resumed
    study logs into the same parent run (its id is kept in ``<study folder>/mlflow.json``).

    Args:
        experiment: the MLflow experiment (default: the study's name); created if missing.
        tracking_uri: where MLflow stores runs (default: MLflow's, e.g. ``MLFLOW_TRACKING_URI``);
            ``sqlite:///mlflow.db``, ``http://host:5000``, or a ``file:`` folder.
    """

    name = "mlflow"

    def __init__(self, experiment: str | None = None, tracking_uri: str | None = None) -> None:
        try:
            import mlflow  # noqa: F401
        except ImportError:
            raise ConfigError(
                "needs MLflow, which is not installed; pip install 'parabo[mlflow]'",
                field="tracking.mlflow",
            ) from None
        self.experiment = experiment
        self.tracking_uri = tracking_uri
        self._client: Any = None
        self._experiment_id: str | None = None
        self._parent: str | None = None

    def _start(self, study: Study) -> tuple[Any, str]:
        if self._client is None:
            from mlflow import MlflowClient

            client = MlflowClient(tracking_uri=self.tracking_uri)
            name = self.experiment or study.name
            found = client.get_experiment_by_name(name)
            self._experiment_id = (
                found.experiment_id if found is not None else client.create_experiment(name)
            )
            self._client = client
        if self._parent is None:
            self._parent = self._parent_run(study)
        return self._client, self._parent

    def _parent_run(self, study: Study) -> str:
        client = self._client
        saved = study.folder / "mlflow.json" if study.folder is not None else None
        if saved is not None and saved.is_file():
            try:
                record = json.loads(saved.read_text())
                run = client.get_run(record["run_id"])
                if run.info.experiment_id == self._experiment_id:
                    client.update_run(run.info.run_id, status="RUNNING")
                    return str(run.info.run_id)
            except Exception:  # gone, or another server: a new parent run
                pass
        run = client.create_run(
            self._experiment_id,
            run_name=study.name,
            tags={
                "parabo.study": study.name,
                "parabo.folder": str(study.folder or ""),
                "parabo.direction": study.direction,
            },
        )
        if saved is not None:
            saved.write_text(json.dumps({"run_id": run.info.run_id}))
        return str(run.info.run_id)

    def on_trial_end(self, study: Study, trial: Trial, folder: Path | None) -> None:
        from mlflow.entities import Metric, Param, RunTag

        client, parent = self._start(study)
        tags = {
            "mlflow.parentRunId": parent,
            "parabo.trial": str(trial.id),
            "parabo.state": trial.state.value,
        }
        if trial.reason is not None:
            tags["parabo.reason"] = str(trial.reason)
        if trial.source is not None:
            tags["parabo.source"] = trial.source
        run = client.create_run(self._experiment_id, run_name=f"trial-{trial.id}", tags=tags)
        rid = run.info.run_id
        stamp = int(1000 * (trial.finished_at or 0))
        # every report of the final attempt (a finished trial's curve no longer changes)
        rows = _report_rows(study.curve(trial))
        steps = [
            Metric(k, v, int(1000 * (t if t is not None else trial.finished_at or 0)), step)
            for step, metrics, t in rows
            for k, v in metrics.items()
        ]
        final = _metrics(trial)
        last_step, last = (rows[-1][0], rows[-1][1]) if rows else (0, {})
        if steps:  # the final metrics are the latest: at the last step, not before its reports
            stamp = max(stamp, max(m.timestamp for m in steps) + 1)
        extra = [RunTag("parabo.error", trial.error[:5000])] if trial.error else []
        if trial.stopped is not None:
            extra.append(RunTag("parabo.stopped", trial.stopped[:5000]))
        client.log_batch(
            rid,
            # a final metric that the last report already holds is not logged twice
            metrics=[Metric(k, v, stamp, last_step) for k, v in final.items() if last.get(k) != v],
            params=[Param(k, v) for k, v in _params(trial).items()],
            tags=extra,
        )
        for i in range(0, len(steps), _MLFLOW_BATCH):
            client.log_batch(rid, metrics=steps[i : i + _MLFLOW_BATCH])
        if folder is not None and folder.is_dir() and any(folder.iterdir()):
            client.log_artifacts(rid, str(folder))
        client.set_terminated(rid, _MLFLOW_STATUS.get(trial.state, "FAILED"))

    def on_study_end(self, study: Study, summary: RunSummary) -> None:
        from mlflow.entities import Metric

        client, parent = self._start(study)
        best = study.best
        metrics = [Metric("completed", float(study.n_complete), 0, 0)]
        metrics.append(Metric("failed", float(study.n_failed), 0, 0))
        if best is not None:
            metrics.append(Metric("best_value", float(best.value or 0.0), 0, 0))
            metrics.append(Metric("best_trial", float(best.id), 0, 0))
            # a parameter cannot change in MLflow: the best so far is a tag, updated each run
            client.set_tag(parent, "parabo.best_params", json.dumps(dict(best.params)))
        client.log_batch(parent, metrics=metrics)
        client.set_tag(parent, "parabo.stop_reason", str(summary.stop_reason))
        client.set_terminated(parent, "FINISHED")


class WandbTracker(Callback):
    """Log to Weights & Biases: one run per trial, grouped under the study, and a study run.

    Each trial's run (``job_type: trial``, group = the study's name) holds its parameters
    as the config, every report of its final attempt in its history (one ``log`` per
    report, at the reported step), its final metrics, state and early-stopping reason in
    the summary and its folder's files as an artifact; the study run (``job_type: study``)
    holds the best value and parameters.

    Args:
        project: the W&B project.
        entity: the W&B team or user (default: W&B's).
        mode: ``online``, ``offline`` (runs kept in ``dir`` for ``wandb sync``) or ``disabled``.
        dir: where W&B writes its files (default: the study folder).
    """

    name = "wandb"

    def __init__(
        self,
        project: str,
        entity: str | None = None,
        mode: str = "online",
        dir: str | None = None,
    ) -> None:
        try:
            import wandb  # noqa: F401
        except ImportError:
            raise ConfigError(
                "needs wandb, which is not installed; pip install 'parabo[wandb]'",
                field="tracking.wandb",
            ) from None
        if mode not in ("online", "offline", "disabled"):
            raise ConfigError(
                f"must be online, offline or disabled, got {mode!r}", field="tracking.wandb.mode"
            )
        self.project, self.entity, self.mode, self.dir = project, entity, mode, dir

    def _init(self, study: Study, **kwargs: Any) -> Any:
        import wandb

        folder = self.dir or (str(study.folder) if study.folder is not None else None)
        return wandb.init(
            project=self.project,
            entity=self.entity,
            mode=self.mode,  # type: ignore[arg-type]
            dir=folder,
            group=study.name,
            reinit="create_new",
            settings=wandb.Settings(silent=True, console="off", x_disable_stats=True),
            **kwargs,
        )

    def on_trial_end(self, study: Study, trial: Trial, folder: Path | None) -> None:
        import wandb

        run = self._init(
            study,
            job_type="trial",
            name=f"{study.name}-trial-{trial.id}",
            config={**dict(trial.params), "parabo_trial": trial.id},
            tags=[trial.state.value, *([trial.source] if trial.source else [])],
        )
        try:
            # every report of the final attempt, in step order (its curve no longer changes)
            for step, metrics, _t in _report_rows(study.curve(trial)):
                run.log(metrics, step=step)
            run.summary.update({**_metrics(trial), "state": trial.state.value})
            if trial.error:
                run.summary["error"] = trial.error[:5000]
            if trial.stopped is not None:
                run.summary["stopped"] = trial.stopped[:5000]
            if folder is not None and folder.is_dir() and any(folder.iterdir()):
                artifact = wandb.Artifact(f"trial-{trial.id}-files", type="trial-files")
                artifact.add_dir(str(folder))
                run.log_artifact(artifact)
        finally:
            run.finish(exit_code=1 if trial.state is TrialState.FAILED else 0)

    def on_study_end(self, study: Study, summary: RunSummary) -> None:
        best = study.best
        run = self._init(study, job_type="study", name=study.name)
        try:
            record: dict[str, Any] = {
                "completed": study.n_complete,
                "failed": study.n_failed,
                "stop_reason": str(summary.stop_reason),
            }
            if best is not None:
                record.update(best_value=best.value, best_trial=best.id)
                record.update({f"best_{k}": v for k, v in best.params.items()})
            run.summary.update(record)
        finally:
            run.finish()
