"""Cost of a GP suggestion in the steady state of a study with many workers.

N completed trials (6-D Hartmann, random points), P trials in flight; then, repeatedly,
the oldest pending trial is told and one new suggestion is asked (as the scheduler does
when a worker frees up). Configurations run side by side, alternating, in one process.

    python benchmarks/gp/ask_steady_pending.py --completed 300 --pending 255 --steps 30 \\
        --config default --config pending_cap=100000
    # -> benchmarks/gp/results/ask_steady_pending.json (appended)

``pending_cap=100000`` believes every pending point (the behaviour before the cap).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from problems import PROBLEMS  # noqa: E402

from parabo.samplers.gp import GPSampler  # noqa: E402
from parabo.space import Space  # noqa: E402
from parabo.trial import Trial, TrialState  # noqa: E402


def setup(options: dict, n0: int, p: int) -> tuple:
    prob = PROBLEMS["hartmann6"]
    space = Space(prob.space)
    rng = np.random.default_rng(0)
    hist = []
    for i in range(n0):
        prm = space.from_unit(rng.random(6))
        hist.append(Trial(i, prm).evolve(state=TrialState.COMPLETE, value=prob.f(dict(prm))))
    s = GPSampler(seed=0, **options)
    pend = [Trial(n0 + j, prm) for j, prm in enumerate(s.ask(space, hist, [], p))]
    return prob, space, s, hist, pend, n0 + p


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--completed", type=int, default=300)
    ap.add_argument("--pending", type=int, default=255)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--config", action="append", default=[])
    a = ap.parse_args()
    configs = a.config or ["default"]
    states, times = {}, {c: [] for c in configs}
    for c in configs:
        opts = {} if c == "default" else {k: json.loads(v) for k, v in (kv.split("=") for kv in c.split(","))}
        states[c] = list(setup(opts, a.completed, a.pending))
    for _ in range(a.steps):
        for c in configs:  # alternate: the machine's noise hits every configuration alike
            prob, space, s, hist, pend, nid = states[c]
            t = pend.pop(0)
            hist.append(t.evolve(state=TrialState.COMPLETE, value=prob.f(dict(t.params))))
            t0 = time.perf_counter()
            prm = s.ask(space, hist, pend, 1)[0]
            times[c].append(time.perf_counter() - t0)
            pend.append(Trial(nid, prm))
            states[c][5] = nid + 1
    rec = {"completed": a.completed, "pending": a.pending, "steps": a.steps,
           "loadavg": os.getloadavg()[0], "results": {}}
    for c in configs:
        ms = np.array(times[c]) * 1000
        best = min(t.value for t in states[c][3])
        rec["results"][c] = {"median_ms": float(np.median(ms)), "p90_ms": float(np.percentile(ms, 90)),
                             "max_ms": float(ms.max()), "best": best}
        print(f"{c:>24}: median {np.median(ms):.0f} ms, p90 {np.percentile(ms, 90):.0f} ms, "
              f"max {ms.max():.0f} ms (N={a.completed}, P={a.pending}, load {rec['loadavg']:.1f})")
    out = Path(__file__).parent / "results" / "ask_steady_pending.json"
    with out.open("a") as f:
        f.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
