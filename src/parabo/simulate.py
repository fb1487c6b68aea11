"""Plan a parallel study before paying for it: ``parabo simulate``.

Runs the study's sampler with the unchanged scheduler on the simulated backend
for several worker counts, and reports, per count, the simulated wall-clock to
reach a target value, the worker utilization and the coordinator's share of
the time. Values come from a stand-in:

- ``objective``: the study's own (Python) objective, called instantly — right
  when it is cheap to compute and only its real runs are expensive;
- ``synthetic``: a cheap smooth function over the study's space;
- a recorded study (``from_study``): each suggestion gets the value, and unless
  a runtime model is given the duration, of the nearest recorded trial (in the
  unit cube).

Trial durations come from a runtime model (``'lognormal(60s, 0.5)'``, see
:func:`parabo.executors.simulated.parse_runtime`). The coordinator's real time
(asking, telling) is charged to the simulated clock, so a sampler that is slow
to suggest shows up as idle workers.

One run per worker count says little: on the GP benchmarks the speed-up of a
single seed moves by a fifth or more (docs/parallel.md, "Round 10"). With
``repeats`` each worker count runs on that many seeds; the report gives the
median time to target (a run that misses it counts as never), how many runs
reach it, and from five runs a bootstrap interval of the speed-up.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from parabo.config import StudyConfig
from parabo.exceptions import ConfigError, ParaboError, TrialPruned
from parabo.executors.simulated import RuntimeModel, SimulatedExecutor, parse_runtime
from parabo.objectives import PythonObjective
from parabo.run_options import StopRule
from parabo.scheduler import Scheduler
from parabo.space import Space
from parabo.study import Study
from parabo.trial import TrialState

__all__ = [
    "SimulationReport",
    "SimulationRun",
    "WorkerSummary",
    "format_report",
    "parse_workers",
    "plot_report",
    "simulate_study",
    "synthetic_objective",
]


@dataclass(frozen=True)
class SimulationRun:
    """One simulated run: ``workers`` in flight, times in simulated seconds from its start."""

    workers: int
    trials: int
    elapsed: float
    best: float | None
    utilization: float
    coordinator_share: float
    time_to_target: float | None = None
    #: (simulated time, best value so far) at every improvement
    curve: list[tuple[float, float]] = field(default_factory=list)
    #: the seed of the sampler and of the durations
    seed: int = 0


@dataclass(frozen=True)
class WorkerSummary:
    """The runs of one worker count: medians over its seeds.

    ``time_to_target`` is the median with runs that miss the target counted as never (``None``
    when half or more miss it); ``speedup`` is the 1-worker median over this one, and
    ``speedup_interval`` its 95% bootstrap interval over this count's runs (from 5 runs;
    the 1-worker median held fixed).
    """

    workers: int
    runs: int
    reached: int
    trials: int
    elapsed: float
    time_to_target: float | None
    speedup: float | None
    speedup_interval: tuple[float, float] | None
    best: float | None
    utilization: float
    coordinator_share: float


@dataclass(frozen=True)
class SimulationReport:
    """Every run of a ``parabo simulate`` call, and what they were run against."""

    study: str
    direction: str
    sampler: str
    runtime: str
    stand_in: str
    target: float | None
    runs: list[SimulationRun]
    repeats: int = 1
    #: the target was given (``--target``) rather than taken from the 1-worker runs
    target_given: bool = False

    def summary(self) -> list[WorkerSummary]:
        """One row per worker count, in increasing order."""
        return summarize_runs(self.runs)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["summary"] = [asdict(row) for row in self.summary()]
        return out


_INTERVAL_RUNS = 5  # fewer runs than this: no interval (it would be the range of a handful)


def _times(runs: Sequence[SimulationRun]) -> np.ndarray:
    """Times to target, a run that misses it counted as never (infinite)."""
    return np.array([math.inf if r.time_to_target is None else r.time_to_target for r in runs])


def summarize_runs(runs: Sequence[SimulationRun], draws: int = 2000) -> list[WorkerSummary]:
    """Medians per worker count (see :class:`WorkerSummary`); the bootstrap is seeded, so stable."""
    by_n: dict[int, list[SimulationRun]] = {}
    for r in runs:
        by_n.setdefault(r.workers, []).append(r)
    base = float(np.median(_times(by_n[1]))) if 1 in by_n else math.inf
    rng = np.random.default_rng(0)
    rows = []
    for n in sorted(by_n):
        group = by_n[n]
        times = _times(group)
        t = float(np.median(times))
        speedup = base / t if math.isfinite(base) and math.isfinite(t) and t > 0 else None
        interval = None
        if speedup is not None and n != 1 and len(group) >= _INTERVAL_RUNS:
            meds = np.median(times[rng.integers(0, len(group), (draws, len(group)))], axis=1)
            lo, hi = np.percentile(base / meds, [2.5, 97.5])  # an unreached median gives 0x
            interval = (float(lo), float(hi))
        bests = [r.best for r in group if r.best is not None]
        rows.append(
            WorkerSummary(
                workers=n,
                runs=len(group),
                reached=int(np.sum(np.isfinite(times))),
                trials=int(np.median([r.trials for r in group])),
                elapsed=float(np.median([r.elapsed for r in group])),
                time_to_target=t if math.isfinite(t) else None,
                speedup=speedup,
                speedup_interval=interval,
                best=float(np.median(bests)) if bests else None,
                utilization=float(np.median([r.utilization for r in group])),
                coordinator_share=float(np.median([r.coordinator_share for r in group])),
            )
        )
    return rows


def parse_workers(text: str, field_name: str = "--workers") -> list[int]:
    """``"1,4,16,64"`` → ``[1, 4, 16, 64]`` (each a positive integer)."""
    out = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or int(part) < 1:
            raise ConfigError(
                f"expected positive whole numbers separated by commas, got {text!r}",
                field=field_name,
            )
        out.append(int(part))
    if not out:
        raise ConfigError("give at least one worker count, e.g. 1,4,16", field=field_name)
    return sorted(set(out))


def synthetic_objective(
    space: Space, direction: str, seed: int = 0
) -> Callable[[Mapping[str, Any]], float]:
    """A cheap, smooth, mildly multimodal function of the unit-cube image of the parameters.

    Its optimum is at a random point of the cube (fixed by ``seed``); the value
    is minimized (or its negative maximized, following ``direction``).
    """
    rng = np.random.default_rng(seed)
    center = rng.uniform(0.2, 0.8, space.dim)
    weight = rng.uniform(0.5, 2.0, space.dim)
    sign = -1.0 if direction == "maximize" else 1.0

    def evaluate(params: Mapping[str, Any]) -> float:
        d = space.to_unit(params) - center
        value = float(np.sum(weight * d**2) + 0.05 * np.sum(1 - np.cos(6 * np.pi * d)))
        return sign * value

    return evaluate


def _report_steps(top: float) -> list[float]:
    """The steps a learning-curve stand-in reports at: every step up to 100, else 100 spread ones."""
    if top <= 100:
        return [float(s) for s in range(1, int(math.floor(top)) + 1)] or [float(top)]
    return sorted({float(round(top ** (i / 99.0))) for i in range(100)})


def with_curves(
    evaluate: Callable[[Mapping[str, Any]], float], space: Space, top: float, direction: str
) -> Callable[..., float]:
    """A stand-in that reports a learning curve up to step ``top`` before its final value.

    The curve model: ``final + gap * (step**-0.5 - top**-0.5)`` (towards better values as
    the steps grow), the gap a fixed function of the parameters between 0.2 and 1 times the
    final value's scale, so curves of different configurations cross.
    """
    steps = _report_steps(top)

    def curve(params: Mapping[str, Any], trial: Any) -> float:
        final = evaluate(params)
        u = float(np.sum(space.to_unit(params)) * 7.31) % 1.0
        gap = (0.2 + 0.8 * u) * max(1.0, abs(final))
        toward = -1.0 if direction == "maximize" else 1.0  # minimize: curves fall; maximize: rise
        for step in steps:
            value = final + toward * gap * (step**-0.5 - top**-0.5)
            trial.report(value, step=step)
            if trial.should_prune():
                raise TrialPruned()
        return final

    return curve


class _Replay:
    """Nearest recorded trial (unit cube, Euclidean): its value, its duration, its curve."""

    def __init__(self, folder: Path) -> None:
        recorded = Study.load(folder)
        try:
            self.space = recorded.space
            self.direction = recorded.direction
            done = [
                t for t in recorded.trials if t.state is TrialState.COMPLETE and t.value is not None
            ]
            self.curves: list[list[tuple[float, float | None]]] = [
                [(r.step, r.value) for r in recorded.curve(t)] for t in done
            ]
        finally:
            recorded.close()
        if not done:
            raise ConfigError(
                f"the study in {folder} has no completed trial to replay", field="--from-study"
            )
        self.points = self.space.to_unit_array([t.params for t in done])
        self.values = np.array([float(t.value) for t in done])  # type: ignore[arg-type]
        self.durations = np.array(
            [
                (t.finished_at - t.started_at)
                if t.finished_at is not None
                and t.started_at is not None
                and t.finished_at > t.started_at
                else math.nan
                for t in done
            ]
        )

    def nearest(self, params: Mapping[str, Any]) -> int:
        d = np.sum((self.points - self.space.to_unit(params)) ** 2, axis=1)
        return int(np.argmin(d))

    def value(self, params: Mapping[str, Any]) -> float:
        return float(self.values[self.nearest(params)])

    def duration(self, params: Mapping[str, Any]) -> float:
        return float(self.durations[self.nearest(params)])

    @property
    def has_curves(self) -> bool:
        return any(self.curves)

    def replay_curve(self, params: Mapping[str, Any], trial: Any) -> float:
        """The nearest recorded trial's reports, then its value."""
        i = self.nearest(params)
        for step, value in self.curves[i]:
            if value is not None:
                trial.report(value, step=step)
                if trial.should_prune():
                    raise TrialPruned()
        return float(self.values[i])

    @property
    def has_durations(self) -> bool:
        return bool(np.all(np.isfinite(self.durations)))


def _sampler_name(spec: Any) -> str:
    if isinstance(spec, Mapping):
        return str(spec.get("name"))
    return str(spec)


def simulate_study(
    cfg: StudyConfig,
    base_dir: Path,
    *,
    workers: Sequence[int] = (1, 4, 16, 64),
    duration: Any = None,
    trials: int | None = None,
    target: float | None = None,
    from_study: str | Path | None = None,
    stand_in: str | None = None,
    seed: int | None = None,
    overhead: float | None = None,
    repeats: int = 1,
    progress: Callable[[str], None] | None = None,
) -> SimulationReport:
    """Simulate the study of ``cfg`` with each worker count; see the module docs.

    Args:
        cfg: a validated study file.
        base_dir: the study file's folder (to import its objective).
        workers: the worker counts; 1 is always run (it sets the default target).
        duration: a runtime model (default: ``run.runtime``, else the recorded durations).
        trials: finished trials per run (default ``run.trials``).
        target: the value to reach (default: the 1-worker runs' median final best; the
            ``n // 2 + 1``-th best of ``n`` runs, so most of them reach it).
        from_study: a study folder whose recorded trials stand in for the objective.
        stand_in: ``objective`` or ``synthetic`` (ignored with ``from_study``).
        seed: seeds the sampler and the durations (default: the study's seed, else 0).
        overhead: ``None`` charges the real coordinator time; seconds per trial otherwise.
        repeats: runs per worker count, on seeds ``seed, seed + 1, ...`` (the sampler's and the
            durations'; the synthetic stand-in stays the one of ``seed``).

    Raises:
        ConfigError: a missing runtime model, an objective that cannot stand in, bad options.
    """
    n_trials = cfg.run.trials if trials is None else trials
    if not isinstance(n_trials, int) or n_trials < 1:
        raise ConfigError(f"must be a positive whole number, got {n_trials!r}", field="--trials")
    seed = (cfg.seed if cfg.seed is not None else 0) if seed is None else seed
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ConfigError(f"must be a positive whole number, got {repeats!r}", field="--repeats")
    if not cfg.goal().simple:
        raise ConfigError(
            "parabo simulate plans studies with one objective and no constraints; simulate "
            "a copy of the study file with one `metric` and `direction`",
            field="direction",
        )
    direction_of_study: str = cfg.direction  # type: ignore[assignment]  # one objective (checked)
    space = cfg.build_space()
    spec = duration if duration is not None else cfg.run.runtime
    if from_study is not None:
        direction, objective, source, spec = _replayed(cfg, space, Path(from_study), spec)
    else:
        direction = direction_of_study
        objective, source = _stand_in(cfg, base_dir, space, stand_in, seed)
    if spec is None:
        raise ConfigError(
            "give trial durations, e.g. --duration 'lognormal(60s, 0.5)' (or run.runtime in the study file)",
            field="--duration",
        )
    runtime: RuntimeModel = parse_runtime(
        spec, "--duration" if duration is not None else "run.runtime"
    )
    if target is not None and not math.isfinite(target):
        raise ConfigError("must be a finite number", field="--target")

    runs: list[SimulationRun] = []
    for n in sorted({1, *workers}):
        for k in range(repeats):
            if progress is not None:
                of = f" (run {k + 1} of {repeats})" if repeats > 1 else ""
                progress(f"simulating {n} worker{'s' if n > 1 else ''}{of} ...")
            runs.append(
                _run_once(
                    cfg, space, direction, objective, runtime, n, n_trials, seed + k, overhead
                )
            )
    goal = target if target is not None else _majority_best(runs, direction)
    runs = [_with_target(r, goal, direction) for r in runs]
    return SimulationReport(
        cfg.name,
        direction,
        _sampler_name(cfg.sampler),
        str(runtime),
        source,
        goal,
        [r for r in runs if r.workers in workers],
        repeats,
        target is not None,
    )


def _replayed(cfg: StudyConfig, space: Space, folder: Path, spec: Any) -> tuple[str, Any, str, Any]:
    """Direction, objective, description and durations of a replay of a recorded study."""
    replay = _Replay(folder)
    if replay.space != space:
        raise ConfigError(
            f"the study in {folder} was run over a different space than {cfg.name!r}; "
            "replay it with the study file it was run with",
            field="--from-study",
        )
    if spec is None:
        if not replay.has_durations:
            raise ConfigError(
                f"the study in {folder} lacks start or end times; give --duration",
                field="--duration",
            )
        spec = replay.duration
    if cfg.early_stopping is not None and replay.has_curves:
        about = f"replay of {folder} (nearest recorded trial and its learning curve)"
        return replay.direction, replay.replay_curve, about, spec
    return replay.direction, replay.value, f"replay of {folder} (nearest recorded trial)", spec


def _stand_in(
    cfg: StudyConfig, base_dir: Path, space: Space, stand_in: str | None, seed: int
) -> tuple[Any, str]:
    """What stands in for the objective (the study's own Python function or a synthetic one)."""
    kind = stand_in or ("objective" if cfg.objective.python is not None else "synthetic")
    if kind == "objective":
        obj = cfg.objective.build(base_dir)
        if not isinstance(obj, PythonObjective):
            raise ConfigError(
                "an external command cannot stand in for itself (each call would really run it); "
                "use --stand-in synthetic or replay a recorded study with --from-study",
                field="--stand-in",
            )
        obj.check()
        return obj, f"the study's objective ({cfg.objective.python})"
    if kind == "synthetic":
        synthetic = synthetic_objective(space, str(cfg.direction), seed)
        stopping = cfg.early_stopping
        if stopping is not None and stopping.rule != "none":
            top = stopping.max if stopping.max is not None else 100.0
            return with_curves(synthetic, space, top, str(cfg.direction)), (
                f"synthetic stand-in (smooth, random optimum) with power-law learning curves "
                f"up to {stopping.resource} {top:g}"
            )
        return synthetic, "synthetic stand-in (smooth, random optimum)"
    raise ConfigError(f"must be 'objective' or 'synthetic', got {kind!r}", field="--stand-in")


def _majority_best(runs: Sequence[SimulationRun], direction: str) -> float | None:
    """The best final value that most of the 1-worker runs reach: their median, for an odd count.

    With an even count the plain median (a mean of two) is reached by half the runs only,
    which would leave the 1-worker median time to target at "never".
    """
    finals = sorted(float(r.best) for r in runs if r.workers == 1 and r.best is not None)
    if direction == "maximize":
        finals.reverse()
    n_one = sum(r.workers == 1 for r in runs)
    k = n_one // 2  # 0-based: the (n//2 + 1)-th best, so n//2 + 1 runs reach it
    return finals[k] if k < len(finals) else None


def _run_once(
    cfg: StudyConfig,
    space: Space,
    direction: str,
    objective: Any,
    runtime: RuntimeModel,
    workers: int,
    trials: int,
    seed: int,
    overhead: float | None,
) -> SimulationRun:
    study = Study(space, direction, cfg.sampler, seed, metric=cfg.metric)  # type: ignore[arg-type]
    executor = SimulatedExecutor(objective, workers, runtime=runtime, seed=seed, overhead=overhead)
    scheduler = Scheduler(
        study,
        executor,
        stop=StopRule(trials, max_failures=None),
        batch=cfg.run.batch,
        trial_timeout=cfg.run.timeout,
        handle_signals=False,
        early_stopping=cfg.early_stopping.settings() if cfg.early_stopping is not None else None,
    )
    summary = scheduler.run()
    start = scheduler.started_at
    end = start + summary.elapsed
    curve: list[tuple[float, float]] = []
    best: float | None = None
    for t in sorted(study.history, key=lambda t: (t.finished_at or 0.0, t.id)):
        if t.state is TrialState.COMPLETE and study.better(t.value, best):
            best = t.value
            curve.append(((t.finished_at or start) - start, float(best)))  # type: ignore[arg-type]
    return SimulationRun(
        workers=workers,
        trials=study.n_finished,
        elapsed=summary.elapsed,
        best=best,
        utilization=executor.utilization(until=end),
        coordinator_share=executor.coordinator_time / summary.elapsed
        if summary.elapsed > 0
        else 0.0,
        curve=curve,
        seed=seed,
    )


def _with_target(run: SimulationRun, target: float | None, direction: str) -> SimulationRun:
    reached = None
    if target is not None:
        for t, value in run.curve:
            if value <= target if direction == "minimize" else value >= target:
                reached = t
                break
    return SimulationRun(
        run.workers,
        run.trials,
        run.elapsed,
        run.best,
        run.utilization,
        run.coordinator_share,
        reached,
        run.curve,
        run.seed,
    )


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "not reached"
    if seconds < 120:
        return f"{seconds:.1f}s"
    minutes = seconds / 60
    if minutes < 120:
        return f"{minutes:.1f}m"
    return f"{minutes / 60:.1f}h"


def format_report(report: SimulationReport) -> str:
    """A plain-text table of a report, one line per worker count (medians over its runs)."""
    many = report.repeats > 1
    default = "the 1-worker runs' median final best" if many else "the 1-worker run's final best"
    lines = [
        f"study {report.study} ({report.direction}), sampler {report.sampler}, durations {report.runtime}",
        f"values from {report.stand_in}",
        "target "
        + ("none" if report.target is None else f"{report.target:.6g}")
        + (" (given)" if report.target_given else f" (default: {default})"),
    ]
    if many:
        first = report.runs[0].seed
        lines.append(
            f"runs per worker count: {report.repeats} (seeds {first}..{first + report.repeats - 1}); "
            "medians, a run that misses the target counts as never; interval: 95% bootstrap"
        )
    head = f"{'workers':>7}  {'trials':>6}  {'to target':>11}  {'speed-up':>8}  "
    if many:
        head += f"{'interval':>13}  {'reached':>7}  "
    lines += [
        "",
        head + f"{'final best':>12}  {'total':>9}  {'utilization':>11}  {'coordinator':>11}",
    ]
    for row in report.summary():
        speed = "-" if row.speedup is None else f"{row.speedup:.1f}x"
        best = "-" if row.best is None else f"{row.best:.6g}"
        line = f"{row.workers:>7}  {row.trials:>6}  {_clock(row.time_to_target):>11}  {speed:>8}  "
        if many:
            iv = (
                "-"
                if row.speedup_interval is None
                else (f"{row.speedup_interval[0]:.1f}-{row.speedup_interval[1]:.1f}x")
            )
            line += f"{iv:>13}  {f'{row.reached}/{row.runs}':>7}  "
        lines.append(
            line + f"{best:>12}  {_clock(row.elapsed):>9}  "
            f"{row.utilization:>10.1%}  {row.coordinator_share:>10.2%}"
        )
    return "\n".join(lines)


def plot_report(report: SimulationReport, path: str | Path) -> Path:
    """Best value against simulated wall-clock, one line per worker count; writes a PNG.

    Raises :class:`ParaboError` when matplotlib (the ``plots`` extra) is missing.
    """
    plt = _pyplot()
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    # minutes for studies up to two hours of simulated time, hours beyond
    span = max((r.elapsed for r in report.runs), default=0.0)
    unit, per = ("minutes", 60.0) if span <= 7200 else ("hours", 3600.0)
    colours: dict[int, Any] = {}
    all_values: list[float] = []
    first = min((t for r in report.runs for t, _ in r.curve[:1]), default=1.0)
    for r in report.runs:
        if not r.curve:
            continue
        times = [t / per for t, _ in r.curve] + [r.elapsed / per]
        values = [v for _, v in r.curve] + [r.curve[-1][1]]
        all_values += values
        label = (
            None if r.workers in colours else f"{r.workers} worker{'s' if r.workers > 1 else ''}"
        )
        (line,) = left.step(
            times,
            values,
            where="post",
            label=label,
            color=colours.get(r.workers),
            alpha=0.5 if report.repeats > 1 else 1.0,
        )
        colours.setdefault(r.workers, line.get_color())
    if report.target is not None:
        left.axhline(report.target, color="grey", linestyle=":", linewidth=1, label="target")
        all_values.append(report.target)
    # Time on a log axis, so that 1 and 64 workers both show; plain numbers on the ticks.
    plain = FuncFormatter(lambda x, _pos: f"{x:g}")
    if first > 0:
        left.set_xscale("log")
    else:  # a trial that took no simulated time (a zero duration)
        left.set_xscale("symlog", linthresh=1.0)
    left.xaxis.set_major_formatter(plain)
    left.xaxis.set_minor_formatter(NullFormatter())
    # Best values that span orders of magnitude (a regret, a loss near 0) on a log axis.
    low = min(all_values, default=0.0)
    if low > 0 and max(all_values) > 100 * low:
        left.set_yscale("log")
    left.set_xlabel(f"simulated wall-clock ({unit}, log scale)")
    left.set_ylabel("best value")
    left.set_title(f"{report.study}: best value over time")
    left.legend(fontsize=8)
    rows = report.summary()
    ns = [row.workers for row in rows]
    right.plot(ns, [row.utilization * 100 for row in rows], "o-", label="worker utilization")
    right.plot(ns, [row.coordinator_share * 100 for row in rows], "s--", label="coordinator share")
    right.set_xscale("log", base=2)
    right.xaxis.set_major_locator(FixedLocator(ns))
    right.xaxis.set_major_formatter(plain)
    right.xaxis.set_minor_formatter(NullFormatter())
    right.set_ylim(0, 105)
    right.set_xlabel("workers")
    right.set_ylabel("% of simulated time")
    right.set_title(f"durations {report.runtime}")
    right.legend(fontsize=8)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ParaboError(
            "plots need matplotlib: pip install 'parabo[plots]' (or pass --no-plot)"
        ) from None
    return plt


def check_plotting() -> None:
    """Fail early, before any simulation, when matplotlib is missing."""
    _pyplot()


def write_json(report: SimulationReport, path: str | Path) -> Path:
    out = Path(path)
    out.write_text(json.dumps(report.to_dict(), indent=2))
    return out
