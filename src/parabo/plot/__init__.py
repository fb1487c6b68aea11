"""Plots of a study: history, importance, parallel coordinates, slices, contour, worker
timeline, learning curves (trials that report steps) and the Pareto front (several objectives).

Each function takes a :class:`~parabo.Study`, a study folder, or a
:class:`~parabo.view.StudyView`, and returns a figure: a plotly figure
(``engine="plotly"``, the default: interactive, for HTML) or a matplotlib
``Figure`` (``engine="matplotlib"``: for PNG and SVG). Both draw the same numbers
(:mod:`parabo.plot._data`). Failed trials are red crosses (dashed red lines in
parallel coordinates) wherever they have a place. Needs the ``plots`` extra:
``pip install 'parabo[plots]'``.

    >>> import parabo.plot
    >>> parabo.plot.KINDS
    ('history', 'importance', 'parallel', 'slice', 'contour', 'timeline', 'curves', 'pareto')
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parabo.exceptions import ConfigError
from parabo.view import Snapshot, StudyView, snapshot

if TYPE_CHECKING:
    from parabo.study import Study

__all__ = [
    "ENGINES",
    "FORMATS",
    "KINDS",
    "applicable",
    "compare",
    "contour",
    "curves",
    "figure",
    "history",
    "importance",
    "parallel",
    "pareto",
    "require",
    "save",
    "slice",
    "timeline",
]

KINDS = ("history", "importance", "parallel", "slice", "contour", "timeline", "curves", "pareto")
ENGINES = ("plotly", "matplotlib")
FORMATS = ("png", "svg", "html")

#: what each engine needs, and the extra that brings it
_NEEDS = {
    "plotly": ("plotly",),
    "matplotlib": ("matplotlib",),
    "importance": ("optuna", "sklearn"),
}


def require(what: str) -> None:
    """Raise :class:`ConfigError` saying what to install when ``what``'s packages are missing.

    ``what`` is an engine (``plotly``, ``matplotlib``) or ``importance``.
    """
    missing = [m for m in _NEEDS[what] if not _importable(m)]
    if missing:
        names = ", ".join("scikit-learn" if m == "sklearn" else m for m in missing)
        raise ConfigError(
            f"{what} needs {names}, which is not installed: pip install 'parabo[plots]'",
            field="plots",
        )


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise ConfigError(f"must be one of {', '.join(ENGINES)}, got {engine!r}", field="engine")
    require(engine)


def _title(snap: Snapshot, what: str) -> str:
    return f"{snap.name}: {what}"


def history(
    study: Study | StudyView | Snapshot | str | os.PathLike[str], *, engine: str = "plotly"
) -> Any:
    """Every value and the best so far, against trial number and against wall-clock."""
    from parabo.plot import _data

    return _draw(engine, "history", _data.history(snap := snapshot(study)), _title(snap, "history"))


def importance(
    study: Study | StudyView | Snapshot | str | os.PathLike[str],
    *,
    engine: str = "plotly",
    seed: int = 0,
) -> Any:
    """Parameter importance: the share of the value's variance each parameter explains (fANOVA).

    Uses Optuna's functional-ANOVA evaluator (a random forest fitted to the
    COMPLETE trials); ``seed`` seeds the forest.

    Raises:
        ConfigError: fewer than 4 completed trials, or optuna / scikit-learn missing.
    """
    from parabo.plot import _data

    _check_engine(engine)
    require("importance")
    snap = snapshot(study)
    return _draw(engine, "importance", _data.importance(snap, seed), _title(snap, "importance"))


def parallel(
    study: Study | StudyView | Snapshot | str | os.PathLike[str], *, engine: str = "plotly"
) -> Any:
    """Parallel coordinates: one line per finished trial across the parameters and the value."""
    from parabo.plot import _data

    snap = snapshot(study)
    return _draw(engine, "parallel", _data.parallel(snap), _title(snap, "parallel coordinates"))


def slice(  # noqa: A001 - the plot's name, as in Optuna's plot_slice
    study: Study | StudyView | Snapshot | str | os.PathLike[str], *, engine: str = "plotly"
) -> Any:
    """The value against each parameter, one panel per parameter."""
    from parabo.plot import _data

    snap = snapshot(study)
    return _draw(engine, "slice", _data.slices(snap), _title(snap, "slices"))


def contour(
    study: Study | StudyView | Snapshot | str | os.PathLike[str],
    params: tuple[str, str] | None = None,
    *,
    engine: str = "plotly",
) -> Any:
    """The value over a pair of numeric parameters (default: the first two), with the trials.

    Raises:
        ConfigError: a name that is not a numeric parameter, or fewer than two of them.
    """
    from parabo.plot import _data

    snap = snapshot(study)
    d = _data.contour(snap, params)
    return _draw(engine, "contour", d, _title(snap, f"{d.x_name} × {d.y_name}"))


def timeline(
    study: Study | StudyView | Snapshot | str | os.PathLike[str], *, engine: str = "plotly"
) -> Any:
    """The worker timeline: one row per worker, a bar per trial, utilization and ask time."""
    from parabo.plot import _data

    snap = snapshot(study)
    return _draw(engine, "timeline", _data.timeline(snap), _title(snap, "worker timeline"))


def curves(
    study: Study | StudyView | Snapshot | str | os.PathLike[str], *, engine: str = "plotly"
) -> Any:
    """Learning curves: each trial's reported values against their steps, one line per trial.

    Complete trials are solid blue lines, pruned ones dashed purple lines ending in a cross
    (where they were stopped), running ones dotted grey; the best trial is a thick orange line.

    Raises:
        ConfigError: no trial of the study reported a value (``trial.report``).
    """
    from parabo.plot import _data

    snap = snapshot(study)
    return _draw(engine, "curves", _data.curves(snap), _title(snap, "learning curves"))


def pareto(
    study: Study | StudyView | Snapshot | str | os.PathLike[str], *, engine: str = "plotly"
) -> Any:
    """The Pareto front of a study with several objectives.

    With two objectives, a scatter of every completed trial, the front (the feasible trials
    no other feasible trial dominates) highlighted and joined by a step line, infeasible
    trials as open diamonds; with three or more, a scatter matrix of each pair of objectives.

    Raises:
        ConfigError: the study has one objective, or no completed trial.
    """
    from parabo.plot import _data

    snap = snapshot(study)
    return _draw(engine, "pareto", _data.pareto(snap), _title(snap, "Pareto front"))


def _draw(engine: str, kind: str, data: Any, title: str) -> Any:
    _check_engine(engine)
    if engine == "plotly":
        from parabo.plot import _plotly as render
    else:
        from parabo.plot import _mpl as render  # type: ignore[no-redef]
    name = "slices" if kind == "slice" else kind
    return getattr(render, name)(data, title)


def compare(
    studies: Sequence[Study | StudyView | Snapshot | str | os.PathLike[str]],
    *,
    labels: Sequence[str] | None = None,
    optimum: float | None = None,
    engine: str = "plotly",
) -> Any:
    """Several studies of one problem side by side (e.g. asynchronous against synchronous runs).

    Draws each study's best value so far against wall-clock and against completed trials;
    with ``optimum`` (the problem's best value), the regret ``|best - optimum|`` on a log axis.
    ``labels`` default to the studies' names.

    Raises:
        ConfigError: fewer than two studies, mixed directions, or labels that do not match.
    """
    from parabo.plot import _data

    if labels is not None and len(labels) != len(studies):
        raise ConfigError(
            f"give one label per study: {len(labels)} labels for {len(studies)} studies",
            field="labels",
        )
    snaps = [snapshot(s) for s in studies]
    what = "regret against time" if optimum is not None else "best so far against time"
    return _draw(engine, "compare", _data.compare(snaps, labels, optimum), f"comparison: {what}")


_FUNCTIONS = {
    "history": history,
    "importance": importance,
    "parallel": parallel,
    "slice": slice,
    "contour": contour,
    "timeline": timeline,
    "curves": curves,
    "pareto": pareto,
}


def figure(
    study: Study | StudyView | Snapshot | str | os.PathLike[str],
    kind: str,
    *,
    engine: str = "plotly",
    **options: Any,
) -> Any:
    """The figure of ``kind`` (one of :data:`KINDS`); ``options`` go to that kind's function."""
    if kind not in _FUNCTIONS:
        from parabo._check import did_you_mean

        raise ConfigError(
            f"unknown plot {kind!r}; choose one of {', '.join(KINDS)}{did_you_mean(kind, KINDS)}",
            field="KIND",
        )
    return _FUNCTIONS[kind](study, engine=engine, **options)


def applicable(study: Study | StudyView | Snapshot | str | os.PathLike[str]) -> dict[str, str]:
    """The kinds that apply to this study, and for the others why not (``{kind: reason}``).

    Returns a mapping of every kind to ``""`` when it applies, or the reason it does not.
    """
    from parabo.plot import _data

    snap = snapshot(study)
    done = len(snap.complete)
    why: dict[str, str] = dict.fromkeys(KINDS, "")
    if not snap.trials:
        return dict.fromkeys(KINDS, "no trial yet")
    if done < _data.MIN_IMPORTANCE_TRIALS:
        why["importance"] = f"needs {_data.MIN_IMPORTANCE_TRIALS} completed trials, has {done}"
    elif not _data._varying(snap):
        why["importance"] = "no parameter varies"
    else:
        try:
            require("importance")
        except ConfigError as exc:
            why["importance"] = str(exc)
    if len(_data.numeric_names(snap)) < 2:
        why["contour"] = "needs two numeric parameters"
    if not _data._varying(snap):
        why["parallel"] = why["slice"] = "no parameter varies"
    if not _data.has_reports(snap):
        why["curves"] = "no trial reported steps (trial.report in the objective)"
    if not snap.goal.multi:
        why["pareto"] = "needs several objectives; the study has one"
    elif not any(t.values is not None for t in snap.complete):
        why["pareto"] = "no completed trial yet"
    return why


def save(fig: Any, path: str | os.PathLike[str], fmt: str | None = None) -> Path:
    """Write a figure: ``html`` from a plotly figure, ``png``/``svg`` from a matplotlib one.

    ``fmt`` defaults to the file's suffix. Returns the path written.
    """
    out = Path(path)
    fmt = (fmt or out.suffix.lstrip(".") or "png").lower()
    if fmt not in FORMATS:
        raise ConfigError(f"must be one of {', '.join(FORMATS)}, got {fmt!r}", field="--format")
    if fmt == "html":
        if not hasattr(fig, "to_html"):
            raise ConfigError("html needs a plotly figure (engine='plotly')", field="--format")
        # one file that opens offline: plotly.js is embedded, not fetched
        out.write_text(fig.to_html(include_plotlyjs=True, full_html=True), encoding="utf-8")
    else:
        if not hasattr(fig, "savefig"):
            raise ConfigError(
                f"{fmt} needs a matplotlib figure (engine='matplotlib')", field="--format"
            )
        fig.savefig(out, format=fmt, dpi=110)
    return out
