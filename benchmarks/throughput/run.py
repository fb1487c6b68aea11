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
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common.runs import idle_share, real_run, span  # noqa: E402
from common.tables import write_table  # noqa: E402

RESULTS = HERE / "results"
SPACE = {"x": {"type": "float", "low": -5, "high": 10}}


def throughput(backend: str, trials: int, workers: int) -> dict[str, object]:
    """Trials/s of a trivial objective with the journal on (fsync per round), start-up left out."""
    elapsed = span(real_run(backend, "trivial", SPACE, trials, workers))
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
    done = real_run(
        "process",
        "sleeper",
        space,
        trials,
        workers,
        enqueue=[{"seconds": float(d)} for d in durations],
    )
    return {
        "workers": workers,
        "trials": trials,
        "ideal_wall_clock_s": round(float(durations.sum()) / workers, 2),
        **idle_share(done, workers),
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
