"""Noise the GP learns, relative to its signal variance, every 20 trials of a sequential run.

Behind the "Incumbent" section of docs/benchmarks.md: noise-free problems learn a tiny noise
(the posterior-mean incumbent equals the best observed value), rugged ones (Ackley-5, a
cross-validated error) can learn 1e-3..1e-2 of the signal variance or more.

    OMP_NUM_THREADS=1 benchmarks/.venv/bin/python benchmarks/gp/learned_noise.py rosenbrock4 ackley5 gbm_cancer
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from problems import PROBLEMS  # noqa: E402

from parabo.samplers.gp import GPSampler  # noqa: E402
from parabo.space import Space  # noqa: E402
from parabo.trial import Trial, TrialState  # noqa: E402


def main() -> None:
    for name in sys.argv[1:]:
        prob = PROBLEMS[name]
        space = Space(prob.space)
        for seed in (0, 1):
            sampler, history, ratios = GPSampler(seed=seed), [], []
            for i in range(100):
                p = sampler.ask(space, history, [], 1)[0]
                history.append(Trial(i, p, TrialState.COMPLETE, value=prob.f(dict(p))))
                fit = sampler._fit
                if fit is not None and fit.gp is not None and i % 20 == 19:
                    ratios.append(fit.gp.noise / fit.gp.s2)
            print(name, "seed", seed, "noise / signal variance at 20..100 trials:",
                  " ".join(f"{r:.2e}" for r in ratios), flush=True)


if __name__ == "__main__":
    main()
