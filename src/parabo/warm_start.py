"""Warm starts: earlier results read from a study folder, a table or an Optuna journal.

Each source gives rows of ``(params, value)``; every row is checked against the
space and the whole source is refused with one message per row that does not fit
(up to :data:`MAX_LISTED`), before anything is told. The rows are then told to the
study as completed trials marked ``source="warm_start"`` (:meth:`Study.add_trial`),
once: a resumed study that already holds them tells none again.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parabo.exceptions import ConfigError, SpaceError
from parabo.space import Space
from parabo.storage.journal import JOURNAL_FILE

if TYPE_CHECKING:
    from parabo.study import Study

__all__ = [
    "ENQUEUE_FOLDER",
    "MAX_LISTED",
    "apply_warm_start",
    "drop_points",
    "read_points",
    "read_warm_start",
    "take_dropped",
]

#: the most rows named in the message that refuses a source
MAX_LISTED = 10

Row = tuple[dict[str, Any], float]


def _plain(value: Any) -> Any:
    """A numpy or pandas scalar as the Python value it holds."""
    item = getattr(value, "item", None)
    return item() if callable(item) and not isinstance(value, (str, bytes)) else value


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def read_warm_start(
    path: str | Path,
    space: Space,
    metric: str | None = None,
    study: str | None = None,
    field: str = "warm_start",
) -> list[Row]:
    """Rows ``(params, value)`` of a warm-start source, each checked against ``space``.

    ``path`` is a parabo study folder (its completed trials), a ``.csv`` or ``.parquet``
    table (one column per parameter, fixed ones optional, and a column named ``metric``,
    ``value`` by default; the ``params_<name>`` columns of ``parabo export`` work too), an
    Optuna journal file, or an Optuna storage URL such as ``sqlite:///optuna.db`` (their
    completed trials; ``study`` names one when the storage holds several).

    Raises:
        ConfigError: the source cannot be read, or rows do not fit the space (each named).
    """
    p = Path(path)
    if isinstance(path, str) and re.match(r"[a-z][a-z0-9+]*://", path):
        raw, where = _from_optuna(path, study, field), "trial"  # an Optuna storage URL
    elif p.is_dir():
        if not (p / JOURNAL_FILE).is_file():
            raise ConfigError(f"{p} is a folder but not a parabo study folder", field=field)
        raw, where = _from_study(p), "trial"
    elif not p.is_file():
        raise ConfigError(f"no such file or study folder: {p}", field=field)
    elif p.suffix.lower() in (".csv", ".parquet", ".pq"):
        raw, where = _from_table(p, space, metric or "value", field), "row"
    else:
        raw, where = _from_optuna_journal(p, study, field), "trial"
    rows: list[Row] = []
    problems: list[str] = []
    for number, params, value in raw:
        try:
            checked = space.validate(params)
        except SpaceError as exc:
            problems.append(f"{where} {number}: {exc}")
            continue
        if _missing(value) or isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{where} {number}: the value {value!r} is not a number")
            continue
        if not math.isfinite(value):
            problems.append(f"{where} {number}: the value {value!r} is not a finite number")
            continue
        rows.append((checked, float(value)))
    if problems:
        more = len(problems) - MAX_LISTED
        listed = "; ".join(problems[:MAX_LISTED]) + (f"; and {more} more" if more > 0 else "")
        raise ConfigError(
            f"{len(problems)} {where}(s) of {p} do not fit the space: {listed}. Fix or remove "
            "them, or use a study with the same space",
            field=field,
        )
    return rows


def _from_study(folder: Path) -> list[tuple[int, dict[str, Any], Any]]:
    from parabo.study import Study
    from parabo.trial import TrialState

    old = Study.load(folder)
    try:
        return [
            (t.id, dict(t.params), t.value) for t in old.trials if t.state is TrialState.COMPLETE
        ]
    finally:
        old.close()


def _from_table(
    path: Path, space: Space, metric: str, field: str
) -> list[tuple[int, dict[str, Any], Any]]:
    import pandas as pd

    try:
        df = pd.read_csv(path) if path.suffix.lower() == ".csv" else pd.read_parquet(path)
    except Exception as exc:  # pandas raises many kinds for a file it cannot read
        raise ConfigError(f"cannot read {path} as a table: {exc}", field=field) from None
    names = list(space.to_dict())
    exported = any(f"params_{n}" in df.columns for n in names)  # parabo export's layout
    columns = {n: f"params_{n}" if exported else n for n in names}
    missing = [
        col
        for n, col in columns.items()
        if col not in df.columns and space.to_dict()[n]["type"] != "fixed"
    ]
    if metric not in df.columns:
        missing.append(metric)
    if missing:
        raise ConfigError(
            f"{path} has no column {', '.join(map(repr, missing))} (it has "
            f"{', '.join(map(str, df.columns))}); a warm-start table has one column per "
            "parameter and one for the metric (warm_start.metric, default: the study's metric "
            "or 'value')",
            field=field,
        )
    if exported and "state" in df.columns:
        df = df[df["state"] == "complete"]
    out = []
    for number, (_, record) in enumerate(df.iterrows(), start=1):
        params = {
            n: _plain(record[col])
            for n, col in columns.items()
            if col in df.columns and not _missing(_plain(record[col]))
        }
        out.append((number, params, _plain(record[metric])))
    return out


def _from_optuna_journal(
    path: Path, study: str | None, field: str
) -> list[tuple[int, dict[str, Any], Any]]:
    return _from_optuna(path, study, field)


def _from_optuna(
    path: Path | str, study: str | None, field: str
) -> list[tuple[int, dict[str, Any], Any]]:
    """Completed trials of an Optuna journal file (a Path) or storage URL (a str)."""
    try:
        import optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend
    except ImportError:
        what = "an Optuna storage" if isinstance(path, str) else "an Optuna journal"
        raise ConfigError(
            f"reading {path} as {what} needs Optuna: pip install 'parabo[optuna]'", field=field
        ) from None
    try:
        storage: Any = (
            optuna.storages.get_storage(path)
            if isinstance(path, str)
            else JournalStorage(JournalFileBackend(str(path)))
        )
        names = [s.study_name for s in storage.get_all_studies()]
    except Exception as exc:  # Optuna raises several kinds for a file that is not its journal
        raise ConfigError(
            f"cannot read {path} as an Optuna storage ({type(exc).__name__}: {exc}); a warm "
            "start is a study folder, a .csv or .parquet table, an Optuna journal file or an "
            "Optuna storage URL",
            field=field,
        ) from None
    if study is None and len(names) != 1:
        raise ConfigError(
            f"the Optuna storage {path} holds {len(names)} studies "
            f"({', '.join(names) or 'none'}); name one with warm_start.study",
            field=field,
        )
    if study is not None and study not in names:
        raise ConfigError(
            f"the Optuna storage {path} has no study {study!r} (it has {', '.join(names)})",
            field=f"{field}.study",
        )
    loaded = optuna.load_study(study_name=study or names[0], storage=storage)
    if len(loaded.directions) != 1:
        raise ConfigError(
            f"the Optuna study {loaded.study_name!r} has several objectives; parabo's has one",
            field=field,
        )
    complete = loaded.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return [(t.number, dict(t.params), t.value) for t in complete]


def apply_warm_start(study: Study, rows: Sequence[Row]) -> int:
    """Tell ``rows`` to ``study`` as warm-start trials, unless it holds them already; returns how many.

    A study that holds ``k`` warm-start trials (a resume) is told only ``rows[k:]``.
    """
    new = list(rows)[study.n_warm :]
    for params, value in new:
        study.add_trial(params, value)
    return len(new)


def check_points(points: Sequence[Mapping[str, Any]], space: Space, field: str) -> None:
    """Every point of ``points`` (the study file's ``initial``) fits ``space``; else one error naming each."""
    problems = []
    for i, point in enumerate(points):
        try:
            space.validate(point)
        except SpaceError as exc:
            problems.append(f"point {i}: {exc}")
    if problems:
        raise ConfigError("; ".join(problems[:MAX_LISTED]), field=field)


#: the folder of a study folder where ``parabo enqueue`` leaves points for a running study
ENQUEUE_FOLDER = "enqueue"


def read_points(text: str, where: str) -> list[dict[str, Any]]:
    """The points of a ``parabo enqueue`` JSON file: one mapping or a list of mappings."""
    from parabo._yaml import load_text

    points = load_text(text, where, json_file=True)
    if isinstance(points, dict):
        points = [points]
    if not isinstance(points, list) or not points or not all(isinstance(p, dict) for p in points):
        raise ConfigError(
            'expected a mapping of parameter values or a list of them, e.g. {"x": 1.5}',
            field="PARAMS_JSON",
        )
    return points


def drop_points(folder: Path, points: Sequence[Mapping[str, Any]]) -> Path:
    """Leave checked ``points`` for the study running in ``folder``; returns the file written.

    The file appears whole (written beside, then renamed); the running study enqueues it
    within about a second (:func:`take_dropped`) and removes it.
    """
    import json
    import os
    import time

    box = folder / ENQUEUE_FOLDER
    box.mkdir(exist_ok=True)
    name = f"{time.time_ns():020d}-{os.getpid()}.json"
    tmp = box / f".{name}.tmp"
    tmp.write_text(json.dumps([dict(p) for p in points]))
    os.replace(tmp, box / name)
    return box / name


def take_dropped(study: Study) -> list[str]:
    """Enqueue the points ``parabo enqueue`` left for this running study; returns notices.

    Each file is enqueued whole (every point checked first) and removed; a file that cannot
    be read or does not fit the space is renamed ``*.rejected`` and named in a notice.
    """
    if study.folder is None:
        return []
    box = study.folder / ENQUEUE_FOLDER
    try:
        names = sorted(p for p in box.iterdir() if p.suffix == ".json" and p.is_file())
    except OSError:  # no such folder: nothing was dropped
        return []
    notices = []
    for path in names:
        try:
            points = read_points(path.read_text(encoding="utf-8"), str(path))
            checked = [study.space.validate(p) for p in points]
        except (ConfigError, SpaceError, OSError, UnicodeDecodeError) as exc:
            path.rename(path.with_suffix(".rejected"))
            notices.append(f"{path.name} was not enqueued ({exc}); it is kept as *.rejected")
            continue
        for params in checked:
            study.enqueue(params)
        path.unlink()
        notices.append(f"enqueued {len(checked)} point(s) from parabo enqueue")
    return notices
