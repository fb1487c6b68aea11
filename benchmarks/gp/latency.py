"""Ask latency of parabo's GP sampler vs Optuna's GPSampler, side by side in one process.

6-D Hartmann, ``N`` completed trials (random points), 8 trials pending at every
ask. Each measured ask is followed by telling the oldest pending trial and
making the new suggestion pending, as a busy asynchronous study does. The first
ask of each configuration includes the cold fit; the median is over all asks.

    benchmarks/.venv/bin/python benchmarks/gp/latency.py [--sizes 100 500 2000] [--asks 20] [--option pending='"fantasy"']

Writes results/latency.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from problems import PROBLEMS  # noqa: E402

OUT = Path(__file__).parent / "results"
PENDING = 8


def parabo_latency(n: int, asks: int, seed: int = 0, options: dict | None = None) -> list[float]:
    from parabo.samplers.gp import GPSampler
    from parabo.space import Space
    from parabo.trial import Trial, TrialState

    prob = PROBLEMS["hartmann6"]
    space = Space(prob.space)
    rng = np.random.default_rng(seed)
    pts = space.sample(rng, n + PENDING)
    history = [Trial(i, p, TrialState.COMPLETE, value=prob.f(p)) for i, p in enumerate(pts[:n])]
    pending = [Trial(n + i, p) for i, p in enumerate(pts[n:])]
    sampler = GPSampler(seed=seed, **(options or {}))
    times = []
    next_id = n + PENDING
    for _ in range(asks):
        t0 = time.perf_counter()
        p = sampler.ask(space, history, pending, 1)[0]
        times.append(time.perf_counter() - t0)
        done = pending.pop(0)
        history.append(done.evolve(state=TrialState.COMPLETE, value=prob.f(dict(done.params))))
        pending.append(Trial(next_id, p))
        next_id += 1
    return times


def optuna_latency(n: int, asks: int, seed: int = 0) -> list[float]:
    import optuna
    from optuna.distributions import FloatDistribution

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    prob = PROBLEMS["hartmann6"]
    dists = {f"x{i}": FloatDistribution(0.0, 1.0) for i in range(6)}
    rng = np.random.default_rng(seed)
    study = optuna.create_study(sampler=optuna.samplers.GPSampler(seed=seed))
    pts = rng.random((n + PENDING, 6))
    study.add_trials(
        [
            optuna.trial.create_trial(
                params={f"x{i}": float(u[i]) for i in range(6)},
                distributions=dists,
                value=prob.f({f"x{i}": u[i] for i in range(6)}),
            )
            for u in pts[:n]
        ]
    )
    pending = []
    for u in pts[n:]:
        study.enqueue_trial({f"x{i}": float(u[i]) for i in range(6)})
        pending.append(study.ask(dists))
    times = []
    for _ in range(asks):
        t0 = time.perf_counter()
        trial = study.ask()
        p = {k: trial.suggest_float(k, 0.0, 1.0) for k in dists}
        times.append(time.perf_counter() - t0)
        done = pending.pop(0)
        study.tell(done, prob.f(done.params))
        pending.append(trial)
        del p
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 2000])
    ap.add_argument("--asks", type=int, default=20)
    ap.add_argument("--optuna-asks", type=int, default=8)
    ap.add_argument("--skip-optuna", action="store_true")
    ap.add_argument("--out", default="latency.json", help="file name under results/")
    ap.add_argument("--option", action="append", default=[], help="parabo GP option key=JSON")
    a = ap.parse_args()
    opts = {k: json.loads(v) for k, v in (kv.split("=", 1) for kv in a.option)}
    rows = []
    for n in a.sizes:
        for name, fn, k in (
            ("parabo", parabo_latency, a.asks),
            # the same default sampler with --option, side by side (e.g. pending="fantasy")
            ("parabo " + json.dumps(opts), lambda n, k: parabo_latency(n, k, options=opts), a.asks),
            ("optuna_gp", optuna_latency, a.optuna_asks),
        ):
            if (name == "optuna_gp" and a.skip_optuna) or (name.startswith("parabo {") and not opts):
                continue
            t = np.array(fn(n, k))
            row = {
                "sampler": name,
                "completed": n,
                "pending": PENDING,
                "asks": k,
                "median_ms": 1000 * float(np.median(t)),
                "p90_ms": 1000 * float(np.quantile(t, 0.9)),
                "first_ms": 1000 * float(t[0]),
                "times_ms": (1000 * t).round(2).tolist(),
            }
            rows.append(row)
            print(
                f"{name:10s} n={n:5d}  median {row['median_ms']:8.1f} ms  p90 {row['p90_ms']:8.1f} ms"
                f"  first {row['first_ms']:8.1f} ms",
                flush=True,
            )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / a.out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
