"""parabo's own runs for the simulated questions: its unchanged Scheduler on the simulated executor.

The peers run through :func:`common.peers.drive` on the same executor, whose clock charges the
coordinator's real time between two ``collect`` calls, so a slow ask idles simulated workers
for every library alike.
"""

from __future__ import annotations

import math
import time
from typing import Any

from common.peers import DriveResult
from common.problems import Problem


class _RealLimit:
    """A listener that stops the run after ``limit`` real seconds (a guard against a stuck run)."""

    def __init__(self, limit: float) -> None:
        self.limit, self.t0, self.hit = limit, time.perf_counter(), False

    def on_start(self, scheduler: Any) -> None: ...

    def on_trial(self, scheduler: Any, trial: Any) -> None: ...

    def on_stop(self, scheduler: Any, summary: Any) -> None: ...

    def on_tick(self, scheduler: Any) -> None:
        if not self.hit and time.perf_counter() - self.t0 > self.limit:
            self.hit = True
            scheduler.request_stop(cancel=True)


def parabo_run(
    problem: Problem,
    sampler: str,
    workers: int,
    runtime: str,
    seed: int,
    max_trials: int,
    target: float | None,
    *,
    batch: bool = False,
    gp_options: dict[str, Any] | None = None,
    real_limit: float = 300.0,
) -> DriveResult:
    """One parabo run (``sampler`` by name, ``gp`` with ``gp_options``) on simulated workers.

    Asynchronous unless ``batch`` (the next batch waits for the whole previous one). Stops at
    ``target`` (trials in flight finish, as in a real study) or after ``max_trials``.
    """
    from parabo import Study
    from parabo.executors.simulated import SimulatedExecutor
    from parabo.run_options import StopRule
    from parabo.samplers import make_sampler
    from parabo.scheduler import Scheduler

    spec: dict[str, Any] = {"name": sampler, "seed": seed}
    if sampler == "gp":
        spec.update(gp_options or {})
    study = Study(problem.space, sampler=make_sampler(spec))
    ex = SimulatedExecutor(problem, workers, runtime=runtime, seed=seed)
    guard = _RealLimit(real_limit)
    Scheduler(
        study,
        ex,
        stop=StopRule(trials=max_trials, target=target, max_failures=None),
        batch=batch,
        listener=guard,
        handle_signals=False,
    ).run()
    curve: list[tuple[float, float]] = []
    best = math.inf
    for t in sorted(study.history, key=lambda t: t.finished_at or 0.0):
        if t.value is not None and t.value < best:
            best = t.value
            curve.append(((t.finished_at or 0.0) - ex.started_at, best))
    # the trials in flight finish after the target (as in a real study); the peers' driver stops
    # at the target at once, so utilization up to the target is the comparable figure
    reached = next((t for t, v in curve if target is not None and v <= target), None)
    until = None if reached is None else ex.started_at + reached
    return DriveResult(
        curve, ex.now() - ex.started_at, study.n_finished, ex.utilization(until), guard.hit
    )


def real_run(
    backend: str,
    objective: str,
    space: dict[str, dict[str, Any]],
    trials: int,
    workers: int,
    *,
    enqueue: list[dict[str, Any]] | None = None,
    **options: Any,
) -> list[Any]:
    """Run ``objective`` (``common.objectives:NAME``) on a real backend with a study folder on disk
    (journal fsync on, random sampler); return its trials. The executor is closed by the run.
    """
    import tempfile
    from pathlib import Path

    from common import BENCHMARKS
    from parabo import Study
    from parabo.executors import make_executor
    from parabo.objectives import PythonObjective
    from parabo.run_options import StopRule
    from parabo.scheduler import Scheduler

    obj = PythonObjective(f"common.objectives:{objective}", paths=(str(BENCHMARKS),))
    ex = make_executor(backend, obj, workers, **options)
    with tempfile.TemporaryDirectory() as tmp:
        study = Study(space, sampler="random", seed=0, storage=Path(tmp) / "study")
        for params in enqueue or []:
            study.enqueue(params)
        Scheduler(study, ex, stop=StopRule(trials), handle_signals=False).run()
        done = [t for t in study.trials if t.finished_at is not None]
        complete = study.n_complete
        study.close()
    if complete != trials:
        raise SystemExit(f"{backend}: {complete} of {trials} trials complete")
    return done


def span(trials: list[Any]) -> float:
    """Seconds from the first trial's start to the last one's end (worker start-up left out)."""
    return float(max(t.finished_at for t in trials) - min(t.started_at for t in trials))


def idle_share(trials: list[Any], workers: int) -> dict[str, float]:
    """How busy the workers were: busy share of the span, and the gaps between one trial's end and
    the same worker's next start as a share of the time in which there were trials left to hand out.
    """
    import statistics

    start = min(t.started_at for t in trials)
    last_start = max(t.started_at for t in trials)
    end = max(t.finished_at for t in trials)
    by_worker: dict[str, list[Any]] = {}
    for t in trials:
        by_worker.setdefault(t.worker, []).append(t)
    gaps: list[float] = []
    for runs in by_worker.values():
        runs.sort(key=lambda t: t.started_at)
        gaps += [b.started_at - a.finished_at for a, b in zip(runs, runs[1:], strict=False)]
    busy = sum(t.finished_at - t.started_at for t in trials)
    return {
        "wall_clock_s": round(end - start, 2),
        "busy_share": round(busy / (workers * (end - start)), 4),
        "idle_between_trials_pct": round(100 * sum(gaps) / (workers * (last_start - start)), 3),
        "median_gap_ms": round(1000 * statistics.median(gaps), 2) if gaps else 0.0,
        "max_gap_ms": round(1000 * max(gaps), 2) if gaps else 0.0,
    }
