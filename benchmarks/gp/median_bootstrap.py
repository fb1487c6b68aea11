"""How sure is "parabo's median is better than the peer's"? A bootstrap over the seeds.

    benchmarks/.venv/bin/python benchmarks/gp/median_bootstrap.py tpe 100

For each problem, parabo's sequential runs and the peer's (results/raw, as summarize.py reads
them) are resampled with replacement, each side on its own seeds, and the medians at the budget
compared: the share of draws where parabo's median is lower (better), equal, or higher, and the
95% interval of the difference (log10 regret, or the CV error of the sklearn tasks, lower is
better for both).
"""

from __future__ import annotations

import sys

import numpy as np
from summarize import load

DRAWS = 4000


def main() -> None:
    peer, budget = sys.argv[1], int(sys.argv[2])
    runs = load()
    rng = np.random.default_rng(0)
    problems = sorted({p for (tag, p, q) in runs if tag == peer and q == 0})
    print(
        f"{'problem':<14} {'seeds':>9} {'medians':>19}  {'better':>6} {'equal':>6} {'worse':>6}  difference, 95%"
    )
    for p in problems:
        a = np.array([c[budget - 1] for c in runs.get(("parabo", p, 0), []) if len(c) >= budget])
        b = np.array([c[budget - 1] for c in runs[(peer, p, 0)] if len(c) >= budget])
        if not a.size or not b.size:
            continue
        ma = np.median(a[rng.integers(0, a.size, (DRAWS, a.size))], axis=1)
        mb = np.median(b[rng.integers(0, b.size, (DRAWS, b.size))], axis=1)
        d = ma - mb
        tol = 1e-9 * max(1.0, float(np.abs(mb).max()))
        lo, hi = np.percentile(d, [2.5, 97.5])
        print(
            f"{p:<14} {a.size:>4}/{b.size:<4} {np.median(a):>9.4g} {np.median(b):>9.4g}  "
            f"{np.mean(d < -tol):6.0%} {np.mean(np.abs(d) <= tol):6.0%} {np.mean(d > tol):6.0%}  "
            f"[{lo:+.3g}, {hi:+.3g}]"
        )


if __name__ == "__main__":
    main()
