"""Sequential: how good is the best value after B evaluations, parabo's GP against the peers?

    python3 benchmarks/sequential/run.py                        # 5 synthetic problems, 5 seeds
    python3 benchmarks/sequential/run.py --problems all --seeds 0-9 --budget 100

One evaluation at a time, the same problems, spaces and seeds for every optimizer. The score is
the regret of the best value found (value minus the known optimum; for the scikit-learn tasks
the cross-validated error). Writes results/sequential.{csv,md}: per problem and method the
median final regret over seeds, its interquartile range, and the median real time per ask.
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

import numpy as np  # noqa: E402
from common.options import add_gp_options, seed_range  # noqa: E402
from common.peers import PEERS, drive, make_peer  # noqa: E402
from common.problems import PROBLEMS, problem_list  # noqa: E402
from common.runs import parabo_run  # noqa: E402
from common.tables import write_table  # noqa: E402

RESULTS = HERE / "results"
METHODS = ("parabo", "sobol", *PEERS)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument(
        "--problems",
        type=problem_list,
        default=["branin", "hartmann6", "ackley5", "rosenbrock4", "mixed"],
        help="comma-separated names, synthetic or all",
    )
    ap.add_argument("--methods", default="parabo,random,optuna-tpe,optuna-gp,skopt")
    ap.add_argument("--budget", type=int, default=50, help="evaluations per run (default 50)")
    ap.add_argument("--seeds", type=seed_range, default=range(5), help="FIRST-LAST (default 0-4)")
    add_gp_options(ap)
    args = ap.parse_args()
    methods = [m for m in args.methods.split(",") if m]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        ap.error(f"unknown method(s) {unknown}; choose from {', '.join(METHODS)}")
    options = dict(args.gp_option)
    rows = []
    wins = 0
    started = time.perf_counter()
    for name in args.problems:
        problem = PROBLEMS[name]
        medians = {}
        for method in methods:
            regrets, asks = [], []
            for seed in args.seeds:
                t0 = time.perf_counter()
                if method in ("parabo", "sobol"):
                    sampler = "gp" if method == "parabo" else "sobol"
                    r = parabo_run(
                        problem, sampler, 1, "1s", seed, args.budget, None, gp_options=options
                    )
                else:
                    r = drive(
                        make_peer(method, problem, seed),
                        problem,
                        1,
                        "1s",
                        seed,
                        args.budget,
                        -float("inf"),
                    )
                asks.append((time.perf_counter() - t0) / max(r.trials, 1))
                regrets.append(r.curve[-1][1] - problem.optimum)
            q1, med, q3 = np.percentile(regrets, [25, 50, 75])
            medians[method] = med
            rows.append(
                {
                    "problem": name,
                    "method": method,
                    "budget": args.budget,
                    "seeds": len(regrets),
                    "median_regret": float(med),
                    "q1": float(q1),
                    "q3": float(q3),
                    "ms_per_evaluation": round(1000 * statistics.median(asks), 1),
                }
            )
            print(rows[-1], flush=True)
        peers = [m for m in medians if m not in ("parabo", "sobol")]
        if "parabo" in medians and peers:
            wins += medians["parabo"] <= min(medians[m] for m in peers)
    print(write_table(rows, RESULTS / "sequential"))
    if "parabo" in methods:
        line = (
            f"parabo's median regret is the best of the methods run on {wins} of "
            f"{len(args.problems)} problems ({args.budget} evaluations, {len(args.seeds)} seeds).\n"
        )
        (RESULTS / "headline.md").write_text(line)
        print(line)
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
