"""Parallel: how much sooner does a target come with N workers, and against the peers?

    python3 benchmarks/parallel/run.py                          # branin, hartmann6; 5 seeds
    python3 benchmarks/parallel/run.py --problems synthetic --seeds 0-9 --workers 1,4,16

Simulated wall-clock, heterogeneous trial durations (lognormal, median 60 s), the
coordinator's real time charged to the clock. For each problem the sequential parabo GP run
(``--budget`` trials) sets the target: its median final value over the seeds. Every method
then runs with N workers until it reaches the target (or ``2 * budget + 2 * N`` trials) and
the simulated time is recorded. Writes results/parallel.{csv,md} (one row per problem, method
and worker count) and results/headline.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common import one_blas_thread  # noqa: E402

one_blas_thread()

from common.options import add_gp_options, int_list, seed_range  # noqa: E402
from common.peers import DriveResult, drive, make_peer  # noqa: E402
from common.problems import PROBLEMS, Problem, problem_list  # noqa: E402
from common.runs import parabo_run  # noqa: E402
from common.stats import bootstrap_headline, median_time, time_to  # noqa: E402
from common.tables import write_table  # noqa: E402

RESULTS = HERE / "results"
RUNTIME = "lognormal(60s, 0.75)"
METHODS = ("parabo", "parabo-batch", "random", "optuna-tpe", "optuna-gp", "skopt")
BUDGET = {"branin": 25, "hartmann3": 30, "hartmann6": 50}  # others: 100


def run(
    method: str,
    problem: Problem,
    workers: int,
    seed: int,
    max_trials: int,
    target: float | None,
    options: dict[str, object],
) -> DriveResult:
    if method in ("parabo", "parabo-batch"):
        return parabo_run(
            problem,
            "gp",
            workers,
            RUNTIME,
            seed,
            max_trials,
            target,
            batch=method == "parabo-batch",
            gp_options=options,
        )
    peer = make_peer("random" if method == "random" else method, problem, seed)
    return drive(
        peer,
        problem,
        workers,
        RUNTIME,
        seed,
        max_trials,
        -float("inf") if target is None else target,
        batch=method == "skopt",
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--problems", type=problem_list, default=["branin", "hartmann6"])
    ap.add_argument("--methods", default=",".join(METHODS[:5]), help=f"from {', '.join(METHODS)}")
    ap.add_argument("--workers", type=int_list, default=[1, 4, 16])
    ap.add_argument("--seeds", type=seed_range, default=range(5), help="FIRST-LAST (default 0-4)")
    add_gp_options(ap)
    args = ap.parse_args()
    methods = [m for m in args.methods.split(",") if m]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        ap.error(f"unknown method(s) {unknown}; choose from {', '.join(METHODS)}")
    options = dict(args.gp_option)
    rows = []
    headline: dict[int, dict[str, tuple[list[float | None], list[float | None]]]] = {}
    started = time.perf_counter()
    for name in args.problems:
        problem, budget = PROBLEMS[name], BUDGET.get(name, 100)
        seq = [run("parabo", problem, 1, s, budget, None, options) for s in args.seeds]
        target = statistics.median(r.curve[-1][1] for r in seq)
        seq_times = [time_to(r.curve, target) for r in seq]
        print(f"{name}: target {target:.4g} (median of {len(seq)} sequential runs)", flush=True)
        for method in methods:
            for n in args.workers:
                if method == "parabo" and n == 1:
                    runs, times = seq, seq_times
                else:
                    runs = [
                        run(method, problem, n, s, 2 * budget + 2 * n, target, options)
                        for s in args.seeds
                    ]
                    times = [time_to(r.curve, target) for r in runs]
                if method == "parabo":
                    headline.setdefault(n, {})[name] = (seq_times, times)
                med = median_time(times)
                rows.append(
                    {
                        "problem": name,
                        "method": method,
                        "workers": n,
                        "seeds": len(runs),
                        "reached": sum(t is not None for t in times),
                        "median_time_to_target_s": round(med, 1) if med != float("inf") else None,
                        "speedup_vs_parabo_sequential": round(median_time(seq_times) / med, 2)
                        if med not in (0, float("inf"))
                        else None,
                        "median_trials": statistics.median(r.trials for r in runs),
                        "utilization": round(statistics.median(r.utilization for r in runs), 3),
                        "truncated": sum(r.truncated for r in runs),
                    }
                )
                print(rows[-1], flush=True)
    print(write_table(rows, RESULTS / "parallel"))
    lines = ["| workers | parabo median speed-up over problems | 95% interval |", "|---|---|---|"]
    for n, per in sorted(headline.items()):
        if n == 1:
            continue
        point, lo, hi = bootstrap_headline(per)
        lines.append(f"| {n} | {point:.2f}x | {lo:.2f}-{hi:.2f} |")
    text = "\n".join(lines) + "\n"
    (RESULTS / "headline.md").write_text(text)
    print(text)
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
