"""Sequential runs of parabo's GP (a variant, through options): each seed's final best and trials to a target.

For the scikit-learn tasks, whose CV error moves in steps, "how many seeds reach the target"
says more than a median log regret (docs/parallel.md, "Round 13"):

    benchmarks/.venv/bin/python benchmarks/gp/seq_reach.py gbm_cancer 0-20 0.028116587765710577
    benchmarks/.venv/bin/python benchmarks/gp/seq_reach.py gbm_cancer 0-20 0.028116587765710577 \
        'acquisition="thompson"'

Arguments after the target: GPSampler options as key=JSON (``attr.<name>`` sets an attribute of
the sampler after construction: how a throw-away patch reads its switch; ``prior.<field>`` a field
of the MAP prior, as in ``run.py``), ``budget=N`` (100) and ``show=1`` (print the parameters of
every trial at or below the target). The same seed gives the same run as the sequential rows of
``benchmarks/parallel/time_to_target.py``.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from problems import PROBLEMS  # noqa: E402
from run import run_parabo  # noqa: E402


def main() -> None:
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    problem = PROBLEMS[sys.argv[1]]
    first_seed, last_seed = (int(x) for x in sys.argv[2].split("-"))
    target = float(sys.argv[3])  # a regret: the CV error itself on the scikit-learn tasks
    optimum = problem.fstar or 0.0
    opts = {k: json.loads(v) for k, v in (a.split("=", 1) for a in sys.argv[4:])}
    budget = int(opts.pop("budget", 100))
    show = bool(opts.pop("show", 0))
    finals, reached_at = [], []
    for seed in range(first_seed, last_seed + 1):
        r = run_parabo(problem, seed, budget, 0, opts)  # nothing in flight: a sequential run
        best, first = float("inf"), None
        for i, (value, params) in enumerate(zip(r["values"], r["params"], strict=True)):
            best = min(best, value)
            if value - optimum <= target:
                first = i + 1 if first is None else first
                if show:
                    print(f"  seed {seed} trial {i + 1}: {value:.5g} {params}")
        finals.append(best)
        reached_at.append(first)
        print(f"seed {seed}: final best {best:.5g}, target reached at trial {first}", flush=True)
    hits = sorted(r for r in reached_at if r is not None)
    print(f"{sys.argv[1]} {' '.join(sys.argv[4:]) or '(default)'}: median final best {statistics.median(finals):.5g}, "
          f"target reached on {len(hits)}/{len(finals)} seeds"
          + (f" (median trial among those {statistics.median(hits)})" if hits else ""))


if __name__ == "__main__":
    main()
