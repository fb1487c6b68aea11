"""Ask latency: how long one suggestion takes with N completed trials and P trials in flight,
parabo's GP sampler side by side with Optuna's GPSampler and TPE, in one process.

    python3 benchmarks/latency/run.py                       # sizes 100 and 500, 8 pending
    python3 benchmarks/latency/run.py --sizes 100 500 2000 --pending 8 64

6-D Hartmann; the completed trials are random points. Each measured ask is followed by telling
the oldest pending trial and making the new suggestion pending, as a busy asynchronous study
does. The first ask of a configuration includes the cold model fit; the median is over all asks.
Writes results/latency.{csv,md}.
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common import one_blas_thread  # noqa: E402

one_blas_thread()

import numpy as np  # noqa: E402
from common.options import add_gp_options  # noqa: E402
from common.problems import PROBLEMS  # noqa: E402
from common.tables import write_table  # noqa: E402

RESULTS = HERE / "results"
PROBLEM = PROBLEMS["hartmann6"]


def parabo_times(n: int, pending: int, asks: int, options: dict[str, Any]) -> list[float]:
    from parabo import GPSampler
    from parabo.space import Space
    from parabo.trial import Trial, TrialState

    space = Space(PROBLEM.space)
    points = space.sample(np.random.default_rng(0), n + pending)
    history = [Trial(i, p, TrialState.COMPLETE, value=PROBLEM(p)) for i, p in enumerate(points[:n])]
    flying = [Trial(n + i, p) for i, p in enumerate(points[n:])]
    sampler = GPSampler(seed=0, **options)
    times = []
    for k in range(asks):
        t0 = time.perf_counter()
        suggestion = sampler.ask(space, history, flying, 1)[0]
        times.append(time.perf_counter() - t0)
        if flying:
            done = flying.pop(0)
            history.append(done.evolve(state=TrialState.COMPLETE, value=PROBLEM(dict(done.params))))
        flying.append(Trial(n + pending + k, suggestion))
        if not pending:
            last = flying.pop()
            history.append(last.evolve(state=TrialState.COMPLETE, value=PROBLEM(dict(last.params))))
    return times


def optuna_times(kind: str, n: int, pending: int, asks: int) -> list[float]:
    import optuna
    from optuna.distributions import FloatDistribution

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    dists = {name: FloatDistribution(0.0, 1.0) for name in PROBLEM.space}
    if kind == "gp":
        sampler: Any = optuna.samplers.GPSampler(seed=0)
    else:
        sampler = optuna.samplers.TPESampler(seed=0, multivariate=True, constant_liar=True)
    study = optuna.create_study(sampler=sampler)
    points = np.random.default_rng(0).random((n + pending, len(dists)))
    study.add_trials(
        [
            optuna.trial.create_trial(
                params=dict(zip(dists, map(float, u), strict=True)),
                distributions=dists,
                value=PROBLEM(dict(zip(dists, u, strict=True))),
            )
            for u in points[:n]
        ]
    )
    flying = []
    for u in points[n:]:
        study.enqueue_trial(dict(zip(dists, map(float, u), strict=True)))
        flying.append(study.ask(dists))
    times = []
    for _ in range(asks):
        t0 = time.perf_counter()
        trial = study.ask()
        for name in dists:
            trial.suggest_float(name, 0.0, 1.0)
        times.append(time.perf_counter() - t0)
        flying.append(trial)
        done = flying.pop(0) if pending else flying.pop()
        study.tell(done, PROBLEM(done.params))
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 500], help="completed trials")
    ap.add_argument("--pending", type=int, nargs="+", default=[8], help="trials in flight")
    ap.add_argument("--asks", type=int, default=20, help="measured asks of parabo per point")
    ap.add_argument("--peer-asks", type=int, default=6, help="measured asks of each peer")
    ap.add_argument("--no-peers", action="store_true", help="parabo alone")
    add_gp_options(ap)
    args = ap.parse_args()
    options = dict(args.gp_option)
    rows = []
    for n in args.sizes:
        for p in args.pending:
            runs = [("parabo gp", partial(parabo_times, n, p, args.asks, options))]
            if not args.no_peers:
                runs += [
                    ("optuna gp", partial(optuna_times, "gp", n, p, args.peer_asks)),
                    ("optuna tpe", partial(optuna_times, "tpe", n, p, args.peer_asks)),
                ]
            for name, measure in runs:
                t = np.array(measure()) * 1000
                rows.append(
                    {
                        "sampler": name,
                        "completed": n,
                        "pending": p,
                        "asks": len(t),
                        "median_ms": round(float(np.median(t)), 1),
                        "p90_ms": round(float(np.quantile(t, 0.9)), 1),
                        "first_ms": round(float(t[0]), 1),
                    }
                )
                print(rows[-1], flush=True)
    print(write_table(rows, RESULTS / "latency"))


if __name__ == "__main__":
    main()
