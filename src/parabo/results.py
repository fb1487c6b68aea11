"""Results for people and tools: trial tables (CSV, parquet, JSON), progress and best records."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parabo.exceptions import ConfigError, StorageError
from parabo.goals import Goal
from parabo.space import Space
from parabo.trial import Trial, TrialState

if TYPE_CHECKING:
    import pandas as pd

    from parabo.scheduler import Scheduler
    from parabo.study import Study

__all__ = [
    "EXPORT_FORMATS",
    "FolderWriter",
    "curves_dataframe",
    "export_curves",
    "export_trials",
    "pareto_record",
    "progress_record",
    "trials_dataframe",
    "write_json_atomic",
]


def _beside(path: Path) -> Path:
    """A temporary name beside ``path``, unique to this process and thread: two writers of the
    same file (studies sharing a cache folder) never rename each other's half-written file."""
    return path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, written beside and renamed: readers never see half a file."""
    tmp = _beside(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as JSON so that readers never see a partial file."""
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, default=str))


class FolderWriter:
    """Writes the study folder's files (trial folders, progress, best) on a background thread.

    File-system metadata operations cost milliseconds each on a busy disk; the
    scheduler hands the files here so it never waits on them before refilling a
    worker. A later write to the same path replaces a pending one (progress
    snapshots coalesce). :meth:`close` writes everything still pending.
    """

    def __init__(self) -> None:
        self._pending: dict[Path, Any] = {}
        self._cond = threading.Condition()
        self._closing = False
        self._error: BaseException | None = None
        self._current: Path | None = None  # being written now
        self._thread = threading.Thread(target=self._loop, name="parabo-folder-writer", daemon=True)
        self._thread.start()

    def put(self, path: Path, data: Any) -> None:
        if self._error is not None:
            err, self._error = self._error, None
            raise StorageError(f"cannot write the study folder: {err}") from err
        with self._cond:
            self._pending.pop(path, None)
            self._pending[path] = data
            self._cond.notify_all()  # the writer, and anyone waiting in wait_written

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closing)
                if not self._pending:
                    return
                path = next(iter(self._pending))
                data = self._pending.pop(path)
                self._current = path
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                write_json_atomic(path, data)
            except OSError as exc:
                self._error = exc
            with self._cond:
                self._current = None
                self._cond.notify_all()

    def wait_written(self, paths: Collection[Path], timeout: float) -> bool:
        """Wait until none of ``paths`` is waiting to be written (at most ``timeout`` s); True if so."""
        wanted = set(paths)
        with self._cond:
            return self._cond.wait_for(
                lambda: not (wanted & {*self._pending, self._current}), timeout
            )

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout=120)
        if self._error is not None:
            raise StorageError(f"cannot write the study folder: {self._error}") from self._error


EXPORT_FORMATS = ("csv", "parquet", "json")


def trials_dataframe(
    trials: Sequence[Trial], space: Space, goal: Goal | None = None
) -> pd.DataFrame:
    """One row per trial; parameters as ``params_<name>`` columns, metrics as ``metrics_<name>``.

    With several objectives, ``values_<name>`` holds each objective; with constraints,
    ``feasible`` and ``violation`` (the sum of the distances to the bounds) say whether
    a COMPLETE trial satisfies them, and ``violation_<metric>`` by how much it misses each.
    With early stopping, ``step`` (the last step each trial reported) and ``stopped``
    (why a PRUNED trial was stopped) come last; with ASHA's promotion variant also
    ``budget`` (the resource of each trial's last run) and ``promotions``.
    """
    import pandas as pd

    goal = goal or Goal()
    objective_columns = [f"values_{n}" for n in goal.names] if goal.multi else []
    constraint_columns = (
        ["feasible", "violation", *(f"violation_{c.metric}" for c in goal.constraints)]
        if goal.constraints
        else []
    )
    metric_names: list[str] = []
    for t in trials:
        for k in t.metrics:
            if k not in metric_names:
                metric_names.append(k)
    # with early stopping: the step each trial reached, and why a pruned one stopped
    curves = any(t.step is not None or t.stopped is not None for t in trials)
    promoting = any(t.promotions or t.state is TrialState.PAUSED for t in trials)
    rows: list[dict[str, Any]] = []
    for t in trials:
        row: dict[str, Any] = {"id": t.id, "state": t.state.value, "value": t.value}
        for col, v in zip(
            objective_columns, t.values or (None,) * len(objective_columns), strict=False
        ):
            row[col] = v
        if constraint_columns:
            complete = t.state is TrialState.COMPLETE
            row["feasible"] = t.feasible if complete else None
            row["violation"] = t.violation if complete else None
            for c, amount in goal.violations(t.metrics).items():
                row[f"violation_{c}"] = amount if complete else None
        for name in space:
            row[f"params_{name}"] = t.params.get(name)
        for k in metric_names:
            row[f"metrics_{k}"] = t.metrics.get(k)
        row.update(
            asked_at=t.asked_at,
            started_at=t.started_at,
            finished_at=t.finished_at,
            duration=t.duration,
            worker=t.worker,
            attempt=t.attempt,
            reason=t.reason,
            error=t.error,
            source=t.source,
        )
        if curves:
            row.update(step=t.step, stopped=t.stopped)
        if promoting:
            row.update(budget=t.budget, promotions=t.promotions)
        rows.append(row)
    columns = [
        "id",
        "state",
        "value",
        *objective_columns,
        *constraint_columns,
        *(f"params_{n}" for n in space),
        *(f"metrics_{k}" for k in metric_names),
        "asked_at",
        "started_at",
        "finished_at",
        "duration",
        "worker",
        "attempt",
        "reason",
        "error",
        *(("step", "stopped") if curves else ()),
        *(("budget", "promotions") if promoting else ()),
        "source",
    ]
    df = pd.DataFrame(rows, columns=columns)
    for col in ("asked_at", "started_at", "finished_at"):
        df[col] = pd.to_datetime(df[col], unit="s", utc=True)
    return df


def curves_dataframe(study: Study, resource: str = "step") -> pd.DataFrame:
    """The learning curves as a long table: one row per report (every attempt of every trial).

    Columns: ``trial``, ``attempt``, the step (named ``resource``), ``value`` (the study's
    metric, empty when a report lacks it), ``metrics_<name>`` for every reported metric,
    and ``reported_at``.
    """
    import pandas as pd

    reports = study.reports
    names: list[str] = []
    for r in reports:
        for k in r.metrics:
            if k not in names:
                names.append(k)
    rows = []
    for r in reports:
        row: dict[str, Any] = {
            "trial": r.id,
            "attempt": r.attempt,
            resource: r.step,
            "value": r.value,
        }
        for k in names:
            row[f"metrics_{k}"] = r.metrics.get(k)
        row["reported_at"] = r.t
        rows.append(row)
    columns = [
        "trial",
        "attempt",
        resource,
        "value",
        *(f"metrics_{k}" for k in names),
        "reported_at",
    ]
    df = pd.DataFrame(rows, columns=columns)
    df["reported_at"] = pd.to_datetime(df["reported_at"], unit="s", utc=True)
    return df


def export_curves(
    study: Study,
    fmt: str = "csv",
    output: str | os.PathLike[str] | None = None,
    resource: str = "step",
) -> Path:
    """Write the curves table (:func:`curves_dataframe`); default ``curves.<fmt>`` in the study folder."""
    check_format(fmt)
    if output is None:
        if study.folder is None:
            raise ConfigError("an in-memory study needs an output path", field="--output")
        output = study.folder / f"curves.{fmt}"
    return write_table(curves_dataframe(study, resource), fmt, Path(output))


def export_trials(
    study: Study, fmt: str = "csv", output: str | os.PathLike[str] | None = None
) -> Path:
    """Write the trials table as CSV, parquet or JSON, or an Optuna journal; returns the path written.

    The default path is ``trials.<fmt>`` in the study folder (``optuna-journal.log`` for
    ``fmt="optuna"``, :func:`parabo.interop.export_optuna`).
    """
    if fmt == "optuna":
        from parabo.interop import export_optuna

        return export_optuna(study, output)
    check_format(fmt, also=("optuna",))
    if output is None:
        if study.folder is None:
            raise ConfigError("an in-memory study needs an output path", field="--output")
        output = study.folder / f"trials.{fmt}"
    return write_table(study.to_dataframe(), fmt, Path(output))


def check_format(fmt: str, also: tuple[str, ...] = ()) -> None:
    """Refuse a table format other than csv, parquet, json (and ``also``), naming the flag."""
    if fmt not in EXPORT_FORMATS:
        raise ConfigError(
            f"unknown format {fmt!r}; use one of: {', '.join((*EXPORT_FORMATS, *also))}",
            field="--format",
        )


def write_table(df: pd.DataFrame, fmt: str, path: Path) -> Path:
    """Write ``df`` as CSV, parquet or JSON at ``path``, beside then renamed (never half a table)."""
    tmp = _beside(path)
    try:
        if fmt == "csv":
            df.to_csv(tmp, index=False)
        elif fmt == "parquet":
            # mixed-type parameter columns (categoricals of several types) as text
            for col in df.columns:
                if df[col].dtype == object and col.startswith("params_"):
                    types = {type(v) for v in df[col] if v is not None}
                    if len(types) > 1:
                        df[col] = df[col].map(lambda v: None if v is None else json.dumps(v))
            df.to_parquet(tmp, index=False)
        else:
            df.to_json(tmp, orient="records", date_format="iso", indent=2)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StorageError(f"cannot write {path}: {exc.strerror}") from exc
    return path


def progress_record(study: Study, scheduler: Scheduler | None = None) -> dict[str, Any]:
    """What ``progress.json`` holds: counts, best value and parameters, elapsed time."""
    running = len(study.pending)
    best = study.best
    goal = study.goal
    record: dict[str, Any] = {
        "study": study.name,
        "direction": list(goal.directions) if goal.multi else study.direction,
        "completed": study.n_complete,
        "failed": study.n_failed,
        "pruned": study.n_pruned,
        "paused": study.n_paused,
        "promotions": study.n_promotions,
        "running": running,
        "total": study.n_trials,
        "warm_start": study.n_warm,
        "queued": len(study.queued),
        "best_value": None if best is None else best.value,
        "best_params": None if best is None else dict(best.params),
        "best_trial": None if best is None else best.id,
        "reports": len(study.reports),
    }
    if goal.constraints:
        record["feasible"] = sum(1 for t in study.history if t.feasible)
    if goal.multi:
        record.update(_front_summary(study))
    if scheduler is not None:
        record.update(
            requested=scheduler.trials,
            workers=scheduler.executor.workers,
            elapsed=round(scheduler.elapsed, 3),
            updated_at=scheduler.clock(),
        )
    return record


def _front_summary(study: Study) -> dict[str, Any]:
    """The Pareto front's size and hypervolume, and the reference point and where it came from."""
    front = study.pareto_front()
    ref = study.reference()
    return {
        "objectives": list(study.goal.names),
        "pareto_size": len(front),
        "hypervolume": study.hypervolume(ref) if ref is not None else None,
        "reference_point": None if ref is None else list(ref),
        "reference_point_from": "study" if study.reference_point is not None else "derived",
    }


def pareto_record(study: Study) -> dict[str, Any]:
    """What ``pareto.json`` holds: the Pareto front's trials, their values, and its hypervolume."""
    goal = study.goal
    trials = []
    for t in study.pareto_front():
        entry: dict[str, Any] = {
            "id": t.id,
            "values": dict(zip(goal.names, t.values or (), strict=False)),
            "params": dict(t.params),
            "metrics": dict(t.metrics),
        }
        if goal.constraints:
            entry["feasible"] = t.feasible
        trials.append(entry)
    record = {
        "directions": dict(zip(goal.names, goal.directions, strict=True)),
        **_front_summary(study),
    }
    record["trials"] = trials
    return record
