"""TPE, CMA-ES and the Optuna adapter under parabo's scheduler, against Optuna's own loop and the GP.

    python3 benchmarks/samplers/run.py [--problems branin,hartmann6] [--seeds 0-4] [--workers 1,16]

Every run is on the simulated backend (trial durations ``--runtime``, the coordinator's real
time charged to the virtual clock), so a sampler's ask latency counts. Methods:

parabo-gp         parabo's GP sampler (the default)
parabo-tpe        ``sampler: tpe`` (Optuna's TPESampler, multivariate, constant liar, via the adapter)
parabo-cmaes      ``sampler: cmaes`` (the cmaes package, asynchronous generations, IPOP)
parabo-optuna-tpe ``sampler: {name: optuna, class: TPESampler}`` with the same TPE options
optuna-loop-tpe   Optuna's own ask/tell loop with the same TPE, driven on the same simulated
                  workers (a free worker asks at once; running trials are Optuna's running trials)

The target of a problem is its known minimum plus ``--gap``; a run that misses it within
``--trials`` counts as never reaching it. Writes results/samplers.{csv,md}: per problem, worker
count and method, the median simulated time to target, how many seeds reached it, and the
GP's gain (the method's median time over the GP's).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common import one_blas_thread  # noqa: E402

one_blas_thread()

from common.options import int_list, seed_range  # noqa: E402
from common.peers import drive, make_peer  # noqa: E402
from common.problems import PROBLEMS, Problem, problem_list  # noqa: E402
from common.stats import median_time, time_to  # noqa: E402
from common.tables import write_table  # noqa: E402

import parabo  # noqa: E402

RESULTS = HERE / "results"
METHODS: dict[str, Any] = {
    "parabo-gp": "gp",
    "parabo-tpe": "tpe",
    "parabo-cmaes": "cmaes",
    "parabo-optuna-tpe": {
        "name": "optuna",
        "class": "TPESampler",
        "options": {"multivariate": True, "constant_liar": True},
    },
    "optuna-loop-tpe": None,  # Optuna's own loop (common.peers)
}


def _parabo(
    problem: Problem,
    sampler: Any,
    workers: int,
    runtime: str,
    seed: int,
    trials: int,
    target: float,
) -> float | None:
    study = parabo.minimize(
        problem,
        problem.space,
        sampler=sampler,
        seed=seed,
        trials=trials,
        workers=workers,
        target=target,
        backend="simulated",
        backend_options={"runtime": runtime, "seed": seed},
    )
    done = [t for t in study.trials if t.value is not None and t.finished_at is not None]
    if not done:
        return None
    start = min(t.started_at for t in study.trials if t.started_at is not None)
    curve, best = [], math.inf
    for t in sorted(done, key=lambda t: t.finished_at):  # type: ignore[arg-type, return-value]
        if t.value < best:  # type: ignore[operator]
            best = t.value  # type: ignore[assignment]
            curve.append((t.finished_at - start, best))  # type: ignore[operator]
    return time_to(curve, target)


def _loop(
    problem: Problem, workers: int, runtime: str, seed: int, trials: int, target: float
) -> float | None:
    result = drive(
        make_peer("optuna-tpe", problem, seed), problem, workers, runtime, seed, trials, target
    )
    return time_to(result.curve, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problems", default="branin,hartmann6", type=problem_list)
    parser.add_argument("--seeds", default="0-4", type=seed_range)
    parser.add_argument("--workers", default="1,16", type=int_list)
    parser.add_argument("--trials", default=80, type=int)
    parser.add_argument("--gap", default=0.5, type=float, help="target = known minimum + gap")
    parser.add_argument("--runtime", default="lognormal(60s, 0.5)")
    parser.add_argument("--methods", default=",".join(METHODS))
    args = parser.parse_args()
    methods = args.methods.split(",")
    rows = []
    for name in args.problems:
        problem = PROBLEMS[name]
        target = problem.optimum + args.gap
        for workers in args.workers:
            times: dict[str, list[float | None]] = {}
            for method in methods:
                times[method] = []
                for seed in args.seeds:
                    if METHODS[method] is None:
                        t = _loop(problem, workers, args.runtime, seed, args.trials, target)
                    else:
                        t = _parabo(
                            problem,
                            METHODS[method],
                            workers,
                            args.runtime,
                            seed,
                            args.trials,
                            target,
                        )
                    times[method].append(t)
                    print(f"{name} w={workers} {method} seed={seed}: {t}", file=sys.stderr)
            gp = median_time(times.get("parabo-gp", []) or [None])
            for method, ts in times.items():
                med = median_time(ts)
                rows.append(
                    {
                        "problem": name,
                        "workers": workers,
                        "method": method,
                        "median time to target (s)": med if math.isfinite(med) else None,
                        "reached": f"{sum(t is not None for t in ts)}/{len(ts)}",
                        "time / GP's": med / gp
                        if math.isfinite(med) and math.isfinite(gp)
                        else None,
                    }
                )
    print(write_table(rows, RESULTS / "samplers"))


if __name__ == "__main__":
    main()
