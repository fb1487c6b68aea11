"""Trials (not time) a parabo run needs to reach a target, with N simulated workers.

    python benchmarks/parallel/trials_to_target.py mixed 4 0-20 3.868e-06
    python benchmarks/parallel/trials_to_target.py mixed 4 0-20 3.868e-06 --gp-option trust_region=0

Runs parabo's GP through the unchanged Scheduler on the simulator (time_to_target.py's
durations, a free coordinator so the count does not depend on the load) until the best value's
regret reaches the target, and prints, per seed, the number of completed trials at that moment
(in the order they finished; inf: not within the cap), then the median. It separates the
evaluations a parallel run spends from the time it takes: with N workers and no loss a run
would need about as many trials as a sequential one, plus the information lag.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import time_to_target as ttt  # noqa: E402
from common import PROBLEMS, seed_range  # noqa: E402

from parabo.executors.simulated import SimulatedExecutor  # noqa: E402
from parabo.scheduler import Scheduler  # noqa: E402
from parabo.study import Study  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("problem", choices=sorted(PROBLEMS))
    ap.add_argument("workers", type=int)
    ap.add_argument("seeds", type=seed_range, help="FIRST-LAST, inclusive")
    ap.add_argument("target_regret", type=float, help="e.g. the target_regret of a time_to_target.py row")
    ap.add_argument("--cap", type=int, default=208, help="trials per run (208: 2*100 + 2*4)")
    ap.add_argument("--gp-option", action="append", default=[], help="GP sampler option key=JSON")
    args = ap.parse_args()
    ttt.GP_OPTIONS.update({k: json.loads(v) for k, v in (kv.split("=", 1) for kv in args.gp_option)})
    problem = PROBLEMS[args.problem]
    target = problem.optimum + args.target_regret
    counts = []
    for seed in args.seeds:
        sampler, _ = ttt.gp_sampler(seed)
        study = Study(problem.space, sampler=sampler)
        ex = SimulatedExecutor(problem, args.workers, runtime=ttt.RUNTIME, seed=seed, overhead=0)
        Scheduler(study, ex, trials=args.cap, target=target, handle_signals=False).run()
        best, reached = math.inf, math.inf
        for k, t in enumerate(sorted(study.history, key=lambda t: t.finished_at), 1):
            if t.value is not None:
                best = min(best, t.value)
            if best <= target:
                reached = k
                break
        counts.append(reached)
        print(f"seed {seed}: {reached}", flush=True)
    opts = " ".join(args.gp_option)
    print(f"{args.problem}, {args.workers} workers{', ' + opts if opts else ''}: median trials to target "
          f"{statistics.median(counts)}, reached {sum(c < math.inf for c in counts)}/{len(counts)}")


if __name__ == "__main__":
    main()
