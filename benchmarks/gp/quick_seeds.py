"""Quick variant check: parabo's GP on one problem, 10 seeds on 2 processes, no files written.

Prints each seed's final log10 regret, the median share of asks 21.. on a face of the unit cube,
and the median [q25, q75] of the log10 regret at 25, 50 and the budget.
Used for the Hartmann-6 and 16-pending variants in docs/benchmarks.md, e.g.

    benchmarks/.venv/bin/python benchmarks/gp/quick_seeds.py hartmann6 'prior.ls_scale=2.0'
    benchmarks/.venv/bin/python benchmarks/gp/quick_seeds.py hartmann6 n_startup=16 seeds=10-29
    benchmarks/.venv/bin/python benchmarks/gp/quick_seeds.py rosenbrock4 q=16 'pending="lp"'

Arguments after the problem: GPSampler options as key=JSON (``prior.<field>`` sets a field of
the MAP prior, ``attr.<name>`` sets an attribute of the sampler after construction: how a
throw-away patch reads its switch), and ``seeds=A-B``, ``q=N`` (trials in flight), ``budget=N``, ``procs=N`` (processes, 2).
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from problems import PROBLEMS  # noqa: E402
from run import run_parabo  # noqa: E402


def one(args: tuple) -> list[float]:
    prob, seed, opts, budget, q = args
    p = PROBLEMS[prob]
    r = run_parabo(p, seed, budget, q, opts)
    v = r["values"]
    face = r["on_face"][20:]  # the share of asks 21.. on a face of the cube
    return [math.log10(max(min(v[:b]) - p.fstar, 1e-12)) for b in (25, 50, budget)] + [
        sum(face) / max(1, len(face))
    ]


def main() -> None:
    prob, opts, seeds, budget, q, procs = sys.argv[1], {}, range(10), 100, 0, 2
    for a in sys.argv[2:]:
        k, v = a.split("=", 1)
        if k == "seeds":
            lo, hi = v.split("-")
            seeds = range(int(lo), int(hi) + 1)
        elif k == "procs":
            procs = int(v)
        elif k in ("q", "budget"):
            q, budget = (int(v), budget) if k == "q" else (q, int(v))
        else:
            opts[k] = json.loads(v)
    with Pool(procs) as pool:
        res = pool.map(one, [(prob, s, opts, budget, q) for s in seeds])
    print(prob, opts, "q", q, "final", " ".join(f"{r[-2]:.2f}" for r in res))
    print(f"  asks 21-{budget} on a face of the cube: median share {statistics.median(r[-1] for r in res):.2f}")
    for i, b in enumerate((25, 50, budget)):
        xs = sorted(r[i] for r in res)
        n = len(xs)
        print(f"  @{b}: median {statistics.median(xs):.2f} [{xs[n // 4]:.2f}, {xs[3 * n // 4]:.2f}]")


if __name__ == "__main__":
    main()
