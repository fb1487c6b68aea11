"""Speed-up of parabo's asynchronous runs at one worker count, per problem, for several result folders.

    python benchmarks/parallel/compare_rounds.py 16 results/round6 results/round9_ts12 ...
    python benchmarks/parallel/compare_rounds.py 16 --all results/round10_pooled63+results/round12

Per problem: the sequential median time to target over the folder's median time at N workers
(unreached runs count as infinite, as in summarize.py), and how many runs reach the target; the
median over the six problems when all six ran (an unreached median counts 0). ``--all`` adds the
four problems of round 12 (the mixed one and the scikit-learn tasks) and takes the median over
all ten; folders joined by ``+`` are read as one.
"""

from __future__ import annotations

import math
import statistics
import sys
from pathlib import Path

from summarize import _load  # the same reader as the round tables

PROBLEMS = ["ackley5", "branin", "hartmann6", "levy10", "rosenbrock4", "styblinski8"]
# every GP benchmark problem (benchmarks/gp/problems.py); the four added in round 12
ALL_PROBLEMS = [*PROBLEMS, "mixed", "svm_digits", "gbm_cancer", "mlp_wine"]


def problems_from_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    """``--all`` anywhere in the arguments selects every problem; returns (problems, the rest)."""
    return (ALL_PROBLEMS if "--all" in argv else PROBLEMS), [a for a in argv if a != "--all"]


def _time(r: dict) -> float:
    return math.inf if r["time_to_target"] is None else float(r["time_to_target"])


def main() -> None:
    problems, argv = problems_from_argv(sys.argv[1:])
    workers, dirs = int(argv[0]), argv[1:]
    print(f"{'folder':<34}", " ".join(f"{p[:11]:>13}" for p in problems), "   median")
    for d in dirs:
        rows = [r for part in d.split("+") for r in _load("time_to_target_*.jsonl", Path(part))]
        cells, speedups = [], []
        for p in problems:
            seq = [_time(r) for r in rows if r["problem"] == p and r["phase"] == "sequential"]
            par = [r for r in rows if r["problem"] == p and r["phase"] != "sequential"
                   and r["workers"] == workers and r["method"] == "parabo-async"]
            if not seq or not par:
                cells.append(f"{'-':>13}")
                continue
            t = statistics.median(_time(r) for r in par)
            s = statistics.median(seq) / t if math.isfinite(t) else 0.0
            reached = sum(r["time_to_target"] is not None for r in par)
            speedups.append(s)
            cells.append(f"{s:6.2f} {reached:2d}/{len(par):2d}")
        med = f"{statistics.median(speedups):7.2f}" if len(speedups) == len(problems) else ""
        print(f"{d[-34:]:<34}", " ".join(cells), med)


if __name__ == "__main__":
    main()
