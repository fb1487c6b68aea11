"""What each plot shows, as plain numbers: computed once, drawn by plotly or by matplotlib.

Every function takes a :class:`~parabo.view.Snapshot` and returns a small record;
the two renderers (``_plotly``, ``_mpl``) only draw it, so the interactive and the
static figure of a kind always show the same thing.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parabo.exceptions import ConfigError
from parabo.parameters import Categorical, Fixed, Float, Int, Param
from parabo.trial import TrialState
from parabo.view import Snapshot

__all__ = [
    "Compare",
    "Contour",
    "Curves",
    "History",
    "Importance",
    "Parallel",
    "Pareto",
    "Slice",
    "Timeline",
    "compare",
    "contour",
    "curves",
    "history",
    "importance",
    "parallel",
    "pareto",
    "slices",
    "timeline",
]

#: at least this many COMPLETE trials before a parameter-importance estimate
MIN_IMPORTANCE_TRIALS = 4
#: above this many COMPLETE trials, a contour is the mean value per grid cell, not an interpolation
CONTOUR_MAX_TRIALS = 2000
#: fANOVA's cost grows faster than the trials (seconds at 400, a minute at 2,000): above this
#: many COMPLETE trials, the estimate uses a seeded random sample of this many
MAX_IMPORTANCE_TRIALS = 300


def _failed_level(values: Sequence[float]) -> float:
    """Where failed trials are drawn on a value axis: just below the lowest value."""
    if not values:
        return 0.0
    lo, hi = min(values), max(values)
    return lo - 0.08 * ((hi - lo) or abs(lo) or 1.0)


def _varying(snap: Snapshot) -> list[Param]:
    """The parameters that can vary (Fixed ones are left out of every plot)."""
    return [p for p in snap.space.params if not isinstance(p, Fixed)]


@dataclass(frozen=True)
class History:
    """Values and the best so far, by trial number and by wall-clock since the first ask."""

    label: str
    ids: list[int]
    values: list[float]
    best_ids: list[int]
    best_by_id: list[float]
    seconds: list[float]  # finish time of each COMPLETE trial, in finish order
    values_by_time: list[float]
    best_by_time: list[float]
    failed_ids: list[int]
    failed_seconds: list[float]
    failed_reasons: list[str]
    failed_level: float


def history(snap: Snapshot) -> History:
    better = min if snap.minimize else max
    done = snap.complete
    ids = [t.id for t in done]
    values = [float(t.value) for t in done if t.value is not None]
    best_by_id: list[float] = []
    for v in values:
        best_by_id.append(v if not best_by_id else better(best_by_id[-1], v))
    t0 = min((t.asked_at for t in snap.trials if t.asked_at is not None), default=0.0)
    finished = [t for t in snap.history if t.finished_at is not None]
    # by finish time: the journal's order can differ by milliseconds from the workers' clocks
    timed = sorted(
        (t for t in finished if t.state is TrialState.COMPLETE and t.value is not None),
        key=lambda t: float(t.finished_at or 0.0),
    )
    seconds = [float(t.finished_at or 0.0) - t0 for t in timed]
    values_by_time = [float(t.value or 0.0) for t in timed]
    best_by_time: list[float] = []
    for v in values_by_time:
        best_by_time.append(v if not best_by_time else better(best_by_time[-1], v))
    failed = snap.failed
    return History(
        label=snap.metric or "value",
        ids=ids,
        values=values,
        best_ids=ids,
        best_by_id=best_by_id,
        seconds=seconds,
        values_by_time=values_by_time,
        best_by_time=best_by_time,
        failed_ids=[t.id for t in failed],
        failed_seconds=[(t.finished_at or t0) - t0 for t in failed],
        failed_reasons=[str(t.reason or "failed") for t in failed],
        failed_level=_failed_level(values),
    )


@dataclass(frozen=True)
class Bar:
    """One trial on the worker timeline (seconds since the first ask)."""

    worker: str
    start: float
    end: float
    trial: int
    state: str


@dataclass(frozen=True)
class Timeline:
    """One row per worker, a bar per trial; utilization and the coordinator's ask time."""

    workers: list[str]
    bars: list[Bar]
    span: float  # first start to last finish, seconds
    utilization: float | None  # busy time / (workers x span)
    asks: int
    ask_total: float
    ask_mean: float | None
    ask_max: float | None

    @property
    def caption(self) -> str:
        parts = [f"{len(self.workers)} workers", f"span {self.span:.3g} s"]
        if self.utilization is not None:
            parts.append(f"utilization {100 * self.utilization:.1f}%")
        if self.ask_mean is not None and self.ask_max is not None:
            parts.append(
                f"coordinator ask time {self.ask_total:.3g} s over {self.asks} asks "
                f"(mean {1000 * self.ask_mean:.3g} ms, max {1000 * self.ask_max:.3g} ms)"
            )
        return " · ".join(parts)


def timeline(snap: Snapshot) -> Timeline:
    t0 = min((t.asked_at for t in snap.trials if t.asked_at is not None), default=0.0)
    ran = [t for t in snap.trials if t.started_at is not None]
    now = max(
        (x for t in snap.trials for x in (t.finished_at, t.started_at) if x is not None),
        default=t0,
    )
    bars = [
        Bar(
            worker=t.worker or "(by hand)",
            start=float(t.started_at or 0.0) - t0,
            end=float(t.finished_at if t.finished_at is not None else now) - t0,
            trial=t.id,
            state=t.state.value,
        )
        for t in ran
    ]
    workers = sorted({b.worker for b in bars}, key=_natural)
    if bars:
        first = min(b.start for b in bars)
        last = max(b.end for b in bars)
        span = last - first
        busy = sum(b.end - b.start for b in bars)
        util = busy / (len(workers) * span) if span > 0 else None
    else:
        span, util = 0.0, None
    asks = [t.ask_seconds for t in snap.trials if t.ask_seconds is not None]
    return Timeline(
        workers=workers,
        bars=bars,
        span=span,
        utilization=util,
        asks=len(asks),
        ask_total=float(sum(asks)),
        ask_mean=float(np.mean(asks)) if asks else None,
        ask_max=float(max(asks)) if asks else None,
    )


def _natural(name: str) -> tuple[Any, ...]:
    """Sort key that puts worker-2 before worker-10."""
    head = name.rstrip("0123456789")
    tail = name[len(head) :]
    return (head, int(tail) if tail else -1)


@dataclass(frozen=True)
class Importance:
    """Share of the objective's variance each parameter explains (fANOVA; they sum to 1)."""

    names: list[str]
    shares: list[float]
    trials: int  # the trials the estimate used
    of: int  # the COMPLETE trials there were
    method: str = "fANOVA (Optuna's FanovaImportanceEvaluator)"

    @property
    def caption(self) -> str:
        used = f"{self.trials} completed trials"
        if self.trials < self.of:
            used = f"a random sample of {self.trials} of {self.of} completed trials"
        return f"{self.method}, {used}"


def importance(snap: Snapshot, seed: int = 0) -> Importance:
    """fANOVA importances of the varying parameters, from the COMPLETE trials.

    Raises:
        ConfigError: fewer than ``MIN_IMPORTANCE_TRIALS`` COMPLETE trials, or no parameter varies.
    """
    import optuna
    from optuna.distributions import (
        BaseDistribution,
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    params = _varying(snap)
    done = [t for t in snap.complete if all(p.name in t.params for p in params)]
    if not params:
        raise ConfigError("the study has no parameter that varies", field="importance")
    if len(done) < MIN_IMPORTANCE_TRIALS:
        raise ConfigError(
            f"needs at least {MIN_IMPORTANCE_TRIALS} completed trials, the study has {len(done)}",
            field="importance",
        )
    dists: dict[str, BaseDistribution] = {}
    for p in params:
        if isinstance(p, Float):
            dists[p.name] = FloatDistribution(p.low, p.high, log=p.log)
        elif isinstance(p, Int):
            dists[p.name] = IntDistribution(p.low, p.high, log=p.log)
        elif isinstance(p, Categorical):
            dists[p.name] = CategoricalDistribution(list(p.choices))
    total = len(done)
    if total > MAX_IMPORTANCE_TRIALS:
        pick = np.random.default_rng(seed).choice(total, MAX_IMPORTANCE_TRIALS, replace=False)
        done = [done[i] for i in sorted(pick)]
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(direction="minimize" if snap.minimize else "maximize")
    for t in done:
        study.add_trial(
            optuna.trial.create_trial(
                params={n: t.params[n] for n in dists},
                distributions=dists,
                value=float(t.value or 0.0),
            )
        )
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna's "experimental" notes
        shares = optuna.importance.get_param_importances(study, evaluator=evaluator)
    names = sorted(shares, key=lambda n: -shares[n])
    return Importance(
        names=names, shares=[float(shares[n]) for n in names], trials=len(done), of=total
    )


@dataclass(frozen=True)
class Axis:
    """One axis of the parallel coordinates: positions of every trial, and its ticks."""

    name: str
    values: list[float]
    ticks: list[float] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    log: bool = False


@dataclass(frozen=True)
class Parallel:
    """Parameter axes and a value axis; failed trials sit on the value axis's ``failed`` tick."""

    axes: list[Axis]
    values: list[float | None]  # None: failed
    trial_ids: list[int]
    label: str


def _coordinate(p: Param, value: Any) -> float:
    """Where ``value`` of ``p`` sits on its axis (a categorical's choice index, log10 for log scales)."""
    if isinstance(p, Categorical):
        return float(p.choices.index(value)) if value in p.choices else math.nan
    x = float(value)
    if isinstance(p, (Float, Int)) and p.log:
        return math.log10(x)
    return x


def parallel(snap: Snapshot) -> Parallel:
    finished = [t for t in snap.trials if t.state in (TrialState.COMPLETE, TrialState.FAILED)]
    finished = [t for t in finished if t.params]  # a lost trial has no parameters
    axes: list[Axis] = []
    for p in _varying(snap):
        coords = [_coordinate(p, t.params.get(p.name)) for t in finished]
        if isinstance(p, Categorical):
            axes.append(Axis(p.name, coords, [float(i) for i in range(len(p.choices))], _labels(p)))
        else:
            axes.append(Axis(p.name, coords, log=bool(getattr(p, "log", False))))
    values: list[float | None] = [
        float(t.value) if t.state is TrialState.COMPLETE and t.value is not None else None
        for t in finished
    ]
    return Parallel(axes, values, [t.id for t in finished], snap.metric or "value")


def _labels(p: Categorical) -> list[str]:
    return [str(c) for c in p.choices]


@dataclass(frozen=True)
class SlicePanel:
    """One parameter: the value of each COMPLETE trial against it, and the failed trials."""

    name: str
    x: list[float]
    y: list[float]
    ids: list[int]
    failed_x: list[float]
    failed_ids: list[int]
    log: bool
    ticks: list[float]
    labels: list[str]


@dataclass(frozen=True)
class Slice:
    panels: list[SlicePanel]
    label: str
    failed_level: float


def slices(snap: Snapshot) -> Slice:
    done = snap.complete
    failed = [t for t in snap.failed if t.params]
    panels = []
    for p in _varying(snap):
        panels.append(
            SlicePanel(
                name=p.name,
                x=[_axis_value(p, t.params[p.name]) for t in done if p.name in t.params],
                y=[float(t.value or 0.0) for t in done if p.name in t.params],
                ids=[t.id for t in done if p.name in t.params],
                failed_x=[_axis_value(p, t.params[p.name]) for t in failed if p.name in t.params],
                failed_ids=[t.id for t in failed if p.name in t.params],
                log=bool(getattr(p, "log", False)),
                ticks=[float(i) for i in range(len(p.choices))]
                if isinstance(p, Categorical)
                else [],
                labels=_labels(p) if isinstance(p, Categorical) else [],
            )
        )
    values = [float(t.value or 0.0) for t in done]
    return Slice(panels, snap.metric or "value", _failed_level(values))


def _axis_value(p: Param, value: Any) -> float:
    """The value as drawn on a slice's x axis (the raw number; a choice's index)."""
    if isinstance(p, Categorical):
        return float(p.choices.index(value)) if value in p.choices else math.nan
    return float(value)


@dataclass(frozen=True)
class Contour:
    """The value over a pair of numeric parameters on a grid: interpolated between the trials
    (linearly), or with more than ``CONTOUR_MAX_TRIALS`` of them, the mean value in each cell."""

    x_name: str
    y_name: str
    x_log: bool
    y_log: bool
    grid_x: list[float]
    grid_y: list[float]
    z: list[list[float | None]]  # z[j][i] at (grid_x[i], grid_y[j]); None outside the trials
    x: list[float]
    y: list[float]
    values: list[float]
    failed_x: list[float]
    failed_y: list[float]
    label: str


def numeric_names(snap: Snapshot) -> list[str]:
    return [p.name for p in _varying(snap) if isinstance(p, (Float, Int))]


def contour(snap: Snapshot, pair: tuple[str, str] | None = None, size: int = 40) -> Contour:
    """The value over ``pair`` (default: the first two numeric parameters).

    Raises:
        ConfigError: a name that is not a numeric parameter, or too few trials to interpolate.
    """
    from scipy.interpolate import griddata

    numeric = numeric_names(snap)
    if pair is None:
        if len(numeric) < 2:
            raise ConfigError(
                f"a contour needs two numeric parameters; the study has {len(numeric)}",
                field="--params",
            )
        pair = (numeric[0], numeric[1])
    for name in pair:
        if name not in numeric:
            raise ConfigError(
                f"{name!r} is not a numeric parameter of the study; choose two of "
                f"{', '.join(numeric) or '(none)'}",
                field="--params",
            )
    if pair[0] == pair[1]:
        raise ConfigError("give two different parameters, e.g. --params x,y", field="--params")
    px, py = snap.space[pair[0]], snap.space[pair[1]]
    x_log, y_log = bool(getattr(px, "log", False)), bool(getattr(py, "log", False))
    done = [t for t in snap.complete if pair[0] in t.params and pair[1] in t.params]
    xs = [float(t.params[pair[0]]) for t in done]
    ys = [float(t.params[pair[1]]) for t in done]
    vs = [float(t.value or 0.0) for t in done]
    failed = [t for t in snap.failed if pair[0] in t.params and pair[1] in t.params]

    def scaled(v: Sequence[float], log: bool) -> np.ndarray:
        a = np.asarray(v, dtype=float)
        return np.log10(a) if log else a

    def grid(p: Param, log: bool) -> np.ndarray:
        lo, hi = float(getattr(p, "low", 0.0)), float(getattr(p, "high", 1.0))
        if log:
            lo, hi = math.log10(lo), math.log10(hi)
        return np.linspace(lo, hi, size)

    gx, gy = grid(px, x_log), grid(py, y_log)
    z: list[list[float | None]] = [[None] * size for _ in range(size)]
    sx, sy = scaled(xs, x_log), scaled(ys, y_log)
    if len(done) > CONTOUR_MAX_TRIALS:
        # many trials: the mean value in each grid cell (linear time; the triangulation that
        # interpolates between a few trials costs seconds with tens of thousands)
        from scipy.stats import binned_statistic_2d

        def edges(g: np.ndarray) -> np.ndarray:
            step = g[1] - g[0]
            return np.concatenate([g - step / 2, [g[-1] + step / 2]])

        stat = binned_statistic_2d(
            sx, sy, np.asarray(vs), "mean", bins=[edges(gx), edges(gy)]
        ).statistic
        z = [[None if math.isnan(v) else float(v) for v in row] for row in stat.T]
    elif len(done) >= 3 and np.ptp(sx) > 0 and np.ptp(sy) > 0:
        mx, my = np.meshgrid(gx, gy)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                zz = griddata((sx, sy), np.asarray(vs), (mx, my), method="linear")
            except Exception:  # points on a line (Qhull): no surface, the points still show
                zz = np.full(mx.shape, np.nan)
        z = [[None if math.isnan(v) else float(v) for v in row] for row in zz]
    return Contour(
        x_name=pair[0],
        y_name=pair[1],
        x_log=x_log,
        y_log=y_log,
        grid_x=[float(10**v) if x_log else float(v) for v in gx],
        grid_y=[float(10**v) if y_log else float(v) for v in gy],
        z=z,
        x=xs,
        y=ys,
        values=vs,
        failed_x=[float(t.params[pair[0]]) for t in failed],
        failed_y=[float(t.params[pair[1]]) for t in failed],
        label=snap.metric or "value",
    )


@dataclass(frozen=True)
class Curve:
    """One study of a comparison: the best so far (or its regret) by wall-clock and by trial."""

    label: str
    seconds: list[float]
    trials: list[int]  # completed trials so far, at each point
    best: list[float]


@dataclass(frozen=True)
class Compare:
    """Several studies of one problem side by side: the best so far, or the regret to ``optimum``."""

    curves: list[Curve]
    label: str
    regret: bool


def compare(
    snaps: Sequence[Snapshot], labels: Sequence[str] | None = None, optimum: float | None = None
) -> Compare:
    """The best value so far of each study against wall-clock and trials; regret with ``optimum``.

    Raises:
        ConfigError: fewer than two studies, or studies of different directions.
    """
    if len(snaps) < 2:
        raise ConfigError("give two studies or more to compare", field="STUDY")
    directions = {s.direction for s in snaps}
    if len(directions) > 1:
        raise ConfigError(
            "the studies do not share a direction (some minimize, some maximize)", field="STUDY"
        )
    if labels is None:
        labels = [s.name for s in snaps]
        if len(set(labels)) < len(labels):
            labels = [f"{s.name} ({i + 1})" for i, s in enumerate(snaps)]
    curves = []
    for snap, label in zip(snaps, labels, strict=True):
        h = history(snap)
        best = h.best_by_time
        if optimum is not None:
            best = [abs(b - optimum) for b in best]
        curves.append(Curve(label, h.seconds, list(range(1, len(best) + 1)), best))
    return Compare(curves, snaps[0].metric or "value", optimum is not None)


@dataclass(frozen=True)
class CurveLine:
    """One trial's learning curve: its reported values against their steps."""

    trial: int
    state: str  # complete, pruned, paused, running, failed
    steps: list[float]
    values: list[float]


@dataclass(frozen=True)
class Curves:
    """Every trial's learning curve; pruned trials apart from complete ones, the best marked."""

    lines: list[CurveLine]
    best: int | None  # the best trial's id, when it reported
    label: str

    def count(self, state: str) -> int:
        return sum(1 for line in self.lines if line.state == state)

    @property
    def caption(self) -> str:
        parts = [f"{len(self.lines)} trials reported"]
        parts += [f"{self.count(s)} {s}" for s in CURVE_STATES if self.count(s)]
        if self.best is not None:
            parts.append(f"best: trial {self.best}")
        return " · ".join(parts)


#: the order in which curves are drawn (the best trial's comes last, on top)
CURVE_STATES = ("running", "failed", "pruned", "paused", "complete")


def has_reports(snap: Snapshot) -> bool:
    """Whether any trial reported a value at a step (early stopping's reports)."""
    return any(r.value is not None for c in snap.curves.values() for r in c)


def curves(snap: Snapshot) -> Curves:
    """The reports of each trial's current attempt, as a line per trial.

    Raises:
        ConfigError: no trial reported a value.
    """
    if not has_reports(snap):
        raise ConfigError(
            "the study has no reports: learning curves need trials that report steps "
            "(trial.report(value, step=...) in the objective)",
            field="curves",
        )
    by_id = {t.id: t for t in snap.trials}
    lines = []
    for tid in sorted(snap.curves):
        points = [(float(r.step), float(r.value)) for r in snap.curves[tid] if r.value is not None]
        trial = by_id.get(tid)
        if not points or trial is None:
            continue
        lines.append(
            CurveLine(
                trial=tid,
                state=trial.state.value,
                steps=[p[0] for p in points],
                values=[p[1] for p in points],
            )
        )
    best = snap.best
    best_id = best.id if best is not None and best.id in {ln.trial for ln in lines} else None
    return Curves(lines=lines, best=best_id, label=snap.metric or "value")


@dataclass(frozen=True)
class Pareto:
    """Every completed trial's objectives, which are feasible, and the Pareto front.

    ``front`` holds indices into ``ids``: the feasible trials no other feasible trial
    dominates, sorted by the first objective (the order of the step line).
    """

    names: list[str]
    directions: list[str]
    ids: list[int]
    values: list[list[float]]  # values[k][j]: objective j of trial ids[k]
    feasible: list[bool]
    front: list[int]

    @property
    def step_shape(self) -> str:
        """The step line through a two-objective front, along the first objective ascending:
        ``hv`` (across, then up or down) when the first objective is minimized, ``vh`` else."""
        return "hv" if self.directions[0] != "maximize" else "vh"

    def column(self, j: int, which: Sequence[int]) -> list[float]:
        return [self.values[k][j] for k in which]

    @property
    def dominated(self) -> list[int]:
        """Indices of the feasible trials off the front."""
        on = set(self.front)
        return [k for k, ok in enumerate(self.feasible) if ok and k not in on]

    @property
    def infeasible(self) -> list[int]:
        return [k for k, ok in enumerate(self.feasible) if not ok]

    @property
    def axis_labels(self) -> list[str]:
        return [
            f"{n} ({'max' if d == 'maximize' else 'min'})"
            for n, d in zip(self.names, self.directions, strict=True)
        ]

    @property
    def caption(self) -> str:
        parts = [f"{len(self.front)} trials on the front of {len(self.ids)} completed"]
        if self.infeasible:
            parts.append(f"{len(self.infeasible)} infeasible")
        return " · ".join(parts)


def front_ids(snap: Snapshot) -> set[int]:
    """The ids of the feasible COMPLETE trials that no other feasible trial dominates
    (as :meth:`parabo.Study.pareto_front`); empty with one objective."""
    from parabo.pareto import non_dominated

    m = len(snap.goal.directions)
    if m < 2:
        return set()
    ok = [t for t in snap.trials if t.feasible and t.values is not None and len(t.values) == m]
    if not ok:
        return set()
    keep = non_dominated(np.array([t.values for t in ok]) * np.array(snap.goal.signs))
    return {t.id for t, on in zip(ok, keep, strict=True) if on}


def pareto(snap: Snapshot) -> Pareto:
    """The objectives of the COMPLETE trials and the front of the feasible ones.

    Raises:
        ConfigError: the study has one objective, or no completed trial yet.
    """
    goal = snap.goal
    if not goal.multi:
        raise ConfigError(
            "the Pareto front needs several objectives; the study has one (see `history`)",
            field="pareto",
        )
    m = len(goal.directions)
    done = [
        t
        for t in snap.trials
        if t.state is TrialState.COMPLETE and t.values is not None and len(t.values) == m
    ]
    if not done:
        raise ConfigError("the study has no completed trial yet", field="pareto")
    values = [[float(v) for v in t.values or ()] for t in done]
    feasible = [t.feasible for t in done]
    on = front_ids(snap)
    front = sorted(
        (k for k, t in enumerate(done) if t.id in on), key=lambda k: (values[k][0], done[k].id)
    )
    return Pareto(
        names=list(goal.names),
        directions=list(goal.directions),
        ids=[t.id for t in done],
        values=values,
        feasible=feasible,
        front=front,
    )
