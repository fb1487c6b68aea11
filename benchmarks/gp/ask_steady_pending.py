"""Cost of a GP suggestion in the steady state of a study with many workers.

N completed trials (6-D Hartmann, random points), P trials in flight; then, repeatedly,
the oldest pending trial is told and one new suggestion is asked (as the scheduler does
when a worker frees up). Configurations run side by side, alternating, in one process.

    python benchmarks/gp/ask_steady_pending.py --completed 300 --pending 255 --steps 30 \\
        --config default --config pending_cap=100000
    # -> benchmarks/gp/results/ask_steady_pending.json (appended)

``pending_cap=100000`` believes every pending point (the behaviour before the cap).

``--batch B`` tells the B oldest pending trials and asks B suggestions at once (what the
scheduler does when B workers are free; with ``pending_cap`` or more in flight one search
serves the batch), e.g. ``--completed 2000 --pending 1023 --batch 1 --batch 4 --batch 16``
runs the three side by side. The initial pending trials are asked in chunks of 64 (round 5;
before, in one ``ask(P)``, one search each).
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
    pend: list[Trial] = []
    while len(pend) < p:
        asked = s.ask(space, hist, pend, min(64, p - len(pend)))
        pend += [Trial(n0 + len(pend) + j, prm) for j, prm in enumerate(asked)]
    return prob, space, s, hist, pend, n0 + p


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--completed", type=int, default=300)
    ap.add_argument("--pending", type=int, default=255)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--config", action="append", default=[])
    ap.add_argument("--batch", action="append", type=int, default=[],
                    help="suggestions per ask (repeat for side-by-side runs; default 1)")
    a = ap.parse_args()
    batches = a.batch or [1]
    configs = [(c, b) for c in (a.config or ["default"]) for b in batches]
    states, times = {}, {cb: [] for cb in configs}
    for c, b in configs:
        opts = {} if c == "default" else {k: json.loads(v) for k, v in (kv.split("=") for kv in c.split(","))}
        states[c, b] = list(setup(opts, a.completed, a.pending))
    for _ in range(a.steps):
        for cb in configs:  # alternate: the machine's noise hits every configuration alike
            prob, space, s, hist, pend, nid = states[cb]
            for t in pend[: cb[1]]:
                hist.append(t.evolve(state=TrialState.COMPLETE, value=prob.f(dict(t.params))))
            del pend[: cb[1]]
            t0 = time.perf_counter()
            prms = s.ask(space, hist, pend, cb[1])
            times[cb].append(time.perf_counter() - t0)
            pend += [Trial(nid + j, prm) for j, prm in enumerate(prms)]
            states[cb][5] = nid + len(prms)
    rec = {"completed": a.completed, "pending": a.pending, "steps": a.steps,
           "loadavg": os.getloadavg()[0], "results": {}}
    for cb in configs:
        c = cb[0] if len(batches) == 1 and cb[1] == 1 else f"{cb[0]} batch={cb[1]}"
        ms = np.array(times[cb]) * 1000
        best = min(t.value for t in states[cb][3])
        rec["results"][c] = {"median_ms": float(np.median(ms)), "p90_ms": float(np.percentile(ms, 90)),
                             "max_ms": float(ms.max()), "best": best}
        print(f"{c:>24}: median {np.median(ms):.0f} ms, p90 {np.percentile(ms, 90):.0f} ms, "
              f"max {ms.max():.0f} ms (N={a.completed}, P={a.pending}, load {rec['loadavg']:.1f})")
    out = Path(__file__).parent / "results" / "ask_steady_pending.json"
    with out.open("a") as f:
        f.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
