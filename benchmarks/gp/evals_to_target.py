"""How many more evaluations do trials in flight cost? Evaluations to reach the sequential target.

For each problem, the target is the median log10 regret of parabo's sequential runs after
``--budget`` evaluations (as in the time-to-target benchmark of docs/parallel.md; 50 by
default, so that runs with trials in flight have room to reach it within their 100
evaluations). For every stored run of ``--tag`` with 0, 4 and 16 pending, it finds the
first evaluation (in the order they were told) whose best-so-far reaches the target, and prints
the median over seeds (runs that never reach it count as infinite) and the ratio to the
sequential median. With ``N`` workers and nothing else lost, the speed-up in time to target is
about ``N`` divided by that ratio.

    benchmarks/.venv/bin/python benchmarks/gp/evals_to_target.py [--tag parabo_kbtr] [--budget 50]

Reads results/raw/ (the runs of queue_round5.sh seq / async); writes nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path

RAW = Path(__file__).parent / "results" / "raw"
PROBLEMS = ("branin", "hartmann6", "ackley5", "rosenbrock4", "levy10", "styblinski8", "mixed")


def _log_regret(v: float, fstar: float) -> float:
    return math.log10(max(v - fstar, 1e-12))


def evals_to(values: list[float], fstar: float, target: float) -> float:
    """1-based index of the first evaluation whose best-so-far reaches ``target`` (inf if none)."""
    best = math.inf
    for i, v in enumerate(values, 1):
        if v is not None and math.isfinite(v):
            best = min(best, v)
        if best < math.inf and _log_regret(best, fstar) <= target:
            return float(i)
    return math.inf


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tag", default="parabo_kbtr", help="tag of the runs with trials in flight")
    ap.add_argument("--budget", type=int, default=50)
    a = ap.parse_args()
    print(f"| problem | target (log10 regret) | sequential | 4 pending ({a.tag}) | 16 pending ({a.tag}) |")
    print("|---|---|---|---|---|")
    for prob in PROBLEMS:
        seq = [json.loads(p.read_text()) for p in sorted(RAW.glob(f"parabo__{prob}__q0__s*.json"))]
        if not seq:
            continue
        fstar = seq[0]["fstar"]
        target = statistics.median(_log_regret(min(r["values"][: a.budget]), fstar) for r in seq)
        cells = []
        for q, tag in ((0, "parabo"), (4, a.tag), (16, a.tag)):
            runs = [json.loads(p.read_text()) for p in sorted(RAW.glob(f"{tag}__{prob}__q{q}__s*.json"))]
            n = [evals_to(r["values"], fstar, target) for r in runs]
            med = statistics.median(n) if n else math.nan
            reached = sum(math.isfinite(x) for x in n)
            cells.append((med, reached, len(n)))
        base = cells[0][0]
        out = []
        for med, reached, total in cells:
            ratio = f", {med / base:.2f}×" if math.isfinite(med) and math.isfinite(base) else ""
            out.append(f"{'not reached' if not math.isfinite(med) else f'{med:.0f}'}{ratio} ({reached}/{total})")
        print(f"| {prob} | {target:.2f} | " + " | ".join(out) + " |")


if __name__ == "__main__":
    main()
