"""How far from the incumbent the GP's suggestions land, sequentially and with trials in flight.

For each ask of one run (``q`` trials pending, told oldest first, as ``run.py --pending``),
the distance from the suggestion to the best completed trial in length-scale units of the
current fit; prints its 10/50/90% quantiles per block of 20 asks. The motivation of the trust
region in docs/benchmarks.md (Rosenbrock-4, seed 0, q = 0 and 16, round-3 code:
``trust_region=0``):

    benchmarks/.venv/bin/python benchmarks/gp/pending_distance.py rosenbrock4 16 0 trust_region=0
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from problems import PROBLEMS  # noqa: E402

from parabo.samplers.gp import GPSampler  # noqa: E402
from parabo.space import Space  # noqa: E402
from parabo.trial import Trial, TrialState  # noqa: E402


def main() -> None:
    prob, q, seed = PROBLEMS[sys.argv[1]], int(sys.argv[2]), int(sys.argv[3])
    opts = {k: json.loads(v) for k, v in (a.split("=", 1) for a in sys.argv[4:])}
    space, sampler = Space(prob.space), GPSampler(seed=seed, **opts)
    history: list[Trial] = []
    pending: list[Trial] = []
    dist: list[tuple[int, float]] = []
    budget, next_id = 100, 0
    while len(history) < budget:
        if next_id < budget:
            p = sampler.ask(space, history, pending, 1)[0]
            fit = sampler._fit
            if history and fit is not None and fit.theta.size:
                best = min(history, key=lambda t: t.value)  # type: ignore[arg-type, return-value]
                u, b = space.to_unit_array([p, best.params])
                dist.append((next_id, float(np.linalg.norm((u - b) / np.exp(fit.theta[: space.dim])))))
            pending.append(Trial(next_id, p))
            next_id += 1
        if len(pending) > q or next_id >= budget:
            t = pending.pop(0)
            history.append(t.evolve(state=TrialState.COMPLETE, value=prob.f(dict(t.params))))
    regret = min(t.value for t in history) - prob.fstar  # type: ignore[operator, type-var]
    print(f"{sys.argv[1]} q={q} seed={seed} {opts}: final log10 regret {math.log10(max(regret, 1e-12)):.2f}")
    for lo in range(20, budget, 20):
        d = [x for i, x in dist if lo <= i < lo + 20]
        if d:
            print(f"  asks {lo}-{lo + 19}: distance to the best trial, length scales, "
                  f"q10/50/90 {np.quantile(d, 0.1):.2f} / {np.median(d):.2f} / {np.quantile(d, 0.9):.2f}")


if __name__ == "__main__":
    main()
