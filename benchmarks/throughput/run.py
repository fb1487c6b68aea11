"""Scheduler throughput: trivial trials per second on the thread and process backends, and the
idle share of workers between trials.

    python3 benchmarks/throughput/run.py

throughput  a trivial objective through the scheduler with the random sampler, journal on (fsync
            on): trials/s on the thread and process backends (``--workers`` workers each).
idle        8 process workers, trial durations uniform in 0.05-0.5 s (10x spread): the gaps between
            one trial's end and the same worker's next start, as a share of the time in which
            there were trials left to hand out.

The clock runs from the first trial's start to the last one's end: starting the workers (and
importing the objective) is paid once per study and left out. Writes results/throughput.{csv,md} and results/idle.{csv,md}.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common import BENCHMARKS  # noqa: E402
from common.tables import write_table  # noqa: E402

from parabo import Study  # noqa: E402
from parabo.executors import make_executor  # noqa: E402
from parabo.objectives import PythonObjective  # noqa: E402
from parabo.run_options import StopRule  # noqa: E402
from parabo.scheduler import Scheduler  # noqa: E402

RESULTS = HERE / "results"
SPACE = {"x": {"type": "float", "low": -5, "high": 10}}


def _objective(name: str) -> PythonObjective:
    return PythonObjective(f"common.objectives:{name}", paths=(str(BENCHMARKS),))


def _span(trials: list) -> float:
    """Seconds from the first trial's start to the last one's end (worker start-up left out)."""
    return max(t.finished_at for t in trials) - min(t.started_at for t in trials)


def throughput(backend: str, trials: int, workers: int) -> dict[str, object]:
    """Trials/s of a trivial objective with the journal on (fsync per round), start-up left out."""
    ex = make_executor(backend, _objective("trivial"), workers)
    with tempfile.TemporaryDirectory() as tmp:
        study = Study(SPACE, sampler="random", seed=0, storage=Path(tmp) / "study")
        Scheduler(study, ex, stop=StopRule(trials), handle_signals=False).run()  # closes ex
        done = [t for t in study.trials if t.finished_at is not None]
        complete = study.n_complete
        study.close()
    if complete != trials:
        raise SystemExit(f"{backend}: {complete} of {trials} trials complete")
    elapsed = _span(done)
    return {
        "backend": backend,
        "workers": workers,
        "trials": trials,
        "seconds": round(elapsed, 3),
        "trials_per_s": round(trials / elapsed, 1),
    }


def idle(trials: int, workers: int) -> dict[str, object]:
    """Idle share between trials with 8 workers and a 10x spread of durations."""
    import numpy as np

    durations = np.random.default_rng(0).uniform(0.05, 0.5, trials).round(4)
    space = {"seconds": {"type": "float", "low": 0.05, "high": 0.5}}
    ex = make_executor("process", _objective("sleeper"), workers)
    with tempfile.TemporaryDirectory() as tmp:
        study = Study(space, sampler="random", seed=0, storage=Path(tmp) / "study")
        for d in durations:
            study.enqueue({"seconds": float(d)})
        Scheduler(study, ex, stop=StopRule(trials), handle_signals=False).run()  # closes ex
        ts = list(study.trials)
        study.close()
    start = min(t.started_at for t in ts)
    last_start = max(t.started_at for t in ts)
    end = max(t.finished_at for t in ts)
    by_worker: dict[str, list] = {}
    for t in ts:
        by_worker.setdefault(t.worker, []).append(t)
    gaps = []
    for runs in by_worker.values():
        runs.sort(key=lambda t: t.started_at)
        gaps += [b.started_at - a.finished_at for a, b in zip(runs, runs[1:], strict=False)]
    busy = sum(t.finished_at - t.started_at for t in ts)
    return {
        "workers": workers,
        "trials": trials,
        "wall_clock_s": round(end - start, 2),
        "ideal_wall_clock_s": round(float(durations.sum()) / workers, 2),
        "busy_share": round(busy / (workers * (end - start)), 4),
        "idle_between_trials_pct": round(100 * sum(gaps) / (workers * (last_start - start)), 3),
        "median_gap_ms": round(1000 * statistics.median(gaps), 2),
        "max_gap_ms": round(1000 * max(gaps), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] + " " + __doc__.splitlines()[1]
    )
    ap.add_argument(
        "--trials", type=int, default=2000, help="trivial trials per backend (default 2000)"
    )
    ap.add_argument(
        "--workers", type=int, default=2, help="workers of the throughput runs (default 2)"
    )
    ap.add_argument(
        "--repeats", type=int, default=3, help="throughput runs per backend; the median is kept"
    )
    ap.add_argument(
        "--idle-trials", type=int, default=200, help="trials of the idle-share run (default 200)"
    )
    args = ap.parse_args()
    rows = []
    for backend in ("thread", "process"):
        runs = [throughput(backend, args.trials, args.workers) for _ in range(args.repeats)]
        runs.sort(key=lambda r: r["trials_per_s"])  # type: ignore[arg-type, return-value]
        rows.append(runs[len(runs) // 2] | {"repeats": args.repeats})
        print(rows[-1], flush=True)
    print(write_table(rows, RESULTS / "throughput"))
    row = idle(args.idle_trials, 8)
    print(write_table([row], RESULTS / "idle"))


if __name__ == "__main__":
    main()
